"""Reads for incident pages, each with a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from incidents.models import (
    INCIDENT_FUNCTIONS,
    Incident,
    IncidentDuty,
    IncidentRole,
    Role,
    RoleGrant,
    School,
    TimelineEntry,
    User,
)


def incidents_for_district(district_id: int) -> QuerySet[Incident]:
    return (
        Incident.objects.filter(district_id=district_id)
        .select_related("owner")
        .order_by("status", "-declared_at")
    )


def open_incidents_for_district(district_id: int) -> QuerySet[Incident]:
    return incidents_for_district(district_id).exclude(status=Incident.Status.CLOSED)


def incidents_affecting_schools(district_id: int, schools: list[School]) -> list[Incident]:
    """Open incidents that affect any of ``schools`` (all-school incidents included)."""
    from django.db.models import Q

    return list(
        open_incidents_for_district(district_id)
        .filter(Q(all_schools=True) | Q(schools__in=schools))
        .distinct()
    )


@dataclass(frozen=True)
class RoleSlot:
    function: str
    label: str
    assignment: IncidentRole | None
    candidates: list[User]


def role_slots(incident: Incident) -> list[RoleSlot]:
    """Each assignable function with its current holder and who may hold it."""
    assignments = {
        a.function: a for a in IncidentRole.objects.filter(incident=incident).select_related("user")
    }
    # One query: each grant of an incident function, with its holder.
    grants = (
        RoleGrant.objects.filter(
            user__district_id=incident.district_id,
            user__is_active=True,
            role__in=[f.value for f in INCIDENT_FUNCTIONS],
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username", "role")
    )
    by_role: dict[str, list[User]] = {f: [] for f in INCIDENT_FUNCTIONS}
    for grant in grants:
        by_role[grant.role].append(grant.user)
    return [
        RoleSlot(f.value, Role(f).label, assignments.get(f.value), by_role[f.value])
        for f in INCIDENT_FUNCTIONS
    ]


@dataclass(frozen=True)
class DutyRow:
    duty: IncidentDuty
    state: str
    state_label: str
    due_at: datetime


def duty_rows(incident: Incident, now: datetime) -> list[DutyRow]:
    return [
        DutyRow(
            d,
            d.state(now, incident),
            IncidentDuty.State(d.state(now, incident)).label,
            d.due_at(incident),
        )
        for d in incident.duties.select_related("done_by")
    ]


def timeline_for(incident: Incident, limit: int = 200) -> list[TimelineEntry]:
    """The newest timeline rows first."""
    return list(
        TimelineEntry.objects.filter(incident=incident)
        .select_related("actor")
        .order_by("-sequence")[:limit]
    )


# What the incident page reads beside the incident row itself.
INCIDENT_DETAIL_PREFETCH = (
    "systems",
    Prefetch("schools", queryset=School.objects.order_by("name")),
)


def incident_detail_queryset() -> QuerySet[Incident]:
    return Incident.objects.select_related("district", "owner").prefetch_related(
        *INCIDENT_DETAIL_PREFETCH
    )


def scorecard_for(incident: Incident, now: datetime):
    """The trust scorecard, computed from the incident's timeline."""
    from incidents import guidance

    schools = {incident.pk: guidance.affected_schools(incident)}
    return scorecards_for([incident], now, schools=schools)[incident.pk]


def scorecards_for(
    incidents: list[Incident], now: datetime, *, schools: dict[int, list[School]] | None = None
) -> dict:
    """``scorecard_for`` for each incident, in a fixed number of queries. ``schools`` (each
    incident's affected schools) may be passed in when the caller has them."""
    from incidents import guidance, scorecard

    if not incidents:
        return {}
    if schools is None:
        schools = guidance.affected_schools_by_incident(incidents)
    kinds = [
        scorecard.INCIDENT_OPENED,
        scorecard.CADENCE_CHANGED,
        scorecard.UPDATE_PUBLISHED,
        scorecard.UPDATE_LANGUAGES,
        scorecard.DRAFT_WITHDRAWN,
        scorecard.UPDATE_CORRECTED,
        scorecard.GUIDANCE_PUBLISHED,
        scorecard.GUIDANCE_ACKNOWLEDGED,
    ]
    events: dict[int, list] = {i.pk: [] for i in incidents}
    for e in (
        TimelineEntry.objects.filter(incident__in=incidents, kind__in=kinds)
        .order_by("incident_id", "sequence")
        .only("incident_id", "at", "kind", "payload")
    ):
        events[e.incident_id].append(scorecard.Event(at=e.at, kind=e.kind, payload=e.payload))
    return {
        incident.pk: _scorecard(incident, events[incident.pk], incident.closed_at or now, schools)
        for incident in incidents
    }


def _scorecard(incident: Incident, events: list, now: datetime, schools: dict):
    from incidents import scorecard

    school_ids = [s.pk for s in schools[incident.pk]]
    if not incident.clock_segments:
        return scorecard.compute(
            declared_at=incident.declared_at,
            events=events,
            now=now,
            school_ids=school_ids,
            time_scale=incident.time_scale,
        )
    # A facilitator paused, sped or jumped the exercise's clock: score it on that clock.
    moved, moved_now = scorecard.on_own_clock(
        incident.own_clock, declared_at=incident.declared_at, events=events, now=now
    )
    score = scorecard.compute(
        declared_at=incident.declared_at, events=moved, now=moved_now, school_ids=school_ids
    )
    return replace(score, time_scale=incident.time_scale)


# A timeline row of an exercise's inject; its payload names the roles it went to.
INJECT_KIND = "exercise.inject"
INJECTS_SHOWN = 3


def injects_for(incidents: list[Incident], role: str) -> dict[int, list[TimelineEntry]]:
    """The latest injects that went to ``role`` (or to everyone) in each exercise incident,
    newest first, in one query; none, and no query, for real incidents."""
    found: dict[int, list[TimelineEntry]] = {i.pk: [] for i in incidents}
    exercises = [i.pk for i in incidents if i.is_exercise]
    if not exercises:
        return found
    for entry in TimelineEntry.objects.filter(incident_id__in=exercises, kind=INJECT_KIND).order_by(
        "-sequence"
    ):
        to = entry.payload.get("to") or []
        shown = found[entry.incident_id]
        if ("everyone" in to or role in to) and len(shown) < INJECTS_SHOWN:
            shown.append(entry)
    return found
