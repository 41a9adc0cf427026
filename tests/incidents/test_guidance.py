"""Guidance, acknowledgements, questions, decisions, the briefing and the review."""

import pytest

from comms.models import Notification
from incidents import decisions, guidance, recovery
from incidents import services as incident_services
from incidents.errors import Invalid, Refused
from incidents.models import Decision, GuidanceAcknowledgement, GuidanceVersion, Question


@pytest.fixture
def incident(riverbend):
    return incident_services.incident_open(
        by=riverbend.cio,
        title="SIS down",
        kind="sis",
        severity=2,
        all_schools=False,
        schools=riverbend.schools[:2],
    )


def publish(incident, riverbend, today="Teach as planned."):
    return guidance.guidance_publish(incident=incident, by=riverbend.academics, today=today)


def test_publishing_guidance_numbers_versions_and_tells_principals(incident, riverbend):
    first = publish(incident, riverbend)
    second = publish(incident, riverbend, today="Teach as planned. Paper attendance.")

    assert (first.number, second.number) == (1, 2)
    told = Notification.objects.filter(recipient=riverbend.principal, channel="in_app")
    assert told.count() == 2


def test_guidance_starts_from_the_template_for_the_kind(incident):
    text = guidance.starting_text(incident)

    assert "paper" in text["today"].lower()


@pytest.mark.parametrize("role", ["cio", "comms", "legal", "principal", "board"])
def test_only_the_academic_lead_publishes(incident, riverbend, role):
    with pytest.raises(Refused):
        guidance.guidance_publish(incident=incident, by=getattr(riverbend, role), today="x")

    assert not GuidanceVersion.objects.exists()


def test_empty_or_oversized_guidance_is_refused(incident, riverbend):
    with pytest.raises(Invalid, match="what classrooms do today"):
        publish(incident, riverbend, today=" ")
    with pytest.raises(Invalid, match="limit is 4,000"):
        publish(incident, riverbend, today="x" * 4001)

    assert not GuidanceVersion.objects.exists()


def test_a_principal_acknowledges_for_their_school(incident, riverbend):
    publish(incident, riverbend)

    ack = guidance.guidance_acknowledge(
        incident=incident, school=riverbend.schools[0], by=riverbend.principal
    )

    assert (ack.version, ack.school) == (1, riverbend.schools[0])


def test_acknowledging_for_a_school_not_theirs_is_refused(incident, riverbend):
    publish(incident, riverbend)

    with pytest.raises(Refused, match="school you lead"):
        guidance.guidance_acknowledge(
            incident=incident, school=riverbend.schools[2], by=riverbend.principal
        )

    assert not GuidanceAcknowledgement.objects.exists()


def test_acknowledging_before_any_guidance_is_refused(incident, riverbend):
    with pytest.raises(Invalid, match="No guidance"):
        guidance.guidance_acknowledge(
            incident=incident, school=riverbend.schools[0], by=riverbend.principal
        )


def test_school_statuses_show_who_is_behind(incident, riverbend):
    publish(incident, riverbend)
    guidance.guidance_acknowledge(
        incident=incident, school=riverbend.schools[0], by=riverbend.principal
    )
    current = publish(incident, riverbend, today="New norms")

    statuses = guidance.school_statuses(incident, current)

    assert [(s.school, s.version, s.current) for s in statuses] == [
        (riverbend.schools[0], 1, False),
        (riverbend.schools[1], None, False),
    ]


def test_changes_since_a_version_list_added_and_removed_lines(incident, riverbend):
    publish(incident, riverbend, today="Teach as planned.")
    publish(incident, riverbend, today="Teach as planned.\nNo quizzes today.")

    changes = guidance.changes_since(incident, 1)

    assert changes == [("What classrooms do today", ["Added: No quizzes today."])]


def test_nudge_reminds_only_schools_behind(incident, riverbend):
    publish(incident, riverbend)
    guidance.guidance_acknowledge(
        incident=incident, school=riverbend.schools[0], by=riverbend.principal
    )

    behind = guidance.guidance_nudge(incident=incident, by=riverbend.academics)

    assert behind == [riverbend.schools[1]]


def test_questions_go_up_and_answers_join_the_next_version(incident, riverbend):
    publish(incident, riverbend)
    question = guidance.question_ask(
        incident=incident,
        school=riverbend.schools[0],
        by=riverbend.principal,
        text="Can we give the unit test on paper?",
    )
    guidance.question_answer(
        question=question, by=riverbend.academics, answer="Yes, on paper.", for_guidance=True
    )

    version = publish(incident, riverbend)

    assert "Q: Can we give the unit test on paper?\nA: Yes, on paper." in version.questions
    assert Question.objects.get().in_version == 2


