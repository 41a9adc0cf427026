"""Resilience: the web server, the worker, beat, Redis and PostgreSQL each fail under load,
with real processes, and nothing is lost or doubled.

Every test runs the web server (``WEB_COMMAND``), a celery worker and beat, a private
redis-server and PostgreSQL, as in production. The communications lead approves and publishes
drafts over HTTP, as a browser posts the forms, while open pages follow the incident over
websockets, signed in with real sessions. A request that gets no answer, or a 5xx, is sent
again, as a person would press the button again. Then:

- every approval and publication that was answered with success exists exactly once, and a
  retry of one that was saved without an answer is refused with 409, never applied twice;
- every publication's text (and every reminder's) is ``sent`` once, and the recording SMS
  provider was called once per idempotency key;
- every page has reconnected, and after its hello and the re-fetch a page makes when the
  hello is ahead of it, it shows the incident's latest sequence number.

The page model follows ``static/js/console.js``: it reconnects after the same delays
(``bench.clients.retry_delay``), drops a socket after the heartbeat watchdog's silence, and
re-fetches the page over HTTP when a hello, heartbeat or push says it is behind (the sequence
it knows is the one the fetched page shows).
What each test injected and observed is printed; ``docs/reliability.md`` records a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bench.clients import RESTART_CLOSE, retry_delay
from incident_console.celery import HEARTBEAT_WATCHDOG_SECONDS
from tests.integration.processes import (
    REQUEUE_WAIT,
    STALE_CLAIM_SECONDS,
    STARTUP_LIMIT,
    Burst,
    Stack,
    free_port,
    migrate,
    needs_real_services,
)

pytestmark = needs_real_services("the resilience tests")

SEED = Path(__file__).with_name("resilience_seed.py")
# A CSRF secret of our own choosing, sent as the cookie and as the form field.
CSRF = "resilienceCsrfSecret0123456789ab"
# console.js takes a socket that heard nothing for this long as dead.
WATCHDOG = float(HEARTBEAT_WATCHDOG_SECONDS)
RETRY_PAUSE = 0.2
CONVERGE_LIMIT = 30.0
# Redis and PostgreSQL stay away at least this long: several sweeps and heartbeats miss them.
OUTAGE = 3.0
DELIVERY_LIMIT = STALE_CLAIM_SECONDS + REQUEUE_WAIT + 30


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- The communications lead's browser -------------------------------------------------------


@dataclass
class Outcome:
    """The answers one form post got until it was settled: 302 (done), 409 (refused: it had
    been done), an error status, or None (no answer)."""

    draft: int
    step: str
    answers: list[int | None] = field(default_factory=list)

    @property
    def successes(self) -> int:
        return self.answers.count(302)


class Lead:
    """Approves and publishes drafts over HTTP, sending a form again until it is settled."""

    def __init__(self, stack: Stack, seeded: dict) -> None:
        self.stack = stack
        session = seeded["sessions"]["communications"]
        self.cookie = f"{seeded['cookie']}={session}; csrftoken={CSRF}"
        self.outcomes: list[Outcome] = []
        self.answered = 0  # successes received so far
        self.limit = 120.0

    async def post(self, draft: int, step: str, fields: dict) -> Outcome:
        outcome = Outcome(draft, step)
        self.outcomes.append(outcome)
        form = {"csrfmiddlewaretoken": CSRF, "expected_revision": 1, **fields}
        started = time.monotonic()
        while time.monotonic() - started < self.limit:
            try:
                status, _, _ = await asyncio.to_thread(
                    self.stack.http,
                    "POST",
                    f"/comms/drafts/{draft}/{step}/",
                    cookie=self.cookie,
                    form=form,
                )
            except (OSError, http.client.HTTPException):
                status = None
            outcome.answers.append(status)
            if status == 302:
                self.answered += 1
            if status in (302, 409):
                return outcome
            assert status is None or status >= 500, f"{step} of {draft}: {status}"
            await asyncio.sleep(RETRY_PAUSE)
        pytest.fail(f"{step} of draft {draft} never settled: {outcome.answers}")

    async def approve_and_publish(self, drafts: list[int]) -> None:
        for draft in drafts:
            await self.post(draft, "approve", {})
            await self.post(draft, "publish", {"next_update_in": 10})

    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.answers[0] != 302]


# --- Open pages ----------------------------------------------------------------------------


class Page:
    """One open page of the incident, following it over a websocket as console.js does."""

    def __init__(self, stack: Stack, name: str, cookie: str, socket: str, page: str, pattern):
        self.stack, self.name, self.cookie = stack, name, cookie
        self.socket, self.page, self.pattern = socket, page, pattern
        self.incident = pattern.incident
        self.known = -1  # the sequence number the page shows
        self.connected = False
        self.hellos: list[float] = []
        self.closes: Counter[str] = Counter()
        self.fetches = 0

    async def run(self) -> None:
        from websockets.asyncio.client import connect

        port = self.stack.web_port
        attempt, restarted_at = 0, None
        while True:
            code = None
            try:
                async with connect(
                    f"ws://127.0.0.1:{port}{self.socket}",
                    origin=f"http://127.0.0.1:{port}",
                    additional_headers={"Cookie": self.cookie},
                    proxy=None,
                    ping_interval=None,
                    open_timeout=10,
                    close_timeout=1,
                    max_size=None,
                ) as ws:
                    attempt, restarted_at = 0, None
                    with contextlib.suppress(Exception):
                        while True:
                            raw = await asyncio.wait_for(ws.recv(), WATCHDOG)
                            await self.receive(json.loads(raw))
                    code = ws.close_code
            except Exception as error:  # refused, reset, timed out: try again
                code = type(error).__name__
            self.connected = False
            self.closes[str(code)] += 1
            if code in (4401, 4403):
                return
            if code == RESTART_CLOSE:
                restarted_at = time.monotonic()
            attempt += 1
            await asyncio.sleep(retry_delay(attempt, restarted_at))

    async def receive(self, message: dict) -> None:
        kind = message["type"]
        if kind == "hello":
            self.connected = True
            self.hellos.append(time.monotonic())
        if "sequences" in message:
            announced = message["sequences"].get(str(self.incident), -1)
        elif message.get("incident", self.incident) == self.incident:
            announced = message.get("sequence", -1)
        else:
            return  # another incident's block on a dashboard
        if kind == "push" and message["from"] <= self.known:
            self.known = max(self.known, announced)  # the fragments are swapped in
        elif announced > self.known:
            await self.fetch()

    async def fetch(self) -> None:
        """Re-read the page over HTTP, as the page does when it is behind."""
        for _ in range(20):
            self.fetches += 1
            try:
                status, _, body = await asyncio.to_thread(
                    self.stack.http, "GET", self.page, cookie=self.cookie
                )
            except (OSError, http.client.HTTPException):
                status, body = None, b""
            found = self.pattern.search(body.decode()) if status == 200 else None
            if found:
                self.known = max(self.known, int(found[1]))
                return
            await asyncio.sleep(0.25)


class Shown:
    """Where a page shows an incident's sequence number."""

    def __init__(self, regex: str, incident: int) -> None:
        self.incident = incident
        self.regex = re.compile(regex.format(incident=incident))

    def search(self, text: str):
        return self.regex.search(text)


