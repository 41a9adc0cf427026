"""The private review that opens in Recovery: what happened, why, and follow-up actions.

It belongs to the response team. No public page, no board page and no outward message ever
reads it.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from incidents.errors import Invalid, Refused
from incidents.models import RESPONSE_TEAM_ROLES, FollowUp, Incident, Review, User
from incidents.text import checked_text
from incidents.timeline import timeline_append


def review_open(incident: Incident) -> bool:
    return incident.status in (Incident.Status.RECOVERY, Incident.Status.CLOSED)


def _team(incident: Incident, by: User) -> None:
    if by.district_id != incident.district_id or not by.has_role(*RESPONSE_TEAM_ROLES):
        raise Refused("The review is for the response team.")
    incident.refresh_from_db(fields=["status"])
    if not review_open(incident):
        raise Invalid("The review opens when the incident moves to Recovery.")


@transaction.atomic
def review_save(*, incident: Incident, by: User, what_happened: str, why: str) -> Review:
    _team(incident, by)
    what_happened = checked_text(
        what_happened, model=Review, field="what_happened", label="“What happened”"
    )
    why = checked_text(why, model=Review, field="why", label="“Why”")
    review, _ = Review.objects.select_for_update().get_or_create(
        incident=incident, defaults={"updated_by": by}
    )
    review.what_happened, review.why = what_happened, why
    review.updated_by, review.updated_at = by, timezone.now()
    review.save()
    timeline_append(incident=incident, kind="review.saved", actor=by, summary="Review updated")
    return review


@transaction.atomic
def followup_add(
    *, incident: Incident, by: User, text: str, owner: User, due_on: date | None
) -> FollowUp:
    _team(incident, by)
    text = checked_text(
        text, model=FollowUp, field="text", label="The action", missing="Describe the action."
    )
    if owner.district_id != incident.district_id:
        raise Invalid("The action's owner must be someone in your district.")
    review, _ = Review.objects.get_or_create(incident=incident, defaults={"updated_by": by})
    action = FollowUp.objects.create(review=review, text=text, owner=owner, due_on=due_on)
    timeline_append(
        incident=incident,
        kind="review.action_added",
        actor=by,
        summary=f"Follow-up action for {owner}: {text}",
        payload={"action": action.pk},
    )
    return action


@transaction.atomic
def followup_done(*, action: FollowUp, by: User) -> FollowUp:
    action = (
        FollowUp.objects.select_for_update().select_related("review__incident").get(pk=action.pk)
    )
    incident = action.review.incident
    _team(incident, by)
    if action.done_at is None:
        action.done_at = timezone.now()
        action.save(update_fields=["done_at"])
        timeline_append(
            incident=incident,
            kind="review.action_done",
            actor=by,
            summary=f"Follow-up action done: {action.text}",
            payload={"action": action.pk},
        )
    return action
