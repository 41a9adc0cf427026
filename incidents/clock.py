"""The incident's own clock: how far it has run at a wall-clock moment, and the reverse.

A real incident's clock is the wall clock from its declaration. An exercise's clock runs
``scale`` times faster, and its facilitator can pause it, change its speed and jump it ahead.
Each such change starts a segment: from ``wall`` on, the clock reads ``elapsed`` plus the wall
time since, times ``scale``, or stands still at ``elapsed`` while the segment is paused. A
paused segment keeps the speed the clock resumes at.

Every stored moment that is still to come (a deadline, a promised update) was computed from
the segment current when it was stored, so moving the clock moves each of them by
``reschedule``: the same point on the incident's clock, at its new wall-clock moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Segment:
    wall: datetime
    elapsed: timedelta
    scale: int
    paused: bool = False

    def extrapolated(self, moment: datetime) -> timedelta:
        """The clock's reading at ``moment`` had this segment run on unpaused from its start:
        what a moment computed while it was current stands for."""
        return self.elapsed + (moment - self.wall) * self.scale

    def as_json(self) -> list:
        micros = self.elapsed // timedelta(microseconds=1)
        return [self.wall.isoformat(), micros, self.scale, self.paused]

    @classmethod
    def from_json(cls, value: list) -> Segment:
        wall, micros, scale, paused = value
        return cls(datetime.fromisoformat(wall), timedelta(microseconds=micros), scale, paused)


@dataclass(frozen=True)
class Clock:
    segments: tuple[Segment, ...]

    @classmethod
    def starting(cls, declared_at: datetime, scale: int = 1) -> Clock:
        return cls((Segment(declared_at, timedelta(0), scale),))

    @property
    def current(self) -> Segment:
        return self.segments[-1]

    @property
    def paused(self) -> bool:
        return self.current.paused

    @property
    def scale(self) -> int:
        return self.current.scale

    def segment_at(self, moment: datetime) -> Segment:
        found = self.segments[0]
        for segment in self.segments:
            if segment.wall <= moment:
                found = segment
            else:
                break
        return found

    def elapsed_at(self, moment: datetime) -> timedelta:
        """The clock's reading at wall-clock ``moment``; zero before it started."""
        segment = self.segment_at(moment)
        if moment < segment.wall:
            return timedelta(0)
        if segment.paused:
            return segment.elapsed
        return segment.extrapolated(moment)

    def wall_time_at(self, offset: timedelta) -> datetime:
        """The wall-clock moment the clock reads ``offset``. While paused, a moment still to
        come is given as if the pause had not begun; resuming moves it by the pause's length."""
        index = 0
        for n, segment in enumerate(self.segments):
            if segment.elapsed <= offset:
                index = n
        found = self.segments[index]
        moment = found.wall + (offset - found.elapsed) / found.scale
        if index + 1 < len(self.segments):
            # A reading the clock jumped over is reached at the jump.
            moment = min(moment, self.segments[index + 1].wall)
        return moment

    def stands_at(self, now: datetime) -> datetime:
        """The wall moment the clock stands at: ``now``, or while paused the moment it
        stopped. Every moment after that is still to come (``wall_time_at``), so nothing
        falls due while the clock stands still."""
        return min(now, self.current.wall) if self.paused else now

    def reading(self, moment: datetime, *, now: datetime) -> timedelta:
        """The reading ``moment`` stands for: where the clock was then, or for a moment still
        to come (computed from the current segment), where it will be."""
        if moment <= self.stands_at(now):
            return self.elapsed_at(moment)
        return self.current.extrapolated(moment)

    def ticking_anchor(self, moment: datetime, *, now: datetime) -> datetime:
        """The wall-clock moment that the current segment, run on at its speed, maps to the
        same reading as ``moment``: a page ticking from it at the clock's speed stays right
        across earlier pauses and jumps."""
        current = self.current
        return current.wall + (self.reading(moment, now=now) - current.elapsed) / current.scale

    def promised(self, moment: datetime, *, stated_at: datetime) -> timedelta:
        """The reading that ``moment``, a time promised at ``stated_at``, stands for."""
        return self.segment_at(stated_at).extrapolated(moment)

    def _then(self, segment: Segment) -> Clock:
        now = segment.wall
        kept = tuple(s for s in self.segments if s.wall < now)
        return Clock((*kept, segment) if kept else (segment,))

    def paused_at(self, now: datetime) -> Clock:
        if self.paused:
            return self
        return self._then(Segment(now, self.elapsed_at(now), self.scale, True))

    def resumed_at(self, now: datetime) -> Clock:
        if not self.paused:
            return self
        return self._then(Segment(now, self.current.elapsed, self.scale))

    def rescaled_at(self, now: datetime, scale: int) -> Clock:
        if self.paused:
            # The pause stands; the clock resumes at the new speed.
            segment = self.current
            return Clock((*self.segments[:-1], Segment(segment.wall, segment.elapsed, scale, True)))
        return self._then(Segment(now, self.elapsed_at(now), scale))

    def jumped_at(self, now: datetime, ahead: timedelta) -> Clock:
        return self._then(
            Segment(now, self.elapsed_at(now) + max(ahead, timedelta(0)), self.scale, self.paused)
        )

    def as_json(self) -> list:
        return [segment.as_json() for segment in self.segments]

    @classmethod
    def from_json(cls, value: list) -> Clock:
        return cls(tuple(Segment.from_json(item) for item in value))


def reschedule(moment: datetime, *, before: Clock, after: Clock, now: datetime) -> datetime:
    """Where a stored moment still to come lies once the clock changed from ``before`` to
    ``after`` at ``now``: the same reading of the incident's clock. A moment already past
    stays where it is."""
    anchor = before.current.wall if before.paused else now
    if moment <= anchor:
        return moment
    return after.wall_time_at(before.current.extrapolated(moment))
