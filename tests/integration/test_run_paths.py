"""The two ways to run: embedded in one process, and web, worker and beat as processes.

Each test starts the real command, waits for the sign-in page to answer and for the timer
engine's heartbeat to reach the database (which proves beat and a worker both run), then
stops it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import pytest

from bench.supervisor import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
STARTUP_LIMIT = 60.0


def wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the console exited with {process.returncode} before {what}:\n{out}")
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {STARTUP_LIMIT:.0f} s waiting for {what}")


def sign_in_page_answers(port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:
                return response.status == 200 and b"Sign in" in response.read()
        except (URLError, ConnectionError, TimeoutError):
            return False

    return check


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"DEBUG": "true", "PYTHONUNBUFFERED": "1", **extra})
    return env


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


def test_embedded_run_serves_sign_in_and_runs_timers(tmp_path):
    env = base_env(VAR_DIR=str(tmp_path))
    manage("migrate", "--noinput", env=env)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_console", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    database = tmp_path / "console.sqlite3"

    def heartbeat_written() -> bool:
        with sqlite3.connect(database) as db:
            return db.execute("SELECT count(*) FROM comms_engineheartbeat").fetchone()[0] > 0

    try:
        wait_for(sign_in_page_answers(port), "the sign-in page answered", process)
        wait_for(heartbeat_written, "the engine heartbeat was written", process)
        failed_sign_in_with_forged_address(port)
    finally:
        stop(process)
    with sqlite3.connect(database) as db:
        addresses = [row[0] for row in db.execute("SELECT address FROM signin_securityevent")]
    # From loopback, a forged X-Forwarded-For changes neither the record nor the throttle key:
    # with TRUSTED_PROXY_COUNT at 0 the connection's own address is the client's.
    assert addresses == ["127.0.0.1"]


def failed_sign_in_with_forged_address(port: int) -> None:
    """A wrong password posted from this machine, claiming another address."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"http://127.0.0.1:{port}/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "login": "nobody", "password": "wrong-password"}
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/accounts/login/",
        data=body,
        headers={
            "X-Forwarded-For": "203.0.113.9",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
    )
    try:
        opener.open(request, timeout=10)
    except urllib.error.HTTPError as refused:
        assert refused.code in (200, 422), refused.code


@pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")),
    reason="the separate-process path needs DATABASE_URL and REDIS_URL (set by .ci/run)",
)
def test_separate_processes_serve_sign_in_and_run_timers(tmp_path):
    from urllib.parse import urlsplit, urlunsplit

    import psycopg2
    from psycopg2 import sql

    url = urlsplit(os.environ["DATABASE_URL"])
    name = f"incident_console_procfile_{os.getpid()}"
    admin = psycopg2.connect(urlunsplit(url._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database_url = urlunsplit(url._replace(path=f"/{name}"))
    env = base_env(
        VAR_DIR=str(tmp_path),
        DATABASE_URL=database_url,
        REDIS_URL=os.environ["REDIS_URL"],
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
    )
    manage("migrate", "--noinput", env=env)
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "honcho"), "start", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )

    def heartbeat_written() -> bool:
        with psycopg2.connect(database_url) as db, db.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM comms_engineheartbeat")
            return cursor.fetchone()[0] > 0

    try:
        wait_for(sign_in_page_answers(port), "the sign-in page answered", process)
        wait_for(heartbeat_written, "the engine heartbeat was written", process)
        # A process that dies is started again, and never takes the others down with it.
        for name in ("worker", "beat", "web"):
            killed = running(process, name)
            left = children_of(killed)  # the web server's and the worker's own processes
            os.kill(killed, signal.SIGKILL)
            wait_for(
                lambda name=name, killed=killed: running(process, name) not in (None, killed),
                f"the {name} was started again",
                process,
            )
            wait_for(
                lambda left=left: not any(alive(pid) for pid in left),
                f"what the killed {name} left behind was stopped",
                process,
            )
        wait_for(sign_in_page_answers(port), "the sign-in page answered again", process)
        swept = last_heartbeat(database_url)
        wait_for(lambda: last_heartbeat(database_url) > swept, "the new beat swept", process)
    finally:
        stop(process)
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        admin.close()


PROCFILE_COMMANDS = {
    "web": "keep-running python -m incident_console.server",
    "worker": "keep-running celery --app incident_console worker",
    "beat": "keep-running celery --app incident_console beat",
}


def running(honcho: subprocess.Popen, name: str) -> int | None:
    """The pid of the command ``bin/keep-running`` runs now for a Procfile entry of this
    honcho, or None between a crash and the restart."""
    table = {}
    ps = ["ps", "-eo", "pid=,ppid=,args="]
    for line in subprocess.run(ps, capture_output=True, text=True, check=True).stdout.splitlines():
        pid, ppid, *args = line.split(None, 2)
        table[int(pid)] = (int(ppid), args[0] if args else "")

    def under_honcho(pid: int) -> bool:
        while pid > 1:
            if pid == honcho.pid:
                return True
            pid = table.get(pid, (0, ""))[0]
        return False

    for pid, (_, args) in table.items():
        script = args.split()[1:2] == ["bin/keep-running"]  # not the shell that started it
        if script and PROCFILE_COMMANDS[name] in args and under_honcho(pid):
            children = [child for child, (parent, _) in table.items() if parent == pid]
            return children[0] if children else None
    return None


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(child) for child in found.split()]


def last_heartbeat(database_url: str):
    import psycopg2

    with psycopg2.connect(database_url) as db, db.cursor() as cursor:
        cursor.execute("SELECT max(beat_at) FROM comms_engineheartbeat")
        return cursor.fetchone()[0]
