"""The CIO governs the space between functions: every dashboard, read-only where the action
is another role's, and the board's briefing exactly as the board sees it."""

import pytest

from comms import drafts
from comms.models import CommsPolicy, NoticeClock
from incidents import guidance
from incidents import services as incident_services
from incidents.models import Incident


@pytest.fixture
def incident(riverbend):
    CommsPolicy.objects.update_or_create(
        district=riverbend.district,
        defaults={"student_data_needs_legal": True, "notice_days": [30]},
    )
    incident = incident_services.incident_open(
        by=riverbend.cio,
        title="SIS down",
        kind="sis",
        severity=2,
        all_schools=True,
        impacts=[Incident.Impact.STUDENT_DATA],
    )
    draft = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="staff", channel="email"
    )
    drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    drafts.draft_legal_clear(draft=draft, by=riverbend.legal, expected_revision=1)
    return incident


def test_the_cio_reads_the_communications_dashboard_without_its_actions(
    client, incident, riverbend
):
    client.force_login(riverbend.cio)

    body = client.get("/comms/").content.decode()

    assert "Read-only for you." in body
    assert "waiting for the communications lead" in body
    assert "waiting for your approval" not in body


def test_the_communications_lead_still_sees_it_as_theirs(client, incident, riverbend):
    client.force_login(riverbend.comms)

    body = client.get("/comms/").content.decode()

    assert "Read-only for you." not in body
    assert "waiting for your approval" in body


def test_the_cio_reads_the_legal_dashboard_but_records_no_notice(client, incident, riverbend):
    notice = NoticeClock.objects.get(incident=incident)
    client.force_login(riverbend.cio)

    body = client.get("/comms/legal/").content.decode()
    refused = client.post(f"/comms/notices/{notice.pk}/given/", {"note": "Letter sent"})

    assert "Read-only for you." in body and "30-day notice" in body
    assert "Record as given" not in body
    assert refused.status_code == 403
    notice.refresh_from_db()
    assert notice.given_at is None


def test_the_cio_reads_the_academics_dashboard_without_writing(client, incident, riverbend):
    guidance.question_ask(
        incident=incident,
        by=riverbend.principal,
        school=riverbend.schools[0],
        text="Do we give the quiz today?",
    )
    client.force_login(riverbend.cio)

    body = client.get("/incidents/academics/").content.decode()

    assert "Read-only for you." in body and "No guidance published yet." in body
    assert "Do we give the quiz today?" in body
    assert "Waiting for the academic lead's answer." in body
    assert "Write the first guidance" not in body
    assert 'name="answer"' not in body


def test_the_cio_previews_what_the_board_sees(client, incident, riverbend):
    client.force_login(riverbend.board)
    board = client.get("/incidents/briefing/").content.decode()
    client.force_login(riverbend.cio)

    preview = client.get("/incidents/briefing/").content.decode()

    assert "What the board sees." in preview and "What the board sees." not in board
    article = f'id="briefing-{incident.pk}"'
    assert article in board and article in preview
    assert "Governance briefing" in preview


def test_the_cio_menu_names_every_dashboard(client, riverbend):
    client.force_login(riverbend.cio)

    body = client.get("/incidents/").content.decode()

    for label in ("Communications", "Academics", "Legal", "Board briefing", "District setup"):
        assert f">{label}</a>" in body, label
