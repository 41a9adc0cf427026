"""Drafters: the people the communications lead names to write an incident's drafts."""

from __future__ import annotations

from django.db import transaction

from comms.models import (
    Drafter,
)
from incidents import events
from incidents.errors import Invalid, Refused
from incidents.models import RESPONSE_TEAM_ROLES, Incident, Role, User
from incidents.timeline import timeline_append


@transaction.atomic
def drafter_name(*, incident: Incident, by: User, user: User) -> Drafter:
    """The communications lead names someone on the response team to write drafts."""
    if by.district_id != incident.district_id or not by.has_role(Role.COMMUNICATIONS):
        raise Refused("Only the communications lead names drafters.")
    if user.district_id != incident.district_id or not user.has_role(*RESPONSE_TEAM_ROLES):
        raise Invalid(f"{user} is not on this district's response team.")
    drafter, created = Drafter.objects.get_or_create(
        incident=incident, user=user, defaults={"named_by": by}
    )
    if created:
        timeline_append(
            incident=incident,
            kind="drafter.named",
            actor=by,
            summary=f"{user} named to write drafts",
            payload={"user": user.pk},
        )
        _recheck_sockets(user)
    return drafter


def _recheck_sockets(user: User) -> None:
    """The person's open pages reconnect and get the pushes of their new audience."""
    events.access_changed_on_commit(user.pk)


@transaction.atomic
def drafter_remove(*, incident: Incident, by: User, user: User) -> None:
    if by.district_id != incident.district_id or not by.has_role(Role.COMMUNICATIONS):
        raise Refused("Only the communications lead removes drafters.")
    deleted, _ = Drafter.objects.filter(incident=incident, user=user).delete()
    if deleted:
        timeline_append(
            incident=incident,
            kind="drafter.removed",
            actor=by,
            summary=f"{user} no longer writes drafts",
            payload={"user": user.pk},
        )
        _recheck_sockets(user)
