"""Every role's landing page, and the refusal page, pass axe and fit a 320 px wide screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Incident
from tests.browser.axe import assert_no_axe_violations
from tests.conftest import DistrictSetup

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}

# (DistrictSetup attribute, where "/" sends them after sign-in, the page's heading)
LANDINGS = [
    ("cio", "/incidents/", "Incidents"),
    ("comms", "/comms/", "Communications"),
    ("academics", "/incidents/academics/", "Academics"),
    ("legal", "/comms/legal/", "Legal"),
    ("technical", "/incidents/", "Incidents"),
    ("board", "/incidents/briefing/", "Governance briefing"),
    ("principal", "/incidents/guidance/", "Guidance for your schools"),
]


def scroll_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize(("person", "path", "heading"), LANDINGS, ids=[p for p, _, _ in LANDINGS])
def test_landing_page_passes_axe_and_fits_a_phone(
    page: Page,
    sign_in,
    district: DistrictSetup,
    open_incident: Incident,
    person: str,
    path: str,
    heading: str,
) -> None:
    sign_in(getattr(district, person))

    expect(page).to_have_url(re.compile(rf"^http://[^/]+{re.escape(path)}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_text(open_incident.title)).to_be_visible()
    assert_no_axe_violations(page, f"the {person} landing page")
    page.set_viewport_size(PHONE)
    assert scroll_width(page) <= PHONE["width"], f"the {person} landing page scrolls sideways"
    assert_no_axe_violations(page, f"the {person} landing page")


def test_refusal_page_explains_and_passes_axe(page: Page, sign_in, district: DistrictSetup) -> None:
    sign_in(district.principal)

    response = page.goto("/incidents/")

    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not available to you")
    expect(page.get_by_role("main")).to_contain_text("Your account does not hold that role.")
    expect(page.get_by_role("link", name="Go to your page")).to_be_visible()
    assert_no_axe_violations(page, "the 403 page")
    page.set_viewport_size(PHONE)
    assert scroll_width(page) <= PHONE["width"]
    assert_no_axe_violations(page, "the 403 page")


def test_the_colour_scheme_choice_is_remembered_in_this_browser(
    page: Page, sign_in, district: DistrictSetup
) -> None:
    sign_in(district.cio)
    scheme = page.get_by_role("group", name="Colour scheme")
    expect(scheme.get_by_role("button", name="Automatic")).to_have_attribute("aria-pressed", "true")
    background = "getComputedStyle(document.documentElement).backgroundColor"
    light = page.evaluate(background)

    scheme.get_by_role("button", name="Dark").click()

    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) != light
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(scheme.get_by_role("button", name="Dark")).to_have_attribute("aria-pressed", "true")
    scheme.get_by_role("button", name="Automatic").click()
    expect(page.locator("html")).not_to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) == light


def test_automatic_follows_the_device(page: Page, sign_in, district: DistrictSetup) -> None:
    sign_in(district.cio)
    background = "getComputedStyle(document.documentElement).backgroundColor"
    light = page.evaluate(background)

    page.emulate_media(color_scheme="dark")

    assert page.evaluate(background) != light
    assert_no_axe_violations(page, "the incident list in the dark scheme")
