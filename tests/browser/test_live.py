"""Live updates in chromium.

The sequence checks run against a scripted socket (Playwright stands in for the server), so
a lost or out-of-order push can be staged exactly. The two-person tests run the console
(`run_console`: uvicorn with a worker) over the test database, so one person's approval
reaches another person's open page through Channels.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

from comms import drafts
from incidents.timeline import timeline_append
from tests.browser.conftest import _outside_the_event_loop, signed_in_page, watch_csp
from tests.conftest import DistrictSetup

pytestmark = pytest.mark.browser


class ScriptedSocket:
    """Plays the server's side of the incident socket from the test."""

    def __init__(self, page: Page) -> None:
        self.route: WebSocketRoute | None = None
        page.route_web_socket("**/ws/incidents/**", self._accept)

    def _accept(self, route: WebSocketRoute) -> None:
        self.route = route

    def send(self, **message) -> None:
        assert self.route is not None, "the page never opened its socket"
        self.route.send(json.dumps(message))


def open_with_a_scripted_socket(page: Page, sign_in, user, incident) -> ScriptedSocket:
    """Sign in and open the incident page, its socket played by the test."""
    scripted = ScriptedSocket(page)
    sign_in(user)
    page.goto(f"/incidents/{incident.pk}/")
    expect(page.get_by_text("Live updates: on")).to_be_visible()
    return scripted


def add_row(incident, summary: str) -> int:
    entry = _outside_the_event_loop(
        timeline_append, incident=incident, kind="note", summary=summary
    )
    return entry.sequence


def test_a_contiguous_push_is_swapped_in(page: Page, sign_in, district, open_incident) -> None:
    scripted = open_with_a_scripted_socket(page, sign_in, district.cio, open_incident)
    sequence = open_incident.sequence
    fragment = (
        f'<section class="panel" id="panel-timeline" data-seq="{sequence + 1}">'
        "<h2>Timeline</h2><p>Pushed row</p></section>"
    )

    scripted.send(type="push", sequence=sequence + 1, html=fragment, **{"from": sequence})

    expect(page.locator("#panel-timeline")).to_contain_text("Pushed row")


def test_a_push_older_than_the_page_is_ignored(page: Page, sign_in, district, open_incident):
    """Two workers may send two pushes of one incident out of order."""
    scripted = open_with_a_scripted_socket(page, sign_in, district.cio, open_incident)
    s = open_incident.sequence

    def timeline(text: str, sequence: int) -> str:
        return (
            f'<section class="panel" id="panel-timeline" data-seq="{sequence}">'
            f"<h2>Timeline</h2><p>{text}</p></section>"
        )

    scripted.send(type="push", sequence=s + 2, html=timeline("Newer", s + 2), **{"from": s})
    expect(page.locator("#panel-timeline")).to_contain_text("Newer")
    scripted.send(type="push", sequence=s + 1, html=timeline("Older", s + 1), **{"from": s})
    # Messages are handled in order: once this one shows, the older push has been handled.
    marker = f'<section class="panel" id="panel-roles" data-seq="{s + 3}"><p>Marker</p></section>'
    scripted.send(type="push", sequence=s + 3, html=marker, **{"from": s + 2})
    expect(page.locator("#panel-roles")).to_contain_text("Marker")

    expect(page.locator("#panel-timeline")).to_contain_text("Newer")
    expect(page.locator("#panel-timeline")).not_to_contain_text("Older")


def test_a_missed_push_is_recovered_over_http(page: Page, sign_in, district, open_incident):
    scripted = open_with_a_scripted_socket(page, sign_in, district.cio, open_incident)
    add_row(open_incident, "Row the socket never delivered")
    newest = add_row(open_incident, "Row after the gap")
    untrusted = '<section id="panel-timeline" data-seq="99"><p>Untrusted fragment</p></section>'

    # The push covers only the newest row: the one before it was lost on the way.
    scripted.send(type="push", sequence=newest, html=untrusted, **{"from": newest - 1})

    timeline = page.locator("#panel-timeline")
    expect(timeline).to_contain_text("Row the socket never delivered")
    expect(timeline).to_contain_text("Row after the gap")
    expect(timeline).not_to_contain_text("Untrusted fragment")


def test_a_heartbeat_ahead_of_the_page_triggers_a_refetch(
    page: Page, sign_in, district, open_incident
) -> None:
    scripted = open_with_a_scripted_socket(page, sign_in, district.cio, open_incident)
    newest = add_row(open_incident, "Row announced only by a heartbeat")

    scripted.send(type="heartbeat", sequence=newest)

    expect(page.locator("#panel-timeline")).to_contain_text("Row announced only by a heartbeat")


