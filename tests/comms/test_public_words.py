"""Only reviewed words go public: the status page and every email or text that leaves the
district name an incident by its approved public title (or the district's neutral title),
never the internal one, and only families and public updates reach the status page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from comms import drafts
from comms.delivery import deliver_dispatch
from comms.models import CommsPolicy, Dispatch, Draft, PublicHeading, PublishedUpdate
from incidents import services as incident_services
from incidents.errors import Conflict, Invalid, Refused
from tests.comms.publishing import approved, published, written

INTERNAL = "Kessler's SIS migration blew up the gradebook"


@pytest.fixture
def incident(riverbend):
    return incident_services.incident_open(
        by=riverbend.cio, title=INTERNAL, kind="sis", severity=2, all_schools=True
    )


def publish_message(incident, lead, audience="families", channel="web", body="Schools are open."):
    return published(written(incident, lead, body, audience=audience, channel=channel), lead)


def publish_heading(incident, lead, body, *, counsel=None):
    draft = drafts.heading_draft_create(incident=incident, by=lead)
    draft = drafts.draft_edit(draft=draft, by=lead, body=body, expected_revision=1)
    draft = approved(draft, lead, counsel=counsel)
    drafts.heading_publish(draft=draft, by=lead, expected_revision=draft.revision)
    return draft


HEADING = "Student portal unavailable\n\nFamilies cannot see grades online today; school is open."


# --- Which audiences reach the status page -------------------------------------------------


@pytest.mark.parametrize("channel", ["email", "sms", "web", "voice"])
@pytest.mark.parametrize("audience", ["staff", "families", "board", "media"])
def test_only_families_and_the_public_are_drafted_for_the_web(
    incident, riverbend, audience, channel
):
    web_for_insiders = channel == "web" and audience in ("staff", "board")

    if web_for_insiders:
        with pytest.raises(Invalid, match="public status page"):
            drafts.draft_create(
                incident=incident, by=riverbend.comms, audience=audience, channel=channel
            )
        assert not Draft.objects.exists()
    else:
        drafts.draft_create(
            incident=incident, by=riverbend.comms, audience=audience, channel=channel
        )
        assert Draft.objects.count() == 1


@pytest.mark.parametrize("channel", ["email", "sms", "web", "voice"])
@pytest.mark.parametrize("audience", ["staff", "families", "board", "media"])
def test_the_status_page_shows_families_and_public_web_updates_only(
    client, incident, riverbend, audience, channel
):
    # Rows written directly: even an update recorded some other way cannot reach the page.
    PublishedUpdate.objects.create(
        incident=incident,
        audience=audience,
        channel=channel,
        summary=f"Text for {audience} by {channel}",
        published_by=riverbend.comms,
        promised_next_at=timezone.now() + timedelta(minutes=30),
    )

    body = client.get(f"/status/{riverbend.district.slug}/").content.decode()

    shown = channel == "web" and audience in ("families", "media")
    assert (f"Text for {audience} by {channel}" in body) is shown


def test_the_incident_page_says_why_a_staff_web_draft_is_refused(incident, riverbend):
    client = Client()
    client.force_login(riverbend.comms)

    response = client.post(
        f"/comms/incidents/{incident.pk}/drafts/new/",
        {"audience": "board", "channel": "web"},
        follow=True,
    )

    assert "send a staff or board update by email or text message" in response.content.decode()
    assert not Draft.objects.exists()


# --- The public title ----------------------------------------------------------------------


def test_the_public_never_sees_the_internal_title(client, incident, riverbend):
    CommsPolicy.objects.update_or_create(
        district=riverbend.district, defaults={"email_lists": {"families": "all@example.org"}}
    )
    publish_message(incident, riverbend.comms, channel="web")
    publish_message(incident, riverbend.comms, channel="email")

    page = client.get(f"/status/{riverbend.district.slug}/").content.decode()
    deliver_dispatch(dispatch_id=Dispatch.objects.get().pk)

    from django.core import mail

    assert INTERNAL not in page and "Kessler" not in page
    assert "Service disruption" in page
    assert mail.outbox[0].subject == "Riverbend District: Service disruption"


def test_the_approved_public_title_names_the_incident_everywhere_outside(
    client, incident, riverbend
):
    CommsPolicy.objects.update_or_create(
        district=riverbend.district, defaults={"email_lists": {"families": "all@example.org"}}
    )
    publish_heading(incident, riverbend.comms, HEADING)
    publish_message(incident, riverbend.comms, channel="web")
    publish_message(incident, riverbend.comms, channel="email")

    page = client.get(f"/status/{riverbend.district.slug}/").content.decode()
    deliver_dispatch(dispatch_id=Dispatch.objects.get().pk)

    from django.core import mail

    assert "Student portal unavailable" in page
    assert "Families cannot see grades online today; school is open." in page
    assert INTERNAL not in page
    assert mail.outbox[0].subject == "Riverbend District: Student portal unavailable"


def test_the_district_chooses_its_neutral_title(client, incident, riverbend):
    CommsPolicy.objects.update_or_create(
        district=riverbend.district, defaults={"neutral_title": "Technology disruption"}
    )
    publish_message(incident, riverbend.comms)

    page = client.get(f"/status/{riverbend.district.slug}/").content.decode()

    assert "Technology disruption" in page and INTERNAL not in page


def test_a_public_title_goes_through_legal_where_the_rules_say(riverbend):
    incident = incident_services.incident_open(
        by=riverbend.cio,
        title=INTERNAL,
        kind="cyber",
        severity=1,
        all_schools=True,
        impacts=["student_data"],
    )
    draft = drafts.heading_draft_create(incident=incident, by=riverbend.comms)
    draft = drafts.draft_edit(draft=draft, by=riverbend.comms, body=HEADING, expected_revision=1)

    draft = drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=2)

    assert draft.state == Draft.State.LEGAL_REVIEW


def test_an_unapproved_public_title_is_not_published(incident, riverbend):
    draft = drafts.heading_draft_create(incident=incident, by=riverbend.comms)

    with pytest.raises(Conflict):
        drafts.heading_publish(draft=draft, by=riverbend.comms, expected_revision=1)
    assert not PublicHeading.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Student portal unavailable", "This text has 1"),
        ("A\n\nB\n\nC", "This text has 3"),
        ("x" * 81 + "\n\nSchool is open.", "keep it to 80"),
        ("Portal down\n\n" + "y" * 201, "at most 200"),
    ],
)
def test_a_public_title_that_does_not_fit_is_refused_with_what_to_fix(
    incident, riverbend, body, message
):
    draft = drafts.heading_draft_create(incident=incident, by=riverbend.comms)
    draft = drafts.draft_edit(draft=draft, by=riverbend.comms, body=body, expected_revision=1)

    with pytest.raises(Invalid, match=message):
        drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=2)
    draft.refresh_from_db()
    assert draft.state == Draft.State.DRAFT


def test_withdrawing_the_public_title_brings_back_the_neutral_one(client, incident, riverbend):
    heading = publish_heading(incident, riverbend.comms, HEADING)
    publish_message(incident, riverbend.comms)

    drafts.draft_withdraw(draft=heading, by=riverbend.comms, reason="Names the product")
    page = client.get(f"/status/{riverbend.district.slug}/").content.decode()

    assert "Service disruption" in page and "Student portal unavailable" not in page


def test_a_public_title_is_not_corrected_but_drafted_again(incident, riverbend):
    heading = publish_heading(incident, riverbend.comms, HEADING)

    with pytest.raises(Conflict, match="drafting a new one"):
        drafts.draft_correct(draft=heading, by=riverbend.comms, note="Wrong word")


@pytest.mark.parametrize("role", ["academics", "legal", "board", "principal", "technical"])
def test_only_the_writers_draft_a_public_title(incident, riverbend, role):
    with pytest.raises(Refused):
        drafts.heading_draft_create(incident=incident, by=getattr(riverbend, role))


def test_the_pages_draft_approve_and_publish_a_public_title(client, incident, riverbend):
    client.force_login(riverbend.comms)

    created = client.post(f"/comms/incidents/{incident.pk}/heading/new/", {"purpose": "heading"})
    draft = Draft.objects.get(purpose=Draft.Purpose.HEADING)
    editor = client.get(created["Location"]).content.decode()
    client.post(created["Location"], {"body": HEADING, "expected_revision": 1})
    client.post(f"/comms/drafts/{draft.pk}/submit/", {"expected_revision": 2})
    client.post(f"/comms/drafts/{draft.pk}/approve/", {"expected_revision": 2})
    published = client.post(f"/comms/drafts/{draft.pk}/publish/", {"expected_revision": 2})
    incident_page = client.get(f"/incidents/{incident.pk}/").content.decode()

    assert "Public title and summary" in editor and "Next update promised" not in editor
    assert published.status_code == 302
    assert PublicHeading.objects.get().title == "Student portal unavailable"
    assert "Public title:</strong> Student portal unavailable" in incident_page


def test_the_page_refuses_a_public_title_from_the_wrong_role(client, incident, riverbend):
    client.force_login(riverbend.academics)

    response = client.post(f"/comms/incidents/{incident.pk}/heading/new/", {"purpose": "heading"})

    assert response.status_code in (302, 403)
    assert not Draft.objects.exists()
