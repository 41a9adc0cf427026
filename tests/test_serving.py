"""The web process's HTTP side: pages on a fixed pool of threads that keep their database
connections, static files before Django, and 503 with Retry-After past the queue."""

from __future__ import annotations

import asyncio
import threading

import pytest

from incident_console import serving


def request(path: str, method: str = "GET") -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def call(app, path: str, method: str = "GET") -> tuple[int, dict, bytes]:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(request(path, method), receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


class HeldPages:
    """A WSGI app whose pages wait until released, recording the thread of each."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.threads: list[int] = []

    def __call__(self, environ, start_response):
        self.threads.append(threading.get_ident())
        self.started.release()
        if environ["PATH_INFO"] != "/health/live":
            self.release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"page"]


async def fill(app, pages: HeldPages, path: str) -> list[asyncio.Task]:
    """Two held requests in a process of one thread and a queue of one: one runs, one waits
    for the thread, and the readers' limit is reached."""
    held = [asyncio.create_task(call(app, path)) for _ in range(2)]
    await asyncio.to_thread(pages.started.acquire)
    await asyncio.sleep(0)
    return held


@pytest.mark.django_db
def test_past_its_threads_and_queue_a_process_answers_503_with_retry_after():
    pages = HeldPages()
    app = serving.PooledHttp(threads=1, queue=1, wsgi=pages)

    async def scenario():
        held = await fill(app, pages, "/incidents/")
        refused = await call(app, "/comms/")
        probe = await call(app, "/health/live")  # answered whatever the load
        pages.release.set()
        return refused, probe, await asyncio.gather(*held)

    refused, probe, held = asyncio.run(scenario())

    status, headers, body = refused
    assert status == 503
    assert headers[b"retry-after"] == b"5"
    assert b"Nothing you had already saved was lost or changed" in body
    assert probe[0] == 200
    assert [h[0] for h in held] == [200, 200]


@pytest.mark.django_db
def test_past_the_readers_limit_a_change_is_still_let_in():
    pages = HeldPages()
    app = serving.PooledHttp(threads=1, queue=1, wsgi=pages)

    async def scenario():
        held = await fill(app, pages, "/comms/")
        read = await call(app, "/comms/")
        change = asyncio.create_task(call(app, "/comms/drafts/1/approve/", "POST"))
        await asyncio.sleep(0)
        past_reserve = await call(app, "/comms/drafts/2/approve/", "POST")
        pages.release.set()
        return read, await change, past_reserve, await asyncio.gather(*held)

    read, change, past_reserve, held = asyncio.run(scenario())

    assert read[0] == 503
    assert change[0] == 200
    assert past_reserve[0] == 503
    assert [h[0] for h in held] == [200, 200]


@pytest.mark.django_db
def test_pages_run_on_the_same_few_threads_so_their_connections_are_kept():
    pages = HeldPages()
    pages.release.set()
    app = serving.PooledHttp(threads=2, queue=8, wsgi=pages)

    async def scenario():
        for _ in range(10):
            await call(app, "/incidents/")

    asyncio.run(scenario())

    assert len(pages.threads) == 10
    assert len(set(pages.threads)) <= 2


@pytest.mark.django_db
def test_static_files_are_answered_before_django():
    def no_pages(environ, start_response):  # pragma: no cover - must not be reached
        raise AssertionError(environ["PATH_INFO"])

    app = serving.StaticFiles(serving.PooledHttp(threads=1, queue=0, wsgi=no_pages))

    status, headers, body = asyncio.run(call(app, "/static/css/console.css"))

    assert status == 200
    assert headers[b"content-type"].startswith(b"text/css")
    assert b"{" in body


@pytest.mark.django_db
def test_the_pages_run_without_the_async_only_static_middleware(settings):
    assert "servestatic.middleware.ServeStaticMiddleware" not in settings.MIDDLEWARE
    assert settings.HTTP_SERVING == "threads"


# --- Public pages from the event loop --------------------------------------------------------


class PublicApp:
    """An ASGI app that counts its calls and answers as the status page does."""

    def __init__(self, *, cache_control=b"public, max-age=30", cookie=False, status=200):
        self.calls, self.cache_control, self.cookie, self.status = 0, cache_control, cookie, status
        self.gate: asyncio.Event | None = None

    async def __call__(self, scope, receive, send):
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        headers = [(b"etag", b'"v1"'), (b"cache-control", self.cache_control)]
        if self.cookie:
            headers.append((b"set-cookie", b"sessionid=x"))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": f"page {self.calls}".encode()})


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def get(app, path="/status/riverbend/", method="GET", headers=()):
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = request(path, method)
    scope["headers"] = scope["headers"] + list(headers)
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_a_public_page_is_replayed_for_a_second_then_rendered_again():
    clock, inner = Clock(), PublicApp()
    app = serving.PublicPages(inner, fresh=1.0, clock=clock)

    async def scenario():
        first = await get(app)
        clock.now += 0.5
        kept = await get(app)
        clock.now += 0.6
        fresh = await get(app)
        return first, kept, fresh

    first, kept, fresh = asyncio.run(scenario())

    assert (first, kept, fresh) == ((200, b"page 1"), (200, b"page 1"), (200, b"page 2"))
    assert inner.calls == 2


def test_a_kept_page_answers_a_conditional_get_with_304():
    app = serving.PublicPages(PublicApp(), clock=Clock())

    async def scenario():
        await get(app)
        return await get(app, headers=[(b"if-none-match", b'"v1"')])

    assert asyncio.run(scenario()) == (304, b"")


@pytest.mark.parametrize(
    ("inner", "path", "method"),
    [
        (PublicApp(cache_control=b"private, no-store"), "/status/riverbend/", "GET"),
        (PublicApp(cookie=True), "/status/riverbend/", "GET"),
        (PublicApp(status=404), "/status/nowhere/", "GET"),
        (PublicApp(), "/comms/", "GET"),
        (PublicApp(), "/status/riverbend/", "POST"),
    ],
    ids=["private", "sets a cookie", "not found", "not public", "a change"],
)
def test_only_public_answers_of_public_pages_are_kept(inner, path, method):
    app = serving.PublicPages(inner, clock=Clock())

    async def scenario():
        await get(app, path, method)
        await get(app, path, method)

    asyncio.run(scenario())

    assert inner.calls == 2


def test_while_one_request_renders_the_rest_get_the_previous_answer():
    clock, inner = Clock(), PublicApp()
    app = serving.PublicPages(inner, fresh=1.0, clock=clock)

    async def scenario():
        await get(app)
        clock.now += 5
        inner.gate = asyncio.Event()
        rendering = asyncio.create_task(get(app))
        await asyncio.sleep(0)
        meanwhile = [await get(app) for _ in range(3)]
        inner.gate.set()
        return meanwhile, await rendering

    meanwhile, rendered = asyncio.run(scenario())

    assert meanwhile == [(200, b"page 1")] * 3
    assert rendered == (200, b"page 2") and inner.calls == 2


def test_the_web_process_answers_public_pages_before_the_pool():
    app = serving.http_application()

    assert isinstance(app, serving.StaticFiles)
    assert isinstance(app.app, serving.PublicPages)
    assert isinstance(app.app.app, serving.PooledHttp)


def test_replays_past_the_pace_wait_their_turn_and_past_a_second_of_them_are_refused():
    inner = PublicApp()
    # 16 a second: turns every 0.0625 s, exact in binary; the clock stands still.
    app = serving.PublicPages(inner, clock=Clock(), rate=16, busy_page=b"busy")

    async def scenario():
        await get(app)  # rendered once, and kept
        return await asyncio.gather(*(get(app) for _ in range(100)))

    answers = asyncio.run(scenario())

    # The rendering is not paced; its replays take turns 0, 1/16 ... 16/16 s away, and
    # the rest would wait more than a second: they are told to come back.
    assert sum(status == 200 for status, _ in answers) == 17
    assert sum(status == 503 for status, _ in answers) == 83
    assert inner.calls == 1


def test_the_web_process_paces_public_pages_as_configured(settings):
    settings.PUBLIC_PAGES_PER_SECOND = 50

    app = serving.http_application()

    assert app.app.pace.interval == 1 / 50
