"""The draft workflow in one table: which step applies in which state, and who takes it.

The services enforce it (``require``), the editor shows exactly the steps it allows
(``allowed_actions``), and the tests walk every state and role against it. Nothing else
decides who may write, review or publish a draft.
"""

from __future__ import annotations

from collections.abc import Collection

from comms.models import OPEN_DRAFT_STATES, Draft, Drafter
from incidents.errors import Conflict, Refused
from incidents.models import Incident, Role, User

S = Draft.State

# Who takes a step: the writers of the incident's drafts (the owner, the communications lead
# and the drafters the lead names), legal counsel, or the communications lead alone.
WRITER, LEGAL, LEAD = "writer", "legal", "lead"

# step -> {state in which it applies: who takes it there}
STEPS: dict[str, dict[str, str]] = {
    "edit": dict.fromkeys(OPEN_DRAFT_STATES, WRITER),
    "acknowledge": dict.fromkeys(OPEN_DRAFT_STATES, WRITER),
    "flag": {S.DRAFT: WRITER},
    "unflag": {S.DRAFT: WRITER},
    "submit": {S.DRAFT: WRITER},
    "clear": {S.LEGAL_REVIEW: LEGAL},
    "return": {S.LEGAL_REVIEW: LEGAL, S.IN_REVIEW: LEAD},
    "approve": {S.IN_REVIEW: LEAD},
    "publish": {S.APPROVED: LEAD},
    "withdraw": {**dict.fromkeys(OPEN_DRAFT_STATES, LEAD), S.PUBLISHED: LEAD},
    "correct": {S.PUBLISHED: WRITER},
}

# The past participle of each step, for "A draft that is approved cannot be submitted."
DONE = {
    "edit": "edited",
    "acknowledge": "acknowledged",
    "flag": "flagged",
    "unflag": "unflagged",
    "submit": "submitted",
    "clear": "cleared by legal",
    "return": "returned",
    "approve": "approved",
    "publish": "published",
    "withdraw": "withdrawn",
    "correct": "corrected",
}

# The steps that move a draft on, offered under "Next step" in the editor.
NEXT_STEPS = frozenset({"submit", "flag", "unflag", "clear", "approve", "return", "publish"})
# What the editor says to a reader who has no next step to take.
WAITING_FOR = {
    S.DRAFT: "Waiting for the writer to send it for review.",
    S.LEGAL_REVIEW: "Waiting for legal counsel.",
    S.IN_REVIEW: "Waiting for the communications lead's approval.",
    S.APPROVED: "Approved; waiting for the communications lead to publish.",
    S.PUBLISHED: "Published. The audience's clock restarted at the promise made. If something "
    "in it was wrong, correct it: the correction goes through the same review.",
    S.WITHDRAWN: "Withdrawn.",
}

_WRITERS = "the communications lead, the drafters they name and the incident owner"
# Said to a person who holds none of the roles that ever take a step.
REFUSALS = {
    "edit": f"Only {_WRITERS} edit drafts.",
    "acknowledge": f"Only {_WRITERS} answer warnings.",
    "flag": f"Only {_WRITERS} flag drafts.",
    "unflag": f"Only {_WRITERS} flag drafts.",
    "submit": f"Only {_WRITERS} submit drafts.",
    "clear": "Only legal counsel clears legal review.",
    "return": "Only legal counsel and the communications lead return drafts.",
    "approve": "Only the communications lead approves messages.",
    "publish": "Only the communications lead publishes messages.",
    "withdraw": "Only the communications lead withdraws messages.",
    "correct": f"Only {_WRITERS} write corrections.",
}
# Said when the person takes the step in other states but not in this one.
_STATE_REFUSALS = {
    ("return", S.LEGAL_REVIEW): "Only legal counsel returns a draft from legal review.",
    ("return", S.IN_REVIEW): "Only the communications lead returns a draft from review.",
}


# Who reads an incident's drafts besides their writers.
READER_ROLES = frozenset({Role.CIO, Role.COMMUNICATIONS, Role.LEGAL})