@pytest.mark.parametrize("role", ["comms", "principal", "board"])
def test_answering_as_the_wrong_role_is_refused(incident, riverbend, role):
    question = guidance.question_ask(
        incident=incident, school=riverbend.schools[0], by=riverbend.principal, text="Why?"
    )

    with pytest.raises(Refused):
        guidance.question_answer(
            question=question, by=getattr(riverbend, role), answer="x", for_guidance=False
        )

    assert Question.objects.get().answer == ""


def test_decisions_are_recorded_by_the_owner_only(incident, riverbend):
    decisions.decision_record(
        incident=incident,
        by=riverbend.cio,
        text="Report cards delayed a week",
        decided_by="Superintendent",
        rationale="Grades cannot be verified",
        visibility="governance",
    )

    with pytest.raises(Refused):
        decisions.decision_record(
            incident=incident,
            by=riverbend.comms,
            text="x",
            decided_by="y",
            rationale="z",
            visibility="team",
        )
    assert Decision.objects.count() == 1


def test_the_review_opens_only_in_recovery(incident, riverbend):
    with pytest.raises(Invalid, match="opens when the incident moves to Recovery"):
        recovery.review_save(incident=incident, by=riverbend.cio, what_happened="x", why="y")

    incident_services.incident_enter_recovery(incident=incident, by=riverbend.cio)
    review = recovery.review_save(
        incident=incident,
        by=riverbend.technical,
        what_happened="A certificate expired.",
        why="No renewal reminder.",
    )
    action = recovery.followup_add(
        incident=incident,
        by=riverbend.cio,
        text="Add renewal reminders",
        owner=riverbend.technical,
        due_on=None,
    )
    recovery.followup_done(action=action, by=riverbend.technical)

    action.refresh_from_db()
    assert review.why == "No renewal reminder." and action.done_at is not None


@pytest.mark.parametrize("role", ["principal", "board"])
def test_the_review_is_closed_to_principal_and_board(incident, riverbend, role):
    incident_services.incident_enter_recovery(incident=incident, by=riverbend.cio)

    with pytest.raises(Refused):
        recovery.review_save(
            incident=incident, by=getattr(riverbend, role), what_happened="x", why="y"
        )


# --- Pages --------------------------------------------------------------------------------


def test_principal_page_shows_guidance_and_acknowledges(client, incident, riverbend):
    publish(incident, riverbend, today="Paper attendance today.")
    client.force_login(riverbend.principal)

    page = client.get("/incidents/guidance/").content.decode()
    response = client.post(
        f"/incidents/{incident.pk}/guidance/acknowledge/", {"school": riverbend.schools[0].pk}
    )

    assert "Paper attendance today." in page
    assert "Acknowledge version 1 for" in page
    assert response.status_code == 302
    assert GuidanceAcknowledgement.objects.filter(school=riverbend.schools[0]).exists()


def test_principal_acknowledging_another_school_is_refused(client, incident, riverbend):
    publish(incident, riverbend)
    client.force_login(riverbend.principal)

    response = client.post(
        f"/incidents/{incident.pk}/guidance/acknowledge/", {"school": riverbend.schools[2].pk}
    )

    assert response.status_code == 403
    assert not GuidanceAcknowledgement.objects.exists()


def test_principal_page_never_shows_drafts_or_the_log(client, incident, riverbend):
    from comms import drafts

    draft = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="staff", channel="email"
    )
    drafts.draft_edit(
        draft=draft, by=riverbend.comms, body="SECRET DRAFT TEXT", expected_revision=1
    )
    client.force_login(riverbend.principal)

    page = client.get("/incidents/guidance/").content.decode()

    assert "SECRET DRAFT TEXT" not in page
    assert "Timeline" not in page


def test_academics_dashboard_counts_schools_on_the_current_version(client, incident, riverbend):
    publish(incident, riverbend)
    guidance.guidance_acknowledge(
        incident=incident, school=riverbend.schools[0], by=riverbend.principal
    )
    client.force_login(riverbend.academics)

    page = client.get("/incidents/academics/").content.decode()

    assert "<strong>1 of 2</strong>" in page
    assert "Remind the schools not on version 1" in page


