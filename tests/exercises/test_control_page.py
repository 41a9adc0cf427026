"""The facilitator's control page: every control works from the page, a wrong role is
refused, and a scenario file is checked before it is kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from exercises import services
from exercises.models import DistrictScenario, Exercise
from tests.conftest import CLOCK_START as START


@pytest.fixture
def facilitator(riverbend) -> Client:
    client = Client()
    client.force_login(riverbend.facilitator)
    return client


@pytest.fixture
def play(riverbend, clock, django_capture_on_commit_callbacks) -> Exercise:
    with django_capture_on_commit_callbacks(execute=True):
        return services.exercise_start(by=riverbend.facilitator, source="network-phones-down")


def test_the_facilitator_lands_on_the_control_page(facilitator):
    assert facilitator.get("/").url == "/exercises/"
    page = facilitator.get("/exercises/").content.decode()
    assert "Exercise: network and phones down across the district" in page
    assert "No exercise is running" in page


def test_starting_from_the_page(facilitator, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        answer = facilitator.post(
            "/exercises/start/", {"source": "sis-report-card-day", "speed": "120"}
        )
    assert answer.status_code == 302
    exercise = Exercise.objects.get()
    assert exercise.incident.time_scale == 120
    page = facilitator.get("/exercises/").content.decode()
    assert "Running" in page and "Jump to inject 1" in page


def test_a_bad_speed_is_refused_and_nothing_starts(facilitator):
    answer = facilitator.post(
        "/exercises/start/", {"source": "sis-report-card-day", "speed": "0"}, follow=True
    )
    assert "Give the exercise clock speed, from 1 to 3600" in answer.content.decode()
    assert not Exercise.objects.exists()


def test_pause_resume_speed_jump_and_reset_from_the_page(facilitator, play, clock):
    base = f"/exercises/{play.pk}"
    clock.move_to(START + timedelta(seconds=3))
    facilitator.post(f"{base}/pause/")
    play.incident.refresh_from_db()
    assert play.incident.paused_at is not None
    assert "Paused" in facilitator.get("/exercises/").content.decode()

    facilitator.post(f"{base}/resume/")
    facilitator.post(f"{base}/speed/", {"speed": "240"})
    play.incident.refresh_from_db()
    assert play.incident.paused_at is None and play.incident.time_scale == 240

    refused = facilitator.post(f"{base}/speed/", {"speed": "9999"}, follow=True)
    assert "from 1 to 3600" in refused.content.decode()

    facilitator.post(f"{base}/jump/")
    play.incident.refresh_from_db()
    assert play.incident.clock().elapsed == timedelta(minutes=5)

    facilitator.post(f"{base}/reset/")
    assert Exercise.objects.filter(ended_at__isnull=True).exclude(pk=play.pk).count() == 1
    assert "Ended exercises" in facilitator.get("/exercises/").content.decode()


@pytest.mark.parametrize(
    "role", ["communications", "academics", "legal", "technical", "principal", "translator"]
)
def test_other_roles_are_refused(riverbend, play, role):
    client = Client()
    client.force_login(riverbend.by_role(role))
    assert client.get("/exercises/").status_code == 403
    assert client.post(f"/exercises/{play.pk}/pause/").status_code == 403
    assert client.post("/exercises/start/", {"source": "network-phones-down"}).status_code == 403
    play.incident.refresh_from_db()
    assert play.incident.paused_at is None


def test_the_cio_has_the_controls_too(riverbend, play):
    client = Client()
    client.force_login(riverbend.cio)
    assert client.get("/exercises/").status_code == 200


def test_another_districts_exercise_is_not_found(lakeshore, play):
    client = Client()
    client.force_login(lakeshore.facilitator)
    assert client.post(f"/exercises/{play.pk}/pause/").status_code == 404


def test_an_unknown_control_is_not_found(facilitator, play):
    assert facilitator.post(f"/exercises/{play.pk}/rewind/").status_code == 404


GOOD = """title: "Exercise: the bus routing system is down"
kind: other
severity: 3
scope: all schools
injects:
  - at: "0:10"
    to: communications
    text: Parents call about late buses.
"""


def test_a_district_adds_its_own_scenario(riverbend, facilitator):
    answer = facilitator.post("/exercises/scenarios/", {"text": GOOD})
    assert answer.status_code == 302
    assert DistrictScenario.objects.get().title == "Exercise: the bus routing system is down"
    assert "the bus routing system is down" in facilitator.get("/exercises/").content.decode()


def test_a_wrong_scenario_file_is_refused_with_its_lines(facilitator):
    bad = GOOD.replace("severity: 3", "severity: 9").replace("to: communications", "to: pr")
    answer = facilitator.post("/exercises/scenarios/", {"text": bad})

    assert answer.status_code == 422
    page = answer.content.decode()
    assert "line 3: severity: 9 is not one of: 1, 2, 3, 4." in page
    assert "line 7: injects[0].to: &#x27;pr&#x27; is not a role" in page
    assert not DistrictScenario.objects.exists()


def test_an_empty_scenario_is_refused(facilitator):
    answer = facilitator.post("/exercises/scenarios/", {})
    assert answer.status_code == 422
    assert "Paste the scenario, or choose its file, before adding it." in answer.content.decode()


def test_the_same_title_twice_is_refused(facilitator):
    facilitator.post("/exercises/scenarios/", {"text": GOOD})
    answer = facilitator.post("/exercises/scenarios/", {"text": GOOD})
    assert answer.status_code == 422
    assert "already has a scenario called" in answer.content.decode()
    assert DistrictScenario.objects.count() == 1


def test_what_each_role_has_done_counts_from_the_start(riverbend, facilitator, play):
    from comms import drafts
    from incidents import guidance

    assert "Nobody has acted yet." in facilitator.get("/exercises/").content.decode()

    drafts.draft_create(
        incident=play.incident, by=riverbend.comms, audience="staff", channel="email"
    )
    guidance.question_ask(
        incident=play.incident, school=riverbend.schools[0], by=riverbend.principal, text="Why?"
    )
    page = facilitator.get("/exercises/").content.decode()

    assert "Communications lead: 1 step<" in page
    assert "Principals and others: 1 step<" in page
    assert "<li>CIO:" not in page
