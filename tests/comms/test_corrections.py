"""Correcting a published update: a new draft that names what it corrects, through the same
review, published to the same audience and channel, shown in the corrected update's place on
the status page and counted on the scorecard."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from comms import drafts
from comms.models import CommsPolicy, Dispatch, Draft, PublishedUpdate
from incidents import services as incident_services
from incidents.errors import Conflict, Invalid, Refused
from incidents.models import Incident, TimelineEntry
from incidents.selectors import scorecard_for
from tests.comms.publishing import NEXT, published

S = Draft.State
WRONG = "The student portal is down. Report cards will be mailed on Friday." + NEXT
RIGHT = "The student portal is down. Report cards will be mailed on Monday." + NEXT


@pytest.fixture
def incident(riverbend):
    return incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )


def published_wrong(incident, person, *, audience="families", channel="web"):
    draft = drafts.draft_create(incident=incident, by=person, audience=audience, channel=channel)
    draft = drafts.draft_edit(draft=draft, by=person, body=WRONG, expected_revision=1)
    return published(draft, person)


def correct(draft, person, note="Report cards go out on Monday, not Friday."):
    correction = drafts.draft_correct(draft=draft, by=person, note=note)
    return drafts.draft_edit(
        draft=correction, by=person, body=RIGHT, expected_revision=correction.revision
    )


def test_a_correction_starts_from_the_published_text_for_the_same_audience_and_channel(
    incident, riverbend
):
    original = published_wrong(incident, riverbend.comms)

    correction = drafts.draft_correct(
        draft=original, by=riverbend.comms, note="Report cards go out on Monday."
    )

    update = PublishedUpdate.objects.get(draft=original)
    assert (correction.audience, correction.channel) == ("families", "web")
    assert correction.corrects == update and correction.state == S.DRAFT
    assert correction.revisions.get(number=1).body == WRONG
    assert correction.correction_note == "Report cards go out on Monday."


def test_a_published_correction_replaces_the_text_and_counts_on_the_scorecard(incident, riverbend):
    original = published_wrong(incident, riverbend.comms)
    correction = published(correct(original, riverbend.comms), riverbend.comms)

    update = PublishedUpdate.objects.get(draft=correction)
    assert update.corrects == PublishedUpdate.objects.get(draft=original)
    assert update.correction_note == "Report cards go out on Monday, not Friday."
    entry = TimelineEntry.objects.get(incident=incident, kind="update.corrected")
    assert "corrected: Report cards go out on Monday" in entry.summary
    assert scorecard_for(incident, timezone.now()).corrections == 1


def test_the_status_page_shows_the_corrected_text_in_place_marked_corrected(
    client, incident, riverbend
):
    original = published_wrong(incident, riverbend.comms)
    published(correct(original, riverbend.comms), riverbend.comms)

    page = client.get(f"/status/{riverbend.district.slug}/").content.decode()

    assert "Report cards will be mailed on Monday" in page
    assert "Report cards will be mailed on Friday" not in page
    assert "<strong>Corrected</strong>" in page
    assert "Report cards go out on Monday, not Friday." in page
    # One card: the correction is not listed again on its own.
    assert page.count("Posted ") == 1


def test_a_correction_of_a_correction_takes_the_same_place(client, incident, riverbend):
    original = published_wrong(incident, riverbend.comms)
    first = published(correct(original, riverbend.comms), riverbend.comms)
    second = drafts.draft_correct(draft=first, by=riverbend.comms, note="Monday the 9th.")
    second = drafts.draft_edit(
        draft=second,
        by=riverbend.comms,
        body=RIGHT.replace("on Monday", "on Monday the 9th"),
        expected_revision=1,
    )
    published(second, riverbend.comms)

    page = client.get(f"/status/{riverbend.district.slug}/").content.decode()

    assert second.corrects == PublishedUpdate.objects.get(draft=original)
    assert second.revisions.get(number=1).body == RIGHT
    assert "mailed on Monday the 9th" in page and "Monday the 9th." in page
    assert page.count("Posted ") == 1


def test_a_correction_goes_to_the_same_email_list(incident, riverbend, sms_outbox):
    CommsPolicy.objects.update_or_create(
        district=riverbend.district, defaults={"email_lists": {"staff": ["all-staff@example.org"]}}
    )
    original = published_wrong(incident, riverbend.comms, audience="staff", channel="email")
    correction = published(correct(original, riverbend.comms), riverbend.comms)

    sent = Dispatch.objects.filter(update__draft=correction)
    assert [(d.channel, d.destination) for d in sent] == [("email", "all-staff@example.org")]


def test_a_correction_of_words_legal_cleared_goes_back_to_legal(riverbend):
    incident = incident_services.incident_open(
        by=riverbend.cio,
        title="Records exposed",
        kind="cyber",
        severity=1,
        all_schools=True,
        impacts=[Incident.Impact.STUDENT_DATA],
    )
    CommsPolicy.objects.update_or_create(
        district=riverbend.district, defaults={"student_data_needs_legal": False}
    )
    draft = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="families", channel="web"
    )
    drafts.draft_flag_legal(draft=draft, by=riverbend.comms, flagged=True)
    original = published(draft, riverbend.comms, counsel=riverbend.legal)

    correction = drafts.draft_submit(
        draft=correct(original, riverbend.comms), by=riverbend.comms, expected_revision=2
    )

    assert correction.state == S.LEGAL_REVIEW


@pytest.mark.parametrize("role", ["academics", "legal", "board", "principal", "technical"])
def test_only_the_writers_correct(incident, riverbend, role):
    original = published_wrong(incident, riverbend.comms)

    with pytest.raises(Refused, match="write corrections"):
        drafts.draft_correct(draft=original, by=getattr(riverbend, role), note="Wrong day.")


def test_a_correction_says_what_was_wrong(incident, riverbend):
    original = published_wrong(incident, riverbend.comms)

    with pytest.raises(Invalid, match="Say what was wrong"):
        drafts.draft_correct(draft=original, by=riverbend.comms, note="  ")
    assert not Draft.objects.filter(corrects__isnull=False).exists()


def test_only_a_published_update_is_corrected(incident, riverbend):
    draft = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="families", channel="web"
    )

    with pytest.raises(Conflict, match="cannot be corrected"):
        drafts.draft_correct(draft=draft, by=riverbend.comms, note="Wrong day.")


def test_one_correction_at_a_time(incident, riverbend):
    original = published_wrong(incident, riverbend.comms)
    first = drafts.draft_correct(draft=original, by=riverbend.comms, note="Wrong day.")

    with pytest.raises(Conflict, match=f"draft {first.pk}"):
        drafts.draft_correct(draft=original, by=riverbend.comms, note="Wrong day again.")


def test_a_withdrawn_update_has_nothing_to_correct(incident, riverbend):
    original = published_wrong(incident, riverbend.comms)
    drafts.draft_withdraw(draft=original, by=riverbend.comms, reason="Sent too early")

    with pytest.raises(Conflict, match="withdrawn cannot be corrected"):
        drafts.draft_correct(draft=original, by=riverbend.comms, note="Wrong day.")


def test_the_editor_offers_a_correction_and_goes_to_it(incident, riverbend):
    original = published_wrong(incident, riverbend.comms)
    client = Client()
    client.force_login(riverbend.comms)

    assert (
        "Correct this published update"
        in client.get(f"/comms/drafts/{original.pk}/").content.decode()
    )
    response = client.post(f"/comms/drafts/{original.pk}/correct/", {"note": "Wrong day."})

    correction = Draft.objects.get(corrects__isnull=False)
    assert response.status_code == 302
    assert response["Location"] == f"/comms/drafts/{correction.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "What was wrong: Wrong day." in page


def test_the_editor_refuses_an_empty_note_and_keeps_the_update(incident, riverbend):
    original = published_wrong(incident, riverbend.comms)
    client = Client()
    client.force_login(riverbend.comms)

    response = client.post(f"/comms/drafts/{original.pk}/correct/", {"note": ""})

    assert response.status_code == 422
    assert "What was wrong" in response.content.decode()
    assert not Draft.objects.filter(corrects__isnull=False).exists()


def test_the_editor_refuses_a_correction_by_the_wrong_role(incident, riverbend):
    original = published_wrong(incident, riverbend.comms)
    client = Client()
    client.force_login(riverbend.legal)

    response = client.post(f"/comms/drafts/{original.pk}/correct/", {"note": "Wrong day."})

    assert response.status_code == 403
    assert not Draft.objects.filter(corrects__isnull=False).exists()
