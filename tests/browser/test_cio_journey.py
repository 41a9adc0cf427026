"""The CIO's first minutes: sign in, declare an incident, read the clock, name a comms lead."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from incidents.models import Incident
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import give_authenticator, sign_in_with_password_and_code
from tests.conftest import DistrictSetup

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}


def fact(page: Page, panel: str, term: str) -> Locator:
    """The <dd> under the <dt> called ``term`` in the incident page's panel named ``panel``."""
    row = (
        page.get_by_role("region", name=panel)
        .locator(".facts > div")
        .filter(has=page.get_by_role("term").filter(has_text=re.compile(rf"^{re.escape(term)}$")))
    )
    return row.get_by_role("definition")


def test_cio_declares_an_incident_and_assigns_the_communications_lead(
    page: Page, district: DistrictSetup
) -> None:
    page.goto("/accounts/login/")
    assert_no_axe_violations(page, "the sign-in page")
    give_authenticator(district.cio)
    sign_in_with_password_and_code(page, district.cio)

    expect(page).to_have_url(re.compile(r"/incidents/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Incidents")
    # Static files come from the live server's staticfiles handler: the stylesheet applies
    # and htmx is loaded (the page fixture also fails on any 4xx/5xx asset).
    expect(page.locator(".site-header")).to_have_css("background-color", "rgb(27, 31, 36)")
    assert page.evaluate("typeof window.htmx") == "object"
    assert_no_axe_violations(page, "the incident list")

    page.get_by_role("link", name="Open an incident").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Open an incident")
    expect(page.get_by_label("Title", exact=True)).to_have_accessible_description(
        re.compile(r"^A short name everyone will recognise")
    )
    assert_no_axe_violations(page, "the new incident form")

    page.get_by_role("button", name="Declare the incident").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Nothing was saved")
    expect(summary.get_by_role("link", name=re.compile(r"^Title:"))).to_be_visible()
    expect(page.get_by_label("Title", exact=True)).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page, "the new incident form with errors")

    page.get_by_label("Title", exact=True).fill("SIS unavailable at all schools")
    page.get_by_label("What failed").select_option(label="Student information system (SIS)")
    page.get_by_label("Severity").select_option(value=str(Incident.Severity.CRITICAL))
    page.get_by_label("Riverbend SIS").check()
    page.get_by_label("Only the schools chosen below").check()
    page.get_by_label("Riverbend School 1").check()
    page.get_by_label("Instruction").check()
    page.get_by_label("Real incident").check()
    page.get_by_role("button", name="Declare the incident").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("SIS unavailable at all schools")
    expect(page.get_by_text("Incident declared. The phase clock has started.")).to_be_visible()
    incident = Incident.objects.get()
    expect(page.locator("#panel-clock .phase-now")).to_have_text("Phase 1: Control")
    expect(fact(page, "Phase clock", "Time since declaration")).to_have_text(re.compile(r"^\d+ s$"))
    trust_begins = timezone.localtime(
        incident.declared_at + timedelta(hours=24), district.district.zone
    )
    assert trust_begins.strftime("%Z") in {"CST", "CDT"}
    boundary = fact(page, "Phase clock", "Phase 2: Trust begins")
    expect(boundary.locator("time")).to_have_text(trust_begins.strftime("%a %-d %b, %-I:%M %p %Z"))
    expect(boundary.locator(".relative")).to_have_text(re.compile(r"^in 23 h 5\d min$"))
    expect(fact(page, "Scope and impact", "Affected schools")).to_have_text("Riverbend School 1")
    assert_no_axe_violations(page, "the incident page")

    roles = page.locator("#panel-roles")
    roles.evaluate("panel => { panel.dataset.beforeSwap = 'yes'; }")
    roles.get_by_label("Communications lead").select_option(label=str(district.comms))
    roles.get_by_role("button", name="Save Communications lead").click()

    # htmx replaced the panel (outerHTML): the marker on the old element is gone.
    expect(page.locator("#panel-roles[data-before-swap]")).to_have_count(0)
    expect(page.locator("#panel-roles").get_by_label("Communications lead")).to_have_value(
        str(district.comms.pk)
    )
    expect(page.locator("#panel-roles").get_by_role("alert")).to_have_count(0)
    expect(page.locator("#panel-timeline")).to_contain_text(
        f"Communications lead: {district.comms}"
    )
    assert_no_axe_violations(page, "the incident page after the assignment")


def test_timeline_shows_a_role_assignment_without_reloading(
    page: Page, sign_in, district: DistrictSetup, open_incident: Incident
) -> None:
    sign_in(district.cio)
    page.goto(f"/incidents/{open_incident.pk}/")
    page.get_by_label("Communications lead").select_option(label=str(district.comms))

    page.get_by_role("button", name="Save Communications lead").click()

    expect(page.locator("#panel-timeline")).to_contain_text(
        f"Communications lead: {district.comms}", timeout=3_000
    )


def test_incident_page_fits_a_phone_and_passes_axe(
    page: Page, sign_in, district: DistrictSetup, open_incident: Incident
) -> None:
    sign_in(district.cio)
    page.set_viewport_size(PHONE)

    page.goto(f"/incidents/{open_incident.pk}/")

    expect(page.get_by_role("heading", level=1)).to_have_text(open_incident.title)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_no_axe_violations(page, "the incident page on a phone")
