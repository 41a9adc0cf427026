"""The draft workflow: every transition and every refusal."""

from datetime import timedelta
from threading import Barrier, Thread

import pytest
from django.db import connection, connections
from django.utils import timezone

from comms import drafters, drafts, policy
from comms import facts as fact_sheet
from comms.models import (
    AudienceClock,
    CommsPolicy,
    Dispatch,
    Draft,
    MessageTemplate,
    PublishedUpdate,
    WarningAcknowledgement,
)
from incidents import services as incident_services
from incidents.errors import Conflict, Invalid, Refused
from incidents.models import TimelineEntry
from tests.factories import open_exercise

S = Draft.State


@pytest.fixture
def incident(riverbend):
    return incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )


@pytest.fixture
def facts(incident, riverbend):
    return fact_sheet.fact_sheet_revise(
        incident=incident,
        by=riverbend.comms,
        expected_number=0,
        known="Grades cannot be viewed today.",
        unknown="When access returns.",
        doing="Working with the provider.",
        should_do="Teach as planned; record grades on paper.",
        next_update="at 2 pm",
    )


def new_draft(incident, riverbend, audience="staff", channel="email"):
    return drafts.draft_create(
        incident=incident, by=riverbend.comms, audience=audience, channel=channel
    )


def approved(incident, riverbend, audience="staff", channel="email"):
    draft = new_draft(incident, riverbend, audience, channel)
    draft = drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    return drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=1)


def publish(draft, riverbend, minutes=30, **kwargs):
    return drafts.draft_publish(
        draft=draft,
        by=riverbend.comms,
        expected_revision=draft.revision,
        promised_next_at=timezone.now() + timedelta(minutes=minutes),
        **kwargs,
    )


# --- Fact sheet -------------------------------------------------------------------------


def test_fact_sheet_revisions_are_kept(incident, facts, riverbend):
    second = fact_sheet.fact_sheet_revise(
        incident=incident, by=riverbend.cio, expected_number=1, known="Access is back for staff."
    )

    assert [r.number for r in incident.fact_sheets.all()] == [2, 1]
    assert second.author == riverbend.cio
    assert incident.fact_sheets.get(number=1).known == "Grades cannot be viewed today."


def test_fact_sheet_edit_on_a_stale_revision_is_refused(incident, facts, riverbend):
    with pytest.raises(Conflict, match="revision 1"):
        fact_sheet.fact_sheet_revise(
            incident=incident, by=riverbend.cio, expected_number=0, known="x"
        )

    assert incident.fact_sheets.count() == 1


@pytest.mark.parametrize("role", ["academics", "legal", "technical", "board", "principal"])
def test_only_owner_and_comms_edit_the_fact_sheet(incident, riverbend, role):
    with pytest.raises(Refused):
        fact_sheet.fact_sheet_revise(
            incident=incident, by=getattr(riverbend, role), expected_number=0, known="x"
        )


# --- Creating and editing -----------------------------------------------------------------


def test_a_draft_starts_from_the_template_filled_from_the_fact_sheet(incident, facts, riverbend):
    MessageTemplate.objects.create(
        district=riverbend.district,
        kind="sis",
        audience="families",
        body="Families: {known} Next: {next_update}.",
    )

    draft = new_draft(incident, riverbend, audience="families")

    body = draft.revisions.get().body
    assert body == "Families: Grades cannot be viewed today. Next: at 2 pm."
    assert draft.state == S.DRAFT and draft.revision == 1


def test_a_district_template_for_any_kind_is_used_when_none_matches(incident, facts, riverbend):
    MessageTemplate.objects.create(
        district=riverbend.district, kind="any", audience="staff", body="Staff: {doing}"
    )

    draft = new_draft(incident, riverbend)

    assert draft.revisions.get().body == "Staff: Working with the provider."


def test_without_a_fact_sheet_the_gaps_are_marked(incident, riverbend):
    draft = new_draft(incident, riverbend)

    assert "[known]" in draft.revisions.get().body


def test_editing_makes_a_new_revision(incident, riverbend):
    draft = new_draft(incident, riverbend)

    draft = drafts.draft_edit(draft=draft, by=riverbend.comms, body="New text", expected_revision=1)

    assert draft.revision == 2
    assert list(draft.revisions.values_list("number", flat=True)) == [2, 1]


def test_editing_approved_text_needs_approval_again(incident, riverbend):
    draft = approved(incident, riverbend)

    draft = drafts.draft_edit(draft=draft, by=riverbend.comms, body="Changed", expected_revision=1)

    assert draft.state == S.DRAFT and draft.approved_revision == 1 and draft.revision == 2
    with pytest.raises(Conflict):
        publish(draft, riverbend)


