"""Live push benchmark (B2 and B7 of the perf-reliability anchors, §1.9), on real processes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/incident_console \\
        .venv/bin/python bench/live.py [--quick] [--json results.json]

One throwaway PostgreSQL database (created on the server of ``DATABASE_URL``, dropped at the
end), one redis-server of our own on a free port for the channels_redis layer, a Celery
worker that renders the pushes, and the ASGI server as a subprocess, one kind after the
other (``SERVERS``): daphne, uvicorn, and the console's own entry point, in one process
unless a variant sets ``WEB_CONCURRENCY``.

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
(``clients.retry_delay``: 0.25-1 s for 15 s after a 1012 close, otherwise a jittered backoff
doubling to 30 s); the server gets SIGTERM and is started again as soon as it has exited; the
time runs from the SIGTERM until every socket has reconnected and received its ``hello``.

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
import resource
import signal
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from clients import CommsLead, Fleet, Round, http
from live_django import AUDIENCE_USERS
from supervisor import (
    CLIENT_CPU,
    SERVER_CPU,
    Bench,
    Process,
    free_port,
    group_cpu_seconds,
    log,
    machine,
    percentile,
    rss_kib,
    run_json,
)

PREFIX = f"bench_live_{os.getpid()}"
DJANGO_SIDE = Path(__file__).with_name("live_django.py")
CONNECT_TIMEOUT = 240.0  # seconds for N sockets to connect and say hello
RECONNECT_LIMIT = 180.0  # seconds for N sockets to come back after a restart

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
    # What every deployment runs: ``python -m incident_console.server`` (uvicorn without
    # permessage-deflate, a 5 s graceful stop, pages on a pool of threads), WEB_CONCURRENCY
    # processes: one unless a variant sets it.
    "console": ["-m", "incident_console.server", "--host", "127.0.0.1", "--port", "{port}"],
}  # fmt: skip
APP = "incident_console.asgi:application"
# Versions reported with the machine.
PACKAGES = (
    "django", "channels", "channels-redis", "daphne", "twisted", "autobahn", "uvicorn",
    "uvloop", "httptools", "websockets", "psycopg2-binary",
)  # fmt: skip

# The targets for p99 of "approval POSTed -> last socket has it", in ms.
TARGETS_MS = {50: 150, 200: 250, 1000: 1000}
RECONNECT_TARGET_S = 5.0


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


def ms(ns: int) -> float:
    return ns / 1e6


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


# --- The console's processes, its database and Redis -----------------------------------------


async def start_server(
    bench: Bench, kind: str, port: int, name: str, extra_env: dict | None = None
) -> tuple[Process, float]:
    """Start one ASGI server; return it and the seconds until /health/live answered."""
    args = [sys.executable, *[a.format(port=port) for a in SERVERS[kind]]]
    if kind != "console":
        args.append(APP)
    env = {**bench.env, "WEB_CONCURRENCY": "1", **(extra_env or {})}
    # One process is pinned to its core; several share both cores with everything else.
    cpu = bench.cpu(SERVER_CPU) if env["WEB_CONCURRENCY"] == "1" else None
    started = time.monotonic()
    process = bench.spawn(name, args, env=env, cpu=cpu)
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


def role(bench: Bench, *args: str) -> dict:
    """Run one of ``live_django.py``'s roles against the benchmark's database."""
    return run_json(DJANGO_SIDE, *args, env=bench.env)


def incident_sequence(bench: Bench, incident_id: int) -> int:
    import psycopg2

    with psycopg2.connect(bench.env["DATABASE_URL"]) as db, db.cursor() as cursor:
        cursor.execute("SELECT sequence FROM incidents_incident WHERE id = %s", (incident_id,))
        return cursor.fetchone()[0]


def group_members(bench: Bench, incident: dict) -> int:
    """Subscriptions to the incident's audience groups in Redis: one per web process that holds
    a socket of the group (the pub/sub layer keeps the sockets themselves in the process)."""
    import redis

    client = redis.Redis.from_url(bench.env["REDIS_URL"])
    try:
        channels = [f"asgi__group__{group}" for group in incident["groups"]]
        return sum(count for _, count in client.pubsub_numsub(*channels))
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

        fleet = Fleet(n, url, origin, cookies_for(seed, n), sampled=len(AUDIENCE_USERS))
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
        cpu_before = group_cpu_seconds(server.pid)
        drafts = incident["drafts"][1 : 1 + plan.warmup + plan.rounds]
        if len(drafts) < plan.warmup + plan.rounds:
            raise RuntimeError("not enough drafts seeded")
        for k, draft_id in enumerate(drafts):
            token = await lead.token(draft_id)
            expected = incident_sequence(bench, incident["id"]) + 1
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
            server_cpu_s_per_round=round(
                (group_cpu_seconds(server.pid) - cpu_before) / len(drafts), 3
            ),
            push_bytes_min=min(sizes, default=0),
            push_bytes_max=max(sizes, default=0),
            reconnects=fleet.attempts - n,
            extensions=dict(fleet.extensions),
            rss_after_mib=round(rss_kib(server.pid) / 1024, 1),
        )
        result["_samples"] = samples
        result["layer_ms"] = await layer_fan_out(bench, fleet, incident, samples, plan)
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
    bench: Bench, fleet: Fleet, incident: dict, samples: dict[int, str], plan: Plan
) -> dict:
    """The approval's push without the approval: this process group_sends each audience's
    real fragment, as publish() does, and times the first send -> the last socket. What is
    left of the end-to-end time is the request: the write, and rendering every audience."""
    from channels_redis.core import RedisChannelLayer
    from channels_redis.pubsub import RedisPubSubChannelLayer

    if len(samples) < len(AUDIENCE_USERS):
        return latency_summary([])
    htmls = [json.loads(samples[i])["html"] for i in range(len(AUDIENCE_USERS))]
    # The layer the server and the worker use (bench/live_layer_settings.py: the list-based one).
    listed = bench.env.get("DJANGO_SETTINGS_MODULE") == "bench.live_layer_settings"
    layer = (RedisChannelLayer if listed else RedisPubSubChannelLayer)(
        hosts=[bench.env["REDIS_URL"]]
    )
    last = []
    try:
        base = fleet.sequence + 1000  # clear of the incident's own numbers
        for k in range(plan.warmup + plan.rounds):
            sequence = base + k

            async def trigger(current: Round, sequence: int = sequence) -> int:
                current.t0 = time.monotonic_ns()
                for group, html in zip(incident["groups"], htmls, strict=True):
                    await layer.group_send(
                        group,
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
        await (layer.close_pools() if listed else layer.flush())
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
    server, _ = await start_server(bench, kind, port, name, extra_env)
    url = f"ws://127.0.0.1:{port}/ws/incidents/{incident['id']}/"
    fleet = Fleet(n, url, f"http://127.0.0.1:{port}", cookies_for(seed, n))
    fleet.start()
    second = None
    result: dict = {"server": label, "n": n}
    try:
        connect_s = await fleet.wait_all_hello(CONNECT_TIMEOUT)
        result["group_members_before"] = group_members(bench, incident)
        await asyncio.sleep(1.0)
        attempts_before = fleet.attempts
        killed_at = time.monotonic_ns()
        fleet.resync_after = killed_at
        exit_s = await server.stop(signal.SIGTERM, limit=30)
        second, ready_s = await start_server(bench, kind, port, name + "-again", extra_env)
        ready_at = time.monotonic_ns()
        cpu_start = group_cpu_seconds(second.pid)
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
            server_cpu_s=round(group_cpu_seconds(second.pid) - cpu_start, 2),
        )
        result["group_members_after"] = group_members(bench, incident)
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
    bench = Bench(workdir, PREFIX, pin=not args.no_pin)
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
        seed = role(bench, "seed", str(len(configs) + 2), str(drafts))
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
        out["cost"] = role(
            bench, "cost", str(cost_incident["id"]), json.dumps(cost_incident["drafts"][:10])
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
        "| target | met? | attempts | close codes | server CPU "
        "| processes subscribed before / after |",
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
        stages = cost["approval_push_ms_p50"]
        lines += [
            "",
            "An approval's push as the worker runs it (the drafts panel and the timeline), "
            "median ms by stage: "
            + ", ".join(f"{stage.replace('_', ' ')} {value}" for stage, value in stages.items())
            + ".",
        ]
    return "\n".join(lines)


def main() -> None:
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
    info = machine(*PACKAGES)
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
