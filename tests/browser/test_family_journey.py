"""A family's journey on a phone, 320 px wide, in chromium: read the status page, subscribe by
email, confirm from the link, receive the next published update through the recording email
backend, and leave with the one-click unsubscribe their mail program offers. Every page passes
axe and fits the screen."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from comms.models import Subscriber
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import _outside_the_event_loop
from tests.comms.publishing import published, written
from tests.conftest import DistrictSetup

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
ADDRESS = "parent@example.org"


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def fits(page: Page, what: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], what
    assert_no_axe_violations(page, what)


def publish(district: DistrictSetup, incident, text: str) -> None:
    def run():
        draft = written(incident, district.comms, text)
        published(draft, district.comms)

    _outside_the_event_loop(run)


def to_family() -> list:
    return [m for m in mail.outbox if m.to == [ADDRESS]]


def test_a_family_subscribes_confirms_receives_an_update_and_unsubscribes(
    page: Page, district: DistrictSetup, open_incident
) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"/status/{district.district.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Service status")
    fits(page, "the status page")

    page.get_by_role("link", name="Get updates by email or text").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Get updates by email or text")
    fits(page, "the subscription page")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter the email address")
    fits(page, "the subscription page with an error")

    page.get_by_label("Email address").fill(ADDRESS)
    page.get_by_label(district.schools[0].name).check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    fits(page, "the check-your-email page")

    (confirmation,) = to_family()
    link = re.search(r"https?://\S+/subscribe/confirm/\S+/", confirmation.body).group(0)
    page.goto(path_of(link))
    fits(page, "the confirmation page")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed")
    expect(page.get_by_role("status")).to_contain_text(district.schools[0].name)
    fits(page, "the subscribed page")

    publish(district, open_incident, "Report cards are delayed until Monday.")
    confirmation, update = to_family()
    assert "Report cards are delayed until Monday." in update.body
    assert update.subject == f"{district.district.name}: Service disruption"
    unsubscribe = update.extra_headers["List-Unsubscribe"].strip("<>")
    assert update.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # What the page looks like to a family who opens the link, and what their mail program
    # does for them: one POST, no cookies, no form.
    page.goto(path_of(unsubscribe))
    expect(page.get_by_role("button", name="Unsubscribe")).to_be_visible()
    fits(page, "the unsubscribe page")
    answer = page.request.post(
        path_of(unsubscribe),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        data="List-Unsubscribe=One-Click",
    )
    assert answer.status == 200
    assert not _outside_the_event_loop(lambda: Subscriber.objects.filter(address=ADDRESS).exists())

    publish(district, open_incident, "Report cards are out.")
    assert len(to_family()) == 2, "nothing more after unsubscribing"


def test_the_unsubscribe_button_works_without_javascript(
    browser, live_server, district: DistrictSetup
) -> None:
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False
    )
    page = context.new_page()
    subscriber = _outside_the_event_loop(
        lambda: Subscriber.objects.create(
            district=district.district, channel="email", address=ADDRESS
        )
    )
    from comms import subscriptions

    url = _outside_the_event_loop(lambda: path_of(subscriptions.unsubscribe_url(subscriber)))
    page.goto(url)
    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    assert not _outside_the_event_loop(lambda: Subscriber.objects.filter(pk=subscriber.pk).exists())
    context.close()
