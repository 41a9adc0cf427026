"""Live push benchmark (B2 and B7 of the perf-reliability anchors, §1.9), on real processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/incident_console \\
        .venv/bin/python bench/live.py [--quick] [--json results.json]

One throwaway PostgreSQL database (created on the server of ``DATABASE_URL``, dropped at the
end), one redis-server of our own on a free port for the channels_redis layer, and the ASGI
server as a subprocess: daphne and uvicorn, one after the other, each in one process.

Fan-out (per server and N): N websockets to ``/ws/incidents/<id>/``, signed in with real
Django sessions of seven users (one per push audience: owner, communications, a named
drafter, CIO, legal, academics, technical; sockets are dealt round-robin, so many sockets
share a session), sending ``Cookie`` and ``Origin`` as a browser does. Each round the
communications lead GETs a draft's page for a CSRF token (untimed), then POSTs
``/comms/drafts/<id>/approve/`` over HTTP; the time runs from just before the POST's TCP
connect to the moment the LAST socket has received the push whose ``sequence`` covers the
approval. Every round approves a fresh draft that was seeded in review, so the page's panels
(and the payload) are those of an incident with 30-odd drafts.

Floor: a plain ``websockets`` server process, on the same CPU as the ASGI server, that
``broadcast()``s a message of the same size (the largest real push of the run) to N sockets
when the client asks over a control socket; timed the same way, by the same client code.

Memory: server RSS (``VmRSS``) warm with no socket, then with N idle sockets.

Reconnect: N sockets whose clients reconnect as ``static/js/console.js`` does
(``min(30 s, 0.5 s * 2**attempt) * U(0.5, 1)``, attempt counted from 1); the server gets
SIGTERM and is started again as soon as it has exited; the time runs from the SIGTERM until
every socket has reconnected and received its ``hello``.

Placement: the ASGI server (and the floor server) is pinned to CPU 0; this process (all the
websocket clients and the HTTP client) and redis-server to CPU 1; PostgreSQL is not pinned.
The load generator shares the machine with the server: its per-message cost is in every
number, the floor's included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
PREFIX = f"bench_live_{os.getpid()}"
SERVER_CPU, CLIENT_CPU = 0, 1
ROUND_TIMEOUT = 5.0  # seconds for one approval to reach every connected socket
CONNECT_TIMEOUT = 240.0  # seconds for N sockets to connect and say hello
RECONNECT_LIMIT = 180.0  # seconds for N sockets to come back after a restart
CONNECT_GATE = 50  # at most this many first handshakes in flight (the reconnect storm is not gated)

# The ASGI servers, each one process, as they would be started in production.
SERVERS = {
    # daphne with its defaults (no compression, backlog 50), as the console ran before.
    "daphne": ["-m", "daphne", "-b", "127.0.0.1", "-p", "{port}"],
    # uvicorn defaults: uvloop, httptools, websockets-sansio, permessage-deflate on.
    "uvicorn": [
        "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}",
        "--lifespan", "off", "--no-access-log", "--log-level", "warning",
    ],
    # The anchors' recommendation (§1.3): the same without permessage-deflate.
    "uvicorn-nodeflate": [
        "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}",
        "--lifespan", "off", "--no-access-log", "--log-level", "warning",
        "--ws-per-message-deflate", "false",
    ],
    # What the console runs (incident_console/server.py): the above plus a 5 s graceful stop.
    "console": [
        "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}",
        "--no-access-log", "--log-level", "warning",
        "--ws-per-message-deflate", "false", "--timeout-graceful-shutdown", "5",
        "--lifespan", "off",
    ],
}  # fmt: skip
APP = "incident_console.asgi:application"

# The targets for p99 of "approval POSTed -> last socket has it", in ms.
TARGETS_MS = {50: 150, 200: 250, 1000: 1000}
RECONNECT_TARGET_S = 15.0


@dataclass(frozen=True)
class Plan:
    ns: tuple[int, ...]
    rounds: int  # measured approvals per server and N
    warmup: int  # approvals before those, not measured
    servers: tuple[str, ...]
    reconnect_n: int
    gap: float = 0.3  # seconds between one round's end and the next round's token GET
    idle: float = 12.0  # idle seconds before the memory reading: more than the layer's 5 s block


PLANS = {
    "full": Plan((50, 200, 1000), 30, 3, ("daphne", "uvicorn", "uvicorn-nodeflate"), 1000),
    "quick": Plan((50, 200), 10, 2, ("daphne", "uvicorn"), 200, idle=6.0),
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (so p99 of fewer than 100 values is their maximum)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def ms(ns: int) -> float:
    return ns / 1e6


# --- Django side: subprocesses pointed at the benchmark's database --------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_console.settings")
    import django

    django.setup()


AUDIENCE_USERS = (
    # (username, roles, audience the consumer will put them in)
    ("bench-owner", ("cio",), "owner"),
    ("bench-comms", ("communications",), "communications"),
    ("bench-drafter", ("technical",), "drafter"),
    ("bench-cio", ("cio",), "cio"),
    ("bench-legal", ("legal",), "legal"),
    ("bench-academics", ("academics",), "academics"),
    ("bench-technical", ("technical",), "technical"),
)


def role_seed(incidents: int, drafts_per_incident: int) -> None:
    """One district, seven people, ``incidents`` open incidents each with drafts in review;
    print the sessions and ids as JSON."""
    _django()
    from unittest import mock

    from django.conf import settings
    from django.test import Client

    from comms import drafters, drafts
    from comms.models import Draft
    from console import page
    from incidents.models import District, Incident, RoleGrant, User
    from incidents.services import incident_open, incident_role_assign

    district = District.objects.create(
        name="Bench District", slug="bench", time_zone="America/Chicago"
    )
    people = {}
    for username, roles, _ in AUDIENCE_USERS:
        user = User.objects.create_user(username=username, district=district)
        for role in roles:
            RoleGrant.objects.create(user=user, role=role)
        people[username] = user
    owner, lead = people["bench-owner"], people["bench-comms"]
    made = []
    # Nobody listens while seeding: skip rendering a push for every seeded row.
    with mock.patch("console.live.hand_off"), mock.patch("console.live.end_sessions"):
        for k in range(incidents):
            incident = incident_open(
                by=owner, title=f"Bench live {k}", kind=Incident.Kind.SIS, severity=2,
                all_schools=True,
            )  # fmt: skip
            incident_role_assign(incident=incident, function="communications", user=lead, by=owner)
            drafters.drafter_name(incident=incident, by=lead, user=people["bench-drafter"])
            ids = []
            for _ in range(drafts_per_incident):
                draft = drafts.draft_create(
                    incident=incident, by=lead, audience="staff", channel="email"
                )
                drafts.draft_submit(draft=draft, by=lead, expected_revision=1)
                ids.append(draft.pk)
            states = set(Draft.objects.filter(pk__in=ids).values_list("state", flat=True))
            assert states <= {Draft.State.IN_REVIEW}, states
            made.append({"id": incident.pk, "drafts": ids})
    sessions = {}
    for username, _, audience in AUDIENCE_USERS:
        # A real session row in the database, exactly what signing in leaves behind.
        client = Client()
        client.force_login(people[username])
        sessions[audience] = client.cookies[settings.SESSION_COOKIE_NAME].value
    incident = Incident.objects.get(pk=made[0]["id"])
    drafter_ids = set(incident.drafters.values_list("user_id", flat=True))
    audiences = {
        page.audience_of(people[u], incident, is_drafter=people[u].pk in drafter_ids)
        for u, _, _ in AUDIENCE_USERS
    }
    assert audiences == set(page.AUDIENCES), audiences
    print(
        json.dumps(
            {
                "incidents": made,
                "sessions": sessions,
                "cookie": settings.SESSION_COOKIE_NAME,
                "comms_session": sessions["communications"],
            }
        )
    )


def role_cost(incident_id: int, draft_ids: list[int]) -> None:
    """Server-side work behind one approval, in this process: the service with its
    after-commit hand-off of the push, and the push's rendering alone, with query counts."""
    _django()
    from asgiref.sync import sync_to_async
    from django.core.cache import cache
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from comms import drafts
    from comms.models import Draft
    from console import live, page
    from incidents import selectors
    from incidents.models import User

    lead = User.objects.get(username="bench-comms")

    def timed(work) -> tuple[float, int]:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            work()
            elapsed = time.perf_counter() - started
        return elapsed * 1000, len(captured.captured_queries)

    def render_only(incident_id: int) -> None:
        """What publish() renders: the shared data once, then each audience's panels."""
        incident = selectors.incident_detail_queryset().get(pk=incident_id)
        page.pushed_panels(incident, timezone.now())

    def dashboards_only(incident_id: int) -> None:
        """The district dashboards' blocks that publish() renders after the incident page."""
        incident = selectors.incident_detail_queryset().get(pk=incident_id)
        live.district_messages(incident, from_sequence=0, now=timezone.now())

    def publish_now(incident_id: int) -> None:
        # Forget the last push, so publish() renders and sends as after a fresh change.
        cache.delete(live.pushed_key(incident_id))
        live.publish(incident_id, from_sequence=0)

    def shared_only(incident_id: int) -> None:
        incident = selectors.incident_detail_queryset().get(pk=incident_id)
        page.shared_context(incident, timezone.now(), scorecard=True)

    # Which of the render's queries repeat across the audiences.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        render_only(incident_id)
    sqls = [q["sql"] for q in captured.captured_queries]
    repeats = {"queries": len(sqls), "distinct": len(set(sqls))}

    approve, publish, render, shared, dashboards = [], [], [], [], []

    def measure_all() -> None:
        timed(lambda: render_only(incident_id))  # template loading and the like, once
        for draft_id in draft_ids:
            draft = Draft.objects.get(pk=draft_id)
            approve.append(
                timed(lambda d=draft: drafts.draft_approve(draft=d, by=lead, expected_revision=1))
            )
            publish.append(timed(lambda: publish_now(incident_id)))
            render.append(timed(lambda: render_only(incident_id)))
            dashboards.append(timed(lambda: dashboards_only(incident_id)))
            shared.append(timed(lambda: shared_only(incident_id)))

    async def as_in_the_server() -> None:
        # A sync thread under a running loop, as a view runs in the ASGI server: publish()'s
        # async_to_sync then sends on that loop and its Redis connection, not a new one each.
        await sync_to_async(measure_all)()

    asyncio.run(as_in_the_server())

    def summary(rows: list[tuple[float, int]]) -> dict:
        return {
            "ms_p50": round(statistics.median(r[0] for r in rows), 1),
            "ms_max": round(max(r[0] for r in rows), 1),
            "queries": round(statistics.median(r[1] for r in rows)),
        }

    print(
        json.dumps(
            {
                "approve_with_push": summary(approve),
                "publish": summary(publish),
                "render_only": summary(render),
                "shared_data": summary(shared),
                "dashboards": summary(dashboards),
                "render_query_repeats": repeats,
                "samples": len(draft_ids),
                "audiences": len(page.AUDIENCES),
                "panels": len(page.PANELS),
            }
        )
    )


