"""Writes for incidents. Each service is one transaction that also appends the timeline."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from incidents import events, lifecycle
from incidents.duties import duties_complete_by_trigger, duties_copy
from incidents.errors import Invalid, Refused
from incidents.models import (
    INCIDENT_FUNCTIONS,
    DutyTrigger,
    Incident,
    IncidentRole,
    Role,
    School,
    System,
    User,
)
from incidents.timeline import timeline_append


@transaction.atomic
def incident_open(
    *,
    by: User,
    title: str,
    kind: str,
    severity: int,
    systems: Iterable[System] = (),
    all_schools: bool,
    schools: Iterable[School] = (),
    impacts: Iterable[str] = (),
    is_exercise: bool = False,
    time_scale: int = 1,
) -> Incident:
    """Declare an incident in the opener's district, with the opener as its owner."""
    if not by.has_role(Role.CIO):
        raise Refused("Only the district's CIO can open an incident.")
    if kind not in Incident.Kind.values:
        raise Invalid(f"Choose the kind of incident: {', '.join(Incident.Kind.values)}.")
    if severity not in Incident.Severity.values:
        raise Invalid("Choose a severity from 1 (critical) to 4.")
    district = by.district
    systems = list(systems)
    schools = [] if all_schools else list(schools)
    if any(s.district_id != district.pk for s in [*systems, *schools]):
        raise Invalid("Systems and schools must belong to your district.")
    if not all_schools and not schools:
        raise Invalid("Choose the affected schools, or mark all schools as affected.")
    if not is_exercise:
        time_scale = 1
    if not Incident.MIN_TIME_SCALE <= time_scale <= Incident.MAX_TIME_SCALE:
        raise Invalid("The exercise clock speed must be between 1 and 3600 times real time.")
    impacts = sorted(set(impacts))
    unknown = set(impacts) - set(Incident.Impact.values)
    if unknown:
        raise Invalid(f"Unknown impact: {', '.join(sorted(unknown))}.")

    incident = Incident.objects.create(
        district=district,
        title=title.strip(),
        kind=kind,
        severity=severity,
        all_schools=all_schools,
        impacts=impacts,
        is_exercise=is_exercise,
        time_scale=time_scale,
        owner=by,
        declared_at=timezone.now(),
    )
    incident.systems.set(systems)
    incident.schools.set(schools)
    duties = duties_copy(incident=incident)
    answers = events.incident_opened.send(sender=Incident, incident=incident, duties=duties)
    recorded = {}
    for _, answer in answers:
        recorded.update(answer if isinstance(answer, dict) else {})
    timeline_append(
        incident=incident,
        kind="incident.opened",
        actor=by,
        summary=f"{'Exercise' if is_exercise else 'Incident'} declared by {by}: {incident.title}",
        payload={
            "kind": kind,
            "severity": severity,
            "systems": [s.pk for s in systems],
            "all_schools": all_schools,
            "schools": [s.pk for s in schools],
            "impacts": impacts,
            "is_exercise": is_exercise,
            "time_scale": time_scale,
            # The checklist as declared, for the after-action report.
            "duties": [
                {"duty": d.pk, "title": d.title, "due_minutes": d.due_minutes} for d in duties
            ],
            **recorded,
        },
    )
    return incident


@transaction.atomic
def incident_role_assign(
    *, incident: Incident, function: str, user: User | None, by: User
) -> IncidentRole | None:
    """Name who leads ``function`` for this incident, or clear it when ``user`` is None."""
    if by.pk != incident.owner_id:
        raise Refused("Only the incident owner can assign roles.")
    if function not in INCIDENT_FUNCTIONS:
        raise Invalid("Choose one of: communications, academics, legal, board liaison, technical.")
    label = Role(function).label
    if user is not None and (
        user.district_id != incident.district_id or not user.has_role(function)
    ):
        raise Invalid(f"{user} does not hold the {label} role in this district.")

    current = (
        IncidentRole.objects.select_for_update().filter(incident=incident, function=function)
    ).first()
    if (current.user_id if current else None) == (user.pk if user else None):
        return current

    if user is None:
        current.delete()
        assignment = None
        summary = f"{label} unassigned (was {current.user})"
    elif current is None:
        assignment = IncidentRole.objects.create(
            incident=incident, function=function, user=user, assigned_by=by
        )
        summary = f"{label}: {user}"
    else:
        previous = current.user
        current.user, current.assigned_by, current.assigned_at = user, by, timezone.now()
        current.save(update_fields=["user", "assigned_by", "assigned_at"])
        assignment = current
        summary = f"{label}: {user} (was {previous})"
    timeline_append(
        incident=incident,
        kind="role.assigned" if user else "role.unassigned",
        actor=by,
        summary=summary,
        payload={"function": function, "user": user.pk if user else None},
    )
    named = set(IncidentRole.objects.filter(incident=incident).values_list("function", flat=True))
    if {Role.COMMUNICATIONS, Role.ACADEMICS} <= named:
        duties_complete_by_trigger(incident=incident, trigger=DutyTrigger.ROLES_NAMED, by=by)
    return assignment


def _take(incident: Incident, by: User, name: str) -> Incident:
    """Take one step of the lifecycle table on the locked row, and put it on the timeline."""
    # Checked on the locked row: another request may have moved the incident meanwhile.
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    lifecycle.require(locked, by, name)
    step = lifecycle.STEPS[name]
    setattr(locked, step.stamps, timezone.now())
    fields = [step.stamps]
    if step.moves_to:
        locked.status = step.moves_to
        fields.append("status")
    locked.save(update_fields=fields)
    timeline_append(incident=locked, kind=step.kind, actor=by, summary=step.summary)
    return locked


@transaction.atomic
def incident_mark_restored(*, incident: Incident, by: User) -> Incident:
    """Record that the affected systems work again; the console then prompts for Recovery."""
    return _take(incident, by, "restored")


@transaction.atomic
def incident_enter_recovery(*, incident: Incident, by: User) -> Incident:
    """Move the incident to Recovery, on purpose: the clock never does it by itself."""
    return _take(incident, by, "recovery")


@transaction.atomic
def incident_close(*, incident: Incident, by: User) -> Incident:
    """Close an incident in Recovery. Its clocks stop and pending deadlines lapse."""
    return _take(incident, by, "close")
