"""The families' public status page under load: its capacity next to a static file's, and
whether saturating it slows the response team's dashboard, side by side in one run.

    cd bench && DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        ../.venv/bin/python public.py [--seconds 20] [--clients 16] [--json out.json]

One throwaway PostgreSQL database and redis-server, seeded as ``bench/load.py`` seeds them
(``seed_demo`` and two open incidents with something of everything), then, on the first
incident, two more public web updates for families (three in all) and the second incident
resolved with a final web update for families, as ``public`` does here. A Celery worker and
beat as in ``capacity.py``, ``collectstatic`` as every deployment runs it, and one web server
started as ``capacity.py`` starts its "now" configuration: ``python -m incident_console.server``
with ``WEB_CONCURRENCY`` one per core, pages on the pool of threads.

1. **Capacity**: ``--clients`` closed-loop clients, each on its own keep-alive connection (as a
   browser keeps one), GET one target as fast as it is answered, for ``--seconds``, with a
   browser's ``Accept`` and ``Accept-Encoding``, no cookie and no conditional header (no
   ``If-None-Match``: every answer is a full 200, the server's worst case). The targets
   alternate twice: the stylesheet every page links (``/static/css/console.css``) and the
   district's public status page (``/status/riverbend/``). Requests per second, p50 and p95,
   and the web processes' CPU per request.
2. **Isolation**: the communications lead's dashboard (``/comms/``, with the session
   ``load.py``'s seeding signs in) at a fixed ``--dashboard-rate``, open-loop
   (``clients.open_loop``: random arrivals, each GET on its own connection, latency from the
   moment the request was due), for ``--seconds``, with no public load, then while
   ``--clients`` closed-loop clients saturate the public page; twice, alternating.

The closed-loop clients run in a child process of their own (``_closed``), so that the
dashboard's generator in this process is never held up by theirs. Every load generator runs on
the same two cores as the server, PostgreSQL and Redis: what the clients spend is taken from
the server, for both targets alike.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import live  # bench/live.py: the ASGI servers, started as there
import load  # bench/load.py: the seeding, the sessions and the page mix
import supervisor
from capacity import CONFIGS
from clients import http, open_loop

HERE = Path(__file__).resolve()
STATIC = "/static/css/console.css"
# Targets of the issue.
TARGET_RATIO = 0.5  # public page's req/s at least half the static file's
TARGET_SLOWDOWN = 2.0  # dashboard p95 under public load within 2x of its p95 alone
BROWSER_CSS = {
    "Accept": "text/css,*/*;q=0.1",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "User-Agent": "Mozilla/5.0 (bench/public.py)",
}
BROWSER_PAGE = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "User-Agent": "Mozilla/5.0 (bench/public.py)",
}


# --- Seeding, in a subprocess pointed at the run's database ----------------------------------


def role_public(first: int, second: int) -> None:
    """Two more families' web updates on ``first`` (the seed published one), each after a
    staff email as the console requires, and ``second`` resolved: into Recovery, a final staff
    email and families' web update, closed. Print what the public
    page then shows."""
    supervisor.setup_django()
    from unittest import mock

    from comms import drafts
    from comms.models import PublishedUpdate
    from incidents import services
    from incidents.models import District, Incident, User

    lead = User.objects.get(username="rb-comms")
    cio = User.objects.get(username="rb-cio")

    def publish(incident: Incident, audience: str, channel: str) -> None:
        promised = (
            PublishedUpdate.objects.filter(incident=incident, audience=audience)
            .latest("published_at")
            .promised_next_at
        )
        draft = drafts.draft_create(incident=incident, by=lead, audience=audience, channel=channel)
        drafts.draft_submit(draft=draft, by=lead, expected_revision=1)
        drafts.draft_approve(draft=draft, by=lead, expected_revision=1)
        drafts.draft_publish(
            draft=draft, by=lead, expected_revision=1, promised_next_at=promised,
            keep_promised_time=True, missing_languages_reason="Spanish follows.",
        )  # fmt: skip

    def update(pk: int) -> None:
        """Staff hear first, then families on the status page."""
        incident = Incident.objects.get(pk=pk)
        publish(incident, "staff", "email")
        publish(incident, "families", "web")

    with mock.patch("console.live.hand_off"):
        for _ in range(2):
            update(first)
        services.incident_enter_recovery(incident=Incident.objects.get(pk=second), by=cio)
        update(second)
        services.incident_close(incident=Incident.objects.get(pk=second), by=cio)
    district = District.objects.get(slug="riverbend")
    web = PublishedUpdate.objects.filter(
        incident__district=district, channel="web", audience="families"
    )
    print(
        json.dumps(
            {
                "slug": district.slug,
                "open_updates": web.filter(incident_id=first).count(),
                "resolved_updates": web.filter(incident_id=second).count(),
                "resolved_status": Incident.objects.get(pk=second).status,
            }
        )
    )


# --- Closed loop, in a child process ---------------------------------------------------------


async def _request(reader, writer, request: bytes) -> tuple[int, int]:
    """One request on a kept connection: (status, body bytes). Reads Content-Length or
    chunked bodies; raises ConnectionError when the server closed the connection."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        size = int(headers["content-length"])
        await reader.readexactly(size)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        size = 0
        while True:
            chunk = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(chunk + 2)
            size += chunk
            if chunk == 0:
                break
    else:
        raise ConnectionError("a response without a length")
    if headers.get("connection", "").lower() == "close":
        raise ConnectionResetError(f"closed after {status}")
    return status, size