# --- The floor: a plain websockets server ---------------------------------------------------


def role_floor(port: int, payload_file: str) -> None:
    """Broadcast a real push's HTML to every connected socket when the control socket says."""
    from websockets.asyncio.server import broadcast, serve

    html = Path(payload_file).read_text()
    clients: set = set()

    async def handler(ws) -> None:
        if ws.request.path == "/control":
            async for message in ws:
                sequence = int(message)
                text = json.dumps(
                    {"type": "push", "sequence": sequence, "from": sequence - 1, "html": html}
                )
                broadcast(clients, text)
                await ws.send("sent")
            return
        clients.add(ws)
        try:
            await ws.send(json.dumps({"type": "hello", "sequence": 0}))
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async def run() -> None:
        async with serve(
            handler, "127.0.0.1", port, compression=None, ping_interval=None, backlog=2048
        ):
            print("ready", flush=True)
            await asyncio.Future()

    asyncio.run(run())


# --- The client side: websockets, HTTP, processes --------------------------------------------

# The consumer's (and the floor's) json.dumps puts type and sequence first; reading them off
# the front of the text keeps the client's per-message cost small next to the server's.
HEAD = re.compile(r'\{"type": "(\w+)", "sequence": (\d+)')


@dataclass
class Round:
    expected: int  # the first sequence number that covers the approval
    sockets: frozenset[int]  # the sockets connected (hello received) when the round began
    t0: int = 0
    arrivals: dict[int, int] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    samples: dict[int, str] = field(default_factory=dict)  # socket -> raw push, one per audience

    @property
    def n(self) -> int:
        return len(self.sockets)

    @property
    def missing(self) -> list[int]:
        return sorted(self.sockets - self.arrivals.keys())


