"""Load run: the dashboards under steady reading, open websockets and approvals (issue #7).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/load.py [--seconds 180] [--json results.json]

Everything runs as it would in production, on one machine: a throwaway PostgreSQL database
(created on the server of ``DATABASE_URL``, dropped at the end), a redis-server of our own on
a free port (broker and channel layer), the web server as every deployment starts it
(``python -m incident_console.server``, ``--web-workers`` processes: one per core unless set),
and a Celery worker and beat as in the Procfile, all with ``DEBUG=false``,
``ALLOWED_HOSTS=127.0.0.1`` and ``SECURE_SSL_REDIRECT=false``.

Data: ``seed_demo`` (the Riverbend district and its people, one exercise incident), plus
real open incidents in Riverbend with fact sheets, published updates, guidance, decisions,
questions, and the drafts in review that the approvals use up.

For ``--seconds``, at the same time:

- **Reading**: open-loop random arrivals (``clients.open_loop``): GETs at ``--rate`` per
  second at exponentially distributed intervals, each on its own connection and not waiting
  for earlier answers, cycling over every role's dashboard (incident list and the incident
  pages as the CIO, communications, legal, academics, board briefing, principal's guidance)
  and the public status page signed out, each with a real session of the person who reads
  it. Latency runs from the moment each request was due. The baseline, in the same run:
  ``/health/live`` at ``--baseline-rate`` per second, by a second generator of its own.
- **Websockets**: ``--sockets`` open sockets, signed in as the seeded people (``Cookie`` and
  ``Origin`` as a browser sends them), 60 % to incident pages and 40 % to ``/ws/district/``.
  Every message's arrival is recorded.
- **Approvals**: one per ``--approval-every`` seconds, on a fixed schedule (not waiting for
  the previous one), POSTed over HTTP by the communications lead with a CSRF token, as in
  ``bench/live.py``.

Push lateness: for each approval, from just before its POST to the arrival, at each socket
that shows the incident, of the first message covering the approval's timeline row (its
``from < sequence <= to``). The approval's sequence number is read from the timeline after
the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import live  # bench/live.py: the ASGI servers, started as there
import supervisor  # bench/supervisor.py: processes, database, Redis, the machine
from clients import CommsLead, open_loop

ROOT = supervisor.ROOT
PAGES = (
    "incident list",
    "communications",
    "legal",
    "academics",
    "briefing",
    "principal guidance",
    "incident page",
    "status page",
)
BASELINE = "/health/live"
TARGET_P95_MS = 200.0
PROCFILE_WORKER = ["-m", "celery", "--app", "incident_console", "worker", "--loglevel", "INFO",
                   "--concurrency", "2"]  # fmt: skip
PROCFILE_BEAT = ["-m", "celery", "--app", "incident_console", "beat", "--loglevel", "INFO",
                 "--schedule"]  # fmt: skip
# Who holds the sockets: people of the seeded district.
INCIDENT_READERS = ("rb-cio", "rb-comms", "rb-legal", "rb-academics", "rb-tech")
DISTRICT_READERS = (
    "rb-cio", "rb-comms", "rb-legal", "rb-academics", "rb-tech", "rb-board", "rb-principal",
    "rb-principal2",
)  # fmt: skip
SESSION_USERS = sorted({*INCIDENT_READERS, *DISTRICT_READERS})
COST_APPROVALS = 5


# --- Seeding, in a subprocess pointed at the run's database ----------------------------------


def page_mix(seed: dict) -> list[tuple[str, str, dict]]:
    """(page, path, headers): every role's dashboard, the open incidents' pages as the CIO
    reads them, and the public status page signed out."""
    cookie = seed["cookie"]

    def as_(username: str | None) -> dict:
        return {"Cookie": f"{cookie}={seed['sessions'][username]}"} if username else {}

    mix = [
        ("incident list", "/incidents/", as_("rb-cio")),
        ("communications", "/comms/", as_("rb-comms")),
        ("legal", "/comms/legal/", as_("rb-legal")),
        ("academics", "/incidents/academics/", as_("rb-academics")),
        ("briefing", "/incidents/briefing/", as_("rb-board")),
        ("principal guidance", "/incidents/guidance/", as_("rb-principal")),
        ("status page", "/status/riverbend/", as_(None)),
    ]
    mix += [("incident page", f"/incidents/{pk}/", as_("rb-cio")) for pk in seed["open_incidents"]]
    return mix


def role_seed(incidents: int, drafts_in_review: int) -> None:
    """seed_demo, then ``incidents`` real open incidents in Riverbend with something of
    everything and ``drafts_in_review`` drafts in review spread over them; print the
    sessions and ids as JSON."""
    supervisor.setup_django()
    from datetime import timedelta
    from unittest import mock

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from comms import drafts, facts
    from incidents import decisions, guidance, services
    from incidents.models import Decision, Incident, School, System, User

    call_command("seed_demo", force=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    people = {u.username: u for u in User.objects.filter(username__startswith="rb-")}
    cio, lead, academics = people["rb-cio"], people["rb-comms"], people["rb-academics"]
    district = cio.district
    schools = list(School.objects.filter(district=district).order_by("name"))
    made = []
    kinds = [Incident.Kind.SIS, Incident.Kind.NETWORK, Incident.Kind.LMS, Incident.Kind.PHONES]
    # Nobody listens while seeding: skip rendering a push for every seeded row.
    with mock.patch("console.live.hand_off"):
        for k in range(incidents):
            kind = kinds[k % len(kinds)]
            incident = services.incident_open(
                by=cio, title=f"Load {k}: {kind.label} outage", kind=kind, severity=2,
                systems=System.objects.filter(district=district, category=kind),
                all_schools=k % 2 == 0, schools=schools[: 2 + k % 3],
                impacts=[Incident.Impact.INSTRUCTION],
            )  # fmt: skip
            for function, username in (
                ("communications", "rb-comms"),
                ("academics", "rb-academics"),
                ("technical", "rb-tech"),
            ):
                services.incident_role_assign(
                    incident=incident, function=function, user=people[username], by=cio
                )
            # The text names the time the publications below promise, as a writer would.
            promised = (timezone.now() + timedelta(minutes=55)).replace(second=0, microsecond=0)
            facts.fact_sheet_revise(
                incident=incident, by=lead, expected_number=0,
                known=f"{kind.label} is unavailable across the district.",
                unknown="When it will be back.", doing="The vendor is restoring service.",
                should_do="Teach as planned; record attendance on paper.",
                next_update=f"by {timezone.localtime(promised, district.zone):%-I:%M %p}",
            )  # fmt: skip
            for audience, channel in (("staff", "email"), ("families", "web"), ("board", "email")):
                draft = drafts.draft_create(
                    incident=incident, by=lead, audience=audience, channel=channel
                )
                drafts.draft_submit(draft=draft, by=lead, expected_revision=1)
                drafts.draft_approve(draft=draft, by=lead, expected_revision=1)
                drafts.draft_publish(
                    draft=draft, by=lead, expected_revision=1,
                    promised_next_at=promised,
                    missing_languages_reason="Spanish follows within the hour.",
                )  # fmt: skip
            guidance.guidance_publish(incident=incident, by=academics, today="Teach as planned.")
            principal = people["rb-principal"]
            school = principal.schools.order_by("name").first()
            if incident.all_schools or school in schools[: 2 + k % 3]:
                guidance.guidance_acknowledge(incident=incident, school=school, by=principal)
                guidance.question_ask(
                    incident=incident, school=school, by=principal, text="Can quizzes wait?"
                )
            guidance.guidance_publish(
                incident=incident, by=academics, today="Teach as planned; no online quizzes."
            )
            decisions.decision_record(
                incident=incident, by=cio, text="Keep schools open.", decided_by="Superintendent",
                rationale="Instruction can continue on paper.",
                visibility=Decision.Visibility.GOVERNANCE,
            )  # fmt: skip
            made.append({"id": incident.pk, "drafts": []})
        for n in range(drafts_in_review):
            entry = made[n % len(made)]
            incident = Incident.objects.get(pk=entry["id"])
            audience = ("staff", "families", "board")[n % 3]
            draft = drafts.draft_create(
                incident=incident, by=lead, audience=audience, channel="sms"
            )
            drafts.draft_submit(draft=draft, by=lead, expected_revision=1)
            entry["drafts"].append(draft.pk)
    # Drafts for measuring one approval in process (role_cost), apart from the run's.
    cost_drafts = []
    with mock.patch("console.live.hand_off"):
        incident = Incident.objects.get(pk=made[0]["id"])
        for _ in range(COST_APPROVALS):
            draft = drafts.draft_create(
                incident=incident, by=lead, audience="staff", channel="email"
            )
            drafts.draft_submit(draft=draft, by=lead, expected_revision=1)
            cost_drafts.append(draft.pk)
    sessions = {}
    for username in SESSION_USERS:
        # A real session row in the database, exactly what signing in leaves behind.
        client = Client()
        client.force_login(people[username])
        sessions[username] = client.cookies[settings.SESSION_COOKIE_NAME].value
    open_ids = list(
        Incident.objects.filter(district=district)
        .exclude(status=Incident.Status.CLOSED)
        .values_list("pk", flat=True)
    )
    print(
        json.dumps(
            {
                "incidents": made,
                "cost_drafts": cost_drafts,
                "open_incidents": open_ids,
                "sessions": sessions,
                "cookie": settings.SESSION_COOKIE_NAME,
            }
        )
    )


def role_cost(seed_file: str) -> None:
    """Each page's server-side time and queries, one request at a time, in this process:
    median of 10 after 2 warm-ups. Print them as JSON."""
    supervisor.setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from incidents.models import User

    seed = json.loads(Path(seed_file).read_text())
    who = {
        "incident list": "rb-cio", "communications": "rb-comms", "legal": "rb-legal",
        "academics": "rb-academics", "briefing": "rb-board",
        "principal guidance": "rb-principal", "incident page": "rb-cio",
    }  # fmt: skip
    paths = {
        "incident list": "/incidents/", "communications": "/comms/", "legal": "/comms/legal/",
        "academics": "/incidents/academics/", "briefing": "/incidents/briefing/",
        "principal guidance": "/incidents/guidance/",
        "incident page": f"/incidents/{seed['incidents'][0]['id']}/",
        "status page": "/status/riverbend/", BASELINE: BASELINE,
    }  # fmt: skip
    result = {}
    for name, path in paths.items():
        client = Client(HTTP_HOST="127.0.0.1")
        if name in who:
            client.force_login(User.objects.get(username=who[name]))
        for _ in range(2):
            assert client.get(path).status_code == 200, name
        times, cpu = [], []
        for _ in range(10):
            started, cpu_started = time.perf_counter(), time.process_time()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        result[name] = {
            "ms_p50": round(statistics.median(times), 1),
            "cpu_ms_p50": round(statistics.median(cpu), 1),
            "queries": len(queries),
            "bytes": len(response.content),
        }
    result["communications"]["ms_p50_without_discipline_checks"] = without_checks()
    result["approval"] = approval_cost(seed["cost_drafts"])
    print(json.dumps(result))


def without_checks() -> dict:
    """The communications dashboard's blocks with the discipline checks stubbed out."""
    from unittest import mock

    from django.utils import timezone

    from comms import selectors
    from incidents.models import District
    from incidents.selectors import open_incidents_for_district

    district = District.objects.get(slug="riverbend")
    incidents = list(open_incidents_for_district(district.pk).select_related("district"))
    times = []
    with mock.patch("comms.selectors.findings_for", return_value=[]):
        for _ in range(10):
            started = time.perf_counter()
            selectors.comms_blocks(incidents, timezone.now())
            times.append((time.perf_counter() - started) * 1000)
    with_checks = []
    for _ in range(10):
        started = time.perf_counter()
        selectors.comms_blocks(incidents, timezone.now())
        with_checks.append((time.perf_counter() - started) * 1000)
    return {
        "blocks_ms_p50": round(statistics.median(with_checks), 1),
        "blocks_without_checks_ms_p50": round(statistics.median(times), 1),
    }


