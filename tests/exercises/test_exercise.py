"""Running a tabletop exercise: injects arrive through the timer engine on the exercise's
clock, and pausing, a new speed, a jump and a reset move every clock exactly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from comms import timers
from comms.facts import fact_sheet_current
from comms.models import AudienceClock, Deadline, Notification
from exercises import services
from exercises.models import Exercise
from incidents.errors import Invalid, Refused
from incidents.models import Incident, IncidentDuty, IncidentRole, Question, TimelineEntry
from tests.conftest import CLOCK_START as START

SECOND = timedelta(seconds=1)


@pytest.fixture
def play(riverbend, clock, django_capture_on_commit_callbacks) -> Exercise:
    with django_capture_on_commit_callbacks(execute=True):
        return services.exercise_start(by=riverbend.facilitator, source="ransomware-student-data")


def _sweep(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return timers.sweep()


def _inject_rows(incident):
    return list(TimelineEntry.objects.filter(incident=incident, kind="exercise.inject"))


def test_starting_declares_the_exercise_now_with_every_inject_on_the_timers(riverbend, play):
    incident = play.incident

    assert incident.is_exercise and incident.time_scale == 60
    assert incident.declared_at == START
    assert incident.owner == riverbend.cio
    assert set(
        IncidentRole.objects.filter(incident=incident).values_list("user__username", flat=True)
    ) == {
        "riverbend-communications",
        "riverbend-academics",
        "riverbend-legal",
        "riverbend-technical",
        "riverbend-board_liaison",
    }
    injects = Deadline.objects.filter(incident=incident, kind=Deadline.Kind.INJECT)
    assert injects.count() == play.injects.count() == 8
    first = injects.order_by("due_at").first()
    # 0:05 on a clock at 60x real time is 5 s after the start.
    assert first.due_at == START + 5 * SECOND


def test_an_inject_reaches_its_recipients_and_changes_the_incident(
    riverbend, play, clock, django_capture_on_commit_callbacks
):
    clock.move_to(START + 4 * SECOND)
    assert _sweep(django_capture_on_commit_callbacks).fired == []
    clock.move_to(START + 5 * SECOND)

    _sweep(django_capture_on_commit_callbacks)

    [row] = _inject_rows(play.incident)
    assert row.summary.startswith("Inject 1 from Help desk: Teachers at three schools")
    inbox = Notification.objects.filter(incident=play.incident, channel="in_app")
    # "everyone": the CIO, the five leads, the principal of the affected schools and the
    # facilitator.
    assert {n.recipient.username for n in inbox} == {
        "riverbend-cio",
        "riverbend-communications",
        "riverbend-academics",
        "riverbend-legal",
        "riverbend-technical",
        "riverbend-board_liaison",
        "riverbend-principal",
        "riverbend-facilitator",
    }
    assert "Ransom notes were found" in fact_sheet_current(play.incident).known
    assert play.injects.get(number=1).fired_at == START + 5 * SECOND


def test_a_media_inquiry_becomes_a_duty_due_on_the_exercise_clock(
    play, clock, django_capture_on_commit_callbacks
):
    clock.move_to(START + 40 * SECOND)
    _sweep(django_capture_on_commit_callbacks)

    duty = IncidentDuty.objects.get(incident=play.incident, title__contains="Channel 7")
    # Asked at 0:40, to be answered within 1:00.
    assert duty.due_minutes == 100
    assert (
        Deadline.objects.get(
            incident=play.incident, kind=Deadline.Kind.DUTY_DUE, subject=str(duty.pk)
        ).due_at
        == START + 100 * SECOND
    )
    assert Question.objects.filter(incident=play.incident).count() == 0


def test_pausing_stops_every_clock_for_exactly_the_pause(
    riverbend, play, clock, django_capture_on_commit_callbacks
):
    incident = play.incident
    families = AudienceClock.objects.get(incident=incident, audience="families")
    pending = dict(
        Deadline.objects.filter(incident=incident, status="pending").values_list("pk", "due_at")
    )
    clock.move_to(START + 2 * SECOND)
    services.exercise_pause(exercise=play, by=riverbend.facilitator)

    clock.move_to(START + 10 * 60 * SECOND)
    assert _sweep(django_capture_on_commit_callbacks).fired == []
    incident.refresh_from_db()
    assert incident.paused_at == START + 2 * SECOND
    assert incident.clock().elapsed == timedelta(minutes=2)
    assert incident.clock().paused

    services.exercise_resume(exercise=play, by=riverbend.facilitator)

    pause = (10 * 60 - 2) * SECOND
    moved = dict(
        Deadline.objects.filter(incident=incident, status="pending").values_list("pk", "due_at")
    )
    assert moved == {pk: due + pause for pk, due in pending.items()}
    families_after = AudienceClock.objects.get(pk=families.pk)
    assert families_after.next_update_due_at == families.next_update_due_at + pause
    incident.refresh_from_db()
    assert incident.paused_at is None
    assert incident.clock(START + 10 * 60 * SECOND + SECOND).elapsed == timedelta(minutes=3)
    # Inject 1, due at 0:05 on the clock, arrives 3 s after resuming.
    clock.move_to(START + 10 * 60 * SECOND + 2 * SECOND)
    assert _sweep(django_capture_on_commit_callbacks).fired == []
    clock.move_to(START + 10 * 60 * SECOND + 3 * SECOND)
    assert len(_sweep(django_capture_on_commit_callbacks).fired) == 1
    kinds = list(
        TimelineEntry.objects.filter(incident=incident, kind__startswith="exercise.")
        .order_by("sequence")
        .values_list("kind", flat=True)
    )
    assert kinds == ["exercise.started", "exercise.paused", "exercise.resumed", "exercise.inject"]


def test_a_new_speed_keeps_the_reading_of_what_is_due(
    riverbend, play, clock, django_capture_on_commit_callbacks
):
    clock.move_to(START + 2 * SECOND)
    services.exercise_speed(exercise=play, by=riverbend.facilitator, speed=120)

    play.incident.refresh_from_db()
    assert play.incident.time_scale == 120
    first = Deadline.objects.filter(incident=play.incident, kind=Deadline.Kind.INJECT)
    # 3 minutes of the clock were left at 60x: 1.5 s at 120x.
    assert first.order_by("due_at").first().due_at == START + 3.5 * SECOND


def test_jumping_brings_the_next_inject_now(
    riverbend, play, clock, django_capture_on_commit_callbacks
):
    clock.move_to(START + SECOND)
    services.exercise_jump(exercise=play, by=riverbend.facilitator)

    assert len(_sweep(django_capture_on_commit_callbacks).fired) == 1
    play.incident.refresh_from_db()
    assert play.incident.clock().elapsed == timedelta(minutes=5)
    assert services.next_inject(play).number == 2


def test_reset_plays_the_scenario_again_and_keeps_the_old_play(
    riverbend, play, clock, django_capture_on_commit_callbacks
):
    clock.move_to(START + 30 * SECOND)
    with django_capture_on_commit_callbacks(execute=True):
        fresh = services.exercise_reset(exercise=play, by=riverbend.facilitator)

    play.refresh_from_db()
    assert play.ended_at == START + 30 * SECOND
    assert play.replaced_by == fresh
    assert Incident.objects.get(pk=play.incident_id).status == "closed"
    assert fresh.incident.declared_at == START + 30 * SECOND
    assert fresh.incident.title == play.incident.title
    assert fresh.injects.filter(fired_at__isnull=True).count() == 8
    # Back at its beginning, waiting for Start.
    assert fresh.incident.clock().paused
    assert fresh.incident.clock(START + timedelta(minutes=5)).elapsed == timedelta(0)


@pytest.mark.parametrize(
    "role", ["communications", "academics", "legal", "principal", "translator"]
)
def test_only_a_facilitator_or_the_cio_runs_an_exercise(riverbend, play, role):
    person = riverbend.by_role(role)
    with pytest.raises(Refused):
        services.exercise_start(by=person, source="ransomware-student-data")
    with pytest.raises(Refused):
        services.exercise_pause(exercise=play, by=person)


def test_another_districts_facilitator_is_refused(play, lakeshore):
    with pytest.raises(Refused):
        services.exercise_pause(exercise=play, by=lakeshore.facilitator)


def test_the_cio_may_run_one(riverbend, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        played = services.exercise_start(by=riverbend.cio, source="network-phones-down", speed=300)
    assert played.incident.time_scale == 300


def test_an_unknown_scenario_or_speed_is_refused_with_what_to_fix(riverbend):
    with pytest.raises(Invalid, match="no scenario called"):
        services.exercise_start(by=riverbend.facilitator, source="earthquake")
    with pytest.raises(Invalid, match="between 1 and 3600"):
        services.exercise_start(by=riverbend.facilitator, source="network-phones-down", speed=0)
    assert not Exercise.objects.exists()


def test_a_scenario_is_added_only_to_ones_own_district(riverbend, lakeshore):
    from exercises.scenarios import SHIPPED

    text = (SHIPPED / "network-phones-down.yaml").read_text()
    with pytest.raises(Refused):
        services.scenario_add(
            district=lakeshore.district, by=riverbend.facilitator, text=text, name="x"
        )


def test_a_long_inject_is_kept_whole_in_the_inbox_and_as_a_line_on_the_timeline(
    riverbend, clock, django_capture_on_commit_callbacks
):
    from exercises.models import DistrictScenario
    from exercises.scenarios import SHIPPED

    long = "A parent writes at length. " * 60
    text = (SHIPPED / "network-phones-down.yaml").read_text()
    text = text.replace('title: "Exercise: network', 'title: "Long: network').replace(
        "      Every school lost its network", f"      {long.strip()} Every school lost its network"
    )
    row = services.scenario_add(
        district=riverbend.district, by=riverbend.facilitator, text=text, name="x"
    )
    with django_capture_on_commit_callbacks(execute=True):
        play = services.exercise_start(by=riverbend.facilitator, source=f"district:{row.pk}")
    clock.move_to(START + 5 * SECOND)
    _sweep(django_capture_on_commit_callbacks)

    [entry] = _inject_rows(play.incident)
    assert len(entry.summary) <= 500 and entry.summary.endswith("…")
    note = Notification.objects.filter(incident=play.incident, channel="in_app").first()
    assert long.strip() in note.body
    assert DistrictScenario.objects.count() == 1