def test_editing_on_a_stale_revision_is_refused_and_keeps_both_texts(incident, riverbend):
    draft = new_draft(incident, riverbend)
    drafts.draft_edit(draft=draft, by=riverbend.comms, body="First edit", expected_revision=1)

    with pytest.raises(Conflict, match="revision 2 is the latest"):
        drafts.draft_edit(draft=draft, by=riverbend.cio, body="Second edit", expected_revision=1)

    assert draft.revisions.get(number=2).body == "First edit"
    assert draft.revisions.count() == 2


@pytest.mark.parametrize(("body", "message"), [("   ", "empty"), ("x" * 10001, "limit is 10,000")])
def test_empty_or_oversized_text_is_refused(incident, riverbend, body, message):
    draft = new_draft(incident, riverbend)

    with pytest.raises(Invalid, match=message):
        drafts.draft_edit(draft=draft, by=riverbend.comms, body=body, expected_revision=1)

    assert draft.revisions.count() == 1


def test_markup_is_kept_as_plain_text(incident, riverbend):
    draft = new_draft(incident, riverbend)

    drafts.draft_edit(
        draft=draft, by=riverbend.comms, body="<script>alert(1)</script>", expected_revision=1
    )

    assert draft.revisions.get(number=2).body == "<script>alert(1)</script>"


@pytest.mark.parametrize("role", ["academics", "legal", "technical", "board", "principal"])
def test_other_roles_cannot_draft(incident, riverbend, role):
    with pytest.raises(Refused):
        drafts.draft_create(
            incident=incident, by=getattr(riverbend, role), audience="staff", channel="email"
        )


# --- Review, legal review and approval ----------------------------------------------------


def test_submit_goes_to_review(incident, riverbend):
    draft = new_draft(incident, riverbend)

    draft = drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)

    assert draft.state == S.IN_REVIEW


def test_flagged_draft_goes_to_legal_and_legal_clears_it(incident, riverbend):
    draft = new_draft(incident, riverbend)
    drafts.draft_flag_legal(draft=draft, by=riverbend.comms, flagged=True)

    draft = drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    assert draft.state == S.LEGAL_REVIEW
    with pytest.raises(Conflict):
        drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=1)

    draft = drafts.draft_legal_clear(draft=draft, by=riverbend.legal, expected_revision=1)
    draft = drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=1)

    assert draft.state == S.APPROVED and draft.legal_cleared_revision == 1


def test_student_data_incidents_need_legal_by_district_rule(riverbend):
    incident = incident_services.incident_open(
        by=riverbend.cio,
        title="Breach",
        kind="cyber",
        severity=1,
        all_schools=True,
        impacts=["student_data"],
    )
    draft = new_draft(incident, riverbend)

    draft = drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)

    assert draft.state == S.LEGAL_REVIEW


def test_audience_rule_sends_media_drafts_to_legal(incident, riverbend):
    CommsPolicy.objects.filter(district=riverbend.district).update(legal_audiences=["media"])
    draft = new_draft(incident, riverbend, audience="media")

    draft = drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)

    assert draft.state == S.LEGAL_REVIEW


def test_a_pre_reviewed_template_covers_the_audience_rule(incident, riverbend):
    CommsPolicy.objects.filter(district=riverbend.district).update(legal_audiences=["media"])
    template = fact_sheet.template_save(
        district=riverbend.district,
        by=riverbend.comms,
        kind="any",
        audience="media",
        body="{known}",
    )
    fact_sheet.template_mark_reviewed(template=template, by=riverbend.legal)
    draft = new_draft(incident, riverbend, audience="media")

    draft = drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)

    assert draft.state == S.IN_REVIEW


def test_editing_a_template_clears_its_pre_review(riverbend):
    template = fact_sheet.template_save(
        district=riverbend.district, by=riverbend.comms, kind="any", audience="media", body="A"
    )
    fact_sheet.template_mark_reviewed(template=template, by=riverbend.legal)

    template = fact_sheet.template_save(
        district=riverbend.district, by=riverbend.comms, kind="any", audience="media", body="B"
    )

    assert not template.pre_reviewed_by_legal


def test_only_legal_marks_templates_reviewed(riverbend):
    template = fact_sheet.template_save(
        district=riverbend.district, by=riverbend.cio, kind="any", audience="media", body="A"
    )

    with pytest.raises(Refused):
        fact_sheet.template_mark_reviewed(template=template, by=riverbend.comms)


