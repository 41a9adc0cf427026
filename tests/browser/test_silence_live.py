"""The silence banner arrives live on every dashboard that shows it, on the real server:
uvicorn with a worker whose timer loop raises the silence, pushed through Channels."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from incidents import services
from incidents.models import Incident
from tests.browser.conftest import _outside_the_event_loop, signed_in_page
from tests.conftest import DistrictSetup

pytestmark = pytest.mark.browser


def test_silence_reaches_the_academics_legal_and_board_pages_without_reload(
    browser: Browser, asgi_server: str, district: DistrictSetup, open_incident
) -> None:
    pages = {}
    for person, path in [
        (district.academics, "/incidents/academics/"),
        (district.legal, "/comms/legal/"),
        (district.board, "/incidents/briefing/"),
    ]:
        tab = signed_in_page(browser, asgi_server, person)
        tab.goto(path)
        expect(tab.get_by_text("Live updates: on")).to_be_visible()
        expect(tab.locator("#silence-banner")).to_be_empty()
        tab.evaluate("window.notReloaded = true")
        pages[path] = tab

    # An exercise at an hour a second: its first promised updates fall due within a second,
    # and the worker's timer loop raises the silence.
    _outside_the_event_loop(
        services.incident_open,
        by=district.cio,
        title="Ransomware rehearsal",
        kind=Incident.Kind.CYBER,
        severity=Incident.Severity.HIGH,
        all_schools=True,
        is_exercise=True,
        time_scale=3600,
    )

    for path, tab in pages.items():
        banner = tab.locator("#silence-banner")
        expect(banner, path).to_contain_text(
            "Ransomware rehearsal (exercise): silent to staff", timeout=10_000
        )
        expect(banner, path).to_contain_text("on the exercise clock")
        assert tab.evaluate("window.notReloaded") is True, path
    board = pages["/incidents/briefing/"]
    expect(board.locator(".briefing").filter(has_text="Ransomware rehearsal")).to_contain_text(
        "Overdue promised for", timeout=10_000
    )
    for tab in pages.values():
        tab.context.close()
