"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

The live server speaks WSGI only, so the incident page's websocket never connects; every page
must still work without it, which is what these tests check.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TypeVar
from urllib.error import URLError
from urllib.request import urlopen

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection, connections
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from incidents import services
from incidents.models import Incident, User
from signin import services as signin_services
from signin.demo import DEMO_TOTP_SECRET, current_code
from tests.conftest import DistrictSetup, make_district
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Reports every Content-Security-Policy violation to the test. Playwright injects init scripts
# outside the page's policy, so the listener itself is never refused.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolation(
    event.effectiveDirective + " blocked " + (event.blockedURI || "inline") + " at " +
    event.documentURI + (event.sample ? " (" + event.sample + ")" : "")
  );
});
"""

# Sub-resources every page needs; a 4xx/5xx or a failed load for one of these fails the test.
ASSET_TYPES = frozenset({"stylesheet", "script", "image", "font"})

T = TypeVar("T")


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver for the browser tests, stopped when the last of them finishes.

    Package scope rather than session scope on purpose: while the sync driver runs, an asyncio
    loop is "running" in the main thread. Left running for the rest of the session it would
    break every later test that uses async_to_sync or an event loop (the consumer tests), and
    Django would refuse their database access as async-unsafe.
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Debian's chromium at {CHROMIUM}; it is missing. "
            "Install it with `make browser` (apt-get install chromium). "
            "Do not run `playwright install`: the tests use the system browser.",
            pytrace=False,
        )
    # Django refuses ORM calls from a thread with a running event loop; the sync driver keeps
    # one running in the main thread, where fixtures create and flush rows. Safe because no
    # coroutine of ours touches the database: the loop only carries Playwright's messages.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


def watch_csp(context: BrowserContext, problems: list[str]) -> None:
    """Record every Content-Security-Policy violation on every page of ``context``: the
    browser's securitypolicyviolation events, and its console errors about the policy (some
    refusals, such as a blocked websocket, are reported only there)."""
    context.expose_function("__cspViolation", lambda text: problems.append(f"CSP: {text}"))
    context.add_init_script(CSP_LISTENER)

    def on_console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP console error on {message.location.get('url')}: {message.text}")

    context.on("console", on_console)


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh context (no cookies) per test, with broken assets, script errors and
    Content-Security-Policy violations recorded: any of them fails the test."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    watch_csp(context, problems)
    tab = context.new_page()

    def on_response(response) -> None:
        if response.request.resource_type in ASSET_TYPES and response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    def on_request_failed(request) -> None:
        # ERR_ABORTED is the browser dropping a load because the page navigated away.
        if request.resource_type in ASSET_TYPES and "ERR_ABORTED" not in (request.failure or ""):
            problems.append(f"failed {request.url}: {request.failure}")

    tab.on("response", on_response)
    tab.on("requestfailed", on_request_failed)
    tab.on("pageerror", lambda error: problems.append(f"script error on {tab.url}: {error}"))
    yield tab
    context.close()
    assert not problems, "Page assets, scripts or the security policy failed:\n" + "\n".join(
        problems
    )


@pytest.fixture
def district(transactional_db) -> DistrictSetup:
    """Riverbend, in America/Chicago, with one person in every role (see tests/conftest.py)."""
    return make_district("riverbend", "America/Chicago")


def give_authenticator(user: User) -> None:
    """Password sign-in needs an authenticator: give ``user`` the demo secret's, once."""
    signin_services.totp_ensure(user=user, secret=DEMO_TOTP_SECRET)


