"""The governance briefing: composed only from approved words, decisions the board may see,
and the phase. Nothing unapproved and nothing from the technical log reaches it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from comms.models import Audience, AudienceClock, PublishedUpdate
from incidents.guidance import affected_schools_by_incident
from incidents.models import Decision, Incident, Role, School
from incidents.phases import Phase
from incidents.selectors import injects_for, scorecards_for

# Incidents closed within this window stay on the briefing, with their scorecard.
CLOSED_SHOWN_FOR = timedelta(days=14)

PLAIN_PHASE = {
    Phase.CONTROL: "Phase 1, Control: the first day, when the district takes charge and tells "
    "people what it knows.",
    Phase.TRUST: "Phase 2, Trust: days two and three, when steady and consistent updates "
    "matter most.",
    Phase.RECOVERY: "Recovery: services are stable and the district is returning to normal.",
    Phase.CLOSED: "Closed.",
}


@dataclass
class Briefing:
    incident: Incident
    phase_text: str
    schools: list[School]
    systems: list[str]
    board_updates: list[PublishedUpdate]
    decisions: list[Decision]
    next_update_at: datetime | None
    scorecard: object | None = None
    impacts: list[str] = field(default_factory=list)
    # An exercise's latest injects to the board liaison.
    injects: list = field(default_factory=list)


def briefing_incidents(district_id: int, now: datetime) -> list[Incident]:
    """The incidents the board sees: the open ones and those closed in the last
    ``CLOSED_SHOWN_FOR``."""
    return list(
        Incident.objects.filter(district_id=district_id)
        .filter(~Q(status=Incident.Status.CLOSED) | Q(closed_at__gte=now - CLOSED_SHOWN_FOR))
        .select_related("district")
        .order_by("status", "-declared_at")
    )


def briefing_of(incident: Incident, now: datetime) -> Briefing:
    """What the board sees of one incident."""
    return briefings_of([incident], now)[0]


def briefings_of(incidents: list[Incident], now: datetime) -> list[Briefing]:
    """``briefing_of`` for each incident, in a fixed number of queries."""
    from django.db.models import prefetch_related_objects

    if not incidents:
        return []
    ids = [i.pk for i in incidents]
    prefetch_related_objects(incidents, "systems")
    schools = affected_schools_by_incident(incidents)
    clocks = {
        c.incident_id: c
        for c in AudienceClock.objects.filter(incident_id__in=ids, audience=Audience.BOARD)
    }
    updates: dict[int, list[PublishedUpdate]] = {pk: [] for pk in ids}
    for update in PublishedUpdate.objects.filter(
        incident_id__in=ids, audience=Audience.BOARD, withdrawn_at__isnull=True
    ).order_by("-published_at"):
        updates[update.incident_id].append(update)
    decisions: dict[int, list[Decision]] = {pk: [] for pk in ids}
    for decision in Decision.objects.filter(
        incident_id__in=ids, visibility=Decision.Visibility.GOVERNANCE
    ).order_by("-recorded_at"):
        decisions[decision.incident_id].append(decision)
    closed = [i for i in incidents if i.status == Incident.Status.CLOSED]
    scorecards = scorecards_for(closed, now, schools=schools)
    injects = injects_for(incidents, Role.BOARD_LIAISON)
    briefings = []
    for incident in incidents:
        board = clocks.get(incident.pk)
        briefings.append(
            Briefing(
                incident=incident,
                phase_text=PLAIN_PHASE[incident.clock(now).phase],
                schools=schools[incident.pk],
                systems=[s.name for s in incident.systems.all()],
                board_updates=updates[incident.pk],
                decisions=decisions[incident.pk],
                next_update_at=board.next_update_due_at
                if board and incident.status != Incident.Status.CLOSED
                else None,
                impacts=incident.impact_labels(),
                scorecard=scorecards.get(incident.pk),
                injects=injects[incident.pk],
            )
        )
    return briefings
