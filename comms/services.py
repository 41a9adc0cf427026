"""Writes for update cadence: clocks per audience, published updates, and their deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from comms import workflow
from comms.models import (
    MAX_INTERVAL_MINUTES,
    MIN_INTERVAL_MINUTES,
    Audience,
    AudienceClock,
    CadenceDefault,
    CadencePhase,
    Deadline,
    EngineHeartbeat,
    NoticeClock,
    Notification,
    PublishedUpdate,
    cadence_interval,
)
from incidents.clock import Clock, reschedule
from incidents.duties import duties_complete_by_trigger
from incidents.errors import Invalid, Refused
from incidents.models import DutyTrigger, Incident, IncidentDuty, Role, User
from incidents.phases import CONTROL_ENDS, TRUST_ENDS
from incidents.text import checked_text
from incidents.timeline import timeline_append

ENGINE = "timers"

UPDATE_TRIGGERS = {
    Audience.STAFF: DutyTrigger.UPDATE_STAFF,
    Audience.FAMILIES: DutyTrigger.UPDATE_FAMILIES,
    Audience.BOARD: DutyTrigger.UPDATE_BOARD,
    Audience.MEDIA: DutyTrigger.UPDATE_MEDIA,
}


def engine_heartbeat_record(*, name: str = ENGINE) -> EngineHeartbeat:
    """Record that the timer engine completed a sweep just now."""
    heartbeat, _ = EngineHeartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now()}
    )
    return heartbeat


def interval_minutes(incident: Incident, audience: str, phase: str | None = None) -> int:
    """Minutes between updates to ``audience`` now, on the incident's clock."""
    clock = AudienceClock.objects.filter(incident=incident, audience=audience).first()
    override = clock.interval_override_minutes if clock else None
    phase = phase or CadencePhase.of(incident.clock().phase)
    # The district's default is read only when the incident has no interval of its own.
    default = (
        None
        if override
        else CadenceDefault.objects.filter(
            district_id=incident.district_id, audience=audience, phase=phase
        ).first()
    )
    district = {(audience, phase): default.interval_minutes} if default else {}
    return cadence_interval(audience, phase, override=override, district=district)


def _schedule(incident: Incident, kind: str, subject: str, due_at: datetime, gen: int = 1) -> None:
    Deadline.objects.get_or_create(
        incident=incident,
        kind=kind,
        subject=subject,
        generation=gen,
        defaults={"due_at": due_at},
    )


def _schedule_clock(incident: Incident, clock: AudienceClock) -> None:
    """The due-soon reminder and the overdue alarm for the clock's current promise."""
    due_soon = clock.due_soon_at(incident)
    if due_soon > timezone.now():
        _schedule(
            incident, Deadline.Kind.CADENCE_DUE_SOON, clock.audience, due_soon, clock.generation
        )
    _schedule(
        incident,
        Deadline.Kind.CADENCE_OVERDUE,
        clock.audience,
        clock.next_update_due_at,
        clock.generation,
    )


def incident_timers_start(*, incident: Incident, duties: list[IncidentDuty]) -> dict[str, str]:
    """Start every clock of a newly declared incident. Runs in the declaring transaction.
    Answers each audience's first promised update time (ISO 8601)."""
    promises = {}
    for audience in Audience.values:
        minutes = interval_minutes(incident, audience, CadencePhase.CONTROL)
        clock = AudienceClock.objects.create(
            incident=incident,
            audience=audience,
            next_update_due_at=incident.wall_time_at(timedelta(minutes=minutes)),
        )
        _schedule_clock(incident, clock)
        promises[audience] = clock.next_update_due_at.isoformat()
    for duty in duties:
        _schedule(incident, Deadline.Kind.DUTY_DUE, str(duty.pk), duty.due_at(incident))
    _schedule(incident, Deadline.Kind.PHASE_TRUST, "", incident.wall_time_at(CONTROL_ENDS))
    _schedule(incident, Deadline.Kind.RECOVERY_DUE, "", incident.wall_time_at(TRUST_ENDS))
    return promises


