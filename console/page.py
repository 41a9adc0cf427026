"""What the incident page shows, for one viewer or for one push audience.

The page and its live pushes render from the same context. A push is rendered once per
audience, not per socket, so the context depends on the audience (what its role may see and
do), never on the person: forms in pushed fragments carry no CSRF token, and the page's
script adds the person's own token when a form is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import caches
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString, mark_safe

from comms import public, workflow
from comms.forms import CadenceChangeForm, DraftNewForm
from comms.selectors import clock_rows, drafts_for_incident
from incidents import lifecycle, selectors
from incidents.models import Incident, Role, User

# Push audiences of the incident page, most capable first: a person with several roles
# joins the first that applies. A drafter is someone the communications lead named to
# write drafts for this incident.
OWNER = "owner"
DRAFTER = "drafter"
ROLE_AUDIENCES = (Role.CIO, Role.LEGAL, Role.ACADEMICS, Role.TECHNICAL)
AUDIENCES = (OWNER, Role.COMMUNICATIONS, DRAFTER, *ROLE_AUDIENCES)
# The audiences whose pushes carry the district's silence banner: the response team's.
BANNER_AUDIENCES = (OWNER, Role.COMMUNICATIONS, *ROLE_AUDIENCES)

# Every panel of the page that is pushed, each a partial with a stable root id.
PANELS = ("clock", "roles", "cadence", "drafts", "decisions", "recovery", "duties", "timeline")

# Panels a change of only the narrow kinds touches: such a change reaches, of the district's
# dashboards, only the communications page (its drafts) and the legal page (drafts in review).
DRAFT_PANELS = ("drafts", "timeline")


# Timeline kinds whose changes show in only some panels. The draft workflow is most of an
# incident's changes; until a draft is published, it shows in the drafts panel and the
# timeline alone. A kind not listed here may change any panel, and pushes them all.
NARROW_KINDS = {
    kind: DRAFT_PANELS
    for kind in (
        "draft.created",
        "draft.edited",
        "draft.submitted",
        "draft.flagged",
        "draft.legal_cleared",
        "draft.approved",
        "draft.returned",
        "draft.withdrawn",
        "draft.warning_acknowledged",
    )
}


def panels_changed_by(kinds: Iterable[str]) -> tuple[str, ...]:
    """The panels that changes of these timeline kinds can alter, in page order."""
    wanted: set[str] = set()
    for kind in kinds:
        panels = NARROW_KINDS.get(kind)
        if panels is None:
            return PANELS
        wanted.update(panels)
    return tuple(panel for panel in PANELS if panel in wanted) or PANELS


@dataclass(frozen=True)
class Viewer:
    audience: str
    roles: frozenset[str]
    is_owner: bool
    is_drafter: bool = False


def audience_of(user: User, incident: Incident, *, is_drafter: bool) -> str | None:
    if user.pk == incident.owner_id:
        return OWNER
    if user.has_role(Role.COMMUNICATIONS):
        return Role.COMMUNICATIONS
    if is_drafter:
        return DRAFTER
    return next((a for a in ROLE_AUDIENCES if user.has_role(a)), None)


def viewer_for(user: User, incident: Incident, drafter_ids: set[int]) -> Viewer:
    return Viewer(
        audience=audience_of(user, incident, is_drafter=user.pk in drafter_ids) or "",
        roles=frozenset(user.roles),
        is_owner=user.pk == incident.owner_id,
        is_drafter=user.pk in drafter_ids,
    )


def viewer_of(audience: str) -> Viewer:
    """A stand-in viewer for rendering a push to ``audience``."""
    if audience == OWNER:
        return Viewer(audience, frozenset({Role.CIO}), is_owner=True)
    if audience == DRAFTER:
        return Viewer(audience, frozenset(), is_owner=False, is_drafter=True)
    return Viewer(audience, frozenset({audience}), is_owner=False)


def shared_context(
    incident: Incident, now: datetime, drafters: list | None = None, *, scorecard: bool
) -> dict:
    """The part of the page that is the same for every viewer, loaded once.

    A push renders six audiences from one of these; ``scorecard`` computes the trust
    scorecard, which only the CIO and the owner see. Each part that costs a query is loaded
    when a panel first reads it, so a push of the drafts and the timeline loads neither the
    roles, the duties, the decisions nor the scorecard.
    """
    slots = SimpleLazyObject(lambda: selectors.role_slots(incident))
    return {
        "incident": incident,
        "clock": incident.clock(now),
        "now": now,
        "slots": slots,
        "timeline": SimpleLazyObject(lambda: selectors.timeline_for(incident)),
        "duties": SimpleLazyObject(lambda: selectors.duty_rows(incident, now)),
        "cadence": SimpleLazyObject(lambda: clock_rows(incident, now)),
        "recovery_prompt": incident.recovery_prompt(now),
        "drafters": drafters
        if drafters is not None
        else SimpleLazyObject(lambda: list(incident.drafters.select_related("user"))),
        "drafts": SimpleLazyObject(lambda: list(drafts_for_incident(incident))),
        "drafter_candidates": SimpleLazyObject(lambda: drafter_candidates(incident, slots)),
        "decisions": SimpleLazyObject(lambda: list(incident.decisions.all())),
        "public_heading": SimpleLazyObject(lambda: public.heading_or_none(incident)),
        "scorecard": SimpleLazyObject(lambda: selectors.scorecard_for(incident, now))
        if scorecard
        else None,
    }


def incident_context(
    incident: Incident,
    viewer: Viewer,
    now: datetime,
    drafters: list | None = None,
    shared: dict | None = None,
    **forms,
) -> dict:
    """Everything the incident page and each of its panels render from."""
    roles = viewer.roles
    sees_scorecard = Role.CIO in roles
    if shared is None:
        shared = shared_context(incident, now, drafters, scorecard=sees_scorecard)
    writer = workflow.writes(is_owner=viewer.is_owner, roles=roles, is_drafter=viewer.is_drafter)
    return {
        **shared,
        "scorecard": shared["scorecard"] if sees_scorecard else None,
        "is_owner": viewer.is_owner,
        "lifecycle_steps": lifecycle.allowed_steps(incident, is_owner=viewer.is_owner),
        "can_assign": viewer.is_owner,
        "can_speak": incident.is_open and workflow.speaks(is_owner=viewer.is_owner, roles=roles),
        "cadence_form": forms.get("cadence_form") or CadenceChangeForm(),
        "can_see_drafts": workflow.reads(roles=roles, writer=writer),
        "can_draft": writer and incident.is_open,
        "can_name_drafters": workflow.names_drafters(roles=roles) and incident.is_open,
        "draft_form": DraftNewForm(),
        "can_export": viewer.audience in (OWNER, Role.CIO, Role.LEGAL),
        "audience": viewer.audience,
    }


def drafter_candidates(incident: Incident, slots) -> list[tuple[User, str]]:
    """Who the communications lead can name as a drafter, with the function they hold: the
    response team, less the owner and the communications leads, who draft already."""
    leads = {
        p.pk for slot in slots if slot.function == Role.COMMUNICATIONS for p in slot.candidates
    }
    candidates: dict[int, tuple[User, str]] = {}
    for slot in slots:
        for person in slot.candidates:
            if person.pk != incident.owner_id and person.pk not in leads:
                candidates.setdefault(person.pk, (person, slot.label))
    return list(candidates.values())


# What each pushed panel shows differently from one viewer to another. In a push, a panel
# is rendered once for each distinct set of these values, not once per audience.
PANEL_VIEWER_KEYS = {
    "clock": ("is_owner",),
    "roles": ("can_assign",),
    "cadence": ("can_speak",),
    "drafts": ("can_see_drafts", "can_name_drafters", "can_draft"),
    "decisions": ("is_owner",),
    "recovery": ("scorecard",),
    "duties": ("is_owner",),
    "timeline": ("can_export",),
}


def pushed_panels(
    incident: Incident, now: datetime, panels: tuple[str, ...] = PANELS
) -> dict[str, str]:
    """The incident page's ``panels``, rendered for every audience."""
    # The parts of the panels that are the same for everyone ({% rendered_once %}) are
    # rendered for the first audience and reused for the rest.
    shared = {**shared_context(incident, now, scorecard=True), "rendered_once": {}}
    rendered: dict[tuple, str] = {}
    pushes = {}
    for audience in AUDIENCES:
        context = incident_context(incident, viewer_of(audience), now, shared=shared)
        parts = []
        for panel in panels:
            key = (panel, *(bool(context[k]) for k in PANEL_VIEWER_KEYS[panel]))
            if key not in rendered:
                rendered[key] = render_to_string(f"incidents/incident_detail.html#{panel}", context)
            parts.append(rendered[key])
        pushes[audience] = "".join(parts)
    return pushes


