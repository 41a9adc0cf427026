"""The governance briefing: composed only from approved words, decisions the board may see,
and the phase. Nothing unapproved and nothing from the technical log reaches it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from comms.models import Audience, AudienceClock, PublishedUpdate
from incidents.models import Decision, Incident, School
from incidents.phases import Phase

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


def briefing_for(district_id: int, now: datetime) -> list[Briefing]:
    incidents = (
        Incident.objects.filter(district_id=district_id)
        .filter(~Q(status=Incident.Status.CLOSED) | Q(closed_at__gte=now - CLOSED_SHOWN_FOR))
        .prefetch_related("systems", "schools")
        .select_related("district")
        .order_by("status", "-declared_at")
    )
    return [briefing_of(incident, now) for incident in incidents]


def briefing_of(incident: Incident, now: datetime) -> Briefing:
    """What the board sees of one incident."""
    schools = (
        list(School.objects.filter(district_id=incident.district_id).order_by("name"))
        if incident.all_schools
        else list(incident.schools.all())
    )
    board = AudienceClock.objects.filter(incident=incident, audience=Audience.BOARD).first()
    briefing = Briefing(
        incident=incident,
        phase_text=PLAIN_PHASE[incident.clock(now).phase],
        schools=schools,
        systems=[s.name for s in incident.systems.all()],
        board_updates=list(
            PublishedUpdate.objects.filter(
                incident=incident, audience=Audience.BOARD, withdrawn_at__isnull=True
            ).order_by("-published_at")
        ),
        decisions=list(
            Decision.objects.filter(
                incident=incident, visibility=Decision.Visibility.GOVERNANCE
            ).order_by("-recorded_at")
        ),
        next_update_at=board.next_update_due_at
        if board and incident.status != Incident.Status.CLOSED
        else None,
        impacts=incident.impact_labels(),
    )
    if incident.status == Incident.Status.CLOSED:
        from incidents.selectors import scorecard_for

        briefing.scorecard = scorecard_for(incident, now)
    return briefing
