"""How the web process answers HTTP: Django's sync handler on a fixed pool of threads.

The websockets stay on the ASGI server (``asgi.py``); every ordinary request is handed to
Django's WSGI handler on one of ``WEB_THREADS`` threads that live as long as the process
(a2wsgi's ``WSGIMiddleware``). Threads that live on keep their PostgreSQL connection
(``CONN_MAX_AGE``), where Django's ASGI handler runs each request on a new thread, so a
connection can only be opened and closed per request, and the request crosses between the
event loop and threads nine times instead of once. The pool bounds the connections a process
holds: ``WEB_THREADS`` for the pages, one for the websockets' sign-in lookups.

Static files are answered before that, on the event loop, by ServeStatic with the settings
its Django middleware reads (``StaticFiles``): that middleware is async-only, and in Django's
sync handler it would cost every request an event loop of its own.

A process takes at most ``WEB_THREADS + WEB_QUEUE`` page reads at once. Past that it answers 503
with ``Retry-After`` at once, without touching the database, so overload means a short wait
for some people rather than errors for everyone and PostgreSQL running out of connections.
Changes (a POST: an approval, a publication, a declaration) are let in up to ``WEB_QUEUE``
more: when a whole district is refreshing its dashboards, the people acting on the incident
still get through. The health probes are always answered.
"""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.template.loader import render_to_string
from servestatic.asgi import FileServerASGI
from servestatic.middleware import ServeStaticMiddleware
from servestatic.utils import decode_path_info, run_async_in_thread

RETRY_AFTER_SECONDS = 5
READS = frozenset({"GET", "HEAD", "OPTIONS"})


class PooledHttp:
    """An ASGI application for HTTP that runs Django's WSGI handler on a fixed pool of
    threads and refuses what would only queue too long."""

    def __init__(self, threads: int, queue: int, wsgi=None) -> None:
        self.limit = threads + queue
        self.change_limit = threads + 2 * queue
        self.in_flight = 0
        self.busy_page = render_to_string("busy.html").encode()
        self.app = WSGIMiddleware(wsgi or get_wsgi_application(), workers=threads)

    async def __call__(self, scope, receive, send) -> None:
        http = scope["type"] == "http"
        probe = http and scope["path"].startswith("/health/")
        limit = self.limit if scope.get("method") in READS else self.change_limit
        if http and self.in_flight >= limit and not probe:
            await busy(send, self.busy_page)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


async def busy(send, page: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"cache-control", b"no-store"),
                (b"content-length", str(len(page)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": page})


class StaticFiles:
    """Static files from ServeStatic, configured exactly as its middleware configures itself
    from the settings; anything else goes on to ``app``."""

    def __init__(self, app) -> None:
        async def unused(request):  # pragma: no cover - the middleware is never called
            raise AssertionError(request)

        self.files = ServeStaticMiddleware(unused)
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            path = decode_path_info(scope["path"])
            if self.files.autorefresh:
                found = await run_async_in_thread(self.files.find_file, path)
            else:
                found = self.files.files.get(path)
            if found is not None:
                await FileServerASGI(found)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def http_application():
    """The HTTP side of the web process, as ``HTTP_SERVING`` says: ``threads`` (the default)
    or ``asgi``, Django's own ASGI handler, kept to measure against."""
    if settings.HTTP_SERVING == "asgi":
        from django.core.asgi import get_asgi_application

        return get_asgi_application()
    return StaticFiles(PooledHttp(settings.WEB_THREADS, settings.WEB_QUEUE))
