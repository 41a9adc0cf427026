"""Who takes each step of classroom guidance, in one table.

The academic lead writes guidance, reminds schools and answers their questions; a principal
acknowledges guidance and asks questions for the schools they lead. The services enforce
the table (``require``), the pages offer the steps it gives the viewer (``steps_for``), and a
test checks both against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from incidents.errors import Refused
from incidents.models import Incident, Role, School, User

ACADEMIC, PRINCIPAL = Role.ACADEMICS, Role.PRINCIPAL
_LEAD_ONLY = "Only the academic lead publishes guidance and answers questions."


@dataclass(frozen=True)
class Step:
    who: str
    refusal: str


STEPS = {
    "publish": Step(ACADEMIC, _LEAD_ONLY),
    "nudge": Step(ACADEMIC, _LEAD_ONLY),
    "answer": Step(ACADEMIC, _LEAD_ONLY),
    "acknowledge": Step(PRINCIPAL, "You can acknowledge guidance only for a school you lead."),
    "ask": Step(PRINCIPAL, "You can ask questions only for a school you lead."),
}


def steps_of(who: str) -> frozenset[str]:
    """The steps of everyone who holds ``who``: what a page pushed to that audience offers."""
    return frozenset(name for name, step in STEPS.items() if step.who == who)


def steps_for(user: User) -> frozenset[str]:
    """The steps ``user`` takes on guidance in their district (a principal, for their schools)."""
    return frozenset(name for name, step in STEPS.items() if user.has_role(step.who))


def require(user: User, name: str, *, incident: Incident, school: School | None = None) -> None:
    """Refuse unless ``user`` takes this step for the incident (and school) given."""
    step = STEPS[name]
    allowed = user.district_id == incident.district_id and user.has_role(step.who)
    if allowed and step.who == PRINCIPAL and school is not None:
        allowed = user.schools.filter(pk=school.pk).exists()
    if not allowed:
        raise Refused(step.refusal)
