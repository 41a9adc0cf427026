"""Every page, as each person sees it.

The demo console runs as a newcomer starts it (its own database, `seed_demo`, `run_console`
with the worker and beat inside), and chromium signs in as every demo role, a principal of
one school and a person of the other district. For each person, the pages are discovered from
the links on their pages and from the URL configuration (every route, its ids filled in from
those links), not from a hand list. Each page is looked at the way a person would:

- no template syntax in the visible text;
- every time shown in the district's zone, also after a live push;
- no sideways scrolling at 320 px;
- axe WCAG 2.1 A/AA clean in the light and dark schemes, at 1280 and 320 px;
- no console errors, script errors or Content-Security-Policy violations.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import NoReverseMatch, Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls import reverse as django_reverse
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.axe import axe_violations, format_violations
from tests.browser.conftest import ROOT, start_console, stop_console, watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.embedded_path]

DEMO_PASSWORD = "console-demo"
# Every demo role of Riverbend, a principal of one school (rb-principal2), and a person of the
# other district. Each is (user name, the zone abbreviations their district shows).
CENTRAL, EASTERN = ("CST", "CDT"), ("EST", "EDT")
PEOPLE = [
    ("rb-cio", CENTRAL),
    ("rb-comms", CENTRAL),
    ("rb-academics", CENTRAL),
    ("rb-legal", CENTRAL),
    ("rb-tech", CENTRAL),
    ("rb-board", CENTRAL),
    ("rb-principal", CENTRAL),
    ("rb-principal2", CENTRAL),
    ("rb-translator", CENTRAL),
    ("rb-facilitator", CENTRAL),
    ("ls-comms", EASTERN),
    ("ls-cio", EASTERN),
]
# The person whose decision makes a change, and so a live push, in each district.
# A translator's pages are not live: what they translate changes only when they save it, and
# what is sent to them arrives in their inbox.
NOT_LIVE = {"rb-translator"}
ACTORS = {"rb": "rb-cio", "ls": "ls-cio"}

# What a crawl does not open: signing out or in, the admin, files that are not pages.
NOT_PAGES = re.compile(r"^/(?:accounts|admin|static|health)/|^/favicon|\.(?:csv|json|txt)$")
TEMPLATE_SYNTAX = ("{#", "#}", "{%", "%}", "{{", "}}")
CLOCK = re.compile(r"\b\d{1,2}:\d\d\s?[AP]M\s+([A-Z]{2,5})\b")
PHONE = {"width": 320, "height": 640}
WIDE = {"width": 1280, "height": 900}


@dataclass
class Visit:
    path: str
    name: str
    status: int
    pushed: bool = False


@dataclass
class Sweep:
    person: str
    visits: list[Visit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# --- The demo console ---------------------------------------------------------------------


def _database_for_the_demo() -> Iterator[dict[str, str]]:
    """A database of its own: a new PostgreSQL database when the suite runs on PostgreSQL
    (dropped afterwards), else SQLite in a temporary folder."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield {}
        return
    import psycopg2

    parts = urlsplit(url)
    name = f"incident_console_pages_{os.getpid()}"
    admin = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password or "",
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": parts._replace(path=f"/{name}").geturl()}
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def demo_console(tmp_path_factory) -> Iterator[str]:
    """The console with its demo data, as `make run` serves it, on a free port."""
    databases = _database_for_the_demo()
    database = next(databases)
    env = {
        **os.environ,
        **database,
        "DEBUG": "true",
        "VAR_DIR": str(tmp_path_factory.mktemp("var")),
    }
    # Embedded: the worker and beat run inside the web process, as on a laptop.
    for name in (
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "REDIS_URL",
        *(() if database else ("DATABASE_URL",)),
    ):
        env.pop(name, None)
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([*manage, *step], cwd=ROOT, env=env, check=True, capture_output=True)
    log = Path(env["VAR_DIR"]) / "console.log"
    with log.open("wb") as output:
        server, base = start_console(env, output)
    try:
        yield base
    finally:
        stop_console(server)
        next(databases, None)


def _current_codes() -> list[str]:
    from signin.demo import current_code

    now = time.time()
    return [current_code(at=now), current_code(at=now + 30), current_code(at=now - 30)]


def signed_in(browser: Browser, base: str, username: str, problems: list[str]) -> Page:
    """A new browser context signed in as a demo person, watching for every fault."""
    context = browser.new_context(base_url=base, viewport=WIDE)
    watch(context, problems)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    for code in _current_codes():
        page.get_by_label("Code from your authenticator app").fill(code)
        page.get_by_role("button", name="Verify and sign in").click()
        page.wait_for_load_state()
        if "/accounts/" not in page.url:
            return page
    raise AssertionError(f"{username} could not sign in: {page.url}")