def sign_in_with_password_and_code(
    page: Page, user: User, used: dict[int, set[str]] | None = None
) -> None:
    """Sign in on the sign-in page with the password and the authenticator's current code,
    and wait until the console has redirected to the person's page.

    Each code signs a person in once: ``used`` remembers the codes spent in this test, so a
    second sign-in of the same person within one period takes a neighbouring period's code,
    which the console's tolerance of one period accepts.
    """
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    spent = (used if used is not None else {}).setdefault(user.pk, set())
    signed_in = page.get_by_role("button", name="Sign out", exact=True)
    # The code field's own error (the error summary above the form repeats it as a link).
    refused = page.locator("#id_code_error", has_text="That code did not match")
    for _ in range(2):
        # On a slow machine the period can turn between reading the code and the console
        # checking it: then the next period's code is entered, once.
        now = time.time()
        code = next(
            c
            for c in (current_code(at=now), current_code(at=now + 30), current_code(at=now - 30))
            if c not in spent
        )
        spent.add(code)
        page.get_by_label("Code from your authenticator app").fill(code)
        page.get_by_role("button", name="Verify and sign in").click()
        expect(signed_in.or_(refused)).to_be_visible()
        if signed_in.is_visible():
            break
    expect(signed_in).to_be_visible()


@pytest.fixture
def sign_in(page: Page) -> Callable[[User], None]:
    """Sign in through the sign-in page (password, then authenticator code)."""

    used: dict[int, set[str]] = {}

    def _sign_in(user: User) -> None:
        # A fresh session each time, so one test can act as several people in turn.
        page.context.clear_cookies()
        _outside_the_event_loop(give_authenticator, user=user)
        sign_in_with_password_and_code(page, user, used)

    return _sign_in


def _outside_the_event_loop(service: Callable[..., T], /, **kwargs) -> T:
    """Call a service from a worker thread, where no event loop runs.

    Services push changes with async_to_sync after commit, which refuses to run in the main
    thread while Playwright's loop is running there (the push would fail and be logged).
    """

    def call() -> T:
        try:
            return service(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


@pytest.fixture
def open_incident(district: DistrictSetup) -> Incident:
    """A real incident declared just now by the CIO, affecting every school."""
    return _outside_the_event_loop(
        services.incident_open,
        by=district.cio,
        title="SIS unavailable at all schools",
        kind=Incident.Kind.SIS,
        severity=Incident.Severity.HIGH,
        systems=district.systems[:1],
        all_schools=True,
        impacts=[Incident.Impact.INSTRUCTION],
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_console(
    env: dict[str, str], output: IO[bytes] | int, *, host: str = "127.0.0.1"
) -> tuple[subprocess.Popen, str]:
    """`run_console` (uvicorn with the worker and beat inside) on a free port, once it answers
    its liveness probe; fails the test with what the server wrote if it never does."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_console", "--host", host, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urlopen(f"{base}/health/live", timeout=1):
                return process, base
        except (URLError, ConnectionError):
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    written = process.stdout.read().decode() if process.stdout else "(see its log file)"
    pytest.fail(f"the console did not start:\n{written}")


def stop_console(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)


def shared_database_url() -> str:
    """The test database's URL, for a server process to share it; skips on SQLite, whose test
    database lives in this process's memory."""
    if connection.vendor != "postgresql":
        pytest.skip("the real-server test shares the test database: run with DATABASE_URL set")
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
        f"{settings['PORT']}/{settings['NAME']}"
    )


@pytest.fixture
def asgi_server(district):
    """The console on the test database, for as long as the test runs: uvicorn with a Celery
    worker and beat in the same process (``run_console``), so pushes are rendered by a real
    worker as in production."""
    url = shared_database_url()
    # The server hashes with the console's real settings, not the tests' fast hasher.
    hasher = PBKDF2PasswordHasher()
    for person in (
        district.cio,
        district.comms,
        district.legal,
        district.academics,
        district.board,
    ):
        type(person).objects.filter(pk=person.pk).update(
            password=hasher.encode(PASSWORD, hasher.salt())
        )
        give_authenticator(person)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    # Without REDIS_URL the console runs embedded: its worker takes tasks from the web
    # process's in-memory broker.
    for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL"):
        env.pop(name, None)
    process, base = start_console(env, subprocess.PIPE)
    yield base
    stop_console(process)


def signed_in_page(browser: Browser, base: str, user) -> Page:
    context = browser.new_context(base_url=base)
    tab = context.new_page()
    sign_in_with_password_and_code(tab, user)
    return tab
