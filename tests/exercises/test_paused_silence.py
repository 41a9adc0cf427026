"""A paused exercise is never silent: while its clock stands still, nothing falls due, on
the silence banner or the clock panel, however long the room waits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from comms import selectors, timers
from comms.models import ClockState
from exercises import services
from tests.conftest import CLOCK_START as START


@pytest.fixture
def waiting(riverbend, clock, django_capture_on_commit_callbacks):
    """An exercise waiting at 0:00 for Start, its first promises a few wall minutes away at
    its speed, and the room waiting an hour."""
    with django_capture_on_commit_callbacks(execute=True):
        play = services.exercise_start(
            by=riverbend.facilitator, source="ransomware-student-data", ready=True
        )
    clock.move_to(START + timedelta(hours=1))
    return play


def test_a_clock_waiting_to_start_has_no_silence(riverbend, waiting):
    incident = waiting.incident
    now = timezone.now()

    assert selectors.silences_for_district(riverbend.district.pk, now) == []
    assert selectors.lapsed_audiences(incident, now) == set()
    assert ClockState.OVERDUE not in {row.state for row in selectors.clock_rows(incident, now)}

    client = Client()
    client.force_login(riverbend.comms)
    assert "a promised update is late" not in client.get("/comms/").content.decode()


def test_a_promise_missed_before_the_pause_is_still_silence(riverbend, waiting, clock):
    services.exercise_resume(exercise=waiting, by=riverbend.facilitator)
    incident = waiting.incident
    incident.refresh_from_db()
    staff_due = incident.clocks.get(audience="staff").next_update_due_at
    clock.move_to(staff_due + timedelta(seconds=30))
    services.exercise_pause(exercise=waiting, by=riverbend.facilitator)
    clock.move_to(staff_due + timedelta(hours=2))
    incident.refresh_from_db()
    now = timezone.now()

    silences = selectors.silences_for_district(riverbend.district.pk, now)

    assert [s.audience_label for s in silences] == ["Staff"]
    assert selectors.lapsed_audiences(incident, now) == {"staff"}
    # Silent for the 30 s the clock ran past the promise, at its speed; not the two hours.
    assert silences[0].silent_for == timedelta(seconds=30) * incident.time_scale


def test_a_clock_waiting_to_start_has_no_overdue_duty_and_its_promises_still_to_come(
    riverbend, waiting
):
    client = Client()
    client.force_login(riverbend.cio)

    page = client.get(f"/incidents/{waiting.incident.pk}/").content.decode()

    assert "Overdue" not in page
    # The staff's first update is an hour away on the clock, however long the room waited.
    assert "in 1 h 00 min on the exercise clock" in page


def test_a_jump_while_paused_brings_the_inject_at_once(
    riverbend, waiting, django_capture_on_commit_callbacks
):
    services.exercise_jump(exercise=waiting, by=riverbend.facilitator)
    waiting.refresh_from_db()
    assert waiting.incident.paused_at is not None

    with django_capture_on_commit_callbacks(execute=True):
        fired = timers.sweep().fired

    assert len(fired) == 1
    assert waiting.injects.get(number=1).fired_at is not None
    assert waiting.injects.get(number=2).fired_at is None