def approval_cost(draft_ids: list[int]) -> dict:
    """One approval with its after-commit push (rendering and sending every audience's
    panels and the dashboards' blocks), as the approval POST runs it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from comms import drafts
    from comms.models import Draft
    from incidents.models import User

    lead = User.objects.get(username="rb-comms")
    times, cpu, counts = [], [], []
    for pk in draft_ids:
        draft = Draft.objects.get(pk=pk)
        with CaptureQueriesContext(connection) as queries:
            started, cpu_started = time.perf_counter(), time.process_time()
            drafts.draft_approve(draft=draft, by=lead, expected_revision=1)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        counts.append(len(queries))
    return {
        "ms_p50": round(statistics.median(times), 1),
        "cpu_ms_p50": round(statistics.median(cpu), 1),
        "queries": int(statistics.median(counts)),
    }


def role(bench: supervisor.Bench, *args: str) -> dict:
    return supervisor.run_json(__file__, *args, env=bench.env)


# --- Websockets ------------------------------------------------------------------------------

# Incident pages: {"type": "push", "sequence": S, "from": F, ...}; dashboards: {"type":
# "push" or "refresh", "incident": I, "sequence": S, "from": F, ...}.
INCIDENT_HEAD = re.compile(r'\{"type": "push", "sequence": (\d+), "from": (\d+)')
DISTRICT_HEAD = re.compile(
    r'\{"type": "(?:push|refresh)", "incident": (\d+), "sequence": (\d+), "from": (\d+)'
)


class Socket:
    """One open page: connects, records every change message's arrival, and reconnects
    after a drop (one second later; the run should see none)."""

    def __init__(self, url: str, origin: str, cookie: str, incident: int | None) -> None:
        self.url, self.origin, self.cookie, self.incident = url, origin, cookie, incident
        self.hello = asyncio.Event()
        self.arrivals: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        self.connects = self.drops = 0
        self.stopping = False

    async def run(self) -> None:
        from websockets.asyncio.client import connect

        while not self.stopping:
            with contextlib.suppress(Exception):
                async with connect(
                    self.url,
                    origin=self.origin,
                    additional_headers={"Cookie": self.cookie},
                    proxy=None,
                    ping_interval=None,
                    open_timeout=30,
                    max_size=16 * 2**20,
                ) as ws:
                    self.connects += 1
                    async for raw in ws:
                        self.record(raw, time.monotonic_ns())
            if not self.stopping:
                self.drops += 1
                await asyncio.sleep(1)

    def record(self, raw: str, now: int) -> None:
        if self.incident is None:
            head = DISTRICT_HEAD.match(raw)
            if head:
                incident, sequence, start = (int(x) for x in head.groups())
                self.arrivals[incident].append((now, start, sequence))
                return
        else:
            head = INCIDENT_HEAD.match(raw)
            if head:
                sequence, start = (int(x) for x in head.groups())
                self.arrivals[self.incident].append((now, start, sequence))
                return
        if raw.startswith('{"type": "hello"'):
            self.hello.set()

    def lateness(self, incident: int, sequence: int, t0: int) -> float | None:
        """Milliseconds from ``t0`` to the first message covering ``sequence``, if any."""
        for arrived, start, end in self.arrivals.get(incident, ()):
            if arrived >= t0 and start < sequence <= end:
                return (arrived - t0) / 1e6
        return None


def sockets_for(seed: dict, n: int, port: int) -> list[Socket]:
    origin = f"http://127.0.0.1:{port}"
    cookie = {u: f"{seed['cookie']}={key}" for u, key in seed["sessions"].items()}
    pages = seed["open_incidents"]
    on_incidents = round(n * 0.6)
    sockets = []
    for i in range(on_incidents):
        incident = pages[i % len(pages)]
        user = INCIDENT_READERS[(i // len(pages)) % len(INCIDENT_READERS)]
        url = f"ws://127.0.0.1:{port}/ws/incidents/{incident}/"
        sockets.append(Socket(url, origin, cookie[user], incident))
    for i in range(n - on_incidents):
        user = DISTRICT_READERS[i % len(DISTRICT_READERS)]
        sockets.append(Socket(f"ws://127.0.0.1:{port}/ws/district/", origin, cookie[user], None))
    return sockets


# --- Approvals -------------------------------------------------------------------------------


async def approvals(port: int, seed: dict, every: float, until: float, record: list[dict]) -> None:
    """POST one approval every ``every`` seconds until ``until`` (monotonic), each on its own
    schedule, as the communications lead."""
    lead = CommsLead(port, seed["cookie"], seed["sessions"]["rb-comms"])
    queues = [list(entry["drafts"]) for entry in seed["incidents"]]
    token = await lead.token(queues[0][0])  # the token stays valid with its cookie
    pending = []

    async def approve(draft_id: int, incident_id: int) -> None:
        mark = SimpleNamespace(t0=0)
        row = {"draft": draft_id, "incident": incident_id, "ok": False}
        try:
            done = await lead.approver(draft_id, token)(mark)
            row.update(ok=True, response_ms=(done - mark.t0) / 1e6)
        except Exception as exc:
            row["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
        row["t0"] = mark.t0
        record.append(row)

    start = time.monotonic()
    k = 0
    while time.monotonic() < until:
        entry = seed["incidents"][k % len(queues)]
        queue = queues[k % len(queues)]
        if not queue:
            supervisor.log("out of drafts in review; approvals stop")
            break
        pending.append(asyncio.create_task(approve(queue.pop(0), entry["id"])))
        k += 1
        await asyncio.sleep(max(0.0, start + k * every - time.monotonic()))
    await asyncio.gather(*pending)


def approval_sequences(bench: supervisor.Bench) -> dict[int, int]:
    """Each approved draft's timeline sequence number."""
    import psycopg2

    with psycopg2.connect(bench.env["DATABASE_URL"]) as db, db.cursor() as cursor:
        cursor.execute(
            "SELECT (payload->>'draft')::int, sequence FROM incidents_timelineentry "
            "WHERE kind = 'draft.approved'"
        )
        return dict(cursor.fetchall())


