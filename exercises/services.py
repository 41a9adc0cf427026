"""Running a tabletop exercise: start a scenario, move its clock, reset it, end it.

Every move of the clock (pause, resume, a new speed, a jump to the next inject) is one
transaction on the locked incident: the clock gains a segment (see ``incidents.clock``) and
every pending deadline, promised update and notice deadline moves to the same reading of the
clock, so nothing falls due while the clock stands still and nothing is skipped or doubled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from comms.models import Deadline
from comms.services import deadline_schedule, timers_reschedule
from exercises import scenarios
from exercises.models import DistrictScenario, Exercise, Inject
from incidents import services as incident_services
from incidents.clock import Clock
from incidents.errors import Invalid, Refused
from incidents.models import (
    INCIDENT_FUNCTIONS,
    District,
    Incident,
    Role,
    School,
    System,
    User,
)
from incidents.phases import format_duration
from incidents.timeline import timeline_append

DISTRICT_SOURCE = "district:"


def may_facilitate(user: User) -> bool:
    """A facilitator, or the district's CIO, runs the district's exercises."""
    return user.is_authenticated and (user.has_role(Role.FACILITATOR) or user.has_role(Role.CIO))


def _require(user: User, exercise: Exercise | None = None) -> None:
    if not may_facilitate(user):
        raise Refused("Only an exercise facilitator or the district's CIO runs exercises.")
    if exercise is not None and exercise.district_id != user.district_id:
        raise Refused("This exercise belongs to another district.")


def scenarios_for(district: District) -> list[tuple[str, scenarios.Scenario]]:
    """Every scenario a district can play: the shipped ones, then its own."""
    found = list(scenarios.shipped().items())
    for row in DistrictScenario.objects.filter(district=district):
        found.append((f"{DISTRICT_SOURCE}{row.pk}", scenarios.parse(row.text, name=row.title)))
    return found


def scenario_add(*, district: District, by: User, text: str | bytes, name: str) -> DistrictScenario:
    """Keep a district's own scenario file, once it is valid. Raises ScenarioError."""
    _require(by)
    if by.district_id != district.pk:
        raise Refused("Scenarios are added to your own district.")
    scenario = scenarios.parse(text, name=name)
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if DistrictScenario.objects.filter(district=district, title=scenario.title).exists():
        raise Invalid(
            f"The district already has a scenario called “{scenario.title}”; give this one "
            "another title, or delete the old one first."
        )
    return DistrictScenario.objects.create(
        district=district, title=scenario.title, text=text, uploaded_by=by
    )


def _scenario(district: District, source: str) -> scenarios.Scenario:
    if source.startswith(DISTRICT_SOURCE):
        row = DistrictScenario.objects.filter(
            district=district, pk=source.removeprefix(DISTRICT_SOURCE)
        ).first()
        if row is None:
            raise Invalid("That scenario is not one of this district's.")
        return scenarios.parse(row.text, name=row.title)
    found = scenarios.shipped().get(source)
    if found is None:
        raise Invalid(f"There is no scenario called {source!r}.")
    return found


def _owner(district: District, by: User) -> User:
    if by.has_role(Role.CIO):
        return by
    cio = User.objects.filter(district=district, role_grants__role=Role.CIO).order_by("pk").first()
    if cio is None:
        raise Invalid("An exercise incident is owned by the district's CIO; name one first.")
    return cio


@transaction.atomic
def exercise_start(
    *, by: User, source: str, speed: int | None = None, ready: bool = False
) -> Exercise:
    """Declare the scenario's exercise incident now, with its clock running from zero, or
    with ``ready`` waiting at 0:00 for the facilitator's Start."""
    _require(by)
    return _play(by, source, _scenario(by.district, source), speed, ready=ready)