def duty_schedule(*, incident: Incident, duty: IncidentDuty) -> None:
    """The overdue alarm of a duty added to an incident after its declaration."""
    _schedule(incident, Deadline.Kind.DUTY_DUE, str(duty.pk), duty.due_at(incident))


def deadline_schedule(*, incident: Incident, kind: str, subject: str, due_at: datetime) -> None:
    """A deadline of a kind another app fires (an exercise's inject)."""
    _schedule(incident, kind, subject, due_at)


def timers_reschedule(*, incident: Incident, before: Clock, after: Clock, now: datetime) -> int:
    """Move every pending deadline, promised update and notice deadline of ``incident`` to
    the same reading of its clock, which changed from ``before`` to ``after`` at ``now``.
    Runs in the transaction that changes the clock. Answers how many moved."""
    moved = 0
    for deadline in Deadline.objects.select_for_update().filter(
        incident=incident, status=Deadline.Status.PENDING
    ):
        due = reschedule(deadline.due_at, before=before, after=after, now=now)
        if due != deadline.due_at:
            Deadline.objects.filter(pk=deadline.pk).update(due_at=due)
            moved += 1
    for clock in AudienceClock.objects.select_for_update().filter(incident=incident):
        due = reschedule(clock.next_update_due_at, before=before, after=after, now=now)
        if due != clock.next_update_due_at:
            AudienceClock.objects.filter(pk=clock.pk).update(next_update_due_at=due)
    for notice in NoticeClock.objects.select_for_update().filter(
        incident=incident, given_at__isnull=True
    ):
        due = reschedule(notice.due_at, before=before, after=after, now=now)
        if due != notice.due_at:
            NoticeClock.objects.filter(pk=notice.pk).update(due_at=due)
    return moved


def audience_checked(audience: str) -> str:
    if audience not in Audience.values:
        raise Invalid("Choose an audience: staff, families, board, or media and public.")
    return audience


def _speaker_checked(
    incident: Incident, by: User, audience: str, *, refusal: str, closed: str
) -> None:
    """``by`` speaks for the incident, which is still open, to a known audience."""
    if not workflow.may_speak_for(incident, by):
        raise Refused(refusal)
    incident.refresh_from_db(fields=["status"])
    if incident.status == Incident.Status.CLOSED:
        raise Invalid(closed)
    audience_checked(audience)


@transaction.atomic
def update_record(
    *,
    incident: Incident,
    audience: str,
    summary: str,
    promised_next_at: datetime,
    by: User,
) -> PublishedUpdate:
    """Record an update published to ``audience`` and restart its clock at the promise made.

    The clock row is locked first, the same order the timer engine uses, so an update
    recorded just before the overdue alarm fires wins or loses as a whole: the alarm either
    sees the new generation and is cancelled, or fires before the update exists.
    """
    _speaker_checked(
        incident,
        by,
        audience,
        refusal="Only the communications lead or the incident owner records updates.",
        closed="This incident is closed; no further updates are recorded for it.",
    )
    summary = checked_text(
        summary,
        model=PublishedUpdate,
        field="summary",
        label="The update",
        missing="Say in a sentence or two what the update told people.",
    )
    now = timezone.now()
    minutes = interval_minutes(incident, audience)
    latest = now + incident.wall_span(timedelta(minutes=minutes))
    if promised_next_at <= now:
        raise Invalid("The next update time must be in the future.")
    if promised_next_at > latest + timedelta(seconds=1):
        raise Invalid(
            f"The next update can be promised at most {minutes} minutes ahead on this "
            "incident's clock, the cadence for this audience. Promise an earlier time, or "
            "change the cadence first."
        )

    clock = AudienceClock.objects.select_for_update().get(incident=incident, audience=audience)
    clock.generation += 1
    clock.last_published_at = now
    clock.next_update_due_at = promised_next_at
    clock.save(update_fields=["generation", "last_published_at", "next_update_due_at"])
    _schedule_clock(incident, clock)
    update = PublishedUpdate.objects.create(
        incident=incident,
        audience=audience,
        summary=summary,
        published_at=now,
        published_by=by,
        promised_next_at=promised_next_at,
    )
    timeline_append(
        incident=incident,
        kind="update.published",
        actor=by,
        summary=f"Update to {Audience(audience).label.lower()} published; next promised "
        f"{timezone.localtime(promised_next_at, incident.district.zone):%-I:%M %p %Z}",
        payload={
            "audience": audience,
            "update": update.pk,
            "promised_next_at": promised_next_at.isoformat(),
            "generation": clock.generation,
        },
    )
    duties_complete_by_trigger(incident=incident, trigger=UPDATE_TRIGGERS[audience], by=by)
    return update


