"""Drafters: the people the communications lead names to write an incident's drafts."""

from __future__ import annotations

from django.db import transaction

from comms import workflow
from comms.models import Drafter
from incidents import events
from incidents.errors import Invalid, Refused
from incidents.models import RESPONSE_TEAM_ROLES, Incident, User
from incidents.timeline import timeline_append


def _require_lead(incident: Incident, by: User, doing: str) -> None:
    if by.district_id != incident.district_id or not workflow.names_drafters(roles=by.roles):
        raise Refused(f"Only the communications lead {doing} drafters.")


def _changed(incident: Incident, by: User, user: User, kind: str, summary: str) -> None:
    """On the timeline; and the person's open pages reconnect and get the pushes of their new
    audience."""
    timeline_append(
        incident=incident, kind=kind, actor=by, summary=summary, payload={"user": user.pk}
    )
    events.access_changed_on_commit(user.pk)


@transaction.atomic
def drafter_name(*, incident: Incident, by: User, user: User) -> Drafter:
    """The communications lead names someone on the response team to write drafts."""
    _require_lead(incident, by, "names")
    if user.district_id != incident.district_id or not user.has_role(*RESPONSE_TEAM_ROLES):
        raise Invalid(f"{user} is not on this district's response team.")
    drafter, created = Drafter.objects.get_or_create(
        incident=incident, user=user, defaults={"named_by": by}
    )
    if created:
        _changed(incident, by, user, "drafter.named", f"{user} named to write drafts")
    return drafter


@transaction.atomic
def drafter_remove(*, incident: Incident, by: User, user: User) -> None:
    _require_lead(incident, by, "removes")
    deleted, _ = Drafter.objects.filter(incident=incident, user=user).delete()
    if deleted:
        _changed(incident, by, user, "drafter.removed", f"{user} no longer writes drafts")
