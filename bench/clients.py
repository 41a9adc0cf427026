"""The browser side of the benchmarks, on one event loop in this process.

``open_loop`` is many people reading pages: each request starts at a random (Poisson) instant,
whether or not earlier ones were answered. ``Fleet`` is N websocket clients that connect with
a browser's ``Cookie`` and ``Origin``, reconnect as ``static/js/console.js`` does, and time a
``Round``: from the instant its trigger stamps to the moment the last connected socket has the
push that covers it. ``CommsLead`` is the communications lead's browser over plain HTTP/1.1:
a session, a CSRF token read from a draft's page, and approvals POSTed with it.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

ROUND_TIMEOUT = 5.0  # seconds for one approval to reach every connected socket
CONNECT_GATE = 50  # at most this many first handshakes in flight (the reconnect storm is not gated)

RESTART_CLOSE = 1012  # "service restart": what the console's server sends as it stops
RESTART_WINDOW = 15.0  # seconds after that close in which console.js retries quickly


def retry_delay(attempt: int, restarted_at: float | None) -> float:
    """Seconds before the next try, as ``static/js/console.js``'s ``retryDelay`` decides:
    0.25-1 s for 15 s after the server closed with 1012, else a jittered backoff doubling to
    30 s. ``attempt`` counts tries since the last open, from 1; ``restarted_at`` is the
    ``time.monotonic()`` of the last 1012 close since then, or None."""
    if restarted_at is not None and time.monotonic() - restarted_at < RESTART_WINDOW:
        return 0.25 + random.random() * 0.75
    return min(30.0, 0.5 * 2**attempt) * (0.5 + random.random() / 2)


# The consumer's (and the floor's) json.dumps puts type and sequence first; reading them off
# the front of the text keeps the client's per-message cost small next to the server's.
HEAD = re.compile(r'\{"type": "(\w+)", "sequence": (\d+)')
# The admission pass a hello or heartbeat carries, last in the message (console.admission).
PASS = re.compile(r'"pass": "([^"]+)"\}$')
CHECKED_AGAIN = range(4400, 4500)  # closes after which console.js drops its pass


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
    """N websocket clients on one event loop, each reconnecting as console.js does. The first
    ``sampled`` sockets keep the push they get in each round (one socket per audience when the
    sessions are dealt round-robin)."""

    def __init__(
        self, n: int, url: str, origin: str | None, cookies: list[str | None], sampled: int = 0
    ) -> None:
        self.n, self.url, self.origin, self.cookies = n, url, origin, cookies
        self.sampled = sampled
        self.sequence = 0
        self.round: Round | None = None
        self.hello_at: list[int | None] = [None] * n
        self.passes: list[str | None] = [None] * n  # each socket's newest admission pass
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
        restarted_at = None
        first = True
        while not self.stopping:
            headers = {"Cookie": self.cookies[i]} if self.cookies[i] else {}
            self.attempts += 1
            code = None
            gated = first  # only first connections queue at the gate, never reconnections
            if gated:
                await self.gate.acquire()
            try:
                held = self.passes[i]
                async with connect(
                    f"{self.url}?pass={quote(held)}" if held else self.url,
                    origin=self.origin,
                    additional_headers=headers,
                    proxy=None,
                    ping_interval=None,  # browsers do not ping; the servers do
                    open_timeout=30,
                    close_timeout=2,
                    max_size=16 * 2**20,
                ) as ws:
                    attempt, restarted_at = 0, None  # console.js resets both on open
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
                            if raw.startswith(('{"type": "hello"', '{"type": "heartbeat"')):
                                given = PASS.search(raw)
                                if given:
                                    self.passes[i] = given[1]
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
            if code in CHECKED_AGAIN:
                self.passes[i] = None
            if code in (4401, 4403):
                self.failures[f"closed {code}"] += 1
                return  # console.js gives up: sign in again
            if self.stopping:
                return
            if code == RESTART_CLOSE:
                restarted_at = time.monotonic()
            attempt += 1
            self.max_attempt = max(self.max_attempt, attempt)
            await asyncio.sleep(retry_delay(attempt, restarted_at))

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
        if i < self.sampled:
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


@dataclass
class Arrivals:
    """What an open-loop run saw, per page: the latencies of the 200s (ms, from the moment each
    request was due), the 503s (refused with ``Retry-After``) and the failures (anything else,
    a redirect to the sign-in page included)."""

    sent: int = 0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)

    def all_latencies(self) -> list[float]:
        return [ms for values in self.latencies.values() for ms in values]


async def open_loop(
    port: int, mix: list[tuple[str, str, dict]], rate: float, seconds: float, rng: random.Random
) -> Arrivals:
    """GETs at ``rate`` per second for ``seconds``, at exponentially distributed intervals,
    each on its own connection, cycling over ``mix`` (page, path, headers). A request's
    latency runs from the moment it was due, so a generator that falls behind counts against
    the server, never for it."""
    seen = Arrivals()
    tasks = []

    async def one(due: float, page: str, path: str, headers: dict) -> None:
        try:
            status, _, _ = await http(port, "GET", path, headers)
        except (OSError, TimeoutError, IndexError, ValueError):
            status = 0
        if status == 200:
            seen.latencies.setdefault(page, []).append((time.monotonic() - due) * 1000)
        elif status == 503:
            seen.refused[page] += 1
        else:
            seen.failed[page] += 1

    start = due = time.monotonic()
    while True:
        due += rng.expovariate(rate)
        if due - start >= seconds:
            break
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        page, path, headers = mix[seen.sent % len(mix)]
        seen.sent += 1
        tasks.append(asyncio.create_task(one(due, page, path, headers)))
    await asyncio.gather(*tasks)
    return seen