def test_legal_returns_with_a_note_and_the_writer_sees_it(incident, riverbend):
    draft = new_draft(incident, riverbend)
    drafts.draft_flag_legal(draft=draft, by=riverbend.comms, flagged=True)
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)

    draft = drafts.draft_return(
        draft=draft, by=riverbend.legal, note="Do not name the vendor.", expected_revision=1
    )

    assert draft.state == S.DRAFT
    assert "Do not name the vendor." in draft.return_note
    assert TimelineEntry.objects.filter(kind="draft.returned").exists()


def test_a_return_needs_a_note(incident, riverbend):
    draft = new_draft(incident, riverbend)
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)

    with pytest.raises(Invalid, match="Say what needs to change"):
        drafts.draft_return(draft=draft, by=riverbend.comms, note=" ", expected_revision=1)


@pytest.mark.parametrize("role", ["cio", "academics", "legal", "technical", "board", "principal"])
def test_only_the_communications_lead_approves(incident, riverbend, role):
    draft = new_draft(incident, riverbend)
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)

    with pytest.raises(Refused):
        drafts.draft_approve(draft=draft, by=getattr(riverbend, role), expected_revision=1)

    assert Draft.objects.get(pk=draft.pk).state == S.IN_REVIEW


@pytest.mark.parametrize("role", ["cio", "comms", "academics"])
def test_only_legal_clears_legal_review(incident, riverbend, role):
    draft = new_draft(incident, riverbend)
    drafts.draft_flag_legal(draft=draft, by=riverbend.comms, flagged=True)
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)

    with pytest.raises(Refused):
        drafts.draft_legal_clear(draft=draft, by=getattr(riverbend, role), expected_revision=1)


def test_legal_of_another_district_cannot_clear(incident, riverbend, lakeshore):
    draft = new_draft(incident, riverbend)
    drafts.draft_flag_legal(draft=draft, by=riverbend.comms, flagged=True)
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)

    with pytest.raises(Refused):
        drafts.draft_legal_clear(draft=draft, by=lakeshore.legal, expected_revision=1)


def test_approving_a_stale_revision_is_refused(incident, riverbend):
    draft = new_draft(incident, riverbend)
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    drafts.draft_edit(draft=draft, by=riverbend.cio, body="Newer", expected_revision=1)
    drafts.draft_submit(draft=draft, by=riverbend.cio, expected_revision=2)

    with pytest.raises(Conflict, match="revision 2 is the latest"):
        drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=1)

    assert Draft.objects.get(pk=draft.pk).approved_revision is None


def test_approving_twice_is_refused(incident, riverbend):
    draft = approved(incident, riverbend)

    with pytest.raises(Conflict, match="approved cannot be approved"):
        drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=1)


@pytest.mark.django_db(transaction=True)
def test_two_people_approving_at_once_cannot_both_win(riverbend):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL; run with DATABASE_URL set")
    incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    second_lead = type(riverbend.comms).objects.create(
        username="comms-2", district=riverbend.district
    )
    second_lead.role_grants.create(role="communications")
    draft = new_draft(incident, riverbend)
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    barrier, outcomes = Barrier(2), []

    def approve(person):
        try:
            barrier.wait()
            drafts.draft_approve(draft=draft, by=person, expected_revision=1)
            outcomes.append("won")
        except Conflict:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [Thread(target=approve, args=(p,)) for p in (riverbend.comms, second_lead)]
    [t.start() for t in threads]
    [t.join() for t in threads]

    assert sorted(outcomes) == ["refused", "won"]
    assert TimelineEntry.objects.filter(kind="draft.approved").count() == 1


# --- Publishing ---------------------------------------------------------------------------


def test_publishing_records_it_and_restarts_the_clock(incident, riverbend):
    draft = approved(incident, riverbend)

    update = publish(draft, riverbend, minutes=40)

    draft.refresh_from_db()
    assert draft.state == S.PUBLISHED
    assert (update.channel, update.revision, update.published_by) == ("email", 1, riverbend.comms)
    clock = AudienceClock.objects.get(incident=incident, audience="staff")
    assert clock.last_published_at == update.published_at
    assert clock.next_update_due_at == update.promised_next_at


def approved_text(incident, riverbend, body: str):
    draft = new_draft(incident, riverbend)
    draft = drafts.draft_edit(draft=draft, by=riverbend.comms, body=body, expected_revision=1)
    draft = drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=2)
    return drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=2)


