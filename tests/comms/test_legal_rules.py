"""Legal counsel is not the bottleneck of Phase 1: the district's rules for a student-data
incident name audiences and channels, paragraphs counsel approved ahead of time carry a draft
past review, and the legal dashboard shows how long each draft has waited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from comms import drafts, paragraphs
from comms.models import ApprovedParagraph, CommsPolicy, Draft
from incidents import services as incident_services
from incidents.errors import Invalid, Refused
from incidents.models import TimelineEntry

S = Draft.State
NOTE = "Staff: some student records may have been seen by someone outside the district."
ASK = "Send questions from families to the main office; do not discuss details."
NEXT = "We will send the next update {next_update}."


@pytest.fixture
def breach(riverbend):
    return incident_services.incident_open(
        by=riverbend.cio,
        title="Records exposed",
        kind="cyber",
        severity=1,
        all_schools=True,
        impacts=["student_data"],
    )


def submitted(incident, person, body=None, audience="staff", channel="email"):
    draft = drafts.draft_create(incident=incident, by=person, audience=audience, channel=channel)
    if body is not None:
        draft = drafts.draft_edit(draft=draft, by=person, body=body, expected_revision=1)
    return drafts.draft_submit(draft=draft, by=person, expected_revision=draft.revision)


def rules(district, **values):
    CommsPolicy.objects.update_or_create(district=district, defaults=values)


# --- Audiences and channels ------------------------------------------------------------------


def test_by_default_every_message_of_a_student_data_incident_goes_to_legal(breach, riverbend):
    assert submitted(breach, riverbend.comms).state == S.LEGAL_REVIEW


def test_a_staff_note_skips_legal_when_the_district_leaves_staff_out(breach, riverbend):
    rules(riverbend.district, student_data_audiences=["families", "media", "board"])

    staff = submitted(breach, riverbend.comms, audience="staff")
    families = submitted(breach, riverbend.comms, audience="families")

    assert (staff.state, families.state) == (S.IN_REVIEW, S.LEGAL_REVIEW)


def test_a_channel_the_district_leaves_out_skips_legal(breach, riverbend):
    rules(riverbend.district, student_data_channels=["email", "web", "voice"])

    text = submitted(breach, riverbend.comms, audience="families", channel="sms")
    email = submitted(breach, riverbend.comms, audience="families", channel="email")

    assert (text.state, email.state) == (S.IN_REVIEW, S.LEGAL_REVIEW)


def test_a_flag_still_sends_any_draft_to_legal(breach, riverbend):
    rules(riverbend.district, student_data_audiences=["families"])
    draft = drafts.draft_create(
        incident=breach, by=riverbend.comms, audience="staff", channel="email"
    )
    drafts.draft_flag_legal(draft=draft, by=riverbend.comms, flagged=True)

    assert drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1).state == (
        S.LEGAL_REVIEW
    )


# --- Paragraphs approved ahead of time -------------------------------------------------------


@pytest.fixture
def approved(riverbend):
    return [
        paragraphs.paragraph_approve(district=riverbend.district, by=riverbend.legal, text=text)
        for text in (NOTE, ASK, NEXT)
    ]


BUILT = f"{NOTE}\n\n{ASK}\n\nWe will send the next update at 2 pm."


def test_a_draft_made_only_of_approved_paragraphs_skips_legal(breach, riverbend, approved):
    assert submitted(breach, riverbend.comms, BUILT).state == S.IN_REVIEW


def test_spacing_and_paragraph_order_do_not_matter(breach, riverbend, approved):
    body = f"We will send the next update   tomorrow by 9 a.m.\n\n{ASK}\n\n{NOTE}"

    assert submitted(breach, riverbend.comms, body).state == S.IN_REVIEW


@pytest.mark.parametrize(
    "body",
    [
        BUILT + "\n\nThe attackers came in through an old laptop.",
        BUILT.replace("main office", "principal"),
        BUILT.replace("at 2 pm", "at 2 pm. The vendor is to blame"),
    ],
    ids=["a paragraph of its own", "a changed word", "words riding in the time"],
)
def test_any_other_word_sends_the_draft_to_legal(breach, riverbend, approved, body):
    assert submitted(breach, riverbend.comms, body).state == S.LEGAL_REVIEW


def test_a_retired_paragraph_covers_nothing_even_for_a_draft_already_in_review(
    breach, riverbend, approved
):
    draft = submitted(breach, riverbend.comms, BUILT)

    paragraphs.paragraph_retire(paragraph=approved[0], by=riverbend.legal)

    with pytest.raises(Invalid, match="needs legal review"):
        drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=2)


@pytest.mark.parametrize("role", ["comms", "cio", "academics"])
def test_only_legal_approves_paragraphs(riverbend, role):
    with pytest.raises(Refused, match="legal counsel approves"):
        paragraphs.paragraph_approve(
            district=riverbend.district, by=getattr(riverbend, role), text=NOTE
        )
    assert not ApprovedParagraph.objects.exists()


def test_legal_of_another_district_cannot_retire(riverbend, lakeshore, approved):
    with pytest.raises(Refused):
        paragraphs.paragraph_retire(paragraph=approved[0], by=lakeshore.legal)
    approved[0].refresh_from_db()
    assert approved[0].retired_at is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("What we know: {known}", "{known} cannot stand in an approved paragraph"),
        (f"{NOTE}\n\n{ASK}", "one paragraph at a time"),
        ("   ", "Write the paragraph you approve"),
    ],
)
def test_a_paragraph_legal_cannot_approve_is_refused_with_what_to_fix(riverbend, text, message):
    with pytest.raises(Invalid, match=message):
        paragraphs.paragraph_approve(district=riverbend.district, by=riverbend.legal, text=text)


def test_legal_approves_and_retires_on_the_templates_page(riverbend):
    client = Client()
    client.force_login(riverbend.legal)

    response = client.post("/comms/templates/", {"form": "paragraph", "text": NOTE})
    paragraph = ApprovedParagraph.objects.get()
    page = client.get("/comms/templates/").content.decode()
    retired = client.post("/comms/templates/", {"form": "retire", "paragraph": paragraph.pk})

    assert response.status_code == 302 and NOTE in page
    assert retired.status_code == 302
    paragraph.refresh_from_db()
    assert paragraph.retired_by == riverbend.legal


def test_the_templates_page_refuses_paragraphs_from_the_communications_lead(riverbend):
    client = Client()
    client.force_login(riverbend.comms)

    response = client.post("/comms/templates/", {"form": "paragraph", "text": NOTE})

    assert response.status_code == 403
    assert not ApprovedParagraph.objects.exists()


def test_the_templates_page_says_what_to_fix_in_a_paragraph(riverbend):
    client = Client()
    client.force_login(riverbend.legal)

    response = client.post("/comms/templates/", {"form": "paragraph", "text": "{doing}"})

    assert response.status_code == 422
    assert "{doing} cannot stand in an approved paragraph" in response.content.decode()
    assert not ApprovedParagraph.objects.exists()


def test_the_editor_says_a_draft_made_of_approved_paragraphs_needs_no_review(
    breach, riverbend, approved
):
    draft = drafts.draft_create(
        incident=breach, by=riverbend.comms, audience="staff", channel="email"
    )
    drafts.draft_edit(draft=draft, by=riverbend.comms, body=BUILT, expected_revision=1)
    client = Client()
    client.force_login(riverbend.comms)

    page = client.get(f"/comms/drafts/{draft.pk}/").content.decode()

    assert "Made of paragraphs legal approved: no review needed" in page
    assert "Paragraphs legal approved (3)" in page


# --- How long legal review takes -------------------------------------------------------------


def test_the_legal_dashboard_shows_how_long_each_draft_has_waited(breach, riverbend):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        older = submitted(breach, riverbend.comms, audience="families")
        clock.move_to(start + timedelta(minutes=10))
        newer = submitted(breach, riverbend.comms, audience="media")
        clock.move_to(start + timedelta(minutes=35))
        client = Client()
        client.force_login(riverbend.legal)

        page = client.get("/comms/legal/").content.decode()

    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "waiting 35 min" in text and "waiting 25 min" in text
    assert page.index(f"/comms/drafts/{older.pk}/") < page.index(f"/comms/drafts/{newer.pk}/")


def test_clearing_records_how_long_the_draft_waited(breach, riverbend):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        draft = submitted(breach, riverbend.comms, audience="families")
        clock.move_to(start + timedelta(minutes=42))
        drafts.draft_legal_clear(draft=draft, by=riverbend.legal, expected_revision=1)

    draft.refresh_from_db()
    entry = TimelineEntry.objects.filter(incident=breach, kind="draft.legal_cleared").get()
    assert entry.summary.endswith("cleared by legal, after 42 min in legal review")
    assert draft.legal_since is None
