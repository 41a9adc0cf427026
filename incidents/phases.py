"""The phase clock, as pure functions of the incident's own clock and status.

Phase 1 "Control" runs for the first 24 incident hours, Phase 2 "Trust" until 72 hours.
Recovery is never entered by the clock: the owner moves there on purpose, so after 72 hours
the clock stays in Trust and says that Recovery is due.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from incidents.clock import Clock

CONTROL_ENDS = timedelta(hours=24)
TRUST_ENDS = timedelta(hours=72)


class Phase(enum.Enum):
    CONTROL = (1, "Control")
    TRUST = (2, "Trust")
    RECOVERY = (3, "Recovery")
    CLOSED = (4, "Closed")

    def __init__(self, number: int, label: str) -> None:
        self.number = number
        self.label = label

    @property
    def title(self) -> str:
        if self in (Phase.CONTROL, Phase.TRUST):
            return f"Phase {self.number}: {self.label}"
        return self.label


@dataclass(frozen=True)
class PhaseClock:
    phase: Phase
    # Time on the incident's own clock (scaled for exercises) since declaration.
    elapsed: timedelta
    # Wall-clock moment the next phase boundary is reached, or None when there is none.
    next_boundary_at: datetime | None
    next_phase: Phase | None
    recovery_due: bool
    # An exercise's facilitator has stopped its clock.
    paused: bool = False


def phase_clock(
    *, declared_at: datetime, now: datetime, time_scale: int = 1, status: str = "active"
) -> PhaseClock:
    """Where an incident stands on its phase clock at wall-clock time ``now``."""
    return phase_on(Clock.starting(declared_at, time_scale), now=now, status=status)


def phase_on(clock: Clock, *, now: datetime, status: str = "active") -> PhaseClock:
    """Where an incident whose own clock is ``clock`` stands at wall-clock time ``now``."""
    elapsed = clock.elapsed_at(now)
    paused = clock.paused
    if status == "closed":
        return PhaseClock(Phase.CLOSED, elapsed, None, None, False, paused)
    if status == "recovery":
        return PhaseClock(Phase.RECOVERY, elapsed, None, Phase.CLOSED, False, paused)
    if elapsed < CONTROL_ENDS:
        return PhaseClock(
            Phase.CONTROL,
            elapsed,
            clock.wall_time_at(CONTROL_ENDS),
            Phase.TRUST,
            False,
            paused,
        )
    return PhaseClock(
        Phase.TRUST,
        elapsed,
        clock.wall_time_at(TRUST_ENDS),
        Phase.RECOVERY,
        elapsed >= TRUST_ENDS,
        paused,
    )


def format_duration(delta: timedelta) -> str:
    """A short, readable span: '45 s', '12 min', '3 h 05 min', '2 d 4 h'."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"
