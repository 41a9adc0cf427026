"""The timers: the engine that claims due deadlines and fires each one exactly once.

The engine is a loop in Celery beat's own process (``run``, started when beat starts). It
reads and writes PostgreSQL only, so deadlines fire on time while Redis is down or restarted
empty; Redis carries only what a firing hands off (the deliveries and the live push), and a
hand-off lost with Redis is sent again by the requeue task. Two beats running at once skip
each other's rows.

Every firing is one transaction: lock the deadline (skipping rows another sweep holds),
re-check that it still applies, mark it fired or cancelled, write the timeline row and the
outbox rows, and hand delivery to Celery only after commit. Two sweeps running at once,
or the same sweep delivered twice, find nothing left to fire.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

from comms.models import Audience, AudienceClock, Deadline
from comms.outbox import notify
from comms.services import engine_heartbeat_record
from incidents import events
from incidents.models import Incident, IncidentDuty, IncidentRole, Role, User, due_by
from incidents.phases import format_duration
from incidents.timeline import timeline_append

log = logging.getLogger(__name__)

# A firing later than this is marked late on the timeline.
LATE_AFTER = timedelta(seconds=5)

# The loop sweeps again this soon when nothing was due: a deadline fires at most this long
# after it falls due, plus the time the firings due before it take (about 8 ms each).
IDLE_WAIT_SECONDS = 0.25
# One sweep of the loop fires at most this many, so a burst never holds off the heartbeat.
BATCH = 100
# The loop stamps the heartbeat at most this often (the health check allows 10 s).
HEARTBEAT_EVERY_SECONDS = 1.0


@dataclass
class SweepResult:
    fired: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)


def run(stop: threading.Event) -> None:
    """Sweep until ``stop`` is set. A failed sweep (the database restarting, say) is logged
    and tried again a second later on a new connection."""
    try:
        _loop(stop)
    finally:
        connection.close()


def _loop(stop: threading.Event) -> None:
    stamped = -HEARTBEAT_EVERY_SECONDS
    while not stop.is_set():
        try:
            if time.monotonic() - stamped >= HEARTBEAT_EVERY_SECONDS:
                engine_heartbeat_record()
                stamped = time.monotonic()
            result = sweep(limit=BATCH)
        except Exception:
            log.exception("the timer sweep failed; trying again in a second")
            connection.close()
            stop.wait(1.0)
            continue
        if len(result.fired) + len(result.cancelled) < BATCH:
            stop.wait(IDLE_WAIT_SECONDS)


def start() -> threading.Event:
    """Start ``TIMER_LOOPS`` loops in threads of this process; set the event returned to stop
    them. Two loops fire a burst of deadlines due together in about half the time: they skip
    each other's rows, and each waits on PostgreSQL while the other runs."""
    from django.conf import settings

    stop = threading.Event()
    for n in range(settings.TIMER_LOOPS):
        threading.Thread(target=run, args=(stop,), name=f"timer-loop-{n}", daemon=True).start()
    log.info("the timer loop is running in this process (%d threads)", settings.TIMER_LOOPS)
    return stop


def sweep(*, limit: int = 500) -> SweepResult:
    """Fire every pending deadline that is due, oldest first, one transaction each. The loop
    that calls it stamps the engine's heartbeat."""
    result = SweepResult()
    with events.collected() as touched:
        _sweep(result, limit)
    events.announce(touched)
    return result


def _sweep(result: SweepResult, limit: int) -> None:
    for _ in range(limit):
        with transaction.atomic():
            deadline = (
                Deadline.objects.select_for_update(skip_locked=True, of=("self",))
                # A paused exercise's deadlines after the pause wait; resuming moves them by
                # the pause. One the clock reached (a jump while paused) is due.
                .filter(due_by(timezone.now(), "due_at"), status=Deadline.Status.PENDING)
                .order_by("due_at", "pk")
                .first()
            )
            if deadline is None:
                break
            if _fire(deadline):
                result.fired.append(deadline.pk)
            else:
                result.cancelled.append(deadline.pk)


def _settle(deadline: Deadline, status: str) -> None:
    Deadline.objects.filter(pk=deadline.pk).update(status=status, fired_at=Now())


@dataclass(frozen=True)
class Firing:
    """What a deadline that still applies says, and to whom."""

    kind: str
    summary: str
    recipients: list[User]
    subject: str
    body: str
    # More for the timeline row (an inject's number and what it changed).
    payload: dict = field(default_factory=dict)


def _fire(deadline: Deadline) -> bool:
    """Fire one locked deadline if it still applies. Returns False when it was cancelled."""
    incident = Incident.objects.select_related("district", "owner").get(pk=deadline.incident_id)
    firing = None
    if incident.status != Incident.Status.CLOSED:
        firing = HANDLERS[deadline.kind](deadline, incident)
    if firing is None:
        _settle(deadline, Deadline.Status.CANCELLED)
        return False
    _settle(deadline, Deadline.Status.FIRED)
    _record(deadline, incident, firing)
    return True