class Fleet:
    """N websocket clients on one event loop, each reconnecting as console.js does."""

    def __init__(self, n: int, url: str, origin: str | None, cookies: list[str | None]) -> None:
        self.n, self.url, self.origin, self.cookies = n, url, origin, cookies
        self.sequence = 0
        self.round: Round | None = None
        self.hello_at: list[int | None] = [None] * n
        self.hellos = 0  # sockets whose current connection said hello
        self.connected: set[int] = set()
        self.resync_after: int | None = None  # count hellos after this instant
        self.resynced: set[int] = set()
        self.resync_done = asyncio.Event()
        self.all_hello = asyncio.Event()
        self.gate = asyncio.Semaphore(CONNECT_GATE)
        self.stopping = False
        self.attempts = 0
        self.failures: Counter[str] = Counter()
        self.closes: Counter[str] = Counter()
        self.extensions: Counter[str] = Counter()
        self.max_attempt = 0
        self.tasks: list[asyncio.Task] = []
        self.events: list[tuple[int, int, str]] = []  # (time, socket, what), closes and failures
        self.started = time.monotonic_ns()

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._socket(i)) for i in range(self.n)]

    async def wait_all_hello(self, limit: float) -> float:
        started = time.monotonic()
        await asyncio.wait_for(self.all_hello.wait(), limit)
        return time.monotonic() - started

    async def stop(self) -> None:
        self.stopping = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _socket(self, i: int) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        attempt = 0
        first = True
        while not self.stopping:
            headers = {"Cookie": self.cookies[i]} if self.cookies[i] else {}
            self.attempts += 1
            code = None
            gated = first  # only first connections queue at the gate, never reconnections
            if gated:
                await self.gate.acquire()
            try:
                async with connect(
                    self.url,
                    origin=self.origin,
                    additional_headers=headers,
                    proxy=None,
                    ping_interval=None,  # browsers do not ping; the servers do
                    open_timeout=30,
                    close_timeout=2,
                    max_size=16 * 2**20,
                ) as ws:
                    attempt = 0  # console.js resets on open
                    self.extensions[
                        ws.response.headers.get("Sec-WebSocket-Extensions", "none")
                    ] += 1
                    try:
                        async for raw in ws:
                            now = time.monotonic_ns()
                            head = HEAD.match(raw)
                            kind, sequence = (
                                (head[1], int(head[2])) if head else ("other", self.sequence)
                            )
                            if kind == "push":
                                self._push(i, sequence, now, raw)
                            elif kind == "hello":
                                self._hello(i, sequence, now)
                                if gated:
                                    gated, first = False, False
                                    self.gate.release()
                            if sequence > self.sequence:
                                self.sequence = sequence
                    except ConnectionClosed:
                        pass
                    code = ws.close_code
            except Exception as exc:  # refused, reset, timed out, bad handshake: retry
                self.failures[type(exc).__name__] += 1
                self.event(i, f"failed {type(exc).__name__}")
            finally:
                if gated:
                    self.gate.release()
            if i in self.connected:
                self.connected.discard(i)
                self.hellos -= 1
                self.all_hello.clear()
                self.closes[str(code)] += 1
                self.event(i, f"closed {code}")
            if code in (4401, 4403):
                self.failures[f"closed {code}"] += 1
                return  # console.js gives up: sign in again
            if self.stopping:
                return
            attempt += 1
            self.max_attempt = max(self.max_attempt, attempt)
            delay = min(30.0, 0.5 * 2**attempt) * (0.5 + random.random() / 2)
            await asyncio.sleep(delay)

    def _hello(self, i: int, sequence: int, now: int) -> None:
        if self.hello_at[i] is not None:
            self.event(i, "hello again")
        self.hello_at[i] = now
        if i not in self.connected:
            self.connected.add(i)
            self.hellos += 1
            if self.hellos == self.n:
                self.all_hello.set()
        if self.resync_after is not None and now > self.resync_after and i not in self.resynced:
            self.resynced.add(i)
            if len(self.resynced) == self.n:
                self.resync_done.set()

    def _push(self, i: int, sequence: int, now: int, raw: str) -> None:
        current = self.round
        if (
            current is None
            or sequence < current.expected
            or i in current.arrivals
            or i not in current.sockets
        ):
            return
        current.arrivals[i] = now
        if i < len(AUDIENCE_USERS):  # one socket per audience (dealt round-robin)
            current.samples[i] = raw
        if len(current.arrivals) == current.n:
            current.done.set()

    def event(self, i: int, what: str) -> None:
        self.events.append((time.monotonic_ns(), i, what))

    def describe(self, sockets: list[int]) -> str:
        """Connection history of some sockets, for a round that missed them."""
        lines = []
        for i in sockets[:5]:
            history = [f"{(t - self.started) / 1e9:.1f}s {w}" for t, j, w in self.events if j == i]
            state = "connected" if i in self.connected else "not connected"
            lines.append(f"socket {i} ({state}): " + "; ".join(history[-6:]))
        return " | ".join(lines)

    async def measure(self, expected: int, trigger) -> tuple[Round, int | None]:
        """Run ``trigger()`` (which stamps ``t0``) and wait for every connected socket's push."""
        current = self.round = Round(expected, frozenset(self.connected))
        response_at = None
        try:
            response_at = await trigger(current)
            await asyncio.wait_for(current.done.wait(), ROUND_TIMEOUT)
        except TimeoutError:
            pass
        finally:
            self.round = None
        return current, response_at