def database_connections(bench: supervisor.Bench) -> int:
    """Connections open to the run's database, this query's own left out."""
    import psycopg2

    with psycopg2.connect(bench.env["DATABASE_URL"]) as db, db.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()"
        )
        return cursor.fetchone()[0]


# --- The run ---------------------------------------------------------------------------------


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(supervisor.percentile(values, 50), 1),
        "p95": round(supervisor.percentile(values, 95), 1),
        "p99": round(supervisor.percentile(values, 99), 1),
        "max": round(max(values), 1),
        "mean": round(statistics.fmean(values), 1),
    }


async def run(args: argparse.Namespace, workdir: Path) -> dict:
    bench = supervisor.Bench(workdir, f"bench_load_{os.getpid()}", pin=False)
    out: dict = {"args": {k: v for k, v in vars(args).items() if k != "json"}}
    sockets: list[Socket] = []
    tasks: list[asyncio.Task] = []
    try:
        bench.start()
        drafts = math.ceil(args.seconds / args.approval_every) + 10 if args.approval_every else 0
        supervisor.log(f"seeding: seed_demo, {args.incidents} incidents, {drafts} drafts in review")
        seed = role(bench, "_seed", str(args.incidents), str(drafts))
        (workdir / "seed.json").write_text(json.dumps(seed))
        out["cost"] = role(bench, "_cost", str(workdir / "seed.json"))
        supervisor.log(f"one request at a time, in process: {out['cost']}")
        if args.cost_only:
            return out
        out["open_incidents"] = len(seed["open_incidents"])
        out["drafts_in_review"] = drafts
        bench.spawn("worker", [sys.executable, *PROCFILE_WORKER])
        bench.spawn("beat", [sys.executable, *PROCFILE_BEAT, str(workdir / "celerybeat")])
        port = supervisor.free_port()
        extra_env = dict(e.split("=", 1) for e in args.server_env or [])
        extra_env["WEB_CONCURRENCY"] = str(args.web_workers)
        server, ready = await live.start_server(bench, "console", port, "web", extra_env)
        supervisor.log(f"{args.web_workers} web processes answering after {ready:.1f} s")

        sockets = sockets_for(seed, args.sockets, port)
        tasks = [asyncio.create_task(s.run()) for s in sockets]
        started = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*(s.hello.wait() for s in sockets)), 120)
        out["sockets_connected_s"] = round(time.monotonic() - started, 1)
        supervisor.log(f"{len(sockets)} sockets open after {out['sockets_connected_s']} s")

        mix = page_mix(seed)
        baseline = [(BASELINE, BASELINE, {})]
        cpu_before = {p.name: supervisor.group_cpu_seconds(p.pid) for p in bench.processes}
        load: list[tuple[float, ...]] = [os.getloadavg()]
        connections = [database_connections(bench)]
        supervisor.log(
            f"load: {args.rate} GET/s of pages, {args.baseline_rate} of {BASELINE}, approvals"
        )
        begun = time.monotonic()
        record: list[dict] = []
        rng = random.Random(20261205)
        reading = asyncio.gather(
            open_loop(port, mix, args.rate, args.seconds, rng),
            open_loop(port, baseline, args.baseline_rate, args.seconds, random.Random(7)),
        )
        approving = asyncio.create_task(
            approvals(port, seed, args.approval_every, begun + args.seconds, record)
            if args.approval_every
            else asyncio.sleep(0)
        )
        while not reading.done():
            await asyncio.wait([reading], timeout=5)
            load.append(os.getloadavg())
            connections.append(database_connections(bench))
        pages_seen, baseline_seen = reading.result()
        await approving
        out["wall_s"] = round(time.monotonic() - begun, 1)
        out["cpu_s"] = {
            p.name: round(supervisor.group_cpu_seconds(p.pid) - cpu_before.get(p.name, 0.0), 1)
            for p in bench.processes
            if p.name in cpu_before and p.popen.poll() is None
        }
        out["database_connections"] = {"start": connections[0], "max": max(connections)}
        out["loadavg_1min"] = {
            "start": round(load[0][0], 2),
            "max": round(max(x[0] for x in load), 2),
            "end": round(load[-1][0], 2),
        }
        await asyncio.sleep(3)  # the last pushes arrive
        out["errors_logged"] = {p.name: p.errors() for p in bench.processes if p.errors()}

        out["http"] = {}
        for seen in (pages_seen, baseline_seen):
            for name in sorted({*seen.latencies, *seen.failed, *seen.refused}):
                times = seen.latencies.get(name, [])
                out["http"][name] = {
                    **summary(times),
                    "failures": seen.failed[name],
                    "refused": seen.refused[name],
                    "per_s": round(
                        (len(times) + seen.failed[name] + seen.refused[name]) / args.seconds, 2
                    ),
                }

        sequences = approval_sequences(bench)
        late_incident, late_district, last, missed = [], [], [], 0
        for row in record:
            sequence = sequences.get(row["draft"])
            if not row["ok"] or sequence is None:
                continue
            worst = 0.0
            for s in sockets:
                if s.incident not in (None, row["incident"]):
                    continue
                ms = s.lateness(row["incident"], sequence, row["t0"])
                if ms is None:
                    missed += 1
                    continue
                (late_district if s.incident is None else late_incident).append(ms)
                worst = max(worst, ms)
            last.append(worst)
        out["approvals"] = {
            "posted": len(record),
            "ok": sum(1 for r in record if r["ok"]),
            "errors": [r["error"] for r in record if not r["ok"]][:5],
            "response_ms": summary([r["response_ms"] for r in record if r["ok"]]),
        }
        out["push_lateness_ms"] = {
            "incident_sockets": summary(late_incident),
            "district_sockets": summary(late_district),
            "last_socket_per_approval": summary(last),
            "missed": missed,
        }
        out["sockets"] = {
            "n": len(sockets),
            "drops": sum(s.drops for s in sockets),
            "connects": sum(s.connects for s in sockets),
        }
    finally:
        for s in sockets:
            s.stopping = True
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bench.close()
    return out


