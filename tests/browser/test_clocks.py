"""Update clocks in chromium: they change state without reload and announce only threshold
changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from comms.models import AudienceClock
from tests.browser.axe import assert_no_axe_violations
from tests.conftest import DistrictSetup

pytestmark = pytest.mark.browser


def test_a_clock_turns_overdue_in_the_page_and_is_announced(
    page: Page, sign_in, district: DistrictSetup, open_incident
) -> None:
    AudienceClock.objects.filter(incident=open_incident, audience="staff").update(
        next_update_due_at=timezone.now() + timedelta(seconds=4)
    )
    sign_in(district.cio)
    page.goto(f"/incidents/{open_incident.pk}/")
    staff = page.locator("tr[data-audience='Staff']")
    expect(staff.locator("[data-clock-state]")).to_have_text("Due soon")
    expect(page.locator("#clock-announcer")).to_have_text("")

    expect(staff.locator("[data-clock-state]")).to_contain_text(
        "Overdue: silent for", timeout=10_000
    )

    expect(page.locator("#clock-announcer")).to_have_text(
        "Staff update: overdue. Silence has begun."
    )
    expect(staff.get_by_role("timer")).to_be_visible()


def test_setup_and_inbox_pages_pass_axe(page: Page, sign_in, district: DistrictSetup) -> None:
    sign_in(district.cio)

    for url in ["/incidents/settings/", "/comms/inbox/"]:
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_axe_violations(page, url)
        page.set_viewport_size({"width": 320, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, url
        assert_no_axe_violations(page, f"{url} at 320 px")
        page.set_viewport_size({"width": 1280, "height": 900})