def test_a_text_naming_another_next_update_time_is_held_back(incident, riverbend):
    """The status page shows the promised time; a text saying otherwise contradicts it."""
    promised = timezone.localtime(timezone.now() + timedelta(minutes=55), riverbend.district.zone)
    stated = promised + timedelta(hours=3)
    draft = approved_text(
        incident, riverbend, f"Grades cannot be viewed. Next update by {stated:%-I:%M %p}."
    )

    with pytest.raises(Invalid, match="promised next update is"):
        publish(draft, riverbend, minutes=55)

    draft.refresh_from_db()
    assert draft.state == S.APPROVED and not PublishedUpdate.objects.exists()
    update = publish(draft, riverbend, minutes=55, keep_promised_time=True)
    assert update.promised_next_at.replace(second=0, microsecond=0) == promised.replace(
        second=0, microsecond=0
    )
    assert (
        "names another next-update time"
        in TimelineEntry.objects.get(kind="draft.published").summary
    )


def test_a_text_naming_the_promised_time_publishes(incident, riverbend):
    promised = timezone.localtime(timezone.now() + timedelta(minutes=55), riverbend.district.zone)
    draft = approved_text(
        incident, riverbend, f"Grades cannot be viewed. Next update by {promised:%-I:%M %p}."
    )

    update = publish(draft, riverbend, minutes=55)

    assert update.summary.endswith(f"{promised:%-I:%M %p}.")


def test_publishing_without_approval_is_refused(incident, riverbend):
    draft = new_draft(incident, riverbend)

    with pytest.raises(Conflict, match="cannot be published"):
        publish(draft, riverbend)

    assert not PublishedUpdate.objects.exists()


def test_publishing_without_a_next_update_time_in_range_is_refused(incident, riverbend):
    draft = approved(incident, riverbend)

    with pytest.raises(Invalid, match="in the future"):
        publish(draft, riverbend, minutes=-1)

    assert Draft.objects.get(pk=draft.pk).state == S.APPROVED
    assert not PublishedUpdate.objects.exists()


def test_staff_hear_first(incident, riverbend):
    families = approved(incident, riverbend, audience="families")

    with pytest.raises(Invalid, match="Staff hear first"):
        publish(families, riverbend)

    publish(approved(incident, riverbend, audience="staff"), riverbend)
    update = publish(families, riverbend)
    assert update.audience == "families" and not update.staff_first_override


def test_a_reason_given_when_staff_have_heard_is_not_an_override(incident, riverbend):
    """Whether staff heard first is decided before the update is recorded, not after it,
    when the new families update would count as the latest and hide the staff one."""
    publish(approved(incident, riverbend, audience="staff"), riverbend)
    families = approved(incident, riverbend, audience="families")

    update = publish(families, riverbend, override_reason="Just in case")

    assert update.staff_first_override == ""
    assert "overridden" not in TimelineEntry.objects.filter(kind="draft.published").last().summary


def test_staff_first_can_be_overridden_with_a_reason(incident, riverbend):
    media = approved(incident, riverbend, audience="media")

    update = publish(media, riverbend, override_reason="Reporters are at the school gate")

    assert update.staff_first_override == "Reporters are at the school gate"
    entry = TimelineEntry.objects.get(kind="draft.published")
    assert "staff-first overridden" in entry.summary


def test_publishing_queues_delivery_to_the_district_lists(
    incident, riverbend, sms_outbox, django_capture_on_commit_callbacks
):
    CommsPolicy.objects.filter(district=riverbend.district).update(
        sms_lists={"staff": ["+15555550199", "+15555550198"]}
    )
    draft = approved(incident, riverbend, channel="sms")

    with django_capture_on_commit_callbacks(execute=True):
        publish(draft, riverbend)

    assert sorted(c["to"] for c in sms_outbox.calls) == ["+15555550198", "+15555550199"]
    assert set(Dispatch.objects.values_list("status", flat=True)) == {"sent"}


def test_exercises_deliver_nothing_outside(
    riverbend, sms_outbox, django_capture_on_commit_callbacks
):
    CommsPolicy.objects.filter(district=riverbend.district).update(
        sms_lists={"staff": ["+15555550199"]}
    )
    exercise = open_exercise(riverbend)
    draft = approved(exercise, riverbend, channel="sms")

    with django_capture_on_commit_callbacks(execute=True):
        publish(draft, riverbend, minutes=0.5)  # 30 minutes on the 60x exercise clock

    assert sms_outbox.calls == []
    assert set(Dispatch.objects.values_list("status", flat=True)) == {"suppressed"}


@pytest.mark.parametrize("role", ["cio", "legal", "academics"])
def test_only_the_communications_lead_publishes(incident, riverbend, role):
    draft = approved(incident, riverbend)

    with pytest.raises(Refused):
        drafts.draft_publish(
            draft=draft,
            by=getattr(riverbend, role),
            expected_revision=1,
            promised_next_at=timezone.now() + timedelta(minutes=30),
        )


