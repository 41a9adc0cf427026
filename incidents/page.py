"""What the incident page shows, for one viewer or for one push audience.

The page and its live pushes render from the same context. A push is rendered once per
audience, not per socket, so the context depends on the audience (what its role may see and
do), never on the person: forms in pushed fragments carry no CSRF token, and the page's
script adds the person's own token when a form is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incidents import selectors
from incidents.models import Incident, Role, User

# Push audiences of the incident page, most capable first: a person with several roles
# joins the first that applies.
OWNER = "owner"
AUDIENCES = (OWNER, Role.COMMUNICATIONS, Role.CIO, Role.LEGAL, Role.ACADEMICS, Role.TECHNICAL)

# Every panel of the page that is pushed, each a partial with a stable root id.
PANELS = ("clock", "roles", "cadence", "drafts", "decisions", "recovery", "duties", "timeline")


@dataclass(frozen=True)
class Viewer:
    audience: str
    roles: frozenset[str]
    is_owner: bool
    is_drafter: bool = False


def audience_of(user: User, incident: Incident) -> str | None:
    if user.pk == incident.owner_id:
        return OWNER
    return next((a for a in AUDIENCES[1:] if user.has_role(a)), None)


def viewer_for(user: User, incident: Incident, drafter_ids: set[int]) -> Viewer:
    return Viewer(
        audience=audience_of(user, incident) or "",
        roles=frozenset(user.roles),
        is_owner=user.pk == incident.owner_id,
        is_drafter=user.pk in drafter_ids,
    )


def viewer_of(audience: str) -> Viewer:
    """A stand-in viewer for rendering a push to ``audience``."""
    if audience == OWNER:
        return Viewer(audience, frozenset({Role.CIO}), is_owner=True)
    return Viewer(audience, frozenset({audience}), is_owner=False)


def incident_context(
    incident: Incident, viewer: Viewer, now: datetime, drafters: list | None = None, **forms
) -> dict:
    """Everything the incident page and each of its panels render from."""
    from comms.forms import CadenceChangeForm, DraftNewForm
    from comms.selectors import clock_rows, drafts_for_incident

    roles = viewer.roles
    writer = viewer.is_owner or Role.COMMUNICATIONS in roles or viewer.is_drafter
    return {
        "incident": incident,
        "clock": incident.clock(now),
        "now": now,
        "slots": selectors.role_slots(incident),
        "timeline": selectors.timeline_for(incident),
        "duties": selectors.duty_rows(incident, now),
        "cadence": clock_rows(incident, now),
        "recovery_prompt": incident.recovery_prompt(now),
        "is_owner": viewer.is_owner,
        "can_assign": viewer.is_owner,
        "can_speak": incident.is_open and (viewer.is_owner or Role.COMMUNICATIONS in roles),
        "cadence_form": forms.get("cadence_form") or CadenceChangeForm(),
        "can_see_drafts": writer or bool(roles & {Role.CIO, Role.LEGAL}),
        "can_draft": writer and incident.is_open,
        "drafters": drafters
        if drafters is not None
        else list(incident.drafters.select_related("user")),
        "can_name_drafters": Role.COMMUNICATIONS in roles and incident.is_open,
        "drafts": drafts_for_incident(incident),
        "draft_form": DraftNewForm(),
        "decisions": list(incident.decisions.all()),
        "scorecard": selectors.scorecard_for(incident, now) if Role.CIO in roles else None,
        "audience": viewer.audience,
    }