def markdown(info: dict, out: dict) -> str:
    base = out["http"].get(BASELINE, {})
    lines = [
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB; PostgreSQL "
        f"{info['postgresql']}, Redis {info['redis']}, Python {info['python']}, "
        + ", ".join(f"{k} {info[k]}" for k in ("django", "channels", "uvicorn", "websockets")
                    if k in info)
        + f". 1-minute load average {out['loadavg_1min']}.",
        "",
        f"{out['args']['seconds']} s; {out['args']['web_workers']} web processes; PostgreSQL "
        f"connections {out['database_connections']['start']} at the start, at most "
        f"{out['database_connections']['max']}; "
        f"{out['open_incidents']} open incidents; "
        f"{out['sockets']['n']} sockets ({out['sockets']['drops']} drops); "
        f"{out['approvals']['ok']} of {out['approvals']['posted']} approvals accepted.",
        "",
        "| Page | requests/s | p50 | p95 | p99 | max | failures | 503 | p95 / baseline p95 "
        "| p95 <= 200 ms |",
        "|---" * 10 + "|",
    ]  # fmt: skip
    for name in (*PAGES, BASELINE):
        h = out["http"].get(name, {})
        if not h.get("n"):
            lines.append(f"| {name} | 0 | | | | | {h.get('failures', '')} | | | |")
            continue
        ratio = h["p95"] / base["p95"] if base.get("p95") else math.nan
        met = "yes" if h["p95"] <= TARGET_P95_MS else "no"
        lines.append(
            f"| {name} | {h['per_s']} | {h['p50']:.0f} | {h['p95']:.0f} | {h['p99']:.0f} "
            f"| {h['max']:.0f} | {h['failures']} | {h['refused']} | {ratio:.1f}x | {met} |"
        )
    lines += ["", "Push lateness, approval POST -> message at the socket (ms):", ""]
    lines += ["| Sockets | n | p50 | p95 | p99 | max |", "|---|---|---|---|---|---|"]
    for key, label in (
        ("incident_sockets", "incident pages"),
        ("district_sockets", "dashboards (/ws/district/)"),
        ("last_socket_per_approval", "last socket, per approval"),
    ):
        s = out["push_lateness_ms"][key]
        if s.get("n"):
            lines.append(
                f"| {label} | {s['n']} | {s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} "
                f"| {s['max']:.0f} |"
            )
    lines += [
        "",
        "One request at a time, in process (no load): "
        + "; ".join(
            f"{name} {c['ms_p50']} ms, {c['queries']} queries, {c['bytes']:,} B"
            for name, c in out["cost"].items()
            if name != "approval"
        )
        + f". One approval with its push: {out['cost']['approval']}; the communications "
        f"dashboard's blocks: {out['cost']['communications']['ms_p50_without_discipline_checks']}.",
    ]
    a = out["approvals"]["response_ms"]
    lines += [
        "",
        f"Missed pushes: {out['push_lateness_ms']['missed']}. Approval POST response: "
        f"p50 {a.get('p50')} ms, p95 {a.get('p95')} ms. CPU seconds used during the run: "
        f"{out['cpu_s']}.",
    ]
    return "\n".join(lines)


