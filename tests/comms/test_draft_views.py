"""The draft editor, fact sheet, templates, legal and public pages, through HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from comms import drafts
from comms.models import CommsPolicy, Draft, DraftRevision, MessageTemplate, PublishedUpdate
from incidents import services as incident_services
from tests.factories import open_exercise


@pytest.fixture
def incident(riverbend):
    return incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )


@pytest.fixture
def draft(incident, riverbend):
    return drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="staff", channel="email"
    )


def act(client, draft, action, **data):
    return client.post(f"/comms/drafts/{draft.pk}/{action}/", data)


def test_comms_starts_a_draft_from_the_incident_page(client, incident, riverbend):
    client.force_login(riverbend.comms)

    response = client.post(
        f"/comms/incidents/{incident.pk}/drafts/new/", {"audience": "families", "channel": "sms"}
    )

    draft = Draft.objects.get()
    assert response["Location"] == f"/comms/drafts/{draft.pk}/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"Text message:" in page.content  # the SMS segment counter


def test_the_editor_shows_warnings_for_the_saved_text(client, draft, riverbend):
    drafts.draft_edit(
        draft=draft,
        by=riverbend.comms,
        expected_revision=1,
        body="The vendor's fault: we believe the cause was a bad update. Back by 3 pm.",
    )
    client.force_login(riverbend.comms)

    page = client.get(f"/comms/drafts/{draft.pk}/").content.decode()

    assert "Warning:" in page
    assert "No warnings." not in page


def test_live_check_returns_only_the_warnings_panel(client, draft, riverbend):
    client.force_login(riverbend.comms)

    response = client.post(f"/comms/drafts/{draft.pk}/check/", {"body": "It is not our fault."})

    assert response.status_code == 200
    assert b'id="warnings"' in response.content and b"<html" not in response.content
    assert b"Warning:" in response.content


def test_a_long_catch_up_after_the_families_promise_passed_is_warned(client, incident, riverbend):
    """The silence comes from the audience's own clock: its promised time has passed."""
    import time_machine

    from comms.models import AudienceClock

    families = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="families", channel="email"
    )
    body = "Families, the student portal is down. Next update at 2 pm." + (
        " Here is the long story of what happened overnight." * 20
    )
    due = AudienceClock.objects.get(incident=incident, audience="families").next_update_due_at
    client.force_login(riverbend.comms)

    with time_machine.travel(due - timedelta(minutes=5)):
        on_time = client.post(f"/comms/drafts/{families.pk}/check/", {"body": body})
    with time_machine.travel(due + timedelta(hours=2)):
        late = client.post(f"/comms/drafts/{families.pk}/check/", {"body": body})

    assert b"Long catch-up after a silence" not in on_time.content
    assert b"Long catch-up after a silence" in late.content


def test_saving_makes_a_new_revision(client, draft, riverbend):
    client.force_login(riverbend.comms)

    response = client.post(
        f"/comms/drafts/{draft.pk}/", {"body": "Short and clear.", "expected_revision": "1"}
    )

    assert response.status_code == 302
    assert DraftRevision.objects.filter(draft=draft).count() == 2


def test_saving_over_a_newer_revision_is_a_conflict_and_keeps_the_text(client, draft, riverbend):
    drafts.draft_edit(draft=draft, by=riverbend.cio, body="CIO's edit", expected_revision=1)
    client.force_login(riverbend.comms)

    response = client.post(
        f"/comms/drafts/{draft.pk}/", {"body": "My edit", "expected_revision": "1"}
    )

    assert response.status_code == 409
    assert b"revision 2 is the latest" in response.content
    assert b"My edit" in response.content  # the writer's text is not lost
    assert DraftRevision.objects.get(draft=draft, number=2).body == "CIO's edit"


def test_oversized_text_is_refused_with_a_message(client, draft, riverbend):
    client.force_login(riverbend.comms)

    response = client.post(
        f"/comms/drafts/{draft.pk}/", {"body": "x" * 10001, "expected_revision": "1"}
    )

    assert response.status_code == 422
    assert b"at most 10000 characters" in response.content
    assert DraftRevision.objects.filter(draft=draft).count() == 1


