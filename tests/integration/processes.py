"""Real processes for the integration tests: a private redis-server, celery workers and
beats, the web server, and probes into the database they share.

``Stack`` adds the web server and the tests' probes to the stack of ``bench/supervisor.py``,
which the benchmarks share: each process starts in its own session, logging to a file in the
test's temporary directory, and whole process groups are killed with SIGKILL, so no shutdown
code runs. Waits poll a condition against a time limit and fail the test with the state of
the stack when it passes. The fixtures that give each test its own database are in
``conftest.py``.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench import supervisor
from bench.supervisor import STARTUP_LIMIT, VENV_BIN, free_port
from incident_console import server

SEED = Path(__file__).with_name("timer_faults_seed.py")


def needs_real_services(what: str) -> list[pytest.MarkDecorator]:
    """Skip marks for tests that run real processes over PostgreSQL and a redis-server."""
    return [
        pytest.mark.skipif(
            not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
            reason=f"{what} need DATABASE_URL and REDIS_URL (set by .ci/run)",
        ),
        pytest.mark.skipif(
            shutil.which("redis-server") is None,
            reason=f"{what} start their own redis-server, which is not installed",
        ),
    ]


# Sends whose worker died are retried after this long (the production default is 120 s);
# the test's deliveries take milliseconds, so a short value cannot cause a repeat.
STALE_CLAIM_SECONDS = 10
# Beat requeues undelivered rows every 15 s; a pending row is requeued once 30 s old.
REQUEUE_WAIT = 15 + 30
PREFIX = f"incident_console_faults_{os.getpid()}"
# The web server, as the Procfile starts it; {port} is filled in.
WEB_COMMAND = server.command("127.0.0.1", 0)
WEB_COMMAND[WEB_COMMAND.index("--port") + 1] = "{port}"


@dataclass
class Burst:
    """Deadlines moved to fall due during a test, and the texts each one owes."""

    deadlines: list[int]
    texts: dict[int, int]

    @classmethod
    def of(cls, seeded: dict) -> Burst:
        return cls(seeded["deadlines"], {int(k): v for k, v in seeded["texts"].items()})

    @property
    def texts_owed(self) -> int:
        return sum(self.texts.values())


class Stack(supervisor.Stack):
    """One test's database, redis-server, workers, beats and web servers, and the probes
    into them."""

    def __init__(self, tmp_path: Path, database_url: str) -> None:
        super().__init__(
            tmp_path,
            database_url,
            DEBUG="true",
            NOTIFICATION_STALE_CLAIM_SECONDS=str(STALE_CLAIM_SECONDS),
            # A hand-off lost with Redis is queued again within seconds, not half a minute.
            OUTBOX_MISSED_HANDOFF_SECONDS="5",
            REQUEUE_EVERY_SECONDS="2",
        )
        self.killed: set[int] = set()
        self.restarts: list[str] = []
        self.watcher: threading.Thread | None = None
        self.web_port = free_port()

    # --- processes -------------------------------------------------------------------
    def start_web(self, name: str) -> tuple[subprocess.Popen, float]:
        """Start the web server on the stack's port; return it and the seconds until
        ``/health/live`` answered."""
        started = time.monotonic()
        args = [a.format(port=self.web_port) for a in WEB_COMMAND]
        process = self.spawn(name, [str(VENV_BIN / args[0]), *args[1:]])

        def answers() -> bool:
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}\n{self.logs()}")
            return self.http_status("GET", "/health/live") == 200

        self.wait_until(answers, f"{name} answered", STARTUP_LIMIT)
        return process, time.monotonic() - started

    def http(
        self, method: str, path: str, *, cookie: str = "", form: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request to the web server on a fresh connection: status, headers, body.
        Raises ``OSError`` or ``http.client.HTTPException`` when the server is not there."""
        from urllib.parse import urlencode

        origin = f"http://127.0.0.1:{self.web_port}"
        headers = {"Cookie": cookie, "Origin": origin} if cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def http_status(self, method: str, path: str) -> int | None:
        """The status of one request, or None when nothing answered."""
        try:
            return self.http(method, path)[0]
        except (OSError, http.client.HTTPException):
            return None

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the process and every child in its group: no shutdown code runs."""
        self.killed.add(process.pid)
        super().kill(process)

    def supervise(self) -> None:
        """Start again, as ``restart: unless-stopped`` in docker-compose.yml does, any web
        server, worker or beat that exits by itself; each restart is noted in ``restarts``."""
        starters = {"web": self.start_web, "worker": self.start_worker, "beat": self.start_beat}

        def watch() -> None:
            while self.watcher is not None:
                for name, process in list(self.processes):
                    kind = name.split("-")[0]
                    exited = process.poll() is not None and process.pid not in self.killed
                    if kind in starters and exited:
                        self.killed.add(process.pid)
                        self.restarts.append(f"{name} exited with {process.returncode}")
                        starters[kind](f"{name}-again")
                time.sleep(0.2)

        self.watcher = threading.Thread(target=watch, daemon=True)
        self.watcher.start()

    def stop_all(self) -> None:
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            watcher.join()
        super().stop_all()

    def logs(self) -> str:
        tails = []
        for name in dict(self.processes):
            lines = (self.dir / f"{name}.log").read_text(errors="replace").splitlines()
            tails.append(f"--- {name}.log (last 25 lines)\n" + "\n".join(lines[-25:]))
        return "\n".join(tails)

    # --- probes ----------------------------------------------------------------------
    def log_count(self, name: str, text: str) -> int:
        """How many lines of a process's log contain ``text``."""
        lines = (self.dir / f"{name}.log").read_text(errors="replace").splitlines()
        return sum(text in line for line in lines)

    def redis_flushall(self) -> None:
        """Empty the stack's Redis while it keeps running: every queue, binding and group."""
        import redis

        redis.Redis(port=self.redis_port).flushall()

    def fired(self, burst: Burst) -> int:
        return self.sql(
            "SELECT count(*) FROM comms_deadline WHERE id = ANY(%s) AND status = 'fired'",
            (burst.deadlines,),
        )[0][0]

    def texts(self, burst: Burst) -> dict[str, str]:
        """The text-message outbox rows of the burst: key -> status."""
        return dict(
            self.sql(
                "SELECT key, status FROM comms_notification "
                "WHERE channel = 'sms' AND deadline_id = ANY(%s)",
                (burst.deadlines,),
            )
        )

    def settled(self, burst: Burst) -> Callable[[], bool]:
        def check() -> bool:
            texts = self.texts(burst)
            return (
                self.fired(burst) == len(burst.deadlines)
                and len(texts) == burst.texts_owed
                and set(texts.values()) == {"sent"}
            )

        return check

    def state(self, burst: Burst | None = None) -> str:
        deadlines = self.sql("SELECT status, count(*) FROM comms_deadline GROUP BY 1 ORDER BY 1")
        texts = self.sql(
            "SELECT status, count(*) FROM comms_notification WHERE channel = 'sms' "
            "GROUP BY 1 ORDER BY 1"
        )
        owed = f", texts owed {burst.texts_owed}" if burst else ""
        return f"deadlines {deadlines}, texts {texts}{owed}\n{self.logs()}"

    def provider_calls(self) -> Counter[str]:
        if not self.sms_file.exists():
            return Counter()
        lines = self.sms_file.read_text().splitlines()
        return Counter(json.loads(line)["key"] for line in lines)

    # --- actions ---------------------------------------------------------------------
    def wait_until(
        self, condition: Callable[[], bool], what: str, limit: float, burst: Burst | None = None
    ) -> float:
        """Poll until ``condition`` holds; return the seconds it took."""
        waited = supervisor.poll_until(condition, limit)
        if waited is None:
            pytest.fail(f"timed out after {limit:.0f} s waiting until {what}\n{self.state(burst)}")
        return waited

    def seed(self, *, deadlines: int, due_in: float, spread: int) -> Burst:
        out = self.run_script(
            SEED, f"--deadlines={deadlines}", f"--due-in={due_in}", f"--spread={spread}"
        )
        return Burst.of(out)

    def assert_each_fired_once_and_texted_once(self, burst: Burst) -> None:
        fired_per_deadline = Counter(
            int(pk)
            for (pk,) in self.sql(
                "SELECT payload->>'deadline' FROM incidents_timelineentry "
                "WHERE payload ? 'deadline'"
            )
        )
        overdue_pending = self.sql(
            "SELECT count(*) FROM comms_deadline WHERE status = 'pending' AND due_at <= now()"
        )[0][0]
        texts = self.texts(burst)
        per_deadline = Counter(
            int(pk)
            for (pk,) in self.sql(
                "SELECT deadline_id FROM comms_notification "
                "WHERE channel = 'sms' AND deadline_id = ANY(%s)",
                (burst.deadlines,),
            )
        )
        # Calls for this burst's firings only: published updates also send texts.
        sources = {f"d{pk}" for pk in burst.deadlines}
        calls = Counter(
            {k: n for k, n in self.provider_calls().items() if k.split(":")[0] in sources}
        )

        assert self.fired(burst) == len(burst.deadlines)
        assert overdue_pending == 0
        assert {pk: fired_per_deadline[pk] for pk in burst.deadlines} == dict.fromkeys(
            burst.deadlines, 1
        )
        assert dict(per_deadline) == burst.texts
        assert set(texts.values()) == {"sent"}
        assert {key: n for key, n in calls.items() if n > 1} == {}, "a text was sent twice"
        assert set(calls) == set(texts), "provider calls and outbox rows differ"


def migrate(database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=database_url, DEBUG="true")
    supervisor.manage("migrate", "--noinput", env=env)
