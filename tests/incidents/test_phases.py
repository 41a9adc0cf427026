from datetime import UTC, datetime, timedelta

from incidents.phases import Phase, format_duration, phase_clock

DECLARED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_first_day_is_control_with_trust_next():
    clock = phase_clock(declared_at=DECLARED, now=DECLARED + timedelta(hours=3))

    assert clock.phase is Phase.CONTROL
    assert clock.next_phase is Phase.TRUST
    assert clock.next_boundary_at == DECLARED + timedelta(hours=24)
    assert clock.elapsed == timedelta(hours=3)


def test_hour_24_starts_trust():
    clock = phase_clock(declared_at=DECLARED, now=DECLARED + timedelta(hours=24))

    assert clock.phase is Phase.TRUST
    assert clock.next_boundary_at == DECLARED + timedelta(hours=72)
    assert not clock.recovery_due


def test_after_72_hours_trust_holds_and_recovery_is_due():
    clock = phase_clock(declared_at=DECLARED, now=DECLARED + timedelta(hours=80))

    assert clock.phase is Phase.TRUST
    assert clock.recovery_due


def test_recovery_is_entered_by_status_only():
    clock = phase_clock(declared_at=DECLARED, now=DECLARED + timedelta(hours=2), status="recovery")

    assert clock.phase is Phase.RECOVERY


def test_closed_incident_has_no_next_boundary():
    clock = phase_clock(declared_at=DECLARED, now=DECLARED + timedelta(hours=2), status="closed")

    assert clock.phase is Phase.CLOSED
    assert clock.next_boundary_at is None


def test_exercise_clock_is_scaled():
    # At 60x, 24 incident hours pass in 24 wall-clock minutes.
    clock = phase_clock(declared_at=DECLARED, now=DECLARED + timedelta(minutes=30), time_scale=60)

    assert clock.phase is Phase.TRUST
    assert clock.elapsed == timedelta(hours=30)
    assert clock.next_boundary_at == DECLARED + timedelta(minutes=72)


def test_clock_before_declaration_reads_zero():
    clock = phase_clock(declared_at=DECLARED, now=DECLARED - timedelta(seconds=5))

    assert clock.elapsed == timedelta(0)
    assert clock.phase is Phase.CONTROL


def test_phase_titles_name_the_phase():
    assert Phase.CONTROL.title == "Phase 1: Control"
    assert Phase.TRUST.title == "Phase 2: Trust"
    assert Phase.RECOVERY.title == "Recovery"


def test_durations_read_naturally():
    assert format_duration(timedelta(seconds=42)) == "42 s"
    assert format_duration(timedelta(minutes=12, seconds=59)) == "12 min"
    assert format_duration(timedelta(hours=3, minutes=5)) == "3 h 05 min"
    assert format_duration(timedelta(hours=50)) == "2 d 2 h"
    assert format_duration(timedelta(minutes=-7)) == "7 min"
