"""The append-only timeline: every state change of an incident, in order."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from incidents import events
from incidents.models import Incident, TimelineEntry, User


def timeline_append(
    *,
    incident: Incident,
    kind: str,
    summary: str,
    actor: User | None = None,
    payload: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Append one timeline row and bump the incident's sequence number.

    Must run inside the caller's transaction. The UPDATE takes the incident's row lock, so
    concurrent writers to one incident get consecutive sequence numbers in commit order.
    """
    Incident.objects.filter(pk=incident.pk).update(sequence=F("sequence") + 1)
    sequence = Incident.objects.values_list("sequence", flat=True).get(pk=incident.pk)
    incident.sequence = sequence
    entry = TimelineEntry.objects.create(
        incident=incident,
        sequence=sequence,
        actor=actor,
        kind=kind,
        summary=summary,
        payload=payload or {},
    )
    events.changed_on_commit(incident_id=incident.pk, sequence=sequence)
    return entry
