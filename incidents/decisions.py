"""Decisions: what was decided during the incident, by whom and why, and whether the board
may see it."""

from __future__ import annotations

from django.db import transaction

from incidents.errors import Invalid, Refused
from incidents.models import Decision, Incident, User
from incidents.text import checked_text
from incidents.timeline import timeline_append

MISSING = "Record the decision, who made it, and why."


@transaction.atomic
def decision_record(
    *, incident: Incident, by: User, text: str, decided_by: str, rationale: str, visibility: str
) -> Decision:
    """The owner records a decision, who made it, why, and whether the board may see it."""
    if by.pk != incident.owner_id:
        raise Refused("Only the incident owner records decisions.")
    text = checked_text(text, model=Decision, field="text", label="The decision", missing=MISSING)
    decided_by = checked_text(
        decided_by, model=Decision, field="decided_by", label="Who decided", missing=MISSING
    )
    rationale = checked_text(
        rationale, model=Decision, field="rationale", label="Why", missing=MISSING
    )
    if visibility not in Decision.Visibility.values:
        raise Invalid("Choose whether the board may see this decision.")
    decision = Decision.objects.create(
        incident=incident,
        text=text,
        decided_by=decided_by,
        rationale=rationale,
        visibility=visibility,
        recorded_by=by,
    )
    timeline_append(
        incident=incident,
        kind="decision.recorded",
        actor=by,
        summary=f"Decision: {decision.text}",
        payload={"decision": decision.pk, "visibility": visibility},
    )
    return decision