async def closed_loop(port: int, path: str, headers: dict, clients: int, seconds: float) -> dict:
    """``clients`` clients, each on its own keep-alive connection, sending the next GET as
    soon as the last was answered, for ``seconds``. Connections open before the clock starts;
    one the server closes is opened again (its time counts)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: keep-alive"]
    request = ("\r\n".join(lines + [f"{k}: {v}" for k, v in headers.items()]) + "\r\n\r\n").encode()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sizes: set[int] = set()
    errors: dict[str, int] = {}
    reconnects = 0

    async def connect():
        return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)

    connections = [await connect() for _ in range(clients)]
    cpu_started = time.process_time()
    started = time.monotonic()
    end = started + seconds

    async def client(i: int) -> None:
        nonlocal reconnects
        reader, writer = connections[i]
        while time.monotonic() < end:
            sent = time.monotonic()
            try:
                status, size = await asyncio.wait_for(_request(reader, writer, request), 30)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                writer.close()
                reconnects += 1
                with contextlib.suppress(OSError, TimeoutError):
                    reader, writer = await connect()
                continue
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                latencies.append((time.monotonic() - sent) * 1000)
                sizes.add(size)
        writer.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    elapsed = time.monotonic() - started
    return {
        "path": path,
        "clients": clients,
        "seconds": round(elapsed, 2),
        "ok": len(latencies),
        "rate": round(len(latencies) / elapsed, 1),
        "p50_ms": round(supervisor.percentile(latencies, 50), 2),
        "p95_ms": round(supervisor.percentile(latencies, 95), 2),
        "p99_ms": round(supervisor.percentile(latencies, 99), 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors,
        "reconnects": reconnects,
        "body_bytes": sorted(sizes)[:3],
        "client_cpu_s": round(time.process_time() - cpu_started, 2),
    }


def role_closed(port: int, path: str, headers: str, clients: int, seconds: float) -> None:
    async def run() -> dict:
        print("started", flush=True)
        return await closed_loop(port, path, json.loads(headers), clients, seconds)

    print(json.dumps(asyncio.run(run())), flush=True)


class Saturation:
    """The closed loop in a child process; ``started()`` returns once its clock runs."""

    def __init__(self, port: int, path: str, headers: dict, clients: int, seconds: float):
        self.args = [str(port), path, json.dumps(headers), str(clients), str(seconds)]
        self.process: asyncio.subprocess.Process | None = None

    async def started(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, str(HERE), "_closed", *self.args,
            stdout=asyncio.subprocess.PIPE, cwd=HERE.parent,
        )  # fmt: skip
        line = await self.process.stdout.readline()
        if line.strip() != b"started":
            raise RuntimeError(f"the closed-loop clients did not start: {line!r}")

    async def result(self) -> dict:
        out, _ = await self.process.communicate()
        if self.process.returncode:
            raise RuntimeError(f"the closed-loop clients failed ({self.process.returncode})")
        return json.loads(out.decode().strip().splitlines()[-1])


# --- Measuring -------------------------------------------------------------------------------


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


async def capacity_step(server, port: int, name: str, path: str, headers: dict, args) -> dict:
    cpu_before, busy_before = supervisor.group_cpu_seconds(server.pid), machine_busy()
    load_ = Saturation(port, path, headers, args.clients, args.seconds)
    await load_.started()
    result = await load_.result()
    cpu = supervisor.group_cpu_seconds(server.pid) - cpu_before
    busy_after = machine_busy()
    result["target"] = name
    result["server_cpu_ms_per_request"] = round(1000 * cpu / max(result["ok"], 1), 3)
    result["machine_busy_pct"] = round(
        100 * (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1), 1
    )
    supervisor.log(f"capacity {name}: {json.dumps(result)}")
    return result


async def dashboard_step(port: int, dashboard: tuple, public: tuple | None, args, rng) -> dict:
    """The dashboard at ``--dashboard-rate`` for ``--seconds``, open-loop; with ``public``
    (path, headers), while the closed-loop clients saturate it."""
    saturation = None
    if public:
        saturation = Saturation(port, *public, args.clients, args.seconds + 3)
        await saturation.started()
        await asyncio.sleep(1.0)  # the public clients at full speed before the clock starts
    busy_before = machine_busy()
    seen = await open_loop(port, [dashboard], args.dashboard_rate, args.seconds, rng)
    busy_after = machine_busy()
    latencies = seen.all_latencies()
    result = {
        "public_load": bool(public),
        "sent": seen.sent,
        "ok": len(latencies),
        "refused": sum(seen.refused.values()),
        "failed": sum(seen.failed.values()),
        "p50_ms": round(supervisor.percentile(latencies, 50), 1),
        "p95_ms": round(supervisor.percentile(latencies, 95), 1),
        "p99_ms": round(supervisor.percentile(latencies, 99), 1),
        "machine_busy_pct": round(
            100 * (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1), 1
        ),
    }
    if saturation:
        result["public"] = await saturation.result()
    supervisor.log(f"dashboard: {json.dumps(result)}")
    return result


async def check_pages(port: int, public_path: str, dashboard: tuple) -> dict:
    """One GET of each target as the run sends it: status, size and caching headers."""
    seen = {}
    keep = {"content-type", "cache-control", "etag", "last-modified", "content-encoding", "vary"}
    for name, path, headers in (
        ("static", STATIC, BROWSER_CSS),
        ("public", public_path, BROWSER_PAGE),
        ("dashboard", dashboard[1], dashboard[2]),
    ):
        status, head, body = await http(port, "GET", path, headers)
        seen[name] = {"status": status, "bytes": len(body), **{k: v for k, v in head if k in keep}}
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
    return seen


async def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-public-"))
    bench = supervisor.Bench(workdir, args.database, pin=False)
    info = supervisor.machine("django", "uvicorn", "servestatic")
    config = CONFIGS["now"]
    out: dict = {"capacity": [], "isolation": []}
    started = time.monotonic()
    try:
        bench.start()
        supervisor.log("seeding: seed_demo, 2 open incidents, then 2 more public updates on one "
                       "and the other resolved")  # fmt: skip
        seed = load.role(bench, "_seed", "2", "0")
        first, second = seed["incidents"][0]["id"], seed["incidents"][1]["id"]
        out["seed"] = supervisor.run_json(HERE, "_public", str(first), str(second),
                                          env=bench.env)  # fmt: skip
        supervisor.log(f"seeded: {json.dumps(out['seed'])}")
        supervisor.manage("collectstatic", "--noinput", env=bench.env)
        bench.spawn("worker", [sys.executable, *load.PROCFILE_WORKER])
        bench.spawn("beat", [sys.executable, *load.PROCFILE_BEAT, str(workdir / "celerybeat")])
        mix = {page: (page, path, headers) for page, path, headers in load.page_mix(seed)}
        dashboard = mix["communications"]
        public_path = mix["status page"][1]
        targets = {"static": (STATIC, BROWSER_CSS), "public": (public_path, BROWSER_PAGE)}
        env = {**config["env"], "WEB_CONCURRENCY": str(config["workers"])}
        port = supervisor.free_port()
        server, ready = await live.start_server(bench, "console", port, "web", env)
        supervisor.log(f"web: answering after {ready:.1f} s ({config['describe']})")
        try:
            out["pages"] = await check_pages(port, public_path, dashboard)
            supervisor.log(f"pages: {json.dumps(out['pages'])}")
            # Warm up: every process renders the public page once and opens its connections.
            for path, headers in targets.values():
                await closed_loop(port, path, headers, args.clients, 2.0)
            await open_loop(port, [dashboard], args.dashboard_rate, 2.0, random.Random(1))
            for _ in range(args.rounds):
                for name, (path, headers) in targets.items():
                    out["capacity"].append(
                        await capacity_step(server, port, name, path, headers, args)
                    )
            rng = random.Random(20261205)
            for _ in range(args.rounds):
                for public in (None, targets["public"]):
                    out["isolation"].append(
                        await dashboard_step(port, dashboard, public, args, rng)
                    )
            out["server_errors"] = server.errors()
        finally:
            await server.stop()
    finally:
        await bench.close()
    info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    info["minutes"] = round((time.monotonic() - started) / 60, 1)
    out["machine"] = info
    out["config"] = {
        "describe": config["describe"],
        "web_concurrency": config["workers"],
        "seconds": args.seconds,
        "clients": args.clients,
        "dashboard_rate": args.dashboard_rate,
        "rounds": args.rounds,
    }
    print("\n" + markdown(out), flush=True)
    return out


# --- Report ----------------------------------------------------------------------------------


def markdown(out: dict) -> str:
    info, config = out["machine"], out["config"]
    lines = [
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory_gib']} GiB, PostgreSQL "
        f"{info['postgresql']}, Python {info['python']}, Django {info.get('django')}, uvicorn "
        f"{info.get('uvicorn')}, servestatic {info.get('servestatic')}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in info['loadavg_at_start'])}, at end "
        f"{', '.join(f'{x:.2f}' for x in info['loadavg_at_end'])}; {info['minutes']} minutes.",
        f"Server: {config['describe']}. {config['clients']} closed-loop clients, "
        f"{config['seconds']:g} s per step, {config['rounds']} rounds.",
        "",
        "**Capacity** (closed loop, keep-alive, no conditional headers)",
        "",
        "| Round | Target | Requests | req/s | p50 | p95 | p99 | non-200 | errors "
        "| web CPU per request | generator CPU | machine busy |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(out["capacity"]):
        non_200 = {k: v for k, v in r["statuses"].items() if k != "200"}
        lines.append(
            f"| {i // 2 + 1} | {r['target']} (`{r['path']}`, {r['body_bytes'][0]:,} B) "
            f"| {r['ok']:,} | {r['rate']:,.1f} | {r['p50_ms']} ms | {r['p95_ms']} ms "
            f"| {r['p99_ms']} ms | {non_200 or 0} | {r['errors'] or 0} "
            f"| {r['server_cpu_ms_per_request']} ms "
            f"| {100 * r['client_cpu_s'] / r['seconds']:.0f} % of a core "
            f"| {r['machine_busy_pct']} % |"
        )
    static = [r["rate"] for r in out["capacity"] if r["target"] == "static"]
    public = [r["rate"] for r in out["capacity"] if r["target"] == "public"]
    ratio = statistics.mean(public) / statistics.mean(static)
    per_round = [p / s for s, p in zip(static, public, strict=False)]
    lines += [
        "",
        f"- static: **{statistics.mean(static):,.1f} req/s** (mean of {len(static)}); public "
        f"page: **{statistics.mean(public):,.1f} req/s**; ratio public / static "
        f"**{ratio:.2f}** (per round: {', '.join(f'{x:.2f}' for x in per_round)}); target "
        f">= {TARGET_RATIO:.2f}: **{'met' if ratio >= TARGET_RATIO else 'not met'}**.",
        "",
        f"**Isolation** (`/comms/` as the communications lead, open loop at "
        f"{config['dashboard_rate']:g} req/s, each GET on its own connection)",
        "",
        "| Round | Public load | Dashboard sent | OK | 503 | failed | p50 | p95 | p99 "
        "| public req/s meanwhile | machine busy |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(out["isolation"]):
        meanwhile = f"{r['public']['rate']:,.1f}" if r.get("public") else "-"
        lines.append(
            f"| {i // 2 + 1} | {'saturated' if r['public_load'] else 'none'} | {r['sent']} "
            f"| {r['ok']} | {r['refused']} | {r['failed']} | {r['p50_ms']} ms "
            f"| {r['p95_ms']} ms | {r['p99_ms']} ms | {meanwhile} | {r['machine_busy_pct']} % |"
        )
    alone = [r["p95_ms"] for r in out["isolation"] if not r["public_load"]]
    loaded = [r["p95_ms"] for r in out["isolation"] if r["public_load"]]
    slowdown = statistics.mean(loaded) / statistics.mean(alone)
    lines += [
        "",
        f"- dashboard p95 alone **{statistics.mean(alone):.1f} ms**, with the public page "
        f"saturated **{statistics.mean(loaded):.1f} ms** (means of {len(alone)}); ratio "
        f"**{slowdown:.2f}x**; target <= {TARGET_SLOWDOWN:.0f}x: "
        f"**{'met' if slowdown <= TARGET_SLOWDOWN else 'not met'}**.",
    ]
    if out.get("server_errors"):
        lines.append(f"- The web server logged: {out['server_errors']}.")
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["_public"]:
        role_public(int(sys.argv[2]), int(sys.argv[3]))
        return
    if sys.argv[1:2] == ["_closed"]:
        port, path, headers, clients, seconds = sys.argv[2:7]
        role_closed(int(port), path, headers, int(clients), float(seconds))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per step")
    parser.add_argument("--clients", type=int, default=16, help="closed-loop clients")
    parser.add_argument(
        "--dashboard-rate", type=float, default=5.0, help="dashboard GETs per second"
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternations of each pair")
    parser.add_argument(
        "--database", default=f"bench_public_{os.getpid()}", help="throwaway database's name"
    )
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    supervisor.run_main(parser, run)


if __name__ == "__main__":
    main()
