"""How the ASGI server runs, in one place: uvicorn, chosen by the live-push benchmark
(docs/benchmarks.md, "Which server").

- permessage-deflate off: with it, a push to many sockets is slower and every idle socket
  holds a compression context (80 KiB instead of 42 KiB).
- a 5-second graceful shutdown: open sockets are closed with code 1012, the pages reconnect
  to the next process, and a stop never waits on a consumer's blocking layer read.
- no lifespan protocol: Django does not speak it.
- no proxy headers: uvicorn would otherwise take the client's address from X-Forwarded-For
  on any connection from 127.0.0.1, where anyone on the machine can forge it. The console's
  own TRUSTED_PROXY_COUNT alone decides whether forwarded addresses are believed.

Every way of serving runs ``python -m incident_console.server --host H --port P`` (the
Procfile, the Dockerfile, docker-compose.yml, the integration tests), so the options live
here only. It starts ``WEB_CONCURRENCY`` processes, one per core unless set: each answers pages
on its own pool of threads (``serving.py``) and holds its own websockets, and a push reaches
the sockets of every process through Redis.
"""

from __future__ import annotations

import argparse
import os

APP = "incident_console.asgi:application"

CONFIG = {
    "ws_per_message_deflate": False,
    "timeout_graceful_shutdown": 5,
    "lifespan": "off",
    "proxy_headers": False,
}


def command(host: str, port: int) -> list[str]:
    """The web process's command line."""
    return ["python", "-m", "incident_console.server", "--host", host, "--port", str(port)]


def workers() -> int:
    """Web processes: ``WEB_CONCURRENCY``, or one per core."""
    return int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the console: pages and websockets.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    uvicorn.run(APP, host=args.host, port=args.port, workers=workers(), **CONFIG)


if __name__ == "__main__":
    main()