@transaction.atomic
def cadence_change(
    *, incident: Incident, audience: str, interval: int, reason: str, by: User
) -> AudienceClock:
    """Set this incident's interval for one audience, with the reason on the timeline.

    A shorter interval can bring the next update forward; a longer one never moves a promise
    already made in public.
    """
    _speaker_checked(
        incident,
        by,
        audience,
        refusal="Only the communications lead or the incident owner changes the cadence.",
        closed="This incident is closed; its cadence can no longer change.",
    )
    if not MIN_INTERVAL_MINUTES <= interval <= MAX_INTERVAL_MINUTES:
        raise Invalid(
            f"The interval must be between {MIN_INTERVAL_MINUTES} minutes and 7 days "
            f"({MAX_INTERVAL_MINUTES} minutes)."
        )
    reason = checked_text(
        reason,
        model=AudienceClock,
        field="override_reason",
        label="The reason",
        missing="Give the reason for the change; it goes on the timeline.",
    )

    clock = AudienceClock.objects.select_for_update().get(incident=incident, audience=audience)
    anchor = clock.last_published_at or incident.declared_at
    earliest = anchor + incident.wall_span(timedelta(minutes=interval))
    clock.interval_override_minutes = interval
    clock.override_reason = reason
    fields = ["interval_override_minutes", "override_reason"]
    if earliest < clock.next_update_due_at:
        clock.next_update_due_at = earliest
        clock.generation += 1
        fields += ["next_update_due_at", "generation"]
    clock.save(update_fields=fields)
    if "generation" in fields:
        _schedule_clock(incident, clock)
    timeline_append(
        incident=incident,
        kind="cadence.changed",
        actor=by,
        summary=f"Cadence for {Audience(audience).label.lower()} set to every {interval} "
        f"minutes: {reason}",
        payload={
            "audience": audience,
            "interval_minutes": interval,
            "reason": reason,
            # Set when the change brought the promised update forward.
            **(
                {"promised_next_at": clock.next_update_due_at.isoformat()}
                if "generation" in fields
                else {}
            ),
        },
    )
    return clock


def notifications_mark_read(*, user: User, ids: list[int], at: datetime) -> int:
    """Mark the user's own in-console messages read."""
    return Notification.objects.filter(recipient=user, pk__in=ids, read_at__isnull=True).update(
        read_at=at
    )


@transaction.atomic
def cadence_defaults_set(*, district, by: User, intervals: dict[tuple[str, str], int]) -> None:
    """Set the district's default interval per audience and phase, for incidents declared
    from now on and for phases entered from now on."""
    if by.district_id != district.pk or not by.has_role(Role.CIO):
        raise Refused("Only the district's CIO sets the default cadence.")
    for (audience, phase), minutes in intervals.items():
        if audience not in Audience.values or phase not in CadencePhase.values:
            raise Invalid("Unknown audience or phase.")
        if not MIN_INTERVAL_MINUTES <= minutes <= MAX_INTERVAL_MINUTES:
            raise Invalid(
                f"Every interval must be between {MIN_INTERVAL_MINUTES} minutes and 7 days "
                f"({MAX_INTERVAL_MINUTES} minutes)."
            )
    for (audience, phase), minutes in intervals.items():
        CadenceDefault.objects.update_or_create(
            district=district,
            audience=audience,
            phase=phase,
            defaults={"interval_minutes": minutes},
        )
