"""The incident's lifecycle in one table: which step applies in which status.

Only the incident's owner takes these steps. The services enforce the table (``require``),
the incident page offers exactly what it allows (``allowed_steps``), and a test walks every
status against both.
"""

from __future__ import annotations

from dataclasses import dataclass

from incidents.errors import Invalid, Refused
from incidents.models import Incident, User

Status = Incident.Status


@dataclass(frozen=True)
class Step:
    name: str
    label: str
    statuses: frozenset[str]
    refusal: str  # said to anyone but the owner
    not_now: str  # said in a status where the step does not apply
    stamps: str  # the incident's field that records when the step was taken
    kind: str  # the timeline row it appends, and that row's summary
    summary: str
    moves_to: str | None = None  # the status it moves the incident to, if any
    confirm: str = ""  # asked in the browser before a step that cannot be undone
    primary: bool = True


STEPS = {
    step.name: step
    for step in (
        Step(
            "restored",
            "Mark systems restored",
            frozenset({Status.ACTIVE}),
            "Only the incident owner can mark systems restored.",
            "Systems can be marked restored only while the incident is active.",
            "systems_restored_at",
            "incident.restored",
            "Affected systems marked restored. Recovery can begin when ready",
            primary=False,
        ),
        Step(
            "recovery",
            "Move to Recovery",
            frozenset({Status.ACTIVE}),
            "Only the incident owner can move the incident to Recovery.",
            "Only an active incident can move to Recovery.",
            "recovery_at",
            "incident.recovery",
            "Moved to Recovery: updates turn to calm notes on stability",
            moves_to=Status.RECOVERY,
            confirm="Move this incident to Recovery? Phase deadlines stop; update clocks "
            "continue at the Recovery cadence.",
        ),
        Step(
            "close",
            "Close the incident",
            frozenset({Status.RECOVERY}),
            "Only the incident owner can close the incident.",
            "Move the incident to Recovery before closing it.",
            "closed_at",
            "incident.closed",
            "Incident closed",
            moves_to=Status.CLOSED,
            confirm="Close this incident? Its clocks stop for good.",
        ),
    )
}


def _taken_already(step: Step, incident: Incident) -> str:
    """Why a step the status allows is not offered: it was taken once and stands. Systems are
    marked restored once; the mark stays through Recovery."""
    if step.name == "restored" and incident.systems_restored_at is not None:
        return "Systems are already marked restored."
    return ""


def _applies(step: Step, incident: Incident) -> bool:
    return incident.status in step.statuses and not _taken_already(step, incident)


def allowed_steps(incident: Incident, *, is_owner: bool) -> list[Step]:
    """The steps the incident page offers, in order: all of them to the owner, none to others."""
    if not is_owner:
        return []
    return [step for step in STEPS.values() if _applies(step, incident)]


def require(incident: Incident, by: User, name: str) -> None:
    """Refuse the step unless ``by`` owns the incident and its status allows the step."""
    step = STEPS[name]
    if by.pk != incident.owner_id:
        raise Refused(step.refusal)
    if incident.status not in step.statuses:
        raise Invalid(step.not_now)
    if taken := _taken_already(step, incident):
        raise Invalid(taken)