def _late(deadline: Deadline, incident: Incident) -> tuple[str, int]:
    """How late the alarm is raised, on the incident's own clock (an exercise's runs fast),
    and in wall-clock seconds for the record."""
    now = timezone.now()
    late = now - deadline.due_at
    if late < LATE_AFTER:
        return "", 0
    clock = " on the exercise clock" if incident.is_exercise else ""
    span = format_duration(incident.span_between(deadline.due_at, now))
    return f" (raised {span} late{clock})", int(late.total_seconds())


def _comms_lead(incident: Incident) -> User:
    role = (
        IncidentRole.objects.filter(incident=incident, function=Role.COMMUNICATIONS)
        .select_related("user")
        .first()
    )
    return role.user if role else incident.owner


def _record(deadline: Deadline, incident: Incident, firing: Firing) -> None:
    suffix, late_seconds = _late(deadline, incident)
    timeline_append(
        incident=incident,
        kind=firing.kind,
        summary=firing.summary + suffix,
        payload={
            "deadline": deadline.pk,
            "subject": deadline.subject,
            "due_at": deadline.due_at.isoformat(),
            "late_seconds": late_seconds,
            **firing.payload,
        },
    )
    notify(
        incident=incident,
        deadline=deadline,
        recipients=firing.recipients,
        subject=firing.subject,
        body=firing.body,
    )


def _local(incident: Incident, moment: datetime) -> str:
    return f"{timezone.localtime(moment, incident.district.zone):%-I:%M %p %Z}"


def _cadence_firing(deadline: Deadline, incident: Incident) -> Firing | None:
    """A reminder that an audience's update is due soon, or the alarm that it is overdue,
    for the clock's current promise only: a publication since then made the deadline stale."""
    clock = (
        AudienceClock.objects.select_for_update()
        .filter(incident=incident, audience=deadline.subject)
        .first()
    )
    if clock is None or clock.generation != deadline.generation:
        return None
    label = Audience(clock.audience).label
    audience = label.lower()
    when = _local(incident, clock.next_update_due_at)
    if deadline.kind == Deadline.Kind.CADENCE_DUE_SOON:
        return Firing(
            kind="cadence.due_soon",
            summary=f"Update to {audience} due soon: promised for {when}",
            recipients=[_comms_lead(incident)],
            subject=f"{label} update due at {when}: {incident.title}",
            body=f"The next update to {audience} was promised for {when}. Publish it on "
            "time, even if there is little new to say: a short update keeps the promise.",
        )
    return Firing(
        kind="cadence.silence",
        summary=f"Silence: the update to {audience} promised for {when} has not gone "
        "out. Escalated to the incident owner",
        recipients=[_comms_lead(incident), incident.owner],
        subject=f"Silence: {audience} update overdue: {incident.title}",
        body=f"The update to {audience} promised for {when} has not been published. "
        "Every minute of silence is filled by guesses. Publish a short update now.",
    )


def _duty_due(deadline: Deadline, incident: Incident) -> Firing | None:
    duty = IncidentDuty.objects.select_for_update().filter(pk=int(deadline.subject)).first()
    if duty is None or duty.done_at is not None:
        return None
    return Firing(
        kind="duty.overdue",
        summary=f"Duty overdue: {duty.title}",
        recipients=[incident.owner],
        subject=f"Overdue: {duty.title}: {incident.title}",
        body=f"The duty “{duty.title}” was due at {_local(incident, deadline.due_at)}.",
    )


# The phase prompts to the owner of an active incident: (timeline kind, summary, subject,
# body). The subject is followed by the incident's title.
PHASE_PROMPTS = {
    Deadline.Kind.PHASE_TRUST: (
        "phase.trust",
        "Phase 2: Trust began. People now judge whether leadership is steady",
        "Phase 2: Trust began",
        "24 hours have passed since declaration. Keep updates consistent across "
        "audiences and review each audience's cadence for this phase.",
    ),
    Deadline.Kind.RECOVERY_DUE: (
        "phase.recovery_due",
        "72 hours reached: the owner is prompted to consider Recovery",
        "72 hours: consider Recovery",
        "72 hours have passed since declaration. When systems are stable, move the "
        "incident to Recovery from its page.",
    ),
}


def _phase_prompt(deadline: Deadline, incident: Incident) -> Firing | None:
    if incident.status != Incident.Status.ACTIVE:
        return None
    kind, summary, subject, body = PHASE_PROMPTS[deadline.kind]
    return Firing(
        kind=kind,
        summary=summary,
        recipients=[incident.owner],
        subject=f"{subject}: {incident.title}",
        body=body,
    )


HANDLERS = {
    Deadline.Kind.CADENCE_DUE_SOON: _cadence_firing,
    Deadline.Kind.CADENCE_OVERDUE: _cadence_firing,
    Deadline.Kind.DUTY_DUE: _duty_due,
    Deadline.Kind.PHASE_TRUST: _phase_prompt,
    Deadline.Kind.RECOVERY_DUE: _phase_prompt,
}