def open_pages(stack: Stack, seeded: dict) -> list[Page]:
    incident = seeded["incident"]
    cookie = seeded["cookie"]
    detail = Shown(
        r'data-incident="{incident}" data-ws-path="[^"]+" data-sequence="(\d+)"', incident
    )
    listing = Shown(r'data-incident="{incident}" data-seq="(\d+)"', incident)
    pages = [
        Page(stack, f"incident page ({audience})", f"{cookie}={session}",
             f"/ws/incidents/{incident}/", f"/incidents/{incident}/", detail)
        for audience, session in seeded["sessions"].items()
    ]  # fmt: skip
    lead = seeded["sessions"]["communications"]
    pages.append(
        Page(stack, "incident list", f"{cookie}={lead}", "/ws/district/", "/incidents/", listing)
    )
    return pages


def sequence(stack: Stack, incident: int) -> int:
    return stack.sql("SELECT sequence FROM incidents_incident WHERE id = %s", (incident,))[0][0]


async def until(condition, what: str, limit: float, stack: Stack) -> float:
    """Await a condition, polling; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if await asyncio.to_thread(condition):
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    pytest.fail(f"timed out after {limit:.0f} s waiting until {what}\n{stack.logs()}")


def converged(stack: Stack, pages: list[Page], incident: int):
    def check() -> bool:
        latest = sequence(stack, incident)
        return all(p.connected and p.known == latest for p in pages)

    return check


def describe(pages: list[Page]) -> str:
    return "; ".join(
        f"{p.name}: known {p.known}, hellos {len(p.hellos)}, closes {dict(p.closes)}" for p in pages
    )


# --- What must hold afterwards -----------------------------------------------------------------


def assert_each_approved_and_published_once(stack: Stack, seeded: dict, lead: Lead) -> None:
    drafts = seeded["drafts"]
    kinds = Counter(
        (int(d), kind)
        for d, kind in stack.sql(
            "SELECT payload->>'draft', kind FROM incidents_timelineentry "
            "WHERE incident_id = %s AND kind IN ('draft.approved', 'draft.published')",
            (seeded["incident"],),
        )
    )
    updates = Counter(
        d
        for (d,) in stack.sql(
            "SELECT draft_id FROM comms_publishedupdate WHERE draft_id = ANY(%s)", (drafts,)
        )
    )
    states = dict(stack.sql("SELECT id, state FROM comms_draft WHERE id = ANY(%s)", (drafts,)))
    assert states == dict.fromkeys(drafts, "published")
    assert {d: kinds[(d, "draft.approved")] for d in drafts} == dict.fromkeys(drafts, 1)
    assert {d: kinds[(d, "draft.published")] for d in drafts} == dict.fromkeys(drafts, 1)
    assert dict(updates) == dict.fromkeys(drafts, 1)
    # No form was ever applied twice: at most one success per form, and a retry of a form
    # that had been saved without an answer was refused.
    assert all(o.successes <= 1 for o in lead.outcomes)
    for o in lead.outcomes:
        assert o.answers[-1] in (302, 409)
        if o.answers[-1] == 409:
            # Refused as done: the try before it was saved, and it got no answer at all. A
            # 5xx answer to a change that was in fact saved would invite a double.
            assert len(o.answers) > 1 and o.answers[-2] is None, o


def publication_texts(stack: Stack, seeded: dict) -> dict[str, str]:
    return dict(
        stack.sql(
            "SELECT d.key, d.status FROM comms_dispatch d "
            "JOIN comms_publishedupdate u ON u.id = d.update_id WHERE u.draft_id = ANY(%s)",
            (seeded["drafts"],),
        )
    )


def publications_sent(stack: Stack, seeded: dict):
    def check() -> bool:
        texts = publication_texts(stack, seeded)
        return len(texts) == len(seeded["drafts"]) and set(texts.values()) == {"sent"}

    return check


def assert_each_publication_texted_once(stack: Stack, seeded: dict) -> None:
    texts = publication_texts(stack, seeded)
    calls = Counter({k: n for k, n in stack.provider_calls().items() if k in texts})
    assert len(texts) == len(seeded["drafts"])
    assert set(texts.values()) == {"sent"}
    assert set(calls) == set(texts)
    assert {k: n for k, n in calls.items() if n > 1} == {}, "a publication was texted twice"


def report(title: str, observed: dict) -> None:
    log(f"{title}: " + json.dumps(observed, default=str))


# --- The scenarios -----------------------------------------------------------------------------


async def live_run(stack: Stack, seeded: dict, lead: Lead, fault) -> dict:
    """Open the pages, let the lead approve and publish every draft (two at a time, so a fault
    finds requests in flight), inject ``fault`` once a few posts were answered, and wait until
    every post is settled and every page shows the latest sequence number.

    ``fault`` is a coroutine function; it returns what it observed, with ``"at"``, the
    monotonic time the fault struck, and optionally ``"back"``, the time the failed part was
    back."""
    pages = open_pages(stack, seeded)
    tasks = [asyncio.create_task(p.run()) for p in pages]
    try:
        await until(lambda: all(p.connected for p in pages), "pages connected", 30, stack)
        drafts = seeded["drafts"]
        driving = asyncio.gather(
            *(lead.approve_and_publish(lane) for lane in (drafts[::2], drafts[1::2]))
        )
        await until(lambda: lead.answered >= 4, "some posts were answered", 60, stack)
        observed = await fault()
        struck, back = observed.pop("at"), observed.pop("back", None)
        await asyncio.wait_for(driving, lead.limit)
        converge_s = await until(
            converged(stack, pages, seeded["incident"]),
            "pages converged",
            WATCHDOG + CONVERGE_LIMIT,
            stack,
        )
        back = back or struck
        hellos = [next((t for t in p.hellos if t > struck), None) for p in pages]
        observed.update(
            pages_reconnected=f"{sum(h is not None for h in hellos)}/{len(pages)}",
            pages_back_after_s=round(max(h or back for h in hellos) - back, 2),
            pages_converged_after_s=round(time.monotonic() - back, 2),
            converged_after_last_post_s=round(converge_s, 2),
            pages=describe(pages),
        )
        return observed
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def settle_and_check(
    stack: Stack, seeded: dict, lead: Lead, observed: dict, title: str, may_exit: tuple = ()
) -> None:
    """Wait until every text owed is sent, report, and check that nothing was lost or
    doubled, and that no process exited by itself unless its kind is in ``may_exit``."""
    burst = Burst.of(seeded["burst"])
    sent_s = stack.wait_until(
        lambda: (
            publications_sent(stack, seeded)() and (not burst.deadlines or stack.settled(burst)())
        ),
        "every text was sent",
        DELIVERY_LIMIT,
        burst,
    )
    failed = lead.failed()
    observed.update(
        posts=len(lead.outcomes),
        posts_failed=len(failed),
        failed_answers=[o.answers for o in failed],
        refused_as_done=sum(o.answers[-1] == 409 for o in lead.outcomes),
        reminders=len(burst.deadlines),
        texts_owed=len(seeded["drafts"]) + burst.texts_owed,
        provider_calls=sum(stack.provider_calls().values()),
        all_sent_after_s=round(sent_s, 2),
        exited_and_restarted=stack.restarts,
    )
    report(title, observed)
    assert [r for r in stack.restarts if r.split("-")[0] not in may_exit] == []
    assert_each_approved_and_published_once(stack, seeded, lead)
    assert_each_publication_texted_once(stack, seeded)
    if burst.deadlines:
        stack.assert_each_fired_once_and_texted_once(burst)


def kill_when_saved_unanswered(stack: Stack, lead: Lead, process, incident: int) -> dict:
    """SIGKILL ``process`` the moment the database holds an approval or publication whose
    answer has not reached the lead yet, so that a saved change loses its response."""
    query = (
        "SELECT count(*) FROM incidents_timelineentry WHERE incident_id = %s "
        "AND kind IN ('draft.approved', 'draft.published')"
    )
    started = time.monotonic()
    while time.monotonic() - started < 60:
        if stack.sql(query, (incident,))[0][0] <= lead.answered:
            time.sleep(0.002)
            continue
        # The answer may be on its way already: freeze the server, let whatever it had sent
        # arrive, and kill it only if a saved change is still unanswered.
        os.killpg(process.pid, signal.SIGSTOP)
        time.sleep(IN_FLIGHT)
        saved = stack.sql(query, (incident,))[0][0]
        if saved > lead.answered:
            stack.kill(process)
            return {"saved_at_kill": saved, "answered_at_kill": lead.answered}
        os.killpg(process.pid, signal.SIGCONT)
    pytest.fail("no approval or publication was ever saved ahead of its answer")


# Time for an answer the frozen server had already written to reach the lead over loopback.
IN_FLIGHT = 0.1


def test_web_server_killed_mid_request(stack):
    stack.start_worker("worker")
    stack.start_beat("beat")
    web, _ = stack.start_web("web")
    stack.supervise()
    stack.wait_for_engine()
    seeded = stack.run_script(SEED, "--drafts=10")
    lead = Lead(stack, seeded)

    async def fault() -> dict:
        killed = await asyncio.to_thread(
            kill_when_saved_unanswered, stack, lead, web, seeded["incident"]
        )
        at = time.monotonic()
        _, live_s = await asyncio.to_thread(stack.start_web, "web-2")
        return {**killed, "at": at, "restarted_answering_after_s": round(live_s, 2)}

    observed = asyncio.run(live_run(stack, seeded, lead, fault))
    settle_and_check(stack, seeded, lead, observed, "web server SIGKILL")
    assert lead.failed(), "the kill must catch a request in flight"
    assert any(o.answers[-1] == 409 for o in lead.outcomes), "a saved post lost its answer"


def heartbeat_after(stack: Stack, moment: float) -> bool:
    """The engine stamped its heartbeat after ``moment`` (seconds since the epoch)."""
    return (
        stack.sql(
            "SELECT count(*) FROM comms_engineheartbeat WHERE beat_at > to_timestamp(%s)", (moment,)
        )[0][0]
        > 0
    )


def test_worker_and_beat_killed_mid_burst(stack):
    worker = stack.start_worker("worker")
    beat = stack.start_beat("beat")
    stack.supervise()
    stack.wait_for_engine()
    burst = stack.seed(deadlines=60, due_in=2, spread=3)
    stack.wait_until(lambda: stack.fired(burst) >= 10, "the burst began firing", 30, burst)

    stack.kill(worker)
    stack.kill(beat)
    killed_at = time.time()
    fired_at_kill = stack.fired(burst)
    sent_at_kill = list(stack.texts(burst).values()).count("sent")
    # Beat starts again on the schedule file the killed one left behind.
    stack.start_beat("beat")
    stack.start_worker("worker-2")
    back_s = stack.wait_until(
        lambda: heartbeat_after(stack, killed_at), "the engine swept again", STARTUP_LIMIT
    )
    settled_s = stack.wait_until(
        stack.settled(burst), "the burst fired and texted", DELIVERY_LIMIT, burst
    )
    late = stack.sql(
        "SELECT max(extract(epoch FROM fired_at - due_at)) FROM comms_deadline WHERE id = ANY(%s)",
        (burst.deadlines,),
    )[0][0]
    retried = stack.sql("SELECT count(*) FROM comms_notification WHERE attempts > 1")[0][0]
    report(
        "worker and beat SIGKILL",
        {
            "fired_at_kill": f"{fired_at_kill}/{len(burst.deadlines)}",
            "texts_sent_at_kill": f"{sent_at_kill}/{burst.texts_owed}",
            "engine_back_after_s": round(back_s, 2),
            "all_sent_after_s": round(settled_s, 2),
            "latest_firing_late_s": round(float(late), 2),
            "sends_retried": retried,
            "provider_calls": sum(stack.provider_calls().values()),
            "exited_and_restarted": stack.restarts,
        },
    )
    assert stack.restarts == []
    assert fired_at_kill < len(burst.deadlines) or sent_at_kill < burst.texts_owed
    stack.assert_each_fired_once_and_texted_once(burst)


def ready_status(stack: Stack) -> int | None:
    return stack.http_status("GET", "/health/ready")


async def outage(stack: Stack, stop, start, went_on) -> dict:
    """Stop a service, keep it away until ``went_on()`` holds (the posts have carried on
    without it), start it again, and time ``/health/ready`` going to 503 and back to 200."""
    await asyncio.to_thread(stop)
    at = time.monotonic()
    unready_s = await until(lambda: ready_status(stack) == 503, "not ready", 10, stack)
    await until(
        lambda: time.monotonic() - at >= OUTAGE and went_on(),
        "the posts carried on without it",
        30,
        stack,
    )
    down_s = time.monotonic() - at
    await asyncio.to_thread(start)
    back = time.monotonic()
    ready_s = await until(lambda: ready_status(stack) == 200, "ready again", 60, stack)
    return {
        "at": at,
        "back": back,
        "ready_503_after_s": round(unready_s, 2),
        "down_s": round(down_s, 2),
        "ready_200_after_start_s": round(ready_s, 2),
    }


def start_all_and_seed(stack: Stack) -> tuple[dict, Lead, Burst]:
    """Web, worker and beat; ten drafts to approve and publish, and forty reminders falling
    due a few seconds later, over four seconds."""
    stack.start_worker("worker")
    stack.start_beat("beat")
    stack.start_web("web")
    stack.supervise()
    stack.wait_for_engine()
    seeded = stack.run_script(SEED, "--drafts=10", "--deadlines=40", "--due-in=4", "--spread=4")
    return seeded, Lead(stack, seeded), Burst.of(seeded["burst"])


def test_redis_restarted_empty_mid_run(stack):
    seeded, lead, burst = start_all_and_seed(stack)

    async def fault() -> dict:
        fired = stack.fired(burst)
        answered = lead.answered
        observed = await outage(
            stack,
            lambda: stack.kill(stack.redis),
            lambda: stack.start_redis("redis-2"),
            lambda: lead.answered >= answered + 2,
        )
        return {**observed, "fired_at_kill": f"{fired}/{len(burst.deadlines)}"}

    observed = asyncio.run(live_run(stack, seeded, lead, fault))
    settle_and_check(stack, seeded, lead, observed, "Redis restarted empty")


def test_redis_flushed_while_it_stays_up(stack):
    """FLUSHALL drops Celery's queues and bindings without closing a connection. The live
    groups are subscriptions of each web process's Redis connection, not keys, so the pages
    keep their sockets and their pushes: none reconnects, and each shows the latest state
    before the heartbeat watchdog could have noticed anything."""
    seeded, lead, burst = start_all_and_seed(stack)

    async def fault() -> dict:
        await asyncio.to_thread(stack.redis_flushall)
        return {"at": time.monotonic(), "fired_at_flush": f"{stack.fired(burst)}/40"}

    observed = asyncio.run(live_run(stack, seeded, lead, fault))
    settle_and_check(stack, seeded, lead, observed, "Redis flushed (FLUSHALL), still up")
    assert observed["pages_reconnected"] == "0/5"
    assert observed["pages_converged_after_s"] < WATCHDOG


# --- PostgreSQL restarted: a private cluster, never the shared server ------------------------


def postgres_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    on_path = shutil.which("initdb")
    initdb = found[0] if found else Path(on_path) if on_path else None
    return initdb.parent if initdb else None


class Cluster:
    """A throwaway PostgreSQL cluster on a free port, trusting local connections. As root,
    its commands run as the ``postgres`` user, since PostgreSQL refuses to run as root."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="resilience-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            self.root.chmod(0o755)
            shutil.chown(self.root, "postgres")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/console"

    def run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def init(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log_file = str(self.root / "postgres.log")
        self.run("pg_ctl", "-D", str(self.data), "-l", log_file, "-o", options, "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _postgres_user_missing() -> bool:
    import pwd

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return os.geteuid() == 0
    return False


@pytest.fixture
def private_stack(tmp_path) -> Iterator[tuple[Stack, Cluster]]:
    import psycopg2

    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    if _postgres_user_missing():
        pytest.skip("running as root, and there is no postgres user to run a private cluster")
    cluster = Cluster(bin_dir)
    stack = None
    try:
        cluster.init()
        cluster.start()
        admin = psycopg2.connect(cluster.url.rsplit("/", 1)[0] + "/postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("CREATE DATABASE console")
        admin.close()
        migrate(cluster.url)
        stack = Stack(tmp_path, cluster.url)
        stack.start_redis()
        yield stack, cluster
    finally:
        if stack is not None:
            stack.stop_all()
        cluster.remove()


def test_postgres_restarted_mid_run(private_stack):
    stack, cluster = private_stack
    seeded, lead, burst = start_all_and_seed(stack)

    def server_errors() -> int:
        return sum(a is not None and a >= 500 for o in lead.outcomes for a in o.answers)

    async def fault() -> dict:
        fired, errors = stack.fired(burst), server_errors()
        observed = await outage(
            stack,
            lambda: cluster.stop("immediate"),
            cluster.start,
            lambda: server_errors() >= errors + 2,
        )
        return {**observed, "fired_at_stop": f"{fired}/{len(burst.deadlines)}"}

    observed = asyncio.run(live_run(stack, seeded, lead, fault))
    settle_and_check(stack, seeded, lead, observed, "PostgreSQL stopped (immediate) and started")