def test_markup_is_stored_as_text_and_shown_escaped(client, draft, riverbend):
    client.force_login(riverbend.comms)
    client.post(
        f"/comms/drafts/{draft.pk}/",
        {"body": "<script>alert('x')</script>", "expected_revision": "1"},
    )

    page = client.get(f"/comms/drafts/{draft.pk}/")

    assert b"<script>alert(" not in page.content
    assert b"&lt;script&gt;" in page.content
    assert DraftRevision.objects.get(draft=draft, number=2).body == "<script>alert('x')</script>"


def test_the_whole_workflow_through_the_pages(client, draft, riverbend):
    client.force_login(riverbend.comms)
    assert act(client, draft, "flag", expected_revision=1).status_code == 302
    assert act(client, draft, "submit", expected_revision=1).status_code == 302
    client.force_login(riverbend.legal)
    assert (
        act(
            client, draft, "return", note="Remove the vendor's name", expected_revision=1
        ).status_code
        == 302
    )
    client.force_login(riverbend.comms)
    client.post(
        f"/comms/drafts/{draft.pk}/",
        {"body": "Staff: the SIS is down. Next update tomorrow at 2 pm.", "expected_revision": "1"},
    )
    act(client, draft, "submit", expected_revision=2)
    client.force_login(riverbend.legal)
    assert act(client, draft, "clear", expected_revision=2).status_code == 302
    client.force_login(riverbend.comms)
    assert act(client, draft, "approve", expected_revision=2).status_code == 302

    # The text says tomorrow at 2 pm; the promise is 30 minutes away: the page offers to keep it.
    held = act(client, draft, "publish", expected_revision=2, next_update_in=30)
    assert held.status_code == 422
    assert "promised next update is" in held.content.decode()
    assert 'name="keep_promised_time"' in held.content.decode()
    response = act(
        client, draft, "publish", expected_revision=2, next_update_in=30, keep_promised_time="on"
    )

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == "published"
    assert PublishedUpdate.objects.get().summary.startswith("Staff: the SIS is down.")


def test_approving_a_stale_revision_through_the_page_is_a_conflict(client, draft, riverbend):
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    drafts.draft_edit(draft=draft, by=riverbend.cio, body="Newer", expected_revision=1)
    drafts.draft_submit(draft=draft, by=riverbend.cio, expected_revision=2)
    client.force_login(riverbend.comms)

    response = act(client, draft, "approve", expected_revision=1)

    assert response.status_code == 409
    assert Draft.objects.get(pk=draft.pk).state == "in_review"


@pytest.mark.parametrize("role", ["cio", "legal"])
def test_approval_as_the_wrong_role_is_forbidden(client, draft, riverbend, role):
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    client.force_login(getattr(riverbend, role))

    response = act(client, draft, "approve", expected_revision=1)

    assert response.status_code == 403
    assert Draft.objects.get(pk=draft.pk).state == "in_review"


def test_publishing_without_a_next_update_is_refused(client, draft, riverbend):
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=1)
    client.force_login(riverbend.comms)

    response = act(client, draft, "publish", expected_revision=1)

    assert response.status_code == 422
    assert b"Promise the next update" in response.content
    assert not PublishedUpdate.objects.exists()


def test_publishing_before_approval_is_refused(client, draft, riverbend):
    client.force_login(riverbend.comms)

    response = act(client, draft, "publish", expected_revision=1, next_update_in=30)

    assert response.status_code == 409
    assert not PublishedUpdate.objects.exists()


@pytest.mark.parametrize("role", ["academics", "technical", "board", "principal"])
def test_drafts_are_hidden_from_other_roles(client, draft, riverbend, role):
    client.force_login(getattr(riverbend, role))

    assert client.get(f"/comms/drafts/{draft.pk}/").status_code == 403
    assert client.post(f"/comms/drafts/{draft.pk}/check/", {"body": "x"}).status_code == 403


def test_another_district_cannot_see_a_draft(client, draft, lakeshore):
    client.force_login(lakeshore.comms)

    assert client.get(f"/comms/drafts/{draft.pk}/").status_code == 404


def test_unknown_step_is_not_found(client, draft, riverbend):
    client.force_login(riverbend.comms)

    assert act(client, draft, "teleport").status_code == 404