async def http(port: int, method: str, path: str, headers: dict, body: bytes = b"") -> tuple:
    """One HTTP/1.1 request on its own connection: (status, headers, body)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
    try:
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        head += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        data = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    raw_head, _, content = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    pairs = [line.split(":", 1) for line in lines[1:] if ":" in line]
    return status, [(k.strip().lower(), v.strip()) for k, v in pairs], content


class CommsLead:
    """The communications lead's browser: a session cookie, a CSRF cookie, approvals."""

    TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')

    def __init__(self, port: int, cookie_name: str, session: str) -> None:
        self.port, self.cookie_name, self.session = port, cookie_name, session
        self.csrf_cookie: str | None = None

    def _cookie(self) -> str:
        jar = f"{self.cookie_name}={self.session}"
        return jar + (f"; csrftoken={self.csrf_cookie}" if self.csrf_cookie else "")

    async def token(self, draft_id: int) -> str:
        status, headers, body = await http(
            self.port, "GET", f"/comms/drafts/{draft_id}/", {"Cookie": self._cookie()}
        )
        if status != 200:
            raise RuntimeError(f"GET draft {draft_id}: {status} {body[:300]!r}")
        for name, value in headers:
            if name == "set-cookie" and value.startswith("csrftoken="):
                self.csrf_cookie = value.split(";", 1)[0].split("=", 1)[1]
        found = self.TOKEN.search(body)
        if not found or not self.csrf_cookie:
            raise RuntimeError(f"no CSRF token on draft {draft_id}'s page")
        return found[1].decode()

    def approver(self, draft_id: int, token: str):
        body = urlencode({"csrfmiddlewaretoken": token, "expected_revision": 1}).encode()

        async def trigger(current: Round) -> int:
            current.t0 = time.monotonic_ns()
            status, headers, content = await http(
                self.port,
                "POST",
                f"/comms/drafts/{draft_id}/approve/",
                {
                    "Cookie": self._cookie(),
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Origin": f"http://127.0.0.1:{self.port}",
                },
                body,
            )
            done = time.monotonic_ns()
            if status != 302:
                raise RuntimeError(f"approve draft {draft_id}: {status} {content[:500]!r}")
            return done

        return trigger


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Process:
    """A subprocess in its own session, optionally pinned to one CPU, logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict, logdir: Path, cpu: int | None):
        self.name = name
        pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
        self.log = logdir / f"{name}.log"
        with open(self.log, "a") as out:
            self.popen = subprocess.Popen(
                [*pin, *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.popen.pid  # taskset execs, so this is the server itself

    async def stop(self, sig: int = signal.SIGTERM, limit: float = 30.0) -> float:
        """Signal the process group; SIGKILL after ``limit``. Seconds until it exited."""
        started = time.monotonic()
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)
            while self.popen.poll() is None and time.monotonic() - started < limit:
                await asyncio.sleep(0.01)
            if self.popen.poll() is None:
                log(f"{self.name}: still running {limit:.0f} s after signal {sig}; SIGKILL")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait()
        return time.monotonic() - started

    def tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""

    def errors(self) -> dict[str, int]:
        """The exceptions the process logged (the last line of each traceback)."""
        if not self.log.exists():
            return {}
        found = ERROR_LINE.findall(self.log.read_text(errors="replace"))
        return dict(Counter(found).most_common())


ERROR_LINE = re.compile(r"^([\w.]+(?:Error|Exception))\b", re.MULTILINE)


class Bench:
    """The database, redis-server and environment shared by every scenario of a run."""

    def __init__(self, workdir: Path, pin: bool) -> None:
        self.workdir = workdir
        self.pin = pin
        self.database = PREFIX
        self.processes: list[Process] = []
        self.redis_port = free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        self.env.update(
            DATABASE_URL=server_url(self.database),
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            # Production settings, not DEBUG (which keeps every query in memory), over plain
            # HTTP on loopback: no redirect to HTTPS.
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="false",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            VAR_DIR=str(workdir),
        )

    def cpu(self, which: int) -> int | None:
        return which if self.pin else None

    def spawn(self, name: str, args: list[str], env: dict | None = None, cpu=None) -> Process:
        process = Process(name, args, env or self.env, self.workdir, cpu)
        self.processes.append(process)
        return process

    def start(self) -> None:
        admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        admin_sql(f'CREATE DATABASE "{self.database}"')
        self.spawn(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            cpu=self.cpu(CLIENT_CPU),
        )  # fmt: skip
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def role(self, *args: str, env: dict | None = None) -> dict:
        done = subprocess.run(
            [sys.executable, __file__, *args],
            cwd=ROOT,
            env=env or self.env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def sequence(self, incident_id: int) -> int:
        import psycopg2

        with psycopg2.connect(self.env["DATABASE_URL"]) as db, db.cursor() as cursor:
            cursor.execute("SELECT sequence FROM incidents_incident WHERE id = %s", (incident_id,))
            return cursor.fetchone()[0]

    async def close(self) -> None:
        for process in reversed(self.processes):
            await process.stop(signal.SIGTERM, limit=10)
        admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def server_url(path: str) -> str:
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{path}"))


def admin_sql(query: str) -> None:
    import psycopg2

    admin = psycopg2.connect(server_url("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(query)
    finally:
        admin.close()


async def start_server(
    bench: Bench, kind: str, port: int, name: str, extra_env: dict | None = None
) -> tuple[Process, float]:
    """Start one ASGI server; return it and the seconds until /health/live answered."""
    args = [sys.executable, *[a.format(port=port) for a in SERVERS[kind]], APP]
    env = {**bench.env, **(extra_env or {})}
    started = time.monotonic()
    process = bench.spawn(name, args, env=env, cpu=bench.cpu(SERVER_CPU))
    while time.monotonic() - started < 60:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.popen.returncode}:\n{process.tail()}")
        with contextlib.suppress(OSError, TimeoutError, IndexError, ValueError):
            status, _, _ = await http(port, "GET", "/health/live", {})
            if status == 200:
                return process, time.monotonic() - started
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{name} did not answer /health/live within 60 s:\n{process.tail()}")


async def start_worker(bench: Bench) -> Process:
    """The Celery worker as the Procfile starts it: it renders the pushes after each change."""
    args = [sys.executable, "-m", "celery", "--app", "incident_console", "worker"]
    process = bench.spawn("worker", [*args, "--concurrency", "2", "--loglevel", "INFO"])
    started = time.monotonic()
    while "ready." not in (process.log.read_text() if process.log.exists() else ""):
        if process.popen.poll() is not None or time.monotonic() - started > 60:
            raise RuntimeError(f"the worker did not start:\n{process.tail()}")
        await asyncio.sleep(0.1)
    return process


def group_members(bench: Bench, incident_id: int) -> int:
    """Channel names in the incident's audience groups in Redis, stale ones included (a
    consumer that never ran its disconnect stays a member until the layer's group expiry)."""
    import redis

    from console.live import incident_group

    client = redis.Redis.from_url(bench.env["REDIS_URL"])
    try:
        # channels_redis stores a group as the sorted set "<prefix>:group:<name>".
        return sum(
            client.zcard(f"asgi:group:{incident_group(incident_id, audience)}")
            for _, _, audience in AUDIENCE_USERS
        )
    finally:
        client.close()


