"""Timer punctuality benchmark (B3 of the perf-reliability anchors, §1.9), on real processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/incident_console \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/timers.py [--quick] [--json results.json]

Every scenario gets a fresh PostgreSQL database (copied from one migrated template, on the
server of ``DATABASE_URL``), its own redis-server on a free port, one ``celery worker``
(concurrency 2, as in the Procfile) and one ``celery beat``, all on this machine. A seeding
subprocess opens incidents through ``incident_open`` and moves their deadlines to a schedule
anchored on the database's ``now()``; the engine stamps ``fired_at`` with ``Now()``, so
lateness ``fired_at - due_at`` is read on one clock. The recording SMS provider appends each
call to a file: a key seen twice is a duplicate, a key owed but never seen is lost.

Scenarios (``--quick`` shrinks them; see ``PLANS``):

- clean: 1,000 deadlines due over 10 minutes, 500 spread at random and 5 bursts of 100 due
  in the same second;
- faults: the same schedule, with the worker killed (SIGKILL, whole process group) 0.3 s into
  the second burst and restarted 1 s later; Redis down for 2 minutes from +240.3 s (killed,
  then replaced by an empty one), across the third burst; and redis-server killed 0.3 s into
  the fourth burst and replaced 3 s later by an empty one (every queue lost);
- scale: 10,000 deadlines due over 2 minutes (9,000 at random, 10 bursts of 100);
- cost: ``timers.sweep()`` run in-process under ``CaptureQueriesContext`` over a batch of due
  deadlines, against the baseline of the bare claim loop (``SELECT ... FOR UPDATE SKIP
  LOCKED`` + ``UPDATE`` per row, one transaction each, no firing work).

Progress goes to stdout; the results end as a Markdown summary (and JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

import supervisor  # bench/supervisor.py: processes, databases, Redis, the machine
from supervisor import ROOT, log, percentile

DEADLINES_PER_INCIDENT = 17
BURST = 100
SEED_LEAD = 5.0  # seconds between the end of seeding and the start of the schedule
PREFIX = f"bench_timers_{os.getpid()}"


@dataclass(frozen=True)
class Plan:
    deadlines: int
    window: float  # seconds over which they fall due
    bursts: tuple[float, ...]  # offsets of the bursts of 100 due in the same second
    kill_worker_at: float | None = None  # offsets of the faults
    kill_redis_at: float | None = None  # killed, and replaced 3 s later by an empty one
    redis_down_at: float | None = None  # killed, and replaced redis_down_for later
    redis_down_for: float = 120.0
    drain: float = 300.0  # how long to wait after the window for stragglers


PLANS = {
    "full": {
        "clean": Plan(1000, 600, (60, 180, 300, 420, 540)),
        "faults": Plan(1000, 600, (60, 180, 300, 420, 540), 180.3, 420.3, 240.3),
        "scale": Plan(10_000, 120, tuple(range(6, 120, 12)), drain=900),
    },
    "quick": {
        "clean": Plan(300, 20, (5, 15), drain=60),
        "faults": Plan(300, 30, (5, 15, 25), 5.3, 25.3, 12.3, 6.0, drain=90),
        "scale": Plan(1000, 20, (5, 15), drain=120),
    },
}


def schedule(plan: Plan, count: int, rng: random.Random) -> list[tuple[float, bool]]:
    """(offset in seconds from the schedule's start, in a burst): bursts of 100 within one
    second each, the rest uniform over the window, in random order."""
    offsets = [(b + rng.random() * 0.999, True) for b in plan.bursts for _ in range(BURST)]
    offsets += [(rng.uniform(0, plan.window), False) for _ in range(count - len(offsets))]
    rng.shuffle(offsets)
    return offsets[:count]


# --- Django side: runs in subprocesses pointed at one scenario's database ----------------


def _open_incidents(count: int) -> list[tuple[int, str]]:
    """Open enough incidents to schedule ``count`` deadlines; return (pk, kind) of those."""
    from comms.models import Deadline
    from incidents.models import District, Incident, Role, RoleGrant, User
    from incidents.services import incident_open, incident_role_assign

    district, _ = District.objects.get_or_create(
        slug="bench", defaults={"name": "Bench District", "time_zone": "America/Chicago"}
    )

    def person(username: str, role: str, phone: str) -> User:
        user, _ = User.objects.get_or_create(
            username=username, defaults={"district": district, "phone": phone}
        )
        RoleGrant.objects.get_or_create(user=user, role=role)
        return user

    cio = person("bench-cio", Role.CIO, "+15555550100")
    lead = person("bench-lead", Role.COMMUNICATIONS, "+15555550101")
    opened = []
    for n in range(-(-count // DEADLINES_PER_INCIDENT)):
        incident = incident_open(
            by=cio, title=f"Bench {n}", kind=Incident.Kind.SIS, severity=2, all_schools=True
        )
        incident_role_assign(incident=incident, function=Role.COMMUNICATIONS, user=lead, by=cio)
        opened.append(incident.pk)
    return list(
        Deadline.objects.filter(incident__in=opened, status=Deadline.Status.PENDING)
        .order_by("pk")
        .values_list("pk", "kind")[:count]
    )


def _texts_owed(kind: str) -> int:
    # Silence escalates to the communications lead and the owner; the rest go to one person.
    return 2 if kind == "cadence_overdue" else 1


def role_seed(plan: Plan) -> None:
    """Open incidents, move their deadlines onto the plan's schedule, print it as JSON."""
    supervisor.setup_django()
    from datetime import timedelta

    from django.db import connection

    from comms.models import Deadline

    chosen = _open_incidents(plan.deadlines)
    offsets = schedule(plan, len(chosen), random.Random(20260302))
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        start = cursor.fetchone()[0] + timedelta(seconds=SEED_LEAD)
    Deadline.objects.bulk_update(
        [
            Deadline(pk=pk, due_at=start + timedelta(seconds=offset))
            for (pk, _), (offset, _) in zip(chosen, offsets, strict=True)
        ],
        ["due_at"],
        batch_size=1000,
    )
    print(
        json.dumps(
            {
                "start": start.timestamp(),
                "deadlines": [pk for pk, _ in chosen],
                "in_bursts": [
                    pk for (pk, _), (_, burst) in zip(chosen, offsets, strict=True) if burst
                ],
                "texts_owed": sum(_texts_owed(kind) for _, kind in chosen),
            }
        )
    )


def role_cost(batch: int, rounds: int) -> None:
    """Per-firing cost of timers.sweep() against the bare claim loop, in this process."""
    supervisor.setup_django()
    from datetime import timedelta
    from unittest import mock

    from django.db import connection, reset_queries, transaction
    from django.db.models.functions import Now
    from django.test.utils import CaptureQueriesContext

    from comms import timers
    from comms.models import Deadline

    def make_due(count: int) -> int:
        pks = [pk for pk, _ in _open_incidents(count)]
        return Deadline.objects.filter(pk__in=pks).update(due_at=Now() - timedelta(seconds=1))

    def bare_claim_loop() -> int:
        claimed = 0
        while True:
            with transaction.atomic():
                row = (
                    Deadline.objects.select_for_update(skip_locked=True)
                    .filter(status=Deadline.Status.PENDING, due_at__lte=Now())
                    .order_by("due_at", "pk")
                    .first()
                )
                if row is None:
                    return claimed
                Deadline.objects.filter(pk=row.pk).update(
                    status=Deadline.Status.FIRED, fired_at=Now()
                )
                claimed += 1

    # Django keeps the last 9,000 queries; a batch can run more, and a full log breaks the
    # capture's counting.
    connection.queries_limit = 10**7
    connection.queries_log = deque(maxlen=connection.queries_limit)

    def measure(work) -> tuple[int, float, list[dict]]:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            done = work()
            elapsed = time.perf_counter() - started
        return done, elapsed, captured.captured_queries

    # A sweep with nothing due: the claim that finds nothing, plus the heartbeat (measured
    # the second time, once the heartbeat row exists).
    timers.sweep()
    _, _, idle = measure(lambda: len(timers.sweep().fired))
    overhead = len(idle)
    out: dict[str, list] = {"engine": [], "engine_no_handoff": [], "baseline": []}
    kinds: Counter[str] = Counter()
    for _ in range(rounds):
        make_due(batch)
        fired, elapsed, queries = measure(lambda: len(timers.sweep(limit=batch * 2).fired))
        kinds.update(q["sql"].split(None, 1)[0].upper() for q in queries)
        out["engine"].append(
            {
                "rows": fired,
                "ms_per_row": elapsed * 1000 / fired,
                "queries_per_row": (len(queries) - overhead) / fired,
            }
        )
        # The same firings with the after-commit hand-offs (live push, delivery enqueue)
        # dropped: what is left is the database work and the Python around it.
        make_due(batch)
        with mock.patch.object(transaction, "on_commit"):
            fired, elapsed, queries = measure(lambda: len(timers.sweep(limit=batch * 2).fired))
        out["engine_no_handoff"].append(
            {
                "rows": fired,
                "ms_per_row": elapsed * 1000 / fired,
                "queries_per_row": (len(queries) - overhead) / fired,
            }
        )
        make_due(batch)
        claimed, elapsed, queries = measure(bare_claim_loop)
        out["baseline"].append(
            {
                "rows": claimed,
                "ms_per_row": elapsed * 1000 / claimed,
                "queries_per_row": (len(queries) - 1) / claimed,
            }
        )
    total = sum(kinds.values())
    fired_total = sum(r["rows"] for r in out["engine"])
    out["engine_query_mix_per_row"] = {k: round(v / fired_total, 2) for k, v in kinds.most_common()}
    out["engine_query_total"] = total
    print(json.dumps(out))


# --- Orchestration: no Django here, only processes, SQL and files -------------------------


class Stack(supervisor.Stack):
    """A scenario's database, copied from the migrated template, with its redis-server,
    worker and beat, in production settings."""

    celery_loglevel = "WARNING"

    def __init__(self, name: str, workdir: Path, template: str, stale_claim: int | None) -> None:
        self.name = name
        self.database = f"{PREFIX}_{name}"
        settings = supervisor.production_settings("localhost")
        if stale_claim is not None:
            settings["NOTIFICATION_STALE_CLAIM_SECONDS"] = str(stale_claim)
        super().__init__(
            workdir / name,
            supervisor.create_database(self.database, template=template),
            # The code under test is the tree this script sits in, even if it is a copy.
            PYTHONPATH=str(ROOT),
            **settings,
        )

    def close(self) -> None:
        self.stop_all()
        supervisor.drop_database(self.database)


@dataclass
class Outcome:
    name: str
    deadlines: int
    window_s: float
    bursts: int
    faults: list[str] = field(default_factory=list)
    # The latest firing among deadlines due from 1 s before to 15 s after each kill.
    late_max_around_kill_s: dict[str, float] = field(default_factory=dict)
    # Deadlines due outside the Redis-down window, and those due inside it (their lateness
    # counted from Redis's return, as the target has it, and from their due time).
    late_p99_outside_outage_s: float = math.nan
    late_max_outside_outage_s: float = math.nan
    in_outage: int = 0
    late_max_in_outage_s: float = math.nan
    late_max_in_outage_after_return_s: float = math.nan
    late_max_per_burst_s: list[float] = field(default_factory=list)
    late_p50_s: float = math.nan
    late_p99_s: float = math.nan
    late_max_s: float = math.nan
    late_p99_spread_s: float = math.nan  # deadlines due alone, at random times
    late_p99_burst_s: float = math.nan  # deadlines due 100 in the same second
    late_over_2s: int = 0
    late_over_10s: int = 0
    text_p50_s: float = math.nan  # due -> text handed to the provider
    text_p99_s: float = math.nan
    text_max_s: float = math.nan
    deadlines_lost: int = 0
    deadlines_cancelled: int = 0
    texts_owed: int = 0
    texts_lost: int = 0
    texts_duplicated: int = 0
    texts_retried: int = 0
    heartbeat_age_max_s: float = math.nan
    settled_after_window_s: float = math.nan
    stale_claim_s: int = 120
    loadavg_1m_at_end: float = math.nan  # the machine is shared: other work shows here


def run_scenario(name: str, plan: Plan, workdir: Path, template: str, quick: bool) -> Outcome:
    stale_claim = 10 if quick else None
    stack = Stack(name, workdir, template, stale_claim)
    outcome = Outcome(
        name, plan.deadlines, plan.window, len(plan.bursts), stale_claim_s=stale_claim or 120
    )
    try:
        stack.start_redis()
        worker = stack.start_worker()
        stack.start_beat()
        stack.wait_for_engine()
        log(f"{name}: seeding {plan.deadlines} deadlines")
        seeded = stack.run_script(__file__, "_seed", json.dumps(asdict(plan)))
        ids, start, in_bursts = seeded["deadlines"], seeded["start"], set(seeded["in_bursts"])
        outcome.texts_owed = seeded["texts_owed"]
        # The database and this process read the same host clock.
        skew = float(stack.sql("SELECT extract(epoch FROM now())")[0][0]) - time.time()
        local_start = start - skew

        faults = []
        if plan.kill_worker_at is not None:
            faults += [
                (plan.kill_worker_at, "SIGKILL the worker", lambda: stack.kill(worker)),
                (plan.kill_worker_at + 1, "start a new worker", lambda: stack.start_worker("w2")),
            ]
        if plan.kill_redis_at is not None:
            faults += [
                (plan.kill_redis_at, "SIGKILL redis-server", lambda: stack.kill(stack.redis)),
                (plan.kill_redis_at + 3, "start an empty one", lambda: stack.start_redis("r2")),
            ]
        if plan.redis_down_at is not None:
            back = plan.redis_down_at + plan.redis_down_for
            faults += [
                (plan.redis_down_at, "stop Redis (SIGKILL)", lambda: stack.kill(stack.redis)),
                (back, "start an empty Redis", lambda: stack.start_redis("r3")),
            ]
        faults.sort(key=lambda f: f[0])
        heartbeat_ages = []
        next_poll = 0.0
        last_log = 0.0
        settled_at = None
        while True:
            now = time.time() - local_start
            while faults and now >= faults[0][0]:
                at, what, action = faults.pop(0)
                action()
                outcome.faults.append(f"{what} at +{at:.1f} s")
                log(f"{name}: {what} at +{now:.1f} s")
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + 1.0
                pending, fired, texts, sent, age = stack.sql(
                    "SELECT "
                    "(SELECT count(*) FROM comms_deadline WHERE id = ANY(%s) "
                    " AND status = 'pending'),"
                    "(SELECT count(*) FROM comms_deadline WHERE id = ANY(%s) "
                    " AND status = 'fired'),"
                    "(SELECT count(*) FROM comms_notification WHERE channel = 'sms'),"
                    "(SELECT count(*) FROM comms_notification WHERE channel = 'sms' "
                    " AND status IN ('sent', 'failed')),"
                    "(SELECT extract(epoch FROM now() - max(beat_at)) FROM comms_engineheartbeat)",
                    (ids, ids),
                )[0]
                if 0 <= now <= plan.window + 30:
                    heartbeat_ages.append(float(age))
                if now - last_log >= 15:
                    last_log = now
                    log(
                        f"{name}: +{now:.0f} s fired {fired}/{len(ids)}, texts {sent} sent of "
                        f"{texts} queued ({outcome.texts_owed} owed), heartbeat {float(age):.1f} s"
                    )
                if (
                    not faults
                    and now > plan.window
                    and pending == 0
                    and (texts == sent == outcome.texts_owed)
                ):
                    settled_at = now
                    break
                if now > plan.window + plan.drain:
                    log(f"{name}: gave up waiting {plan.drain:.0f} s after the window")
                    break
            time.sleep(0.05)
        outcome.settled_after_window_s = (
            round(settled_at - plan.window, 1) if settled_at is not None else math.nan
        )
        outcome.heartbeat_age_max_s = round(max(heartbeat_ages, default=math.nan), 2)

        settled = stack.sql(
            "SELECT id, status, extract(epoch FROM fired_at - due_at), "
            "extract(epoch FROM due_at) - %s FROM comms_deadline "
            "WHERE id = ANY(%s) AND status <> 'pending'",
            (start, ids),
        )
        for at, what in [(plan.kill_worker_at, "worker"), (plan.kill_redis_at, "redis")]:
            if at is not None:
                near = [float(x) for _, _, x, due in settled if at - 1 <= float(due) <= at + 15]
                outcome.late_max_around_kill_s[what] = round(max(near, default=math.nan), 3)
        outcome.late_max_per_burst_s = [
            round(
                max(
                    (float(x) for _, _, x, due in settled if b <= float(due) < b + 1),
                    default=math.nan,
                ),
                2,
            )
            for b in plan.bursts
        ]
        if plan.redis_down_at is not None:
            down, back = plan.redis_down_at, plan.redis_down_at + plan.redis_down_for
            inside = [
                (float(x), float(due)) for _, _, x, due in settled if down <= float(due) < back
            ]
            outside = [float(x) for _, _, x, due in settled if not down <= float(due) < back]
            outcome.in_outage = len(inside)
            outcome.late_p99_outside_outage_s = round(percentile(outside, 99), 3)
            outcome.late_max_outside_outage_s = round(max(outside, default=math.nan), 3)
            outcome.late_max_in_outage_s = round(max((x for x, _ in inside), default=math.nan), 3)
            outcome.late_max_in_outage_after_return_s = round(
                max((max(0.0, due + x - back) for x, due in inside), default=math.nan), 3
            )
        settled = [row[:3] for row in settled]
        late = [float(x) for _, _, x in settled]
        outcome.deadlines_lost = len(ids) - len(late)
        outcome.deadlines_cancelled = sum(status == "cancelled" for _, status, _ in settled)
        outcome.late_p99_spread_s = round(
            percentile([float(x) for pk, _, x in settled if pk not in in_bursts], 99), 3
        )
        outcome.late_p99_burst_s = round(
            percentile([float(x) for pk, _, x in settled if pk in in_bursts], 99), 3
        )
        outcome.late_p50_s = round(percentile(late, 50), 3)
        outcome.late_p99_s = round(percentile(late, 99), 3)
        outcome.late_max_s = round(max(late, default=math.nan), 3)
        outcome.late_over_2s = sum(x > 2 for x in late)
        outcome.late_over_10s = sum(x > 10 for x in late)
        rows = stack.sql(
            "SELECT n.key, n.status, n.attempts, extract(epoch FROM n.sent_at - d.due_at) "
            "FROM comms_notification n JOIN comms_deadline d ON d.id = n.deadline_id "
            "WHERE n.channel = 'sms' AND d.id = ANY(%s)",
            (ids,),
        )
        calls = Counter()
        if stack.sms_file.exists():
            calls = Counter(json.loads(line)["key"] for line in stack.sms_file.open())
        outcome.texts_lost = outcome.texts_owed - sum(1 for key, *_ in rows if calls[key] >= 1)
        outcome.texts_duplicated = sum(n - 1 for n in calls.values() if n > 1)
        outcome.texts_retried = sum(1 for _, _, attempts, _ in rows if attempts > 1)
        text_late = [float(x) for *_, x in rows if x is not None]
        outcome.text_p50_s = round(percentile(text_late, 50), 3)
        outcome.text_p99_s = round(percentile(text_late, 99), 3)
        outcome.text_max_s = round(max(text_late, default=math.nan), 3)
        outcome.loadavg_1m_at_end = round(os.getloadavg()[0], 2)
        log(f"{name}: {json.dumps(asdict(outcome))}")
        return outcome
    finally:
        stack.close()


def run_cost(workdir: Path, template: str, batch: int, rounds: int) -> dict:
    stack = Stack("cost", workdir, template, None)
    try:
        stack.start_redis()  # the engine's after-commit hand-offs publish here; no worker
        log(f"cost: {rounds} rounds of {batch} firings against {batch} bare claims")
        raw = stack.run_script(__file__, "_cost", str(batch), str(rounds))
    finally:
        stack.close()

    def median(side: str, key: str) -> float:
        return round(statistics.median(r[key] for r in raw[side]), 3)

    result = {
        side: {k: median(side, k) for k in ("ms_per_row", "queries_per_row")}
        for side in ("engine", "engine_no_handoff", "baseline")
    }
    result["batch"], result["rounds"] = batch, rounds
    result["engine_query_mix_per_row"] = raw["engine_query_mix_per_row"]
    result["ratio_ms"] = round(result["engine"]["ms_per_row"] / result["baseline"]["ms_per_row"], 1)
    result["ratio_queries"] = round(
        result["engine"]["queries_per_row"] / result["baseline"]["queries_per_row"], 1
    )
    log(f"cost: {json.dumps(result)}")
    return result


def source() -> str:
    """The code measured: the commit, and whether the app code differs from it. Workers
    import the code when they start, so a tree edited during a run measures a mix; run from
    an export of one commit (``git archive``, with ``BENCH_SOURCE`` naming it) to pin it."""
    if os.environ.get("BENCH_SOURCE"):
        return os.environ["BENCH_SOURCE"]
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode:
        return "unknown"
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "comms", "incidents", "incident_console"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return head.stdout.strip() + (" with uncommitted changes" if dirty else "")


def markdown(info: dict, outcomes: list[Outcome], cost: dict) -> str:
    lines = [
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB, "
        f"PostgreSQL {info['postgresql']}, Redis {info['redis']}, Python {info['python']}, "
        f"Django {info['django']}, Celery {info['celery']}; code {info['source']}; "
        f"load average at start "
        f"{', '.join(f'{x:.2f}' for x in info['loadavg_at_start'])}.",
        "",
        "| Scenario | Deadlines / window | Late p50 | p99 | max | p99 alone | p99 in bursts "
        "| > 10 s | Text p50 | Text p99 | Text max | Lost deadlines | Lost texts "
        "| Duplicate texts | Retried sends | Heartbeat age max |",
        "|---" * 16 + "|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.name} | {o.deadlines:,} / {o.window_s:.0f} s | {o.late_p50_s:.2f} s "
            f"| {o.late_p99_s:.2f} s | {o.late_max_s:.2f} s | {o.late_p99_spread_s:.2f} s "
            f"| {o.late_p99_burst_s:.2f} s | {o.late_over_10s} | {o.text_p50_s:.2f} s "
            f"| {o.text_p99_s:.2f} s | {o.text_max_s:.2f} s | {o.deadlines_lost} "
            f"| {o.texts_lost} of {o.texts_owed:,} | {o.texts_duplicated} | {o.texts_retried} "
            f"| {o.heartbeat_age_max_s:.1f} s |"
        )
    for o in outcomes:
        if o.faults:
            around = ", ".join(f"{k} {v:.2f} s" for k, v in o.late_max_around_kill_s.items())
            lines += [
                "",
                f"Faults in {o.name}: " + "; ".join(o.faults) + ". Latest firing among "
                f"deadlines due from 1 s before to 15 s after each kill: {around}.",
            ]
            if o.in_outage:
                lines[-1] += (
                    f" Due outside the Redis-down window: p99 {o.late_p99_outside_outage_s:.2f} s, "
                    f"max {o.late_max_outside_outage_s:.2f} s. Due inside it ({o.in_outage}): "
                    f"max {o.late_max_in_outage_s:.2f} s late, "
                    f"{o.late_max_in_outage_after_return_s:.2f} s after Redis returned."
                )
    for o in outcomes:
        lines += [
            "",
            f"Latest firing in each burst of {o.name}: "
            + ", ".join(f"{x:.2f} s" for x in o.late_max_per_burst_s)
            + ".",
        ]
    e, n, b = cost["engine"], cost["engine_no_handoff"], cost["baseline"]
    lines += [
        "",
        f"Per firing, in one process (median of {cost['rounds']} rounds of {cost['batch']}): "
        f"engine {e['ms_per_row']:.2f} ms and {e['queries_per_row']:.1f} queries; the same "
        f"without the after-commit hand-offs {n['ms_per_row']:.2f} ms; bare claim loop "
        f"{b['ms_per_row']:.2f} ms and {b['queries_per_row']:.1f} queries. Ratio to the bare "
        f"claim: {cost['ratio_ms']}x in time, {cost['ratio_queries']}x in queries. Query mix "
        f"per firing: {cost['engine_query_mix_per_row']}.",
    ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_seed":
        role_seed(Plan(**json.loads(sys.argv[2])))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_cost":
        role_cost(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke check, about 2 minutes")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--only", nargs="*", help="run only these scenarios (and cost)")
    args = parser.parse_args()
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        sys.exit("Set DATABASE_URL and REDIS_URL (PostgreSQL and Redis) to run this benchmark.")
    # A SIGTERM (or nohup's kill) unwinds through the finally blocks that stop processes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    plans = PLANS["quick" if args.quick else "full"]
    workdir = Path(tempfile.mkdtemp(prefix="bench-timers-"))
    info = supervisor.machine("django", "celery")
    info["source"] = source()
    log(f"logs in {workdir}; machine {json.dumps(info)}")
    template = f"{PREFIX}_template"
    template_url = supervisor.create_database(template)
    try:
        env = {**os.environ, "DATABASE_URL": template_url, "DEBUG": "true", "PYTHONPATH": str(ROOT)}
        supervisor.manage("migrate", "--noinput", env=env)
        started = time.monotonic()
        cost = run_cost(workdir, template, batch=102 if args.quick else 340, rounds=3)
        outcomes = [
            run_scenario(name, plan, workdir, template, args.quick)
            for name, plan in plans.items()
            if not args.only or name in args.only
        ]
        info["loadavg_at_end"] = os.getloadavg()
        info["minutes"] = round((time.monotonic() - started) / 60, 1)
    finally:
        supervisor.drop_database(template)
    summary = markdown(info, outcomes, cost)
    print("\n" + summary, flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": info, "scenarios": [asdict(o) for o in outcomes], "cost": cost},
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
