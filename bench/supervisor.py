"""Real processes for the benchmarks and the integration tests, on this machine.

Each process starts in the tree's root in a session of its own, appending its output to a
log file, so that a signal reaches its whole process group: ``Process`` (the benchmarks'
servers, optionally pinned to one CPU, stopped with a signal and SIGKILL after a time limit)
and ``Stack.spawn`` (the workers and beats that tests and the timer benchmark kill with
SIGKILL, so no shutdown code runs). Private PostgreSQL databases are created and dropped on
the server of ``DATABASE_URL``; each run starts its own redis-server on a free port, so the
databases and Redis named in the environment are not touched.

The benchmarks import this module as ``supervisor`` (they run as scripts from ``bench/``),
the integration tests as ``bench.supervisor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
# Where pinned processes run: the servers under test on one CPU, their clients and
# redis-server on the other.
SERVER_CPU, CLIENT_CPU = 0, 1
STARTUP_LIMIT = 60.0  # seconds for redis-server to answer or the engine's first heartbeat


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (so p99 of fewer than 100 values is their maximum); NaN for no
    values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll_until(condition: Callable[[], bool], limit: float, every: float = 0.05) -> float | None:
    """Check ``condition`` every ``every`` seconds until it holds: the seconds that took, or
    None once ``limit`` seconds passed without it."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if condition():
            return time.monotonic() - started
        time.sleep(every)
    return None


# --- Processes -----------------------------------------------------------------------------