def clear_groups(bench: Bench, incident_id: int) -> None:
    import redis

    from console.live import incident_group

    client = redis.Redis.from_url(bench.env["REDIS_URL"])
    try:
        client.delete(
            *(f"asgi:group:{incident_group(incident_id, a)}" for _, _, a in AUDIENCE_USERS)
        )
    finally:
        client.close()


def cookies_for(seed: dict, n: int) -> list[str]:
    name = seed["cookie"]
    keys = [seed["sessions"][audience] for _, _, audience in AUDIENCE_USERS]
    return [f"{name}={keys[i % len(keys)]}" for i in range(n)]


def latency_summary(values_ms: list[float]) -> dict:
    return {
        "p50": round(percentile(values_ms, 50), 1),
        "p99": round(percentile(values_ms, 99), 1),
        "max": round(max(values_ms, default=math.nan), 1),
    }


# --- Scenarios --------------------------------------------------------------------------------


def env_label(kind: str, extra_env: dict | None) -> str:
    return kind + "".join(f" {k}={v}" for k, v in (extra_env or {}).items())


async def fan_out(
    bench: Bench,
    seed: dict,
    kind: str,
    n: int,
    incident: dict,
    plan: Plan,
    extra_env: dict | None = None,
) -> dict:
    port = free_port()
    label = env_label(kind, extra_env)
    name = f"{kind}-{n}" + ("-variant" if extra_env else "")
    log(f"{label} N={n}: starting")
    server, ready_s = await start_server(bench, kind, port, name, extra_env)
    origin = f"http://127.0.0.1:{port}"
    url = f"ws://127.0.0.1:{port}/ws/incidents/{incident['id']}/"
    lead = CommsLead(port, seed["cookie"], seed["comms_session"])
    result: dict = {"server": label, "n": n, "ready_s": round(ready_s, 2)}
    try:
        # Warm the process (imports, templates, the layer's connection) before its baseline.
        await lead.token(incident["drafts"][0])
        warm = Fleet(6, url, origin, cookies_for(seed, 6))
        warm.start()
        await warm.wait_all_hello(30)
        await warm.stop()
        await asyncio.sleep(1.0)
        rss_idle = rss_kib(server.pid)

        fleet = Fleet(n, url, origin, cookies_for(seed, n))
        fleet.start()
        connect_s = await fleet.wait_all_hello(CONNECT_TIMEOUT)
        closes_before = sum(fleet.closes.values())
        await asyncio.sleep(plan.idle)
        rss_n = rss_kib(server.pid)
        result.update(
            connect_s=round(connect_s, 2),
            # Sockets the server closed while nothing was sent (the clients close none).
            closed_while_idle=sum(fleet.closes.values()) - closes_before,
            rss_idle_mib=round(rss_idle / 1024, 1),
            rss_with_n_mib=round(rss_n / 1024, 1),
            kib_per_socket=round((rss_n - rss_idle) / n, 1),
        )
        log(
            f"{label} N={n}: {n} sockets in {connect_s:.1f} s, RSS {rss_idle} -> {rss_n} KiB, "
            f"{result['closed_while_idle']} closed by the server in {plan.idle:.0f} s idle"
        )

        last, first, response, lost, absent, sizes, samples = [], [], [], 0, 0, [], {}
        cpu_before = cpu_seconds(server.pid)
        drafts = incident["drafts"][1 : 1 + plan.warmup + plan.rounds]
        if len(drafts) < plan.warmup + plan.rounds:
            raise RuntimeError("not enough drafts seeded")
        for k, draft_id in enumerate(drafts):
            token = await lead.token(draft_id)
            expected = bench.sequence(incident["id"]) + 1
            current, response_at = await fleet.measure(expected, lead.approver(draft_id, token))
            arrived = list(current.arrivals.values())
            missing = len(current.missing)
            if k >= plan.warmup:
                lost += missing
                absent += n - current.n
                if not missing and arrived:
                    last.append(ms(max(arrived) - current.t0))
                    first.append(ms(min(arrived) - current.t0))
                if response_at:
                    response.append(ms(response_at - current.t0))
                samples.update(current.samples)
                sizes += [len(raw) for raw in current.samples.values()]
            if missing or current.n < n:
                log(
                    f"{label} N={n}: round {k}: {missing} of {current.n} connected sockets got "
                    f"no push, {n - current.n} not connected; {fleet.describe(current.missing)}"
                )
            await asyncio.sleep(plan.gap)
        result.update(
            rounds=len(drafts) - plan.warmup,
            last_ms=latency_summary(last),
            first_ms=latency_summary(first),
            post_response_ms=latency_summary(response),
            sockets_missed=lost,
            sockets_absent=absent,  # summed over rounds: not connected when the round began
            rounds_incomplete=plan.rounds - len(last),
            server_cpu_s_per_round=round((cpu_seconds(server.pid) - cpu_before) / len(drafts), 3),
            push_bytes_min=min(sizes, default=0),
            push_bytes_max=max(sizes, default=0),
            reconnects=fleet.attempts - n,
            extensions=dict(fleet.extensions),
            rss_after_mib=round(rss_kib(server.pid) / 1024, 1),
        )
        result["_samples"] = samples
        result["layer_ms"] = await layer_fan_out(bench, fleet, incident["id"], samples, plan)
        result["closes_total"] = dict(fleet.closes)
        log(
            f"{label} N={n}: last socket p50 {result['last_ms']['p50']} ms, p99 "
            f"{result['last_ms']['p99']} ms, max {result['last_ms']['max']} ms; POST response p50 "
            f"{result['post_response_ms']['p50']} ms; missed {lost}; group_send -> last socket "
            f"p50 {result['layer_ms']['p50']} ms"
        )
        result["errors_while_measuring"] = server.errors()
        await fleet.stop()
    finally:
        # Not a measurement: a server that outlives 10 s is killed, and that is recorded.
        result["exit_after_sigterm_s"] = round(await server.stop(limit=10), 2)
    # N sockets closing at once (the fleet stopping) runs N disconnect handlers together.
    result["errors_after_closing_all"] = {
        k: v - result.get("errors_while_measuring", {}).get(k, 0)
        for k, v in server.errors().items()
        if v - result.get("errors_while_measuring", {}).get(k, 0)
    }
    return result


