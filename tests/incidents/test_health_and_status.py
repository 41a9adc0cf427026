from datetime import timedelta

import pytest
import time_machine
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from comms.services import engine_heartbeat_record
from incidents.models import Incident, TimelineEntry
from tests.factories import IncidentFactory


def test_live_probe_answers(client):
    assert client.get("/health/live").json() == {"status": "ok"}


def test_ready_fails_before_any_sweep(client, db):
    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["timers"] == "no sweep has run yet"


def test_ready_with_a_fresh_heartbeat(client, db):
    engine_heartbeat_record()

    response = client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["database"] == "ok"


def test_ready_fails_when_the_engine_stalls(client, db):
    with time_machine.travel(timezone.now() - timedelta(seconds=30)):
        engine_heartbeat_record()

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["timers"].startswith("stalled")


@pytest.fixture
def incident(riverbend):
    return IncidentFactory(owner=riverbend.cio)


def post(client, incident, action):
    return client.post(f"/incidents/{incident.pk}/status/{action}/")


def test_owner_moves_through_restored_recovery_and_close(client, incident, riverbend):
    client.force_login(riverbend.cio)

    for action in ["restored", "recovery", "close"]:
        assert post(client, incident, action).status_code == 302

    incident.refresh_from_db()
    assert incident.status == "closed"
    assert list(TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True)) == [
        "incident.restored",
        "incident.recovery",
        "incident.closed",
    ]


def test_restored_systems_prompt_recovery_on_the_page(client, incident, riverbend):
    client.force_login(riverbend.cio)
    post(client, incident, "restored")

    body = client.get(f"/incidents/{incident.pk}/").content.decode()

    assert "Consider Recovery" in body and "marked restored" in body


def test_prompt_at_72_hours(client, riverbend):
    incident = IncidentFactory(
        owner=riverbend.cio, declared_at=timezone.now() - timedelta(hours=73)
    )
    client.force_login(riverbend.cio)

    body = client.get(f"/incidents/{incident.pk}/").content.decode()

    assert "72 hours have passed" in body


def test_closing_an_active_incident_is_refused_with_a_message(client, incident, riverbend):
    client.force_login(riverbend.cio)

    response = post(client, incident, "close")
    page = client.get(response["Location"])

    assert b"Move the incident to Recovery before closing it" in page.content
    assert Incident.objects.get(pk=incident.pk).status == "active"


@pytest.mark.parametrize("role", ["comms", "technical", "legal"])
def test_only_the_owner_changes_status(client, incident, riverbend, role):
    client.force_login(getattr(riverbend, role))

    response = post(client, incident, "recovery")

    assert response.status_code == 403
    assert Incident.objects.get(pk=incident.pk).status == "active"


def test_unknown_action_is_not_found(client, incident, riverbend):
    client.force_login(riverbend.cio)

    assert post(client, incident, "explode").status_code == 404


def test_owner_marks_a_duty_done(client, riverbend):
    from incidents.services import incident_open

    incident = incident_open(by=riverbend.cio, title="x", kind="sis", severity=2, all_schools=True)
    duty = incident.duties.first()
    client.force_login(riverbend.cio)

    response = client.post(
        f"/incidents/{incident.pk}/duties/{duty.pk}/done/", headers={"HX-Request": "true"}
    )

    duty.refresh_from_db()
    assert response.status_code == 200 and duty.done_at is not None
    assert b"Done" in response.content


def test_only_the_owner_marks_duties_done(client, riverbend):
    from incidents.services import incident_open

    incident = incident_open(by=riverbend.cio, title="x", kind="sis", severity=2, all_schools=True)
    duty = incident.duties.first()
    client.force_login(riverbend.comms)

    response = client.post(f"/incidents/{incident.pk}/duties/{duty.pk}/done/")

    duty.refresh_from_db()
    assert response.status_code == 403 and duty.done_at is None


def test_inbox_lists_and_marks_read(client, riverbend):
    from comms.outbox import notify

    incident = IncidentFactory(owner=riverbend.cio)
    notify(
        incident=incident, deadline=None, recipients=[riverbend.cio], subject="Hello", body="Body"
    )
    client.force_login(riverbend.cio)

    first = client.get("/comms/inbox/").content.decode()
    second = client.get("/incidents/").content.decode()

    assert "Hello" in first and "1 new" in first
    assert "new</span>" not in second


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        (OperationalError("the server closed the connection"), 503),
        (InterfaceError("connection already closed"), 503),
        (RuntimeError("a bug"), 500),
    ],
)
def test_a_database_out_of_reach_is_answered_503_with_a_retry(
    client, incident, riverbend, monkeypatch, failure, status
):
    def fail(*args, **kwargs):
        raise failure

    monkeypatch.setattr("console.views.incidents.incident_page_context", fail)
    client.raise_request_exception = False
    client.force_login(riverbend.cio)

    response = client.get(f"/incidents/{incident.pk}/")

    assert response.status_code == status
    if status == 503:
        assert response["Retry-After"] == "5"
        assert b"cannot reach its database" in response.content
    else:
        assert "Retry-After" not in response
        assert b"Something went wrong" in response.content
