"""Capacity of the page mix: the request rate at which p95 crosses 200 ms, with open-loop
random arrivals, for the web process as the previous release served it and as it is served
now, side by side in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/capacity.py [--rates 20 40 60 ...] [--step 15] [--json out.json]

One throwaway PostgreSQL database and redis-server, seeded as ``bench/load.py`` seeds them
(``seed_demo`` and four open incidents with something of everything), a Celery worker and
beat, and, one configuration after the other, the web server on its own port:

- **before**: one uvicorn process, HTTP through Django's ASGI handler, ``CONN_MAX_AGE=0`` (a
  new PostgreSQL connection per request): the shipped configuration of the previous release.
- **now**: uvicorn with ``WEB_CONCURRENCY`` processes (the default: one per core), HTTP on a
  pool of ``WEB_THREADS`` threads per process with persistent connections
  (``incident_console.serving``).

For each configuration the load climbs a ladder of rates; each step sends requests for
``--step`` seconds at exponentially distributed intervals (a Poisson process: arrivals do not
wait for answers, as a district's people do not), each a GET on its own connection, cycling
over the dashboards of every role and the public status page, each signed in as the person
who reads it. Latency runs from the moment the request was due, so a load generator that
falls behind counts against the server, never for it. A step fails when its p95 is over
200 ms or more than 1 % of its requests fail (a 503 with ``Retry-After`` counts as refused,
not failed); the ladder stops after the second failing step. Capacity is the highest rate
whose step passed. The load generator runs on the same two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

import live  # bench/live.py: the ASGI servers, started as there
import load  # bench/load.py: the seeding and the page mix
import supervisor
from clients import open_loop

TARGET_P95_MS = 200.0
# The previous release's server command (docs/benchmarks.md, "Which server"); its pages went
# through Django's ASGI handler.
BEFORE_SERVER = [
    "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}",
    "--ws-per-message-deflate", "false", "--timeout-graceful-shutdown", "5",
]  # fmt: skip
FAILURE_LIMIT = 0.01
CORES = os.cpu_count() or 1

CONFIGS = {
    "before": {
        "describe": "one uvicorn process, Django's ASGI handler, a new connection per request",
        "workers": 1,
        "env": {"HTTP_SERVING": "asgi", "CONN_MAX_AGE": "0"},
    },
    "now": {
        "describe": f"python -m incident_console.server, {CORES} processes, pages on a pool of "
        "WEB_THREADS threads each with persistent connections",
        "workers": CORES,
        "env": {"HTTP_SERVING": "threads"},
    },
}


async def step(port: int, mix: list, rate: float, seconds: float, rng: random.Random) -> dict:
    """Open-loop arrivals at ``rate`` per second for ``seconds``; the step's numbers."""
    seen = await open_loop(port, mix, rate, seconds, rng)
    latencies = seen.all_latencies()
    p95 = supervisor.percentile(latencies, 95) if latencies else float("inf")
    failed, refused = sum(seen.failed.values()), sum(seen.refused.values())
    return {
        "rate": rate,
        "sent": seen.sent,
        "achieved_rate": round(seen.sent / seconds, 1),
        "ok": len(latencies),
        "refused": refused,
        "failed": failed,
        "p50_ms": round(supervisor.percentile(latencies, 50), 1) if latencies else None,
        "p95_ms": round(p95, 1),
        "page_p95_ms": {
            page: round(supervisor.percentile(values, 95), 1)
            for page, values in seen.latencies.items()
        },
        "passed": p95 <= TARGET_P95_MS and failed <= FAILURE_LIMIT * seen.sent,
    }


async def measure(bench, name: str, config: dict, mix: list, args) -> dict:
    if name == "now":
        kind, env = "console", {**config["env"], "WEB_CONCURRENCY": str(config["workers"])}
    else:
        kind, env = f"uvicorn-{name}", config["env"]
        live.SERVERS[kind] = [*BEFORE_SERVER, "--workers", str(config["workers"])]
    port = supervisor.free_port()
    server, ready = await live.start_server(bench, kind, port, f"web-{name}", env)
    supervisor.log(f"{name}: answering after {ready:.1f} s ({config['describe']})")
    rng = random.Random(20261205)
    steps = []
    try:
        # Warm up: each process and thread opens what it keeps.
        await step(port, mix, 10, 3, rng)
        failures = 0
        for rate in args.rates:
            result = await step(port, mix, rate, args.step, rng)
            steps.append(result)
            supervisor.log(f"{name}: {json.dumps(result)}")
            failures += not result["passed"]
            if failures >= 2:
                break
    finally:
        await server.stop()
    passed = [s["rate"] for s in steps if s["passed"]]
    return {
        "describe": config["describe"],
        "steps": steps,
        "capacity": max(passed, default=0),
    }


def markdown(info: dict, results: dict) -> str:
    lines = [
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), PostgreSQL {info['postgresql']}, "
        f"Python {info['python']}, Django {info['django']}, uvicorn {info['uvicorn']}; "
        f"load average at start {', '.join(f'{x:.2f}' for x in info['loadavg_at_start'])}.",
        "",
        "| Configuration | Rate (req/s) | Sent | OK | 503 | Failed | p50 | p95 "
        "| slowest page's p95 | Passed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for s in r["steps"]:
            slowest = max(s["page_p95_ms"].items(), key=lambda item: item[1], default=("-", 0))
            lines.append(
                f"| {name} | {s['rate']:g} | {s['sent']} | {s['ok']} | {s['refused']} "
                f"| {s['failed']} | {s['p50_ms']} ms | {s['p95_ms']} ms "
                f"| {slowest[1]} ms ({slowest[0]}) | {'yes' if s['passed'] else 'no'} |"
            )
    before, now = results.get("before"), results.get("now")
    lines.append("")
    for name, r in results.items():
        lines.append(f"- {name} ({r['describe']}): capacity **{r['capacity']:g} req/s**.")
    if before and now and before["capacity"]:
        lines.append(f"- Ratio now / before: **{now['capacity'] / before['capacity']:.2f}x**.")
    return "\n".join(lines)


async def run(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-capacity-"))
    bench = supervisor.Bench(workdir, f"bench_capacity_{os.getpid()}", pin=False)
    info = supervisor.machine("django", "uvicorn")
    results = {}
    try:
        bench.start()
        supervisor.log("seeding: seed_demo and 4 open incidents")
        seed = load.role(bench, "_seed", "4", "0")
        bench.spawn("worker", [sys.executable, *load.PROCFILE_WORKER])
        bench.spawn("beat", [sys.executable, *load.PROCFILE_BEAT, str(workdir / "celerybeat")])
        mix = load.page_mix(seed)
        for name in args.configs:
            results[name] = await measure(bench, name, CONFIGS[name], mix, args)
    finally:
        await bench.close()
    info["loadavg_at_end"] = os.getloadavg()
    summary = markdown(info, results)
    print("\n" + summary, flush=True)
    return {"machine": info, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rates", type=float, nargs="*", default=[20, 40, 60, 80, 100, 120, 140, 160, 200]
    )
    parser.add_argument("--step", type=float, default=15.0, help="seconds per rate")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    supervisor.run_main(parser, run)


if __name__ == "__main__":
    main()
