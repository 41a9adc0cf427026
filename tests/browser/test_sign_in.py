"""The sign-in pages in a browser: errors a screen reader can find, a phone, the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from signin.demo import current_code
from signin.models import DistrictIdentityProvider
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import _outside_the_event_loop, give_authenticator
from tests.conftest import DistrictSetup
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}


def fits_a_phone(page: Page, what: str) -> None:
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} scrolls sideways"
    assert_no_axe_violations(page, f"{what} at 320 px")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_errors_are_announced_and_tied_to_their_fields(page: Page, district: DistrictSetup):
    page.goto("/accounts/login/")
    fits_a_phone(page, "the sign-in page")

    page.get_by_label("Work email address").fill("someone@gmail.com")
    page.get_by_role("button", name="Continue to your district's sign-in").click()

    email = page.get_by_label("Work email address")
    expect(page.get_by_role("alert")).to_contain_text("No district signs in with @gmail.com")
    expect(email).to_have_accessible_description(re.compile("No district signs in"))
    expect(email).to_have_attribute("aria-invalid", "true")
    assert_no_axe_violations(page, "the sign-in page with an email error")

    page.get_by_label("User name").fill(district.cio.username)
    page.get_by_label("Password", exact=True).fill("wrong")
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_label("Password", exact=True)).to_have_accessible_description(
        re.compile("did not match an account that signs in with a password")
    )
    assert_no_axe_violations(page, "the sign-in page with a password error")


def test_a_break_glass_sign_in_works_from_the_keyboard(page: Page, district: DistrictSetup):
    _outside_the_event_loop(give_authenticator, user=district.cio)
    page.goto("/accounts/login/")

    page.get_by_label("User name").focus()
    page.keyboard.type(district.cio.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    code = page.get_by_label("Code from your authenticator app")
    expect(code).to_be_focused()
    assert_no_axe_violations(page, "the authenticator code page")
    fits_a_phone(page, "the authenticator code page")
    page.keyboard.type("000000")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Code from your authenticator app")).to_have_accessible_description(
        re.compile("That code did not match")
    )
    assert_no_axe_violations(page, "the authenticator code page with an error")

    page.get_by_label("Code from your authenticator app").fill(current_code())
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/incidents/$"))
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")


def test_the_district_form_posts_to_the_provider(page: Page, district: DistrictSetup):
    _outside_the_event_loop(
        DistrictIdentityProvider.objects.create,
        district=district.district,
        provider="google",
        client_id="riverbend-google-client",
        secret="s",
        allowed_domains="riverbend.k12.us",
    )
    page.goto("/accounts/login/")
    # No network in tests: stop the browser at the provider's door and look at the request.
    page.route("https://accounts.google.com/**", lambda route: route.abort())

    with page.expect_request(re.compile(r"^https://accounts\.google\.com/")) as request:
        page.get_by_label("Work email address").fill("dana@riverbend.k12.us")
        page.get_by_role("button", name="Continue to your district's sign-in").click()

    assert "client_id=riverbend-google-client" in request.value.url