def test_a_failed_refetch_is_tried_again_at_the_next_heartbeat(
    page: Page, sign_in, district, open_incident
) -> None:
    scripted = open_with_a_scripted_socket(page, sign_in, district.cio, open_incident)
    failed = []

    def fail_the_first_fetch(route) -> None:
        if route.request.resource_type == "fetch" and not failed:
            failed.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route(f"**/incidents/{open_incident.pk}/", fail_the_first_fetch)
    newest = add_row(open_incident, "Row behind a failed fetch")

    with page.expect_event("requestfailed"):
        scripted.send(type="heartbeat", sequence=newest)
    timeline = page.locator("#panel-timeline")
    assert failed, "the heartbeat did not make the page fetch"
    expect(timeline).not_to_contain_text("Row behind a failed fetch")

    scripted.send(type="heartbeat", sequence=newest)
    expect(timeline).to_contain_text("Row behind a failed fetch")


def test_pausing_holds_updates_until_resumed(page: Page, sign_in, district, open_incident):
    scripted = ScriptedSocket(page)
    sign_in(district.cio)
    page.goto(f"/incidents/{open_incident.pk}/")
    toggle = page.get_by_role("button", name="Pause live updates")
    toggle.click()
    expect(page.get_by_text("Live updates: paused")).to_be_visible()
    newest = add_row(open_incident, "Row while paused")

    scripted.send(type="heartbeat", sequence=newest)
    page.wait_for_timeout(300)  # nothing is expected to happen; give it the chance to
    expect(page.locator("#panel-timeline")).not_to_contain_text("Row while paused")
    page.get_by_role("button", name="Resume live updates").click()

    expect(page.locator("#panel-timeline")).to_contain_text("Row while paused")


# --- Two people, the real server ------------------------------------------------------------


def test_an_approval_reaches_the_cio_page_without_reload(
    browser: Browser, asgi_server: str, district: DistrictSetup, open_incident
) -> None:
    draft = _outside_the_event_loop(
        drafts.draft_create,
        incident=open_incident,
        by=district.comms,
        audience="staff",
        channel="email",
    )
    _outside_the_event_loop(
        drafts.draft_submit, draft=draft, by=district.comms, expected_revision=1
    )
    cio = signed_in_page(browser, asgi_server, district.cio)
    cio.goto(f"/incidents/{open_incident.pk}/")
    expect(cio.get_by_text("Live updates: on")).to_be_visible()
    expect(cio.locator("#panel-drafts")).to_contain_text("In review")
    cio.evaluate("window.notReloaded = true")
    comms = signed_in_page(browser, asgi_server, district.comms)
    comms.goto(f"/comms/drafts/{draft.pk}/")

    comms.get_by_role("button", name="Approve revision 1").click()

    expect(cio.locator("#panel-drafts")).to_contain_text("Approved", timeout=3_000)
    expect(cio.locator("#panel-timeline")).to_contain_text("revision 1 approved")
    assert cio.evaluate("window.notReloaded") is True
    cio.context.close()
    comms.context.close()


def test_legal_clearing_a_draft_updates_the_comms_dashboard(
    browser: Browser, asgi_server: str, district: DistrictSetup, open_incident
) -> None:
    draft = _outside_the_event_loop(
        drafts.draft_create,
        incident=open_incident,
        by=district.comms,
        audience="media",
        channel="web",
    )
    _outside_the_event_loop(drafts.draft_flag_legal, draft=draft, by=district.comms, flagged=True)
    _outside_the_event_loop(
        drafts.draft_submit, draft=draft, by=district.comms, expected_revision=1
    )
    comms = signed_in_page(browser, asgi_server, district.comms)
    expect(comms.locator(f"#comms-incident-{open_incident.pk}")).to_contain_text(
        "waiting for legal"
    )
    expect(comms.get_by_text("Live updates: on")).to_be_visible()
    comms.evaluate("window.notReloaded = true")
    legal = signed_in_page(browser, asgi_server, district.legal)
    legal.goto(f"/comms/drafts/{draft.pk}/")

    legal.get_by_role("button", name="Clear revision 1").click()

    expect(comms.locator(f"#comms-incident-{open_incident.pk}")).to_contain_text(
        "waiting for your approval", timeout=3_000
    )
    assert comms.evaluate("window.notReloaded") is True
    comms.context.close()
    legal.context.close()


def test_the_live_socket_connects_under_the_content_security_policy(
    browser: Browser, asgi_server: str, district: DistrictSetup, open_incident
) -> None:
    """The real server's policy names its own websocket origin, and the browser opens the
    socket with nothing refused."""
    problems: list[str] = []
    cio = signed_in_page(browser, asgi_server, district.cio)
    watch_csp(cio.context, problems)
    sockets: list[str] = []
    cio.on("websocket", lambda ws: sockets.append(ws.url))

    response = cio.goto(f"/incidents/{open_incident.pk}/")

    policy = response.headers["content-security-policy"]
    host = asgi_server.removeprefix("http://")
    assert f"connect-src 'self' ws://{host}" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    expect(cio.get_by_text("Live updates: on")).to_be_visible()
    assert sockets == [f"ws://{host}/ws/incidents/{open_incident.pk}/"]
    assert not problems, "\n".join(problems)
    cio.context.close()