def test_guidance_edit_page_publishes(client, incident, riverbend):
    client.force_login(riverbend.academics)

    response = client.post(
        f"/incidents/{incident.pk}/guidance/edit/",
        {"today": "Teach from paper.", "can_wait": "", "simplify": "", "ask": "", "questions": ""},
    )

    assert response.status_code == 302
    assert GuidanceVersion.objects.get().today == "Teach from paper."


def test_guidance_edit_page_refuses_other_roles(client, incident, riverbend):
    client.force_login(riverbend.comms)

    response = client.post(f"/incidents/{incident.pk}/guidance/edit/", {"today": "x"})

    assert response.status_code == 403
    assert not GuidanceVersion.objects.exists()


def test_briefing_shows_only_approved_words_and_board_decisions(client, incident, riverbend):
    from datetime import timedelta

    from django.utils import timezone

    from comms import drafts

    decisions.decision_record(
        incident=incident,
        by=riverbend.cio,
        text="Board-visible decision",
        decided_by="CIO",
        rationale="r",
        visibility="governance",
    )
    decisions.decision_record(
        incident=incident,
        by=riverbend.cio,
        text="Team-only decision",
        decided_by="CIO",
        rationale="r",
        visibility="team",
    )
    draft = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="board", channel="email"
    )
    drafts.draft_edit(
        draft=draft, by=riverbend.comms, body="UNAPPROVED BOARD TEXT", expected_revision=1
    )
    approved = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="board", channel="email"
    )
    drafts.draft_edit(
        draft=approved, by=riverbend.comms, body="Approved board text.", expected_revision=1
    )
    drafts.draft_submit(draft=approved, by=riverbend.comms, expected_revision=2)
    drafts.draft_approve(draft=approved, by=riverbend.comms, expected_revision=2)
    drafts.draft_publish(
        draft=approved,
        by=riverbend.comms,
        expected_revision=2,
        promised_next_at=timezone.now() + timedelta(minutes=60),
    )
    client.force_login(riverbend.board)

    page = client.get("/incidents/briefing/").content.decode()

    assert "Board-visible decision" in page and "Approved board text." in page
    assert "Team-only decision" not in page
    assert "UNAPPROVED BOARD TEXT" not in page
    assert "Print this briefing" in page


def test_board_liaison_cannot_post_anything(client, incident, riverbend):
    client.force_login(riverbend.board)

    responses = [
        client.post(f"/incidents/{incident.pk}/decisions/", {"text": "x"}),
        client.post(f"/incidents/{incident.pk}/guidance/edit/", {"today": "x"}),
        client.post(f"/incidents/{incident.pk}/review/", {"what_happened": "x"}),
        client.post(
            f"/incidents/{incident.pk}/questions/", {"school": riverbend.schools[0].pk, "text": "x"}
        ),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert not Decision.objects.exists()


def test_closed_incident_shows_the_scorecard_on_the_briefing(client, incident, riverbend):
    incident_services.incident_enter_recovery(incident=incident, by=riverbend.cio)
    incident_services.incident_close(incident=incident, by=riverbend.cio)
    client.force_login(riverbend.board)

    page = client.get("/incidents/briefing/").content.decode()

    assert "Trust scorecard" in page
    assert "Staff heard before families" in page


def test_cio_sees_the_scorecard_on_the_incident_page(client, incident, riverbend):
    client.force_login(riverbend.cio)

    page = client.get(f"/incidents/{incident.pk}/").content.decode()

    assert "Trust scorecard" in page


def test_review_page_for_the_team_in_recovery(client, incident, riverbend):
    incident_services.incident_enter_recovery(incident=incident, by=riverbend.cio)
    client.force_login(riverbend.technical)

    response = client.post(
        f"/incidents/{incident.pk}/review/",
        {"form": "review", "what_happened": "Expired certificate", "why": "No reminder"},
    )
    page = client.get(f"/incidents/{incident.pk}/review/").content.decode()

    assert response.status_code == 302
    assert "Expired certificate" in page


def test_review_never_appears_on_the_public_status_page(client, incident, riverbend):
    incident_services.incident_enter_recovery(incident=incident, by=riverbend.cio)
    recovery.review_save(
        incident=incident, by=riverbend.cio, what_happened="PRIVATE REVIEW TEXT", why=""
    )

    page = client.get(f"/status/{riverbend.district.slug}/").content.decode()

    assert "PRIVATE REVIEW TEXT" not in page