def _play(
    by: User, source: str, scenario: scenarios.Scenario, speed: int | None, *, ready: bool
) -> Exercise:
    district = by.district
    speed = scenario.speed if speed is None else speed
    if not Incident.MIN_TIME_SCALE <= speed <= Incident.MAX_TIME_SCALE:
        raise Invalid("The exercise clock speed must be between 1 and 3600 times real time.")
    schools = list(School.objects.filter(district=district, name__in=scenario.schools))
    unknown = sorted(set(scenario.schools) - {s.name for s in schools})
    if unknown:
        raise Invalid(f"The scenario names schools this district does not have: {unknown}.")
    owner = _owner(district, by)
    incident = incident_services.incident_open(
        by=owner,
        title=scenario.title,
        kind=scenario.kind,
        severity=scenario.severity,
        systems=System.objects.filter(district=district, category__in=scenario.systems),
        all_schools=scenario.all_schools,
        schools=schools,
        impacts=scenario.impacts,
        is_exercise=True,
        time_scale=speed,
    )
    if ready:
        # Stopped at its first instant, before anything is due: Start resumes it from 0:00.
        incident.clock_segments = incident.own_clock.paused_at(incident.declared_at).as_json()
        incident.paused_at = incident.declared_at
        incident.save(update_fields=["clock_segments", "paused_at"])
    for function in INCIDENT_FUNCTIONS:
        lead = (
            User.objects.filter(district=district, role_grants__role=function, is_active=True)
            .order_by("pk")
            .first()
        )
        if lead is not None:
            incident_services.incident_role_assign(
                incident=incident, function=function, user=lead, by=owner
            )
    exercise = Exercise.objects.create(
        district=district,
        incident=incident,
        source=source,
        scenario=scenario.data,
        facilitator=by,
    )
    for item in scenario.injects:
        inject = Inject.objects.create(
            exercise=exercise,
            number=item.number,
            at=item.at,
            to=list(item.to),
            sender=item.sender,
            text=item.text,
            changes=item.changes,
        )
        deadline_schedule(
            incident=incident,
            kind=Deadline.Kind.INJECT,
            subject=str(inject.pk),
            due_at=incident.wall_time_at(item.at),
        )
    waits = "waiting at 0:00 for Start" if ready else "running"
    timeline_append(
        incident=incident,
        kind="exercise.started",
        actor=by,
        summary=f"Exercise {'prepared' if ready else 'started'} by {by}: "
        f"{len(scenario.injects)} injects, the clock {waits} at {speed}× real time",
        payload={"source": source, "speed": speed, "ready": ready},
    )
    return exercise


def _move(
    exercise: Exercise,
    by: User,
    change: Callable[[Clock, datetime], Clock],
    kind: str,
    summary: Callable[[Clock, timedelta], str],
) -> Exercise:
    _require(by, exercise)
    incident = Incident.objects.select_for_update().get(pk=exercise.incident_id)
    if incident.status == Incident.Status.CLOSED or exercise.ended_at:
        raise Invalid("This exercise has ended; reset it to play the scenario again.")
    now = timezone.now()
    before = incident.own_clock
    after = change(before, now)
    if after == before:
        return exercise
    timers_reschedule(incident=incident, before=before, after=after, now=now)
    incident.clock_segments = after.as_json()
    incident.time_scale = after.scale
    incident.paused_at = after.current.wall if after.paused else None
    incident.save(update_fields=["clock_segments", "time_scale", "paused_at"])
    reading = after.elapsed_at(now)
    timeline_append(
        incident=incident,
        kind=kind,
        actor=by,
        summary=summary(after, reading),
        payload={"elapsed_seconds": int(reading.total_seconds()), "speed": after.scale},
    )
    exercise.incident = incident
    return exercise


@transaction.atomic
def exercise_pause(*, exercise: Exercise, by: User) -> Exercise:
    """Stop the exercise's clock: no clock, duty, cadence or inject moves until resumed."""
    return _move(
        exercise,
        by,
        lambda clock, now: clock.paused_at(now),
        "exercise.paused",
        lambda clock, at: f"Exercise paused by {by} at {format_duration(at)} on its clock",
    )


