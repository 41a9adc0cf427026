"""Academics to principals to the board, in chromium: guidance published, two principals
acknowledge on a phone, the academics dashboard shows it, and the board reads and prints
its briefing. Every page passes axe, including at 320 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Role
from tests.browser.axe import assert_no_axe_violations
from tests.conftest import DistrictSetup
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 720}


def fits_phone(page: Page, where: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], where
    assert_no_axe_violations(page, f"{where} at 320 px")


def test_guidance_reaches_every_school_and_the_board_reads_the_briefing(
    page: Page, sign_in, district: DistrictSetup, open_incident
) -> None:
    second_principal = UserFactory(
        username="riverbend-principal-2",
        district=district.district,
        roles=[Role.PRINCIPAL],
        schools=[district.schools[2]],
    )

    # The academic lead publishes the first version.
    sign_in(district.academics)
    page.goto("/incidents/academics/")
    expect(page.get_by_text("No guidance published yet.")).to_be_visible()
    assert_no_axe_violations(page, "the academics dashboard")
    page.get_by_role("link", name="Write the first guidance").click()
    assert_no_axe_violations(page, "the guidance editor")
    page.get_by_label("What classrooms do today").fill(
        "Teach as planned. Take attendance on paper."
    )
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.get_by_text("Version 1 published")).to_be_visible()

    # Two principals acknowledge on a phone.
    page.set_viewport_size(PHONE)
    sign_in(district.principal)
    expect(page.get_by_text("Teach as planned. Take attendance on paper.")).to_be_visible()
    fits_phone(page, "the principal's guidance page")
    for school in district.schools[:2]:
        page.get_by_role("button", name=f"Acknowledge version 1 for {school}").click()
        expect(page.get_by_text(f"{school}: version 1 acknowledged")).to_be_visible()
    page.get_by_label("Your question").fill("Can the unit test be given on paper?")
    page.get_by_role("button", name="Send the question").click()
    expect(page.get_by_text("Waiting for an answer.")).to_be_visible()
    fits_phone(page, "the principal's page after acknowledging")

    sign_in(second_principal)
    page.get_by_role("button", name=f"Acknowledge version 1 for {district.schools[2]}").click()
    expect(page.get_by_text(f"{district.schools[2]}: version 1 acknowledged")).to_be_visible()

    # The academics dashboard shows every school on the current version.
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(district.academics)
    page.goto("/incidents/academics/")
    expect(page.get_by_text("every school is on the current version")).to_be_visible()
    expect(page.locator("table").get_by_text("✓ Current version")).to_have_count(3)
    page.get_by_label("Answer").fill("Yes, on paper, the same test.")
    page.get_by_label("Add to the next guidance version").check()
    page.get_by_role("button", name="Send the answer").click()
    expect(page.get_by_text("Answer sent to the school.")).to_be_visible()
    assert_no_axe_violations(page, "the academics dashboard with acknowledgements")

    # The board liaison reads the briefing and its print view.
    sign_in(district.board)
    page.goto("/incidents/briefing/")
    expect(page.get_by_role("heading", name=open_incident.title)).to_be_visible()
    expect(page.get_by_text("No board update has been approved yet.")).to_be_visible()
    assert_no_axe_violations(page, "the governance briefing")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print this briefing")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.emulate_media(media="screen")
    page.set_viewport_size(PHONE)
    fits_phone(page, "the governance briefing")