def test_export_needs_approved_text(client, draft, riverbend):
    client.force_login(riverbend.comms)
    assert client.get(f"/comms/drafts/{draft.pk}/export.txt").status_code == 403
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=1)

    response = client.get(f"/comms/drafts/{draft.pk}/export.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "attachment" in response["Content-Disposition"]


def test_fact_sheet_page_saves_revisions_and_refuses_stale_ones(client, incident, riverbend):
    client.force_login(riverbend.comms)
    data = {
        "known": "Grades are safe.",
        "unknown": "",
        "doing": "",
        "should_do": "",
        "next_update": "",
        "expected_number": "0",
    }

    first = client.post(f"/comms/incidents/{incident.pk}/facts/", data)
    stale = client.post(f"/comms/incidents/{incident.pk}/facts/", {**data, "known": "Other"})

    assert first.status_code == 302
    assert stale.status_code == 409
    assert incident.fact_sheets.count() == 1


def test_fact_sheet_is_read_only_for_the_rest_of_the_team(client, incident, riverbend):
    client.force_login(riverbend.academics)

    page = client.get(f"/comms/incidents/{incident.pk}/facts/")
    refused = client.post(
        f"/comms/incidents/{incident.pk}/facts/", {"known": "x", "expected_number": "0"}
    )

    assert page.status_code == 200 and b"<textarea" not in page.content
    assert refused.status_code == 403


@pytest.mark.parametrize("role", ["principal", "board"])
def test_fact_sheet_is_closed_to_principal_and_board(client, incident, riverbend, role):
    client.force_login(getattr(riverbend, role))

    assert client.get(f"/comms/incidents/{incident.pk}/facts/").status_code == 403


def test_templates_page_saves_and_legal_marks_reviewed(client, riverbend):
    client.force_login(riverbend.comms)
    client.post(
        "/comms/templates/",
        {"form": "template", "kind": "any", "audience": "staff", "body": "Hello {known}"},
    )
    template = MessageTemplate.objects.get()
    client.force_login(riverbend.legal)

    client.post("/comms/templates/", {"form": "review", "template": template.pk})

    template.refresh_from_db()
    assert template.pre_reviewed_by_legal and template.reviewed_by == riverbend.legal


@pytest.mark.parametrize("role", ["academics", "technical", "board", "principal"])
def test_templates_page_refuses_other_roles(client, riverbend, role):
    client.force_login(getattr(riverbend, role))

    assert client.get("/comms/templates/").status_code == 403


def test_legal_dashboard_shows_the_queue_notices_and_disclosures(client, riverbend):
    CommsPolicy.objects.filter(district=riverbend.district).update(notice_days=[30])
    incident = incident_services.incident_open(
        by=riverbend.cio,
        title="Breach at the SIS",
        kind="cyber",
        severity=1,
        all_schools=True,
        impacts=["student_data"],
    )
    draft = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="staff", channel="email"
    )
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    client.force_login(riverbend.legal)

    body = client.get("/comms/legal/").content.decode()

    assert "Breach at the SIS: Staff" in body
    assert "30-day notice" in body


def test_legal_records_a_notice_from_the_dashboard(client, riverbend):
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
    client.force_login(riverbend.legal)

    client.post(f"/comms/notices/{notice.pk}/given/", {"note": "Letters sent"})

    notice.refresh_from_db()
    assert notice.given_by == riverbend.legal


