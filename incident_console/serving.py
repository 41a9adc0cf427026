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

The public pages are answered before that, on the event loop, from their last answer for a
second at a time (``PublicPages``): a crowd of families reaches one thread per page per second.
Those answers are paced to ``PUBLIC_PAGES_PER_SECOND`` per process, so that however large the
crowd, it leaves the processor to the response team's pages: past the pace a family's request
waits its turn (at most a second's worth wait), past that it is answered 503 with
``Retry-After``, which a proxy or CDN in front answers from its copy.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

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


async def busy(send, page: bytes, retry_after: int = RETRY_AFTER_SECONDS) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"retry-after", str(retry_after).encode()),
                (b"cache-control", b"no-store"),
                (b"content-length", str(len(page)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": page})


class Pace:
    """Turns at ``rate`` a second, each request given the next free one (the virtual
    scheduling of the generic cell rate algorithm): one timer per waiting request and none
    while requests come slower than the pace. A turn more than ``patience`` seconds away is
    refused. Measured against aiolimiter's leaky bucket, whose waiters each wake every
    1/``rate`` seconds to look for room: at 2,000 a second that cost the web process 0.34 ms
    of processor per request, four times the replay itself."""

    def __init__(self, rate: float, clock=time.monotonic, patience: float = 1.0) -> None:
        self.interval, self.clock, self.patience = 1.0 / rate, clock, patience
        self.next_free = 0.0

    async def turn(self) -> bool:
        now = self.clock()
        slot = max(now, self.next_free)
        if slot - now > self.patience:
            return False
        self.next_free = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)
        return True


class PublicPages:
    """The public pages (``/status/``: the families' status page, feeds and JSON) answered on
    the event loop, without a thread or the database, for a second after one was rendered.

    A rush of families must not take the threads the response team's pages run on. Those pages
    are the same bytes for everyone (the view marks them public, without cookies) and rendered
    once per change already; here the last answer for each address is kept for
    ``fresh`` seconds and replayed, a conditional GET answered 304 from it. Past that the
    next request goes through to Django (and the pool's admission) and refreshes it, while
    requests arriving meanwhile get the previous answer: one request per page per process
    reaches a thread each second, whatever the crowd. Only 200 answers that say
    ``Cache-Control: public`` and set no cookie are kept.

    With ``rate``, replays are paced to that many a second (``Pace``): a saturating crowd then
    takes a bounded share of the processor, and clients that ask again as soon as they are
    answered are slowed instead of served as fast as the machine can. A request that would
    wait more than a second is answered 503 at once with ``Retry-After: 1``."""

    PREFIX = "/status/"

    def __init__(
        self,
        app,
        *,
        fresh: float = 1.0,
        entries: int = 256,
        clock=time.monotonic,
        rate: float = 0,
        busy_page: bytes = b"",
    ):
        self.app, self.fresh, self.size, self.clock = app, fresh, entries, clock
        self.kept: OrderedDict[tuple, tuple[float, int, list, bytes]] = OrderedDict()
        self.refreshing: set[tuple] = set()
        self.pace = Pace(rate, clock) if rate > 0 else None
        self.busy_page = busy_page

    async def __call__(self, scope, receive, send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in ("GET", "HEAD")
            or not scope["path"].startswith(self.PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        # What a page's language may depend on (``Vary: Accept-Language, Cookie`` from the
        # view): the browser's languages, and the cookie of a remembered choice alone, not
        # the other cookies, which differ for every reader.
        key = (
            headers.get(b"host", b""),
            scope["path"],
            scope.get("query_string", b""),
            headers.get(b"accept-language", b""),
            _cookie(headers.get(b"cookie", b""), LANGUAGE_COOKIE),
        )
        entry = self.kept.get(key)
        if entry is not None and (self.clock() - entry[0] < self.fresh or key in self.refreshing):
            if self.pace is not None and not await self.pace.turn():
                await busy(send, self.busy_page, retry_after=1)
                return
            await self._replay(entry, scope, headers, send)
            return
        self.refreshing.add(key)
        try:
            await self.app(scope, receive, self._keeping(key, scope, send))
        finally:
            self.refreshing.discard(key)

    def _keeping(self, key: tuple, scope, send):
        start: dict = {}
        body: list[bytes] = []

        async def keep(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body") and scope["method"] == "GET":
                    self._store(key, start, b"".join(body))
            await send(message)

        return keep

    def _store(self, key: tuple, start: dict, body: bytes) -> None:
        found = {name.lower(): value for name, value in start.get("headers", [])}
        public = b"public" in found.get(b"cache-control", b"")
        if start.get("status") != 200 or not public or b"set-cookie" in found:
            return
        self.kept[key] = (self.clock(), 200, list(start["headers"]), body)
        self.kept.move_to_end(key)
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)

    async def _replay(self, entry, scope, request_headers: dict, send) -> None:
        _, status, headers, body = entry
        etag = dict((n.lower(), v) for n, v in headers).get(b"etag")
        asked = request_headers.get(b"if-none-match")
        if etag and asked and etag in [tag.strip() for tag in asked.split(b",")]:
            kept = [
                (n, v)
                for n, v in headers
                if n.lower() in (b"etag", b"cache-control", b"last-modified", b"vary")
            ]
            await send({"type": "http.response.start", "status": 304, "headers": kept})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )


# The status pages' remembered language (console.views.comms.LANGUAGE_COOKIE).
LANGUAGE_COOKIE = b"status_lang"


def _cookie(header: bytes, name: bytes) -> bytes:
    for part in header.split(b";"):
        key, _, value = part.strip().partition(b"=")
        if key == name:
            return value
    return b""


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
    pool = PooledHttp(settings.WEB_THREADS, settings.WEB_QUEUE)
    return StaticFiles(
        PublicPages(pool, rate=settings.PUBLIC_PAGES_PER_SECOND, busy_page=pool.busy_page)
    )
