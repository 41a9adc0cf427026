"""An inject shows on the pages of the roles it went to, and only theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from comms import timers
from exercises import services
from tests.conftest import CLOCK_START as START


@pytest.fixture
def arrived(riverbend, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        play = services.exercise_start(by=riverbend.facilitator, source="ransomware-student-data")
    # Inject 1 goes to everyone at 0:05, inject 2 to the technical lead and the CIO at 0:20.
    clock.move_to(START + timedelta(seconds=20))
    with django_capture_on_commit_callbacks(execute=True):
        timers.sweep()
    return play


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("communications", "/comms/"),
        ("academics", "/incidents/academics/"),
        ("board_liaison", "/incidents/briefing/"),
        ("principal", "/incidents/guidance/"),
        ("legal", "/comms/legal/"),
    ],
)
def test_each_role_sees_the_injects_sent_to_it(riverbend, arrived, role, path):
    client = Client()
    client.force_login(riverbend.by_role(role))

    page = client.get(path).content.decode()

    assert "Exercise injects for you" in page
    assert "Inject 1 from Help desk" in page
    assert "Inject 2 from Security vendor" not in page


def test_the_incident_timeline_has_every_inject(riverbend, arrived):
    client = Client()
    client.force_login(riverbend.technical)
    page = client.get(f"/incidents/{arrived.incident.pk}/").content.decode()
    assert "Inject 2 from Security vendor" in page


def test_a_paused_clock_says_so_on_every_page(riverbend, arrived):
    services.exercise_pause(exercise=arrived, by=riverbend.facilitator)
    client = Client()
    client.force_login(riverbend.comms)
    assert "Clock paused" in client.get("/comms/").content.decode()