@transaction.atomic
def exercise_resume(*, exercise: Exercise, by: User) -> Exercise:
    return _move(
        exercise,
        by,
        lambda clock, now: clock.resumed_at(now),
        "exercise.resumed",
        lambda clock, at: (
            f"Exercise clock started by {by}"
            if not at
            else f"Exercise resumed by {by} at {format_duration(at)} on its clock"
        ),
    )


@transaction.atomic
def exercise_speed(*, exercise: Exercise, by: User, speed: int) -> Exercise:
    if not Incident.MIN_TIME_SCALE <= speed <= Incident.MAX_TIME_SCALE:
        raise Invalid("Give the exercise clock speed, from 1 to 3600 times real time.")
    return _move(
        exercise,
        by,
        lambda clock, now: clock.rescaled_at(now, speed),
        "exercise.speed",
        lambda clock, at: f"Exercise clock set to {speed}× real time by {by}",
    )


def next_inject(exercise: Exercise) -> Inject | None:
    return exercise.injects.filter(fired_at__isnull=True).order_by("number").first()


@transaction.atomic
def exercise_jump(*, exercise: Exercise, by: User) -> Exercise:
    """Move the clock ahead to the next inject, which then arrives; everything due in the
    time skipped falls due with it."""
    upcoming = next_inject(exercise)
    if upcoming is None:
        raise Invalid("Every inject has arrived; there is nothing to jump to.")
    return _move(
        exercise,
        by,
        lambda clock, now: clock.jumped_at(now, upcoming.at - clock.elapsed_at(now)),
        "exercise.jumped",
        lambda clock, at: (
            f"Exercise clock moved ahead to inject {upcoming.number} "
            f"({format_duration(at)}) by {by}"
        ),
    )


@transaction.atomic
def exercise_end(*, exercise: Exercise, by: User) -> Exercise:
    """End the play: the incident closes and its report can be read."""
    _require(by, exercise)
    incident = Incident.objects.select_for_update().get(pk=exercise.incident_id)
    exercise = Exercise.objects.select_for_update().get(pk=exercise.pk)
    if exercise.ended_at:
        return exercise
    now = timezone.now()
    exercise.ended_at = now
    exercise.save(update_fields=["ended_at"])
    if incident.status != Incident.Status.CLOSED:
        incident.status, incident.closed_at = Incident.Status.CLOSED, now
        incident.save(update_fields=["status", "closed_at"])
    timeline_append(
        incident=incident,
        kind="exercise.ended",
        actor=by,
        summary=f"Exercise ended by {by}",
        payload={"elapsed_seconds": int(incident.elapsed_at(now).total_seconds())},
    )
    return exercise


@transaction.atomic
def exercise_reset(*, exercise: Exercise, by: User) -> Exercise:
    """Play the same scenario again from its beginning, as a new exercise incident whose
    clock waits at 0:00 for Start. The old play ends and is kept for its report."""
    _require(by, exercise)
    old = exercise_end(exercise=exercise, by=by)
    scenario = scenarios.parse(scenarios.dump(old.scenario), name=old.incident.title)
    # Back at its beginning: the clock waits at 0:00 for the facilitator's Start.
    new = _play(by, old.source, scenario, old.incident.time_scale, ready=True)
    old.replaced_by = new
    old.save(update_fields=["replaced_by"])
    return new


def running(district: District) -> list[Exercise]:
    return list(
        Exercise.objects.filter(district=district, ended_at__isnull=True)
        .select_related("incident", "facilitator")
        .order_by("-started_at")
    )


def report_for(exercise: Exercise, now: datetime):
    """The after-action report of a play, from its timeline."""
    from exercises import report
    from incidents.models import TimelineEntry
    from incidents.selectors import scorecard_for

    incident = exercise.incident
    entries = list(
        TimelineEntry.objects.filter(incident=incident).select_related("actor").order_by("sequence")
    )
    built = report.build(incident, entries, now=now)
    built.scorecard = scorecard_for(incident, now)
    return built