async def layer_fan_out(
    bench: Bench, fleet: Fleet, incident_id: int, samples: dict[int, str], plan: Plan
) -> dict:
    """The approval's push without the approval: this process group_sends each audience's
    real fragment, as publish() does, and times the first send -> the last socket. What is
    left of the end-to-end time is the request: the write, and rendering every audience."""
    from channels_redis.core import RedisChannelLayer

    from console.live import incident_group

    if len(samples) < len(AUDIENCE_USERS):
        return latency_summary([])
    htmls = [json.loads(samples[i])["html"] for i in range(len(AUDIENCE_USERS))]
    layer = RedisChannelLayer(hosts=[bench.env["REDIS_URL"]])
    last = []
    try:
        base = fleet.sequence + 1000  # clear of the incident's own numbers
        for k in range(plan.warmup + plan.rounds):
            sequence = base + k

            async def trigger(current: Round, sequence: int = sequence) -> int:
                current.t0 = time.monotonic_ns()
                for (_, _, audience), html in zip(AUDIENCE_USERS, htmls, strict=True):
                    await layer.group_send(
                        incident_group(incident_id, audience),
                        {
                            "type": "incident.push",
                            "html": html,
                            "sequence": sequence,
                            "from": sequence - 1,
                        },
                    )
                return time.monotonic_ns()

            current, _ = await fleet.measure(sequence, trigger)
            arrived = list(current.arrivals.values())
            if k >= plan.warmup and arrived and not current.missing:
                last.append(ms(max(arrived) - current.t0))
            await asyncio.sleep(plan.gap)
    finally:
        await layer.close_pools()
    return latency_summary(last)


async def floor(bench: Bench, n: int, payload: Path, rounds: int, warmup: int, gap: float):
    from websockets.asyncio.client import connect

    port = free_port()
    name = f"floor-{n}"
    server = bench.spawn(
        name,
        [sys.executable, __file__, "_floor", str(port), str(payload)],
        cpu=bench.cpu(SERVER_CPU),
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            await asyncio.sleep(0.05)
        fleet = Fleet(n, f"ws://127.0.0.1:{port}/", None, [None] * n)
        fleet.start()
        await fleet.wait_all_hello(CONNECT_TIMEOUT)
        last = []
        async with connect(f"ws://127.0.0.1:{port}/control", proxy=None) as control:
            for k in range(warmup + rounds):
                expected = fleet.sequence + 1

                async def trigger(current: Round, sequence=expected) -> int:
                    current.t0 = time.monotonic_ns()
                    await control.send(str(sequence))
                    await control.recv()
                    return time.monotonic_ns()

                current, _ = await fleet.measure(expected, trigger)
                arrived = list(current.arrivals.values())
                if k >= warmup and arrived and not current.missing:
                    last.append(ms(max(arrived) - current.t0))
                await asyncio.sleep(gap)
        await fleet.stop()
    finally:
        await server.stop()
    result = {"n": n, "last_ms": latency_summary(last), "rounds": len(last)}
    log(f"{name}: last socket p50 {result['last_ms']['p50']} ms, p99 {result['last_ms']['p99']} ms")
    return result


async def reconnect(
    bench: Bench, seed: dict, kind: str, n: int, incident: dict, extra_env: dict | None = None
) -> dict:
    port = free_port()
    label = env_label(kind, extra_env)
    name = f"{kind}-reconnect-{n}" + ("-env" if extra_env else "")
    log(f"{label}: reconnect storm with {n} sockets")
    clear_groups(bench, incident["id"])  # what earlier storms left behind
    server, _ = await start_server(bench, kind, port, name, extra_env)
    url = f"ws://127.0.0.1:{port}/ws/incidents/{incident['id']}/"
    fleet = Fleet(n, url, f"http://127.0.0.1:{port}", cookies_for(seed, n))
    fleet.start()
    second = None
    result: dict = {"server": label, "n": n}
    try:
        connect_s = await fleet.wait_all_hello(CONNECT_TIMEOUT)
        result["group_members_before"] = group_members(bench, incident["id"])
        await asyncio.sleep(1.0)
        attempts_before = fleet.attempts
        killed_at = time.monotonic_ns()
        fleet.resync_after = killed_at
        exit_s = await server.stop(signal.SIGTERM, limit=30)
        second, ready_s = await start_server(bench, kind, port, name + "-again", extra_env)
        ready_at = time.monotonic_ns()
        cpu_start = cpu_seconds(second.pid)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fleet.resync_done.wait(), RECONNECT_LIMIT)
        back = sorted(fleet.hello_at[i] - killed_at for i in fleet.resynced)
        result.update(
            first_connect_s=round(connect_s, 2),
            exit_after_sigterm_s=round(exit_s, 2),
            restart_ready_s=round(ready_s, 2),
            all_back_s=round(back[-1] / 1e9, 2) if len(back) == n else math.nan,
            p99_back_s=round(percentile(back, 99) / 1e9, 2) if back else math.nan,
            p50_back_s=round(percentile(back, 50) / 1e9, 2) if back else math.nan,
            all_back_after_ready_s=(
                round((killed_at + back[-1] - ready_at) / 1e9, 2) if len(back) == n else math.nan
            ),
            reconnected=len(back),
            attempts=fleet.attempts - attempts_before,
            failures=dict(fleet.failures),
            close_codes=dict(fleet.closes),
            max_attempt=fleet.max_attempt,
            server_cpu_s=round(cpu_seconds(second.pid) - cpu_start, 2),
        )
        result["group_members_after"] = group_members(bench, incident["id"])
        result["errors_first_server"] = server.errors()  # its shutdown included
        result["errors_restarted_server"] = second.errors()
        log(f"{label}: {json.dumps(result)}")
        await fleet.stop()
    finally:
        await server.stop()
        if second:
            await second.stop()
    return result


