"""The incident's own clock: pausing stops it exactly, a new speed keeps its reading, a jump
skips ahead, and moved deadlines keep the reading they stood for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from incidents.clock import Clock, reschedule
from incidents.phases import Phase, phase_on

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_a_real_incident_reads_the_wall_clock():
    clock = Clock.starting(START)
    assert clock.elapsed_at(START + 90 * MIN) == 90 * MIN
    assert clock.wall_time_at(90 * MIN) == START + 90 * MIN
    assert clock.elapsed_at(START - MIN) == timedelta(0)


def test_a_paused_clock_stands_still_and_resumes_where_it_stopped():
    clock = Clock.starting(START, 60).paused_at(START + 2 * MIN)

    assert clock.elapsed_at(START + 2 * MIN) == timedelta(hours=2)
    assert clock.elapsed_at(START + 9 * MIN) == timedelta(hours=2)

    resumed = clock.resumed_at(START + 10 * MIN)
    assert resumed.elapsed_at(START + 10 * MIN) == timedelta(hours=2)
    assert resumed.elapsed_at(START + 11 * MIN) == timedelta(hours=3)
    # The past keeps its readings.
    assert resumed.elapsed_at(START + MIN) == timedelta(hours=1)
    assert resumed.wall_time_at(timedelta(hours=1)) == START + MIN
    assert resumed.wall_time_at(timedelta(hours=3)) == START + 11 * MIN


def test_a_deadline_moves_by_the_length_of_the_pause():
    running = Clock.starting(START, 60)
    due = running.wall_time_at(timedelta(hours=4))
    paused = running.paused_at(START + 2 * MIN)
    assert reschedule(due, before=running, after=paused, now=START + 2 * MIN) == due

    resumed = paused.resumed_at(START + 10 * MIN)
    moved = reschedule(due, before=paused, after=resumed, now=START + 10 * MIN)

    assert moved == due + 8 * MIN
    assert resumed.elapsed_at(moved) == timedelta(hours=4)
    # What was already due before the pause stays where it was.
    early = START + MIN
    assert reschedule(early, before=paused, after=resumed, now=START + 10 * MIN) == early


def test_a_new_speed_keeps_the_reading_of_every_deadline():
    running = Clock.starting(START, 60)
    due = running.wall_time_at(timedelta(hours=4))
    faster = running.rescaled_at(START + MIN, 120)

    moved = reschedule(due, before=running, after=faster, now=START + MIN)

    assert faster.elapsed_at(START + MIN) == timedelta(hours=1)
    assert moved == START + MIN + timedelta(hours=3) / 120
    assert faster.elapsed_at(moved) == timedelta(hours=4)


def test_a_new_speed_while_paused_applies_on_resuming():
    clock = Clock.starting(START, 60).paused_at(START + MIN).rescaled_at(START + 2 * MIN, 120)
    assert clock.paused
    resumed = clock.resumed_at(START + 5 * MIN)
    assert resumed.elapsed_at(START + 6 * MIN) == timedelta(hours=3)


def test_a_jump_makes_everything_in_the_skipped_time_due_at_once():
    running = Clock.starting(START, 60)
    inside = running.wall_time_at(timedelta(hours=2))
    beyond = running.wall_time_at(timedelta(hours=5))
    jumped = running.jumped_at(START + MIN, timedelta(hours=2))

    assert jumped.elapsed_at(START + MIN) == timedelta(hours=3)
    assert reschedule(inside, before=running, after=jumped, now=START + MIN) == START + MIN
    assert reschedule(beyond, before=running, after=jumped, now=START + MIN) == START + 3 * MIN


def test_the_phase_clock_stops_with_the_exercise():
    clock = Clock.starting(START, 60).paused_at(START + 10 * MIN)
    later = phase_on(clock, now=START + 50 * MIN)
    assert later.phase == Phase.CONTROL
    assert later.elapsed == timedelta(hours=10)
    assert later.paused


def test_the_clock_survives_being_stored():
    clock = Clock.starting(START, 60).paused_at(START + MIN).resumed_at(START + 3 * MIN)
    assert Clock.from_json(clock.as_json()) == clock


moves = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=600),
        st.sampled_from(["pause", "resume", "speed", "jump"]),
        st.integers(min_value=1, max_value=3600),
    ),
    max_size=8,
)


@given(moves, st.integers(min_value=1, max_value=72 * 60))
def test_a_moved_deadline_keeps_its_reading_whatever_the_facilitator_does(plan, minutes):
    clock = Clock.starting(START, 60)
    now = START
    offset = timedelta(minutes=minutes)
    due = clock.wall_time_at(offset)
    for seconds, move, number in plan:
        now += timedelta(seconds=seconds)
        before = clock
        if move == "pause":
            clock = clock.paused_at(now)
        elif move == "resume":
            clock = clock.resumed_at(now)
        elif move == "speed":
            clock = clock.rescaled_at(now, number)
        else:
            clock = clock.jumped_at(now, timedelta(minutes=number))
        was_due = before.elapsed_at(now) >= offset
        due = reschedule(due, before=before, after=clock, now=now)
        # Time never runs backwards on the incident's clock.
        assert clock.elapsed_at(now) >= before.elapsed_at(now)
        if not was_due and clock.elapsed_at(now) < offset and not clock.paused:
            # Still to come: it falls due when the clock reads its offset, to the wall
            # clock's microsecond times the speed.
            tolerance = timedelta(microseconds=2 * clock.scale)
            assert abs(clock.elapsed_at(due) - offset) <= tolerance