def watch(context: BrowserContext, problems: list[str]) -> None:
    watch_csp(context, problems)

    def on_console(message) -> None:
        # A 403 or 404 page the crawl opened on purpose is logged as a failed load; it is
        # looked at like any other page, not counted as a fault.
        if message.type == "error" and "status of 40" not in message.text:
            problems.append(f"console error on {message.location.get('url')}: {message.text}")

    context.on("console", on_console)
    context.on("weberror", lambda error: problems.append(f"script error: {error.error}"))


# --- Discovery ----------------------------------------------------------------------------


def url_patterns() -> list[tuple[str, URLPattern]]:
    """Every named route of the console, with its namespaced name."""
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.app_name == "admin" or entry.namespace == "admin":
                    continue
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                found.append((f"{namespace}{entry.name}", entry))

    walk(get_resolver().url_patterns, "")
    return found


def paths_from_configuration(known: set[str]) -> set[str]:
    """Each route of the URL configuration, its ids filled from paths already seen."""
    values: dict[str, set[str]] = {}
    for path in known:
        try:
            match = resolve(path)
        except Resolver404:
            continue
        for key, value in match.kwargs.items():
            values.setdefault(key, set()).add(str(value))
    paths = set()
    for name, pattern in url_patterns():
        keys = list(pattern.pattern.converters)
        if any(key not in values for key in keys):
            continue
        combos: list[dict[str, str]] = [{}]
        for key in keys:
            combos = [{**c, key: v} for c in combos for v in sorted(values[key])]
        for kwargs in combos:
            try:
                paths.add(django_reverse(name, kwargs=kwargs))
            except NoReverseMatch:
                continue
    return {p for p in paths if not NOT_PAGES.search(p)}


def links_on(page: Page) -> set[str]:
    hrefs = page.eval_on_selector_all(
        "a[href]:not([download])", "els => els.map(e => e.getAttribute('href'))"
    )
    paths = set()
    for href in hrefs:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        if not NOT_PAGES.search(parts.path):
            paths.add(parts.path)
    return paths


def route_name(path: str) -> str:
    try:
        return resolve(path).view_name
    except Resolver404:
        return "unknown"


# --- Looking at one page ------------------------------------------------------------------


def look(page: Page, where: str, zones: tuple[str, ...], problems: list[str], *, axe: bool):
    """The checks a person would make of the page as it stands."""
    title = page.title()
    if not title or len(title) > 120 or "<" in title or any(t in title for t in TEMPLATE_SYNTAX):
        problems.append(f"{where}: the window title is not a title: {title[:120]!r}")
    text = page.inner_text("body")
    for syntax in TEMPLATE_SYNTAX:
        if syntax in text:
            line = next(line for line in text.splitlines() if syntax in line)
            problems.append(f"{where}: template syntax {syntax!r} shown: {line.strip()[:120]}")
    if "UTC" in text:
        line = next(line for line in text.splitlines() if "UTC" in line)
        problems.append(f"{where}: a time in UTC, not the district's zone: {line.strip()[:120]}")
    for zone in set(CLOCK.findall(text)) - set(zones):
        problems.append(f"{where}: a time in {zone}, not the district's zone ({'/'.join(zones)})")
    if not axe:
        return
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for viewport in (WIDE, PHONE):
            page.set_viewport_size(viewport)
            label = f"{where} ({scheme}, {viewport['width']} px)"
            if viewport is PHONE:
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    problems.append(f"{label}: scrolls sideways, {width} px wide")
            violations = axe_violations(page)
            if violations:
                problems.append(f"{label}: axe\n{format_violations(violations)}")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(WIDE)


def highest_sequence(page: Page) -> int:
    return page.evaluate(
        "Math.max(0, ...[...document.querySelectorAll('[data-seq]')].map(e => +e.dataset.seq))"
    )


class Actor:
    """The district's CIO, recording a decision so that every open page gets a push."""

    def __init__(self, page: Page) -> None:
        self.page = page
        page.goto("/incidents/")
        ids = {
            int(m.group(1)) for p in links_on(page) if (m := re.fullmatch(r"/incidents/(\d+)/", p))
        }
        assert ids, "the demo district has no incident to change"
        self.incident = max(ids)
        self.count = 0

    def change(self) -> None:
        self.count += 1
        token = next(c["value"] for c in self.page.context.cookies() if c["name"] == "csrftoken")
        response = self.page.context.request.post(
            f"/incidents/{self.incident}/decisions/",
            form={
                "text": f"Decision {self.count} of the page sweep",
                "decided_by": "Superintendent",
                "rationale": "To see every page updated live.",
                "visibility": "governance",
            },
            headers={"X-CSRFToken": token, "Referer": self.page.url},
            max_redirects=0,
        )
        assert response.status in (200, 302), f"the decision was refused: {response.status}"