async def run(plan: Plan, args: argparse.Namespace, workdir: Path) -> dict:
    bench = Bench(workdir, pin=not args.no_pin)
    out: dict = {"plan": asdict(plan), "fan_out": [], "floor": [], "reconnect": []}
    try:
        bench.start()
        configs = [
            (kind, n, None) for _ in range(args.repeat) for kind in plan.servers for n in plan.ns
        ]
        for variant in args.variant or []:
            kind, _, assignment = variant.partition(":")
            key, _, value = assignment.partition("=")
            configs += [(kind, n, {key: value}) for n in plan.ns]
        drafts = 1 + plan.warmup + plan.rounds
        log(f"seeding {len(configs) + 2} incidents with {drafts} drafts in review each")
        seed = bench.role("_seed", str(len(configs) + 2), str(drafts))
        incidents = list(seed["incidents"])
        await start_worker(bench)
        cost_incident = incidents.pop()
        storm_incident = incidents.pop()
        samples: dict[int, str] = {}
        for (kind, n, extra_env), incident in zip(configs, incidents, strict=False):
            result = await fan_out(bench, seed, kind, n, incident, plan, extra_env)
            samples.update(result.pop("_samples"))
            out["fan_out"].append(result)
        # The floor's payload: the largest real push of the run, as the servers sent it.
        biggest = max(samples.values(), key=len)
        payload = workdir / "payload.html"
        payload.write_text(json.loads(biggest)["html"])
        out["payload_bytes"] = len(biggest)
        for _ in range(args.repeat):
            for n in plan.ns:
                out["floor"].append(
                    await floor(bench, n, payload, plan.rounds, plan.warmup, plan.gap)
                )
        for kind in plan.servers:
            out["reconnect"].append(
                await reconnect(bench, seed, kind, plan.reconnect_n, storm_incident)
            )
        for env in args.reconnect_env or []:
            key, _, value = env.partition("=")
            for kind in plan.servers[:1] if args.quick else plan.servers:
                out["reconnect"].append(
                    await reconnect(
                        bench, seed, kind, plan.reconnect_n, storm_incident, {key: value}
                    )
                )
        log("cost: one approval's server-side work, in process")
        out["cost"] = bench.role(
            "_cost", str(cost_incident["id"]), json.dumps(cost_incident["drafts"][:10])
        )
    finally:
        await bench.close()
    return out


async def main_async(plan: Plan, args: argparse.Namespace, workdir: Path) -> dict:
    # A SIGTERM cancels the run, which unwinds through the finally blocks that stop processes.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    return await run(plan, args, workdir)


# --- Report ------------------------------------------------------------------------------------