def main() -> None:
    roles = {"_seed": lambda a: role_seed(int(a[0]), int(a[1])), "_cost": lambda a: role_cost(a[0])}
    if sys.argv[1:2] and sys.argv[1] in roles:
        roles[sys.argv[1]](sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=180, help="how long the load runs")
    parser.add_argument("--rate", type=float, default=20.0, help="dashboard GETs per second")
    parser.add_argument(
        "--baseline-rate", type=float, default=10.0, help=f"GETs per second of {BASELINE}"
    )
    parser.add_argument("--sockets", type=int, default=200, help="open websockets")
    parser.add_argument(
        "--approval-every", type=float, default=1.0, help="seconds; 0: no approvals"
    )
    parser.add_argument("--incidents", type=int, default=4, help="open incidents seeded")
    parser.add_argument(
        "--web-workers", type=int, default=os.cpu_count() or 1, help="WEB_CONCURRENCY"
    )
    parser.add_argument(
        "--cost-only", action="store_true", help="seed and measure each page alone; no load"
    )
    parser.add_argument("--server-env", nargs="*", metavar="NAME=VALUE", help="e.g. WEB_THREADS=8")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (a PostgreSQL server where databases can be created).")
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    info = supervisor.machine(*live.PACKAGES)
    supervisor.log(f"logs in {workdir}; machine {json.dumps(info)}")
    out = asyncio.run(run(args, workdir))
    out["machine"] = {**info, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    if not args.cost_only:
        print("\n" + markdown(out["machine"], out), flush=True)


if __name__ == "__main__":
    main()