def test_public_status_page_shows_web_updates_only(client, incident, riverbend):
    draft = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="families", channel="web"
    )
    drafts.draft_edit(
        draft=draft, by=riverbend.comms, body="Public: schools are open.", expected_revision=1
    )
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=2)
    drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=2)
    drafts.draft_publish(
        draft=draft,
        by=riverbend.comms,
        expected_revision=2,
        promised_next_at=timezone.now() + timedelta(minutes=30),
        override_reason="Staff were told in person.",
    )
    email = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="staff", channel="email"
    )
    drafts.draft_edit(
        draft=email, by=riverbend.comms, body="Internal email text", expected_revision=1
    )

    response = client.get(f"/status/{riverbend.district.slug}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Public: schools are open." in body
    assert "Internal email text" not in body
    assert "max-age=30" in response["Cache-Control"]


def test_public_status_page_hides_exercises(client, riverbend):
    exercise = open_exercise(riverbend)
    PublishedUpdate.objects.create(
        incident=exercise,
        audience="media",
        summary="Drill text",
        channel="web",
        published_by=riverbend.comms,
        promised_next_at=timezone.now(),
    )

    body = client.get(f"/status/{riverbend.district.slug}/").content.decode()

    assert "Drill text" not in body


def test_public_status_page_for_an_unknown_district_is_not_found(client, db):
    assert client.get("/status/nowhere/").status_code == 404


def test_comms_dashboard_lists_drafts_waiting(client, draft, riverbend):
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    client.force_login(riverbend.comms)

    body = client.get("/comms/").content.decode()

    assert "waiting for your approval" in body
    assert "Staff:" in body  # the staff clock


def test_comms_names_a_drafter_who_then_sees_drafts(client, incident, draft, riverbend):
    client.force_login(riverbend.comms)
    client.post(f"/comms/incidents/{incident.pk}/drafters/", {"user": riverbend.technical.pk})
    client.force_login(riverbend.technical)

    page = client.get(f"/comms/drafts/{draft.pk}/")
    incident_page = client.get(f"/incidents/{incident.pk}/")

    assert page.status_code == 200
    assert b"Start a draft" in incident_page.content


def test_naming_a_drafter_as_the_wrong_role_is_forbidden(client, incident, riverbend):
    client.force_login(riverbend.cio)

    response = client.post(
        f"/comms/incidents/{incident.pk}/drafters/", {"user": riverbend.technical.pk}
    )

    assert response.status_code == 403
    assert not incident.drafters.exists()


@pytest.mark.django_db(transaction=True)
def test_a_publication_saved_while_the_broker_is_down_is_answered_as_saved(
    client, riverbend, monkeypatch
):
    from kombu.exceptions import OperationalError

    from comms.models import Dispatch
    from comms.tasks import deliver_dispatch

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis. Connection refused.")

    CommsPolicy.objects.filter(district=riverbend.district).update(
        sms_lists={"staff": ["+15555550199"]}
    )
    incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    draft = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="staff", channel="sms"
    )
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=1)
    monkeypatch.setattr(deliver_dispatch, "delay", broker_down)
    client.force_login(riverbend.comms)

    response = act(client, draft, "publish", expected_revision=1, next_update_in=30)

    # Saved, so answered as saved: an error page would make the lead publish again.
    assert response.status_code == 302
    assert PublishedUpdate.objects.filter(draft=draft).count() == 1
    # The text waits for the requeue task instead of being lost.
    assert list(Dispatch.objects.values_list("status", flat=True)) == ["pending"]


def test_live_check_says_when_the_text_cannot_be_saved(client, draft, riverbend):
    client.force_login(riverbend.comms)

    response = client.post(
        f"/comms/drafts/{draft.pk}/check/", {"body": "It is not our fault.\x00" + "x" * 10_000}
    )

    assert response.status_code == 422
    body = response.content.decode()
    assert "It cannot be saved like this." in body
    assert "Blame or defensive wording" in body


def test_the_dashboard_shows_what_went_out_beside_the_drafts(client, draft, riverbend):
    draft = drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    draft = drafts.draft_approve(draft=draft, by=riverbend.comms, expected_revision=1)
    drafts.draft_publish(
        draft=draft,
        by=riverbend.comms,
        expected_revision=1,
        promised_next_at=timezone.now() + timedelta(minutes=30),
        keep_promised_time=True,
    )
    client.force_login(riverbend.comms)

    body = client.get("/comms/").content.decode()

    assert "No drafts yet" not in body
    assert "No drafts in progress." in body
    published = body[body.index("Latest published, per audience") :]
    assert f'href="/comms/drafts/{draft.pk}/">Staff · Email</a>' in published
    assert "next update promised" in published


def test_the_lead_is_offered_only_people_who_do_not_draft_already(client, incident, riverbend):
    client.force_login(riverbend.comms)

    body = client.get(f"/incidents/{incident.pk}/").content.decode()

    select = body[body.index('<select name="user" id="drafter">') :]
    select = select[: select.index("</select>")]
    assert f'value="{riverbend.academics.pk}"' in select
    assert f'value="{riverbend.legal.pk}"' in select
    assert f'value="{riverbend.comms.pk}"' not in select, "the lead drafts already"
    assert f'value="{riverbend.cio.pk}"' not in select, "the owner drafts already"