def machine() -> dict:
    import importlib.metadata as md

    import psycopg2

    info = {"nproc": os.cpu_count(), "python": platform.python_version()}
    with open("/proc/meminfo") as meminfo:
        info["memory_gib"] = round(int(meminfo.readline().split()[1]) / 2**20, 1)
    with open("/proc/cpuinfo") as cpuinfo:
        info["cpu"] = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
            "unknown",
        )
    info["kernel"] = platform.release()
    admin = psycopg2.connect(server_url("postgres"))
    with admin.cursor() as cursor:
        cursor.execute("SHOW server_version")
        info["postgresql"] = cursor.fetchone()[0]
    admin.close()
    version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    info["redis"] = version.stdout.split("v=", 1)[1].split()[0]
    for package in (
        "django", "channels", "channels-redis", "daphne", "twisted", "autobahn", "uvicorn",
        "uvloop", "httptools", "websockets", "psycopg2-binary",
    ):  # fmt: skip
        with contextlib.suppress(md.PackageNotFoundError):
            info[package] = md.version(package)
    info["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


def markdown(info: dict, out: dict) -> str:
    floors: dict[int, list[dict]] = {}
    for f in out["floor"]:
        floors.setdefault(f["n"], []).append(f)

    def floor_of(n: int, key: str) -> float:
        return (
            statistics.median(f["last_ms"][key] for f in floors.get(n, []))
            if n in floors
            else math.nan
        )

    lines = [
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB, kernel "
        f"{info['kernel']}; PostgreSQL {info['postgresql']}, Redis {info['redis']}, Python "
        f"{info['python']}; " + ", ".join(
            f"{k} {info[k]}"
            for k in ("django", "channels", "channels-redis", "daphne", "twisted", "uvicorn",
                      "uvloop", "websockets")
            if k in info
        ) + f". Load average at start {info['loadavg_at_start']}.",
        "",
        f"Push payload (largest of the audiences): {out['payload_bytes']:,} bytes.",
        "",
    ]  # fmt: skip
    for kind in dict.fromkeys(r["server"] for r in out["fan_out"]):
        rows = [r for r in out["fan_out"] if r["server"] == kind]
        if not rows:
            continue
        lines += [
            f"**{kind}** (approval POSTed -> last of N sockets has the push; "
            f"{rows[0]['rounds']} approvals per row)",
            "",
            "| N | p50 | p99 | max | first socket p50 | POST response p50 "
            "| floor p50 / p99 | ratio p50 / p99 | target p99 | met? | missed / absent "
            "| group_send only p50 / p99 | its ratio p50 | KiB/socket | closed in idle |",
            "|---" * 15 + "|",
        ]
        for r in rows:
            n, last = r["n"], r["last_ms"]
            fp50, fp99 = floor_of(n, "p50"), floor_of(n, "p99")
            target = TARGETS_MS.get(n)
            complete = not r["sockets_missed"] and not r["sockets_absent"]
            met = (
                "-" if not target else
                "yes" if last["p99"] <= target and complete else "no"
            )  # fmt: skip
            layer = r["layer_ms"]
            lines.append(
                f"| {n:,} | {last['p50']:.0f} ms | {last['p99']:.0f} ms | {last['max']:.0f} ms "
                f"| {r['first_ms']['p50']:.0f} ms | {r['post_response_ms']['p50']:.0f} ms "
                f"| {fp50:.1f} / {fp99:.1f} ms | {last['p50'] / fp50:.0f}x / "
                f"{last['p99'] / fp99:.0f}x | {target or '-'} ms | {met} "
                f"| {r['sockets_missed']} / {r['sockets_absent']} "
                f"| {layer['p50']:.0f} / {layer['p99']:.0f} ms "
                f"| {layer['p50'] / fp50:.0f}x | {r['kib_per_socket']:.0f} "
                f"| {r['closed_while_idle']} in {out['plan']['idle']:.0f} s |"
            )
        for r in rows:
            if r.get("errors_while_measuring") or r.get("errors_after_closing_all"):
                lines.append(
                    f"\n{kind} at N={r['n']:,} logged "
                    f"{r.get('errors_while_measuring') or 'nothing'} while measuring and "
                    f"{r.get('errors_after_closing_all') or 'nothing'} when "
                    "all sockets closed at once."
                )
        lines.append("")
    lines += [
        "**Reconnect** (SIGTERM -> restart as soon as it exited -> every socket has its hello)",
        "",
        "| Server | N | exit after SIGTERM | restart ready | p50 back | p99 back | all back "
        "| target | met? | attempts | close codes | server CPU | group members before / after |",
        "|---" * 13 + "|",
    ]
    for r in out["reconnect"]:
        met = "yes" if r["all_back_s"] <= RECONNECT_TARGET_S else "no"
        lines.append(
            f"| {r['server']} | {r['n']:,} | {r['exit_after_sigterm_s']:.1f} s "
            f"| {r['restart_ready_s']:.1f} s | {r['p50_back_s']:.1f} s | {r['p99_back_s']:.1f} s "
            f"| {r['all_back_s']:.1f} s | {RECONNECT_TARGET_S:.0f} s | {met} | {r['attempts']:,} "
            f"| {r['close_codes']} | {r['server_cpu_s']:.1f} s "
            f"| {r.get('group_members_before')} / {r.get('group_members_after')} |"
        )
    for r in out["reconnect"]:
        if r.get("errors_first_server") or r.get("errors_restarted_server"):
            lines.append(
                f"\n{r['server']} reconnect: the stopped server logged "
                f"{r.get('errors_first_server') or 'nothing'}, the restarted one "
                f"{r.get('errors_restarted_server') or 'nothing'}."
            )
    cost = out.get("cost")
    if cost:
        lines += [
            "",
            f"Server-side work per approval, in one process (median of {cost['samples']}): "
            f"draft_approve with its after-commit hand-off "
            f"{cost['approve_with_push']['ms_p50']} ms and "
            f"{cost['approve_with_push']['queries']} queries; publish() alone "
            f"{cost['publish']['ms_p50']} ms and {cost['publish']['queries']} queries; rendering "
            f"{cost['audiences']} audiences x {cost['panels']} panels without sending "
            f"{cost['render_only']['ms_p50']} ms and {cost['render_only']['queries']} queries "
            f"({cost['render_query_repeats']['distinct']} distinct SQL texts of "
            f"{cost['render_query_repeats']['queries']}). Of which "
            f"loading the shared data {cost['shared_data']['ms_p50']} ms and "
            f"{cost['shared_data']['queries']} queries, the rest rendering. The district "
            f"dashboards' blocks, rendered after the incident page's push is sent: "
            f"{cost['dashboards']['ms_p50']} ms and {cost['dashboards']['queries']} queries.",
        ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_seed":
        role_seed(int(sys.argv[2]), int(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_cost":
        role_cost(int(sys.argv[2]), json.loads(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_floor":
        role_floor(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N=50 and 200, 10 approvals")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--servers", nargs="*", choices=sorted(SERVERS), help="override")
    parser.add_argument("--ns", nargs="*", type=int, help="override the socket counts")
    parser.add_argument("--rounds", type=int, help="override the measured approvals")
    parser.add_argument("--reconnect-n", type=int, help="override the reconnect storm's size")
    parser.add_argument("--repeat", type=int, default=1, help="run the fan-out matrix this often")
    parser.add_argument(
        "--reconnect-env",
        nargs="*",
        metavar="NAME=VALUE",
        help="also run the reconnect storm with this server environment (e.g. CONN_MAX_AGE=60)",
    )
    parser.add_argument(
        "--variant",
        nargs="*",
        metavar="SERVER:NAME=VALUE",
        help="also run the fan-out at every N on SERVER with this server environment",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (a PostgreSQL server where databases can be created).")
    plan = PLANS["quick" if args.quick else "full"]
    overrides = {
        "servers": tuple(args.servers) if args.servers else None,
        "ns": tuple(args.ns) if args.ns else None,
        "rounds": args.rounds,
        "reconnect_n": args.reconnect_n,
    }
    plan = Plan(**{**asdict(plan), **{k: v for k, v in overrides.items() if v}})
    # Every socket is a file descriptor here and in the server (which inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * max(*plan.ns, plan.reconnect_n) + 1024
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    if not args.no_pin:
        os.sched_setaffinity(0, {CLIENT_CPU})
    workdir = Path(tempfile.mkdtemp(prefix="bench-live-"))
    info = machine()
    log(f"logs in {workdir}; plan {asdict(plan)}; machine {json.dumps(info)}")
    started = time.monotonic()
    out = asyncio.run(main_async(plan, args, workdir))
    info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    info["minutes"] = round((time.monotonic() - started) / 60, 1)
    out["machine"] = info
    print("\n" + markdown(info, out), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