# How long a page request may reuse a panel rendered for the same incident state, in seconds
# of the incident's own clock: what the panel says about time ("in 12 min", "overdue") is at
# most this old, and the page's script keeps the times current from there.
PANEL_REUSE_SECONDS = 30
# Stands for the reader's CSRF token in a kept panel; each page puts its reader's own in.
TOKEN_SLOT = "panelcachetokenslot"


def state_key(incident: Incident, now: datetime) -> str:
    """What a fragment of ``incident`` rendered at ``now`` is kept under: the incident and its
    sequence, the time zone it is shown in, and the window of ``PANEL_REUSE_SECONDS`` on the
    incident's own clock that ``now`` falls in."""
    window = max(1, PANEL_REUSE_SECONDS // max(1, incident.time_scale))
    return ":".join(
        (
            str(incident.pk),
            str(incident.sequence),
            timezone.get_current_timezone_name(),
            str(int(now.timestamp()) // window),
        )
    )


def kept_blocks(
    name: str, incidents: list[Incident], now: datetime, render, token: str = ""
) -> list[SafeString]:
    """A dashboard's block for each incident, in order, from the cache of blocks rendered
    for the same incident state (``state_key``) under ``name`` (which says what else the
    block depends on); ``render`` renders the missing ones, given their incidents, as a dict
    by incident id, with ``TOKEN_SLOT`` as the CSRF token of their forms; the reader's
    ``token`` is put in its place."""
    cache = caches["panels"]
    keys = {incident.pk: f"{name}:{state_key(incident, now)}" for incident in incidents}
    kept = cache.get_many(keys.values())
    missing = [incident for incident in incidents if keys[incident.pk] not in kept]
    fresh = {pk: str(html) for pk, html in (render(missing) if missing else {}).items()}
    cache.set_many({keys[pk]: html for pk, html in fresh.items()})
    return [
        with_token(kept.get(keys[incident.pk]) or fresh[incident.pk], token)
        for incident in incidents
    ]


def with_token(kept: str, token: str) -> SafeString:
    """A kept fragment with the reader's CSRF token in place of ``TOKEN_SLOT``."""
    # The template's own escaped output, and a token Django checked is alphanumeric.
    return mark_safe(kept.replace(TOKEN_SLOT, token))  # noqa: S308


class PanelCache:
    """The incident page's panels as page requests render them, kept in this process for
    every reader whose panel would come out the same.

    A panel is kept under the incident's sequence (any change to the incident makes new
    keys), the viewer permissions it depends on (``PANEL_VIEWER_KEYS``), the district's time
    zone and a window of ``PANEL_REUSE_SECONDS``; after that window it is rendered again, so
    a change outside the incident (a district's cadence defaults, who holds which role in the
    district) shows within the window, as it shows on a live page at its next push. Under
    load most page requests for an incident then load the incident and the person and render
    none of its panels.
    """

    def __init__(self, incident: Incident, now: datetime) -> None:
        self.prefix = f"panel:{state_key(incident, now)}"
        self.cache = caches["panels"]

    def panel(self, name: str, context, render) -> SafeString:
        """``name``'s panel for this context, from the cache or rendered by ``render``."""
        token = str(context.get("csrf_token") or "")
        if not token or token == "NOTPROVIDED":
            return render(context)
        flags = "".join("1" if _shown(context.get(k)) else "0" for k in PANEL_VIEWER_KEYS[name])
        key = f"{self.prefix}:{name}:{flags}"
        html = self.cache.get(key)
        if html is None:
            with context.push(csrf_token=TOKEN_SLOT):
                html = str(render(context))
            self.cache.set(key, html)
        return with_token(html, token)


def _shown(value) -> bool:
    """Whether a viewer key is set, without computing a part that is loaded lazily (the
    scorecard): such a part is there for this viewer, whatever it holds."""
    return isinstance(value, SimpleLazyObject) or bool(value)