def speaks(*, is_owner: bool, roles: Collection[str]) -> bool:
    """Who speaks for the incident (records updates, changes the cadence, keeps the fact
    sheet): its owner and the communications lead. Said of what a person is to the incident,
    so that a page rendered for an audience applies the same rule as a service."""
    return is_owner or Role.COMMUNICATIONS in roles


def may_speak_for(incident: Incident, user: User) -> bool:
    return user.district_id == incident.district_id and speaks(
        is_owner=user.pk == incident.owner_id, roles=user.roles
    )


def names_drafters(*, roles: Collection[str]) -> bool:
    """The communications lead names and removes an incident's drafters."""
    return Role.COMMUNICATIONS in roles


def writes(*, is_owner: bool, roles: Collection[str], is_drafter: bool) -> bool:
    """The writers of an incident's drafts: those who speak for it, and the drafters the
    communications lead names."""
    return speaks(is_owner=is_owner, roles=roles) or is_drafter


def reads(*, roles: Collection[str], writer: bool) -> bool:
    """Drafts are read by their writers, the CIO, the communications lead and legal counsel."""
    return writer or not READER_ROLES.isdisjoint(roles)


def is_writer(incident: Incident, user: User, drafter_ids: Collection[int] | None = None) -> bool:
    """Whether ``user`` writes this incident's drafts. ``drafter_ids`` may be given when the
    incident's drafters are loaded already; otherwise they are looked up, and only when the
    person is not a writer by role."""
    if user.district_id != incident.district_id:
        return False
    if writes(is_owner=user.pk == incident.owner_id, roles=user.roles, is_drafter=False):
        return True
    if drafter_ids is not None:
        return user.pk in drafter_ids
    return Drafter.objects.filter(incident=incident, user=user).exists()


def may_read(draft: Draft, user: User) -> bool:
    if user.district_id != draft.incident.district_id:
        return False
    return reads(roles=user.roles, writer=False) or is_writer(draft.incident, user)


def _holds(who: str, incident: Incident, user: User, drafter_ids) -> bool:
    if who == WRITER:
        return is_writer(incident, user, drafter_ids)
    if user.district_id != incident.district_id:
        return False
    return user.has_role(Role.LEGAL if who == LEGAL else Role.COMMUNICATIONS)


# Conditions beyond the state, with what is said when one does not hold.
_CONDITIONS = {
    "flag": (lambda d: not d.flagged_for_legal, "This draft is already flagged for legal review."),
    "unflag": (lambda d: d.flagged_for_legal, "This draft is not flagged for legal review."),
    "correct": (
        lambda d: not d.is_heading,
        "A public title is changed by drafting a new one, not by a correction.",
    ),
}


def _applies(step: str, draft: Draft) -> bool:
    condition = _CONDITIONS.get(step)
    return condition is None or condition[0](draft)


def allowed_actions(
    draft: Draft, user: User, drafter_ids: Collection[int] | None = None
) -> frozenset[str]:
    """The steps ``user`` may take on ``draft`` now: what the editor offers, no more."""
    if drafter_ids is None and user.district_id == draft.incident.district_id:
        drafter_ids = set(draft.incident.drafters.values_list("user_id", flat=True))
    return frozenset(
        step
        for step, rows in STEPS.items()
        if (who := rows.get(draft.state))
        and _applies(step, draft)
        and _holds(who, draft.incident, user, drafter_ids)
    )


def require(draft: Draft, user: User, step: str) -> None:
    """Refuse the step unless the table allows it: 403 for a person who never takes it, 409
    for a state in which it does not apply, 403 for a person who takes it only elsewhere,
    409 when its condition does not hold (flagging a flagged draft)."""
    rows = STEPS[step]
    # Each kind of person is looked up once (a writer may take a query for the drafters).
    holds = {who: _holds(who, draft.incident, user, None) for who in set(rows.values())}
    if not any(holds.values()):
        raise Refused(REFUSALS[step])
    who = rows.get(draft.state)
    if who is None:
        raise Conflict(
            f"A draft that is {draft.get_state_display().lower()} cannot be {DONE[step]}."
        )
    if not holds[who]:
        raise Refused(_STATE_REFUSALS.get((step, draft.state), REFUSALS[step]))
    if not _applies(step, draft):
        raise Conflict(_CONDITIONS[step][1])