def sweep_person(page: Page, person: str, zones, actor: Actor, problems: list[str]) -> Sweep:
    """Open every page the person can reach, and look at each."""
    sweep = Sweep(person, problems=problems)
    queue = ["/"]
    guessed: set[str] = set()
    seen: set[str] = set()
    looked_at: set[str] = set()
    configured = False
    while queue or not configured:
        if not queue:
            # Links are exhausted: add every route of the URL configuration, ids filled in.
            configured = True
            queue = sorted(paths_from_configuration(seen) - seen)
            guessed = set(queue)
            continue
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        # A route of the configuration may answer GET with an empty 405 (an action): ask first.
        probe = page.context.request.get(path, max_redirects=0)
        if probe.status == 405 or (
            probe.status < 300 and "text/html" not in probe.headers.get("content-type", "")
        ):
            continue
        response = page.goto(path)
        assert response is not None
        final = urlsplit(page.url).path
        seen.add(final)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        if response.status == 404 and path in guessed:
            # An id filled in from elsewhere that this route does not show (an incident the
            # public was not told about): the demo's debug page, not a page of the console.
            continue
        name = route_name(final)
        where = f"{person} {final}"
        visit = Visit(final, name, response.status)
        sweep.visits.append(visit)
        # Full checks once per route and answer; further ids of a route get the quick ones.
        full = (name, response.status) not in looked_at
        looked_at.add((name, response.status))
        look(page, where, zones, problems, axe=full)
        if full and page.locator("[data-ws-path]").count():
            before = highest_sequence(page)
            actor.change()
            try:
                page.wait_for_function(
                    "(before) => Math.max(0, ...[...document.querySelectorAll('[data-seq]')]"
                    ".map(e => +e.dataset.seq)) > before",
                    arg=before,
                    timeout=15_000,
                )
                visit.pushed = True
            except Exception:
                problems.append(f"{where}: no live update arrived after a change")
            look(page, f"{where} after a live update", zones, problems, axe=False)
        queue.extend(sorted(links_on(page) - seen))
    return sweep


@pytest.fixture(scope="module")
def sweeps(browser: Browser, demo_console: str) -> dict[str, Sweep]:
    """Every person's pages, swept once for the module's tests."""
    problems_of: dict[str, list[str]] = {username: [] for username, _ in PEOPLE}
    actors = {
        prefix: Actor(signed_in(browser, demo_console, username, problems_of[username]))
        for prefix, username in ACTORS.items()
    }
    results = {}
    for username, zones in PEOPLE:
        actor = actors[username[:2]]
        own = username == ACTORS[username[:2]]
        page = (
            actor.page if own else signed_in(browser, demo_console, username, problems_of[username])
        )
        results[username] = sweep_person(page, username, zones, actor, problems_of[username])
        if not own:
            page.context.close()
    for actor in actors.values():
        actor.page.context.close()
    return results


@pytest.mark.parametrize("person", [p for p, _ in PEOPLE])
def test_every_page_looks_right_to(sweeps: dict[str, Sweep], person: str) -> None:
    sweep = sweeps[person]
    opened = "\n".join(f"  {v.status} {v.path} ({v.name})" for v in sweep.visits)

    assert sweep.visits, f"{person} opened no page"
    if person not in NOT_LIVE:
        assert any(v.pushed for v in sweep.visits), (
            f"no live page of {person} got a push:\n{opened}"
        )
    assert not sweep.problems, (
        f"{len(sweep.problems)} problem(s) on the pages of {person}:\n"
        + "\n".join(sweep.problems)
        + f"\n\nPages opened:\n{opened}"
    )


def test_the_sweep_reaches_every_page_of_the_console(sweeps: dict[str, Sweep]) -> None:
    """Every route that answers a page to someone was looked at; a new page cannot hide."""
    reached = {v.name for s in sweeps.values() for v in s.visits if v.status == 200}
    pages = {
        "incidents:list",
        "incidents:new",
        "incidents:settings",
        "incidents:academics",
        "incidents:guidance",
        "incidents:briefing",
        "incidents:detail",
        "incidents:review",
        "comms:dashboard",
        "comms:legal",
        "comms:inbox",
        "comms:facts",
        "comms:draft",
        "comms:templates",
        "status-page",
        "status-subscribe",
        "comms:translations",
    }
    assert pages <= reached, f"never opened: {sorted(pages - reached)}"