def spawn(args: list[str], env: dict[str, str], log_file: Path) -> subprocess.Popen:
    """Start ``args`` in the tree's root, in a session of its own, appending its output (both
    streams) to ``log_file``."""
    with open(log_file, "a") as out:
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def signal_group(process: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` to the process and every child in its group, if it is still there."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process and every child in its group (no shutdown code runs); wait for it."""
    signal_group(process, signal.SIGKILL)
    process.wait()


class Process:
    """A subprocess in its own session, optionally pinned to one CPU, logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict, logdir: Path, cpu: int | None):
        self.name = name
        pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
        self.log = logdir / f"{name}.log"
        self.popen = spawn([*pin, *args], env, self.log)
        self.pid = self.popen.pid  # taskset execs, so this is the server itself

    async def stop(self, sig: int = signal.SIGTERM, limit: float = 30.0) -> float:
        """Signal the process group; SIGKILL after ``limit``. Seconds until it exited."""
        started = time.monotonic()
        if self.popen.poll() is None:
            signal_group(self.popen, sig)
            while self.popen.poll() is None and time.monotonic() - started < limit:
                await asyncio.sleep(0.01)
            if self.popen.poll() is None:
                log(f"{self.name}: still running {limit:.0f} s after signal {sig}; SIGKILL")
                kill_group(self.popen)
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


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds of every live process in the process group (a worker and its children)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                total += cpu_seconds(int(entry))
    return total


def run_json(script: str | Path, *args: str, env: dict[str, str]) -> dict:
    """Run a Python script of the tree with ``env``; return the JSON object it printed last.
    Raises ``RuntimeError``, with the end of what it wrote to stderr, when it fails."""
    done = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        what = " ".join([Path(script).name, *args[:1]])
        raise RuntimeError(f"{what} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def manage(*args: str, env: dict[str, str]) -> None:
    """Run one management command with ``env``; raises ``CalledProcessError`` if it fails."""
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


def setup_django() -> None:
    """Set Django up in this process (a role run by a benchmark against its database)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_console.settings")
    import django

    django.setup()


# --- Databases, Redis, environments ----------------------------------------------------------


def server_url(database: str) -> str:
    """``DATABASE_URL`` naming ``database`` instead of its own."""
    return urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database}"))


def _admin(statement) -> None:
    import psycopg2

    admin = psycopg2.connect(server_url("postgres"))
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(statement)
    finally:
        admin.close()


def drop_database(name: str) -> None:
    """Drop the database, if it exists, whoever is still connected to it."""
    from psycopg2 import sql

    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create_database(name: str, template: str | None = None) -> str:
    """Create the database, empty or as a copy of ``template``, in place of any left by an
    earlier run; return its URL."""
    from psycopg2 import sql

    drop_database(name)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    _admin(create)
    return server_url(name)


def environment(
    database_url: str, redis_port: int, var_dir: Path, **settings: str
) -> dict[str, str]:
    """This process's environment pointed at a private database and redis-server, with
    unbuffered output, ``VAR_DIR`` and ``settings`` on top."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        PYTHONUNBUFFERED="1",
        VAR_DIR=str(var_dir),
        **settings,
    )
    return env


def production_settings(allowed_host: str) -> dict[str, str]:
    """Production settings with a fresh secret key: not DEBUG, which keeps every query in
    memory and logs it."""
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": allowed_host,
        "LOG_LEVEL": "WARNING",
    }


def redis_command(port: int) -> list[str]:
    """redis-server on loopback, in the foreground, keeping nothing on disk."""
    return [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--daemonize", "no",
    ]  # fmt: skip


def redis_answers(port: int) -> bool:
    import redis

    try:
        return redis.Redis(port=port, socket_timeout=1).ping()
    except redis.RedisError:
        return False


class Stack:
    """A redis-server, Celery workers and beats over one database, each process in its own
    session logging to ``<dir>/<name>.log``; the text messages they send are appended to
    ``sms_file`` by the recording provider."""

    celery_loglevel = "INFO"

    def __init__(self, directory: Path, database_url: str, **settings: str) -> None:
        import psycopg2

        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.redis_port = free_port()
        self.sms_file = directory / "sms.jsonl"
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.redis: subprocess.Popen | None = None
        self.env = environment(
            database_url,
            self.redis_port,
            directory,
            SMS_PROVIDER="comms.delivery.RecordingSmsProvider",
            SMS_RECORD_FILE=str(self.sms_file),
            PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            **settings,
        )
        self.database_url = database_url
        self.db = psycopg2.connect(database_url)
        self.db.autocommit = True

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        process = spawn(args, self.env, self.dir / f"{name}.log")
        self.processes.append((name, process))
        return process

    def start_redis(self, name: str = "redis") -> subprocess.Popen:
        """Start redis-server on the stack's port and wait until it answers."""
        self.redis = self.spawn(name, redis_command(self.redis_port))
        self.wait_until(self.redis_answers, "redis-server answered", STARTUP_LIMIT)
        return self.redis

    def start_worker(self, name: str = "worker", queue: str = "celery") -> subprocess.Popen:
        """A worker as the Procfile runs it: ``celery`` for the team's tasks, ``families``
        for deliveries to subscribers."""
        return self.celery(
            name, "worker", "--queues", queue, "--concurrency", "2", "--hostname", f"{name}@%h"
        )

    def start_beat(self, name: str = "beat") -> subprocess.Popen:
        # Each beat needs its own schedule file and pid file, or the second refuses to start.
        schedule, pidfile = self.dir / f"{name}-schedule", self.dir / f"{name}.pid"
        return self.celery(name, "beat", "--schedule", str(schedule), "--pidfile", str(pidfile))

    def celery(self, name: str, *args: str) -> subprocess.Popen:
        command = [str(VENV_BIN / "celery"), "--app", "incident_console", *args]
        return self.spawn(name, [*command, "--loglevel", self.celery_loglevel])

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the process and every child in its group: no shutdown code runs."""
        kill_group(process)

    def stop_all(self) -> None:
        for _, process in self.processes:
            self.kill(process)
        self.db.close()

    def redis_answers(self) -> bool:
        return redis_answers(self.redis_port)

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Run one query; after the server restarted, the next call connects again."""
        import psycopg2

        for attempt in (1, 2):
            if self.db.closed:
                self.db = psycopg2.connect(self.database_url)
                self.db.autocommit = True
            try:
                with self.db.cursor() as cursor:
                    cursor.execute(query, params)
                    return cursor.fetchall()
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                self.db.close()  # the server went away: connect again, once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def wait_until(self, condition: Callable[[], bool], what: str, limit: float) -> float:
        """Poll until ``condition`` holds; return the seconds it took. Raises ``TimeoutError``
        after ``limit`` seconds."""
        waited = poll_until(condition, limit)
        if waited is None:
            raise TimeoutError(f"timed out after {limit:.0f} s waiting until {what}")
        return waited

    def wait_for_engine(self) -> None:
        """Beat, a worker and the database all work once a sweep stamps the heartbeat."""
        self.wait_until(
            lambda: self.sql("SELECT count(*) FROM comms_engineheartbeat")[0][0] > 0,
            "the engine heartbeat was written",
            STARTUP_LIMIT,
        )

    def run_script(self, script: str | Path, *args: str) -> dict:
        """Run a script against the stack's database; return the JSON it prints."""
        return run_json(script, *args, env=self.env)


class Bench:
    """A database, a redis-server and a production-like environment for the servers of one
    benchmark run, started as ``Process``es; with ``pin``, redis-server runs on the clients'
    CPU."""

    def __init__(self, workdir: Path, database: str, pin: bool) -> None:
        self.workdir = workdir
        self.pin = pin
        self.database = database
        self.processes: list[Process] = []
        self.redis_port = free_port()
        # Over plain HTTP on loopback: no redirect to HTTPS.
        self.env = environment(
            server_url(database),
            self.redis_port,
            workdir,
            **production_settings("127.0.0.1"),
            SECURE_SSL_REDIRECT="false",
        )

    def cpu(self, which: int) -> int | None:
        return which if self.pin else None

    def spawn(self, name: str, args: list[str], env: dict | None = None, cpu=None) -> Process:
        process = Process(name, args, env or self.env, self.workdir, cpu)
        self.processes.append(process)
        return process

    def start(self) -> None:
        """Create the database, start redis-server and migrate."""
        create_database(self.database)
        self.spawn("redis", redis_command(self.redis_port), cpu=self.cpu(CLIENT_CPU))
        manage("migrate", "--noinput", env=self.env)

    async def close(self) -> None:
        for process in reversed(self.processes):
            await process.stop(signal.SIGTERM, limit=10)
        drop_database(self.database)


def machine(*packages: str) -> dict:
    """The machine, the PostgreSQL server of ``DATABASE_URL``, redis-server, and the versions
    of those of ``packages`` that are installed."""
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
    for package in packages:
        with contextlib.suppress(md.PackageNotFoundError):
            info[package] = md.version(package)
    info["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


def run_main(parser, run) -> None:
    """Parse the benchmark's arguments, run ``run(args)`` on PostgreSQL, and write its results
    to ``--json`` when asked."""
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL (a PostgreSQL server) to run this benchmark.")
    out = asyncio.run(run(args))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
