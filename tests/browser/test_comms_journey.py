"""The communications journey in chromium: comms drafts a family update, legal returns it
with a note, comms edits, legal clears, comms approves and publishes, the families clock
restarts and the public status page shows the update. Every page passes axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from comms.models import AudienceClock, Draft
from tests.browser.axe import assert_no_axe_violations
from tests.conftest import DistrictSetup

pytestmark = pytest.mark.browser


def test_family_update_from_draft_to_status_page(
    page: Page, sign_in, district: DistrictSetup, open_incident
) -> None:
    incident_url = f"/incidents/{open_incident.pk}/"

    # Communications writes the fact sheet and starts a family draft on the web channel.
    sign_in(district.comms)
    page.goto(f"/comms/incidents/{open_incident.pk}/facts/")
    assert_no_axe_violations(page, "the fact sheet")
    page.get_by_label("What we know").fill("Families cannot see grades online today.")
    page.get_by_label("What we are doing").fill("We are working with the provider.")
    page.get_by_label("What people should do").fill("Nothing: school runs as normal.")
    page.get_by_label("When the next update comes").fill("by 2 pm")
    page.get_by_role("button", name="Save as a new revision").click()
    expect(page.get_by_text("Fact sheet saved")).to_be_visible()

    page.goto(incident_url)
    messages_panel = page.get_by_role("region", name="Messages")
    messages_panel.get_by_label("Audience").select_option(label="Families")
    messages_panel.get_by_label("Channel").select_option(label="Web and status page")
    page.get_by_role("button", name="Start a draft").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Families · Web and status page")
    expect(page.get_by_label("Message", exact=True)).to_contain_text(
        "Families cannot see grades online today."
    )
    assert_no_axe_violations(page, "the draft editor")

    # The discipline panel reacts as the writer types.
    page.get_by_label("Message", exact=True).fill(
        "The vendor's fault. We believe the cause is a bad patch."
    )
    expect(page.locator("#warnings")).to_contain_text("Warning:")
    assert_no_axe_violations(page, "the editor with live warnings")
    page.get_by_label("Message", exact=True).fill(
        "Dear families, grades cannot be seen online today. School runs as normal. "
        "We will send the next update tomorrow by 2 pm."
    )
    page.get_by_role("button", name="Save as revision 2").click()
    page.get_by_role("button", name="Flag for legal review").click()
    page.get_by_role("button", name="Send revision 2 for legal review").click()
    expect(page.locator(".badge--draft-legal_review")).to_have_text("Legal review")
    draft = Draft.objects.get()

    # Legal returns it with a note.
    sign_in(district.legal)
    page.goto("/comms/legal/")
    assert_no_axe_violations(page, "the legal dashboard")
    page.get_by_role("link", name="Families · Web and status page, revision 2").click()
    page.get_by_label("Return to the writer with a note").fill("Say which grades: term grades.")
    page.get_by_role("button", name="Return with this note").click()
    expect(page.locator(".badge--draft-draft")).to_have_text("Draft")

    # Communications sees the note, edits, and sends it back.
    sign_in(district.comms)
    page.goto(f"/comms/drafts/{draft.pk}/")
    expect(page.locator(".prompt")).to_contain_text("Say which grades: term grades.")
    page.get_by_label("Message", exact=True).fill(
        "Dear families, term grades cannot be seen online today. School runs as normal. "
        "We will send the next update tomorrow by 2 pm."
    )
    page.get_by_role("button", name="Save as revision 3").click()
    page.get_by_role("button", name="Send revision 3 for legal review").click()

    # Legal clears revision 3.
    sign_in(district.legal)
    page.goto(f"/comms/drafts/{draft.pk}/")
    page.get_by_role("button", name="Clear revision 3").click()
    expect(page.locator(".badge--draft-in_review")).to_have_text("In review")

    # Communications approves and publishes (staff have not heard yet: a reason is given).
    sign_in(district.comms)
    page.goto(f"/comms/drafts/{draft.pk}/")
    page.get_by_role("button", name="Approve revision 3").click()
    expect(page.locator(".badge--draft-approved")).to_have_text("Approved")
    assert_no_axe_violations(page, "the publish form")
    page.get_by_label("Next update promised in (minutes)").fill("90")
    page.get_by_role("button", name="Publish revision 3").click()
    expect(page.get_by_role("alert")).to_contain_text("Staff hear first")
    page.get_by_label("Reason to publish before staff have heard").fill(
        "Families are calling every school; staff were told in person at 8 am."
    )
    page.get_by_label("Next update promised in (minutes)").fill("90")
    page.get_by_role("button", name="Publish revision 3").click()
    # The text promises tomorrow at 2 pm, the form 90 minutes: the page says so and asks.
    expect(page.get_by_role("alert")).to_contain_text("the promised next update is")
    assert_no_axe_violations(page, "the publish form asking which time stands")
    page.get_by_label("Publish anyway: readers see the promised time").check()
    page.get_by_label("Next update promised in (minutes)").fill("90")
    page.get_by_role("button", name="Publish revision 3").click()
    expect(page.locator(".badge--draft-published")).to_have_text("Published")

    clock = AudienceClock.objects.get(incident=open_incident, audience="families")
    assert clock.last_published_at is not None and clock.generation == 2
    page.goto(incident_url)
    families = page.locator("tr[data-audience='Families']")
    expect(families.locator("[data-clock-state]")).to_have_text("On track")
    expect(families).not_to_contain_text("None yet")

    # The public status page shows it, with no sign-in.
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.goto(f"/status/{district.district.slug}/")
    expect(page.get_by_text("term grades cannot be seen online today")).to_be_visible()
    assert_no_axe_violations(page, "the public status page")
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_no_axe_violations(page, "the public status page at 320 px")


def test_comms_dashboard_and_templates_pass_axe(
    page: Page, sign_in, district: DistrictSetup, open_incident
) -> None:
    sign_in(district.comms)

    for url in ["/comms/", "/comms/templates/"]:
        page.goto(url)
        assert_no_axe_violations(page, url)
        page.set_viewport_size({"width": 320, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, url
        assert_no_axe_violations(page, f"{url} at 320 px")
        page.set_viewport_size({"width": 1280, "height": 900})
    # Legal sees the forms to approve and withdraw paragraphs there.
    from comms import paragraphs
    from tests.browser.conftest import _outside_the_event_loop

    _outside_the_event_loop(
        paragraphs.paragraph_approve,
        district=district.district,
        by=district.legal,
        text="We will send the next update {next_update}.",
    )
    sign_in(district.legal)
    page.goto("/comms/templates/")
    expect(page.get_by_role("button", name="Withdraw approval of paragraph 1")).to_be_visible()
    assert_no_axe_violations(page, "the templates page for legal counsel")


def test_a_correction_is_published_and_replaces_the_text_on_the_status_page(
    page: Page, sign_in, district: DistrictSetup, open_incident
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from comms import drafts
    from tests.browser.conftest import _outside_the_event_loop

    def step(service, **kwargs):
        return _outside_the_event_loop(service, by=district.comms, **kwargs)

    draft = step(drafts.draft_create, incident=open_incident, audience="families", channel="web")
    wrong = "Report cards will be mailed on Friday. We will update you again within the hour."
    draft = step(drafts.draft_edit, draft=draft, body=wrong, expected_revision=1)
    draft = step(drafts.draft_submit, draft=draft, expected_revision=2)
    draft = step(drafts.draft_approve, draft=draft, expected_revision=2)
    step(
        drafts.draft_publish,
        draft=draft,
        expected_revision=2,
        promised_next_at=timezone.now() + timedelta(minutes=45),
        override_reason="Staff were told at the morning briefing.",
    )

    sign_in(district.comms)
    page.goto(f"/comms/drafts/{draft.pk}/")
    page.get_by_text("Correct this published update").click()
    page.get_by_label("What was wrong in it").fill("Report cards go out on Monday, not Friday.")
    page.get_by_role("button", name="Start a correction").click()
    expect(page.locator(".correction-of")).to_contain_text(
        "What was wrong: Report cards go out on Monday, not Friday."
    )
    assert_no_axe_violations(page, "a correction draft")
    page.get_by_label("Message", exact=True).fill(
        "Correction: report cards will be mailed on Monday, not Friday. "
        "We will update you again within the hour."
    )
    page.get_by_role("button", name="Save as revision 2").click()
    page.get_by_role("button", name="Send revision 2 for review").click()
    page.get_by_role("button", name="Approve revision 2").click()
    page.get_by_label("Next update promised in (minutes)").fill("60")
    page.get_by_role("button", name="Publish revision 2").click()
    expect(page.locator(".badge--draft-published")).to_have_text("Published")

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.goto(f"/status/{district.district.slug}/")
    card = page.locator(".status-feed .card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Corrected")
    expect(card).to_contain_text("Report cards go out on Monday, not Friday.")
    expect(card).to_contain_text("report cards will be mailed on Monday")
    expect(card).not_to_contain_text("mailed on Friday.")
    assert_no_axe_violations(page, "the status page with a correction")
    page.get_by_role("link", name="Service disruption").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Service disruption")
    expect(page.locator(".status-feed")).to_contain_text("Corrected")
    assert_no_axe_violations(page, "an incident's public page")
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_no_axe_violations(page, "an incident's public page at 320 px")
