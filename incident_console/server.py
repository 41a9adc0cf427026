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

The Procfile, the Dockerfile and docker-compose.yml spell the same options out as command
lines; a test keeps them in step with ``CLI_OPTIONS``.
"""

from __future__ import annotations

APP = "incident_console.asgi:application"

CLI_OPTIONS = (
    "--ws-per-message-deflate",
    "false",
    "--timeout-graceful-shutdown",
    "5",
    "--lifespan",
    "off",
)

CLI_FLAGS = ("--no-proxy-headers",)

CONFIG = {
    "ws_per_message_deflate": False,
    "timeout_graceful_shutdown": 5,
    "lifespan": "off",
    "proxy_headers": False,
}


def command(host: str, port: int) -> list[str]:
    """The web process's command line."""
    return ["uvicorn", "--host", host, "--port", str(port), *CLI_OPTIONS, *CLI_FLAGS, APP]