def test_withdrawing_a_published_update_marks_it(incident, riverbend):
    draft = approved(incident, riverbend)
    update = publish(draft, riverbend)

    drafts.draft_withdraw(draft=draft, by=riverbend.comms, reason="Wrong school named")

    update.refresh_from_db()
    assert update.withdrawn_at is not None
    assert Draft.objects.get(pk=draft.pk).state == S.WITHDRAWN


def test_a_withdrawal_needs_a_reason(incident, riverbend):
    draft = new_draft(incident, riverbend)

    with pytest.raises(Invalid, match="reason"):
        drafts.draft_withdraw(draft=draft, by=riverbend.comms, reason="")


def test_warning_acknowledgements_are_kept_per_revision(incident, riverbend):
    draft = new_draft(incident, riverbend)

    drafts.warning_acknowledge(
        draft=draft,
        by=riverbend.comms,
        code="jargon",
        note="Staff know the term SIS.",
        expected_revision=1,
    )

    ack = WarningAcknowledgement.objects.get()
    assert (ack.revision.number, ack.code, ack.note) == (1, "jargon", "Staff know the term SIS.")


def test_student_data_incidents_get_statutory_notice_clocks(riverbend):
    CommsPolicy.objects.filter(district=riverbend.district).update(notice_days=[10, 30])

    incident = incident_services.incident_open(
        by=riverbend.cio,
        title="Breach",
        kind="cyber",
        severity=1,
        all_schools=True,
        impacts=["student_data"],
    )

    assert [(n.days, n.due_at - incident.declared_at) for n in incident.notices.all()] == [
        (10, timedelta(days=10)),
        (30, timedelta(days=30)),
    ]


def test_legal_records_a_notice_once(riverbend):
    CommsPolicy.objects.filter(district=riverbend.district).update(notice_days=[10])
    incident = incident_services.incident_open(
        by=riverbend.cio,
        title="Breach",
        kind="cyber",
        severity=1,
        all_schools=True,
        impacts=["student_data"],
    )
    notice = incident.notices.get()

    policy.notice_mark_given(notice=notice, by=riverbend.legal, note="Letters mailed to families")

    with pytest.raises(Invalid, match="already"):
        policy.notice_mark_given(notice=notice, by=riverbend.legal, note="again")
    with pytest.raises(Refused):
        policy.notice_mark_given(notice=incident.notices.get(), by=riverbend.comms, note="x")


def test_a_named_drafter_writes_and_submits_but_cannot_approve(incident, riverbend):
    drafters.drafter_name(incident=incident, by=riverbend.comms, user=riverbend.academics)

    draft = drafts.draft_create(
        incident=incident, by=riverbend.academics, audience="staff", channel="email"
    )
    drafts.draft_submit(draft=draft, by=riverbend.academics, expected_revision=1)

    with pytest.raises(Refused):
        drafts.draft_approve(draft=draft, by=riverbend.academics, expected_revision=1)
    assert TimelineEntry.objects.filter(kind="drafter.named").exists()


def test_only_the_communications_lead_names_drafters(incident, riverbend):
    with pytest.raises(Refused):
        drafters.drafter_name(incident=incident, by=riverbend.cio, user=riverbend.academics)


def test_a_drafter_must_be_on_the_response_team(incident, riverbend):
    with pytest.raises(Invalid, match="response team"):
        drafters.drafter_name(incident=incident, by=riverbend.comms, user=riverbend.principal)


def test_a_removed_drafter_can_no_longer_draft(incident, riverbend):
    drafters.drafter_name(incident=incident, by=riverbend.comms, user=riverbend.academics)
    drafters.drafter_remove(incident=incident, by=riverbend.comms, user=riverbend.academics)

    with pytest.raises(Refused):
        drafts.draft_create(
            incident=incident, by=riverbend.academics, audience="staff", channel="email"
        )


def test_a_drafts_checks_run_once_for_the_same_text_and_context(incident, riverbend, monkeypatch):
    from comms import discipline, selectors

    selectors._checked.cache_clear()
    calls = []
    real = discipline.check
    monkeypatch.setattr(discipline, "check", lambda **kw: calls.append(kw) or real(**kw))
    draft = new_draft(incident, riverbend, audience="families")
    body = "We think a vendor caused it. It will be fixed by noon."

    first = selectors.findings_for(draft, body)
    again = selectors.findings_for(draft, body)
    other = selectors.findings_for(draft, body + " Next update at 2 pm.")

    assert len(calls) == 2, "the same text in the same context was checked twice"
    assert first == again and {f.code for f in first} >= {"restoration_promise"}
    assert other != first
