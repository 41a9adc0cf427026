"""Live push: group names, and rendering of changed fragments per audience after commit.

Each committed change bumps the incident's sequence number (``incidents.events`` announces the
change after commit, and ``console.receivers`` hands it here). A worker renders
the incident page's panels once per audience (not once per socket) and sends them to that
audience's group, each fragment carrying the sequence numbers it covers. Channel layers
deliver at most once, so pages also re-fetch over HTTP on a gap, on reconnect and when
heartbeats stop: the socket only makes the page fast, never correct.
"""

from __future__ import annotations

import hashlib
import logging
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db.models import prefetch_related_objects
from django.template.loader import render_to_string
from django.utils import timezone

from comms.briefing import briefing_of
from comms.selectors import comms_block, silences_by_incident
from console import page
from incident_console import broker
from incidents import guidance, guidance_rules, selectors
from incidents.models import TimelineEntry

log = logging.getLogger(__name__)

# Dashboard audiences of a district: each dashboard page joins the groups its roles allow.
DASHBOARD_COMMS = "communications"
DASHBOARD_ACADEMICS = "academics"
DASHBOARD_BOARD = "board_liaison"
DASHBOARD_LEGAL = "legal"
DASHBOARD_PRINCIPALS = "principal"
DASHBOARD_TEAM = "team"
DASHBOARD_FACILITATOR = "facilitator"
DASHBOARD_AUDIENCES = (
    DASHBOARD_COMMS,
    DASHBOARD_ACADEMICS,
    DASHBOARD_BOARD,
    DASHBOARD_LEGAL,
    DASHBOARD_PRINCIPALS,
    DASHBOARD_TEAM,
    DASHBOARD_FACILITATOR,
)


def incident_group(incident_id: int, audience: str) -> str:
    """The channel-layer group of one audience of one incident."""
    return f"incident.{incident_id}.{audience}"


def district_group(district_id: int, audience: str) -> str:
    """The channel-layer group of one dashboard audience of a district."""
    return f"district.{district_id}.{audience}"


def district_of_group(group: str) -> int:
    """The district of a group named by ``district_group``."""
    return int(group.split(".")[1])


def session_group(session_key: str) -> str:
    """Every open socket of one signed-in session (one browser), so signing out there closes
    them and leaves the person's other devices alone. Named by a digest, not the key itself."""
    return f"session.{hashlib.sha256(session_key.encode()).hexdigest()[:40]}"


def user_group(user_id: int) -> str:
    """Every open socket of one person, so signing out can close them all."""
    return f"user.{user_id}"


def hand_off(changed: dict[int, int]) -> None:
    """Queue one push per changed incident, rendered by a worker, not in the request.

    The person who made the change gets their answer without waiting for six audiences'
    rendering, and the rendering runs in the worker's processes, beside the web process
    rather than on its core. ``changed`` maps each incident to its first new sequence number.
    """
    from console.tasks import live_publish

    # The change is committed and pages catch up on their next heartbeat or reconnect; a
    # broker outage must not turn a saved change into an error page.
    for incident_id, first_sequence in changed.items():
        broker.hand_off(
            partial(live_publish.delay, incident_id, first_sequence - 1),
            f"the live push of incident {incident_id}",
        )


def send(group: str, message: dict) -> None:
    send_all([(group, message)])


def send_all(messages: list[tuple[str, dict]]) -> None:
    """Send to several groups in one event loop: from sync code, each ``async_to_sync`` call
    runs a loop of its own, and channels_redis opens a fresh connection for every loop."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_each() -> None:
        for group, message in messages:
            await layer.group_send(group, message)

    async_to_sync(send_each)()


def publish(incident_id: int, *, from_sequence: int) -> None:
    """Render the incident page's panels for each audience and send them to its group."""
    # The row alone first: a task that a later push covered stops after one query.
    incident = (
        selectors.incident_detail_queryset()
        .prefetch_related(None)
        .select_related("public_heading")
        .get(pk=incident_id)
    )
    pushed, state = pushed_key(incident_id), pushed_state(incident)
    if cache.get(pushed) == state:
        # A push of exactly this state has gone out already (a burst of changes queued one
        # task each, and the first to run pushed the latest): a backlog renders once.
        return
    now = timezone.now()
    kinds = TimelineEntry.objects.filter(
        incident_id=incident_id, sequence__gt=from_sequence, sequence__lte=incident.sequence
    ).values_list("kind", flat=True)
    panels = page.panels_changed_by(kinds)
    if "clock" in panels:
        # The clock panel lists the affected systems and schools.
        prefetch_related_objects([incident], *selectors.INCIDENT_DETAIL_PREFETCH)
    # A worker has no request, so no zone is active: render in the district's, exactly as the
    # same fragment fetched over HTTP by a signed-in person of that district.
    with timezone.override(incident.district.zone):
        # Any change but a draft's may start or end a silence: the district's banner goes
        # with the push to every page that shows it.
        banner = "" if panels_are_drafts(panels) else silence_banner(incident.district_id, now)
        messages = [
            (
                incident_group(incident_id, audience),
                {
                    "type": "incident.push",
                    "html": html + (banner if audience in page.BANNER_AUDIENCES else ""),
                    "sequence": incident.sequence,
                    "from": from_sequence,
                },
            )
            for audience, html in page.pushed_panels(incident, now, panels).items()
        ]
        # The incident's open pages first: they should not wait for the dashboards' rendering.
        send_all(messages)
        send_all(
            district_messages(
                incident, from_sequence=from_sequence, now=now, panels=panels, banner=banner
            )
        )
    cache.set(pushed, state, timeout=PUSHED_TTL)


# How long a push's sequence is remembered to skip the tasks it covered.
PUSHED_TTL = 600


def pushed_key(incident_id: int) -> str:
    return f"live:pushed:{incident_id}"


def pushed_state(incident) -> str:
    """What a push showed: the incident's sequence number, and its declaration time, which
    tells this incident from another with the same id in a database reset or restored since.
    Only a push of this very state is skipped; any other state, later, earlier (a restored
    backup) or another database's, is pushed."""
    return f"{incident.declared_at.isoformat()}#{incident.sequence}"


def panels_are_drafts(panels: tuple[str, ...]) -> bool:
    """Whether a change of these panels is a draft's alone, seen only where drafts are."""
    return set(panels) <= set(page.DRAFT_PANELS)


def silence_banner(district_id: int, now) -> str:
    """The district's silence banner (``templates/includes/silence_banner.html``) as of now."""
    return render_to_string(
        "includes/silence_banner.html",
        {"silences": silences_by_incident(district_id, now), "silence_now": now},
    )


# The dashboards whose pushes carry the silence banner: every one but the principals'.
BANNER_DASHBOARDS = (DASHBOARD_COMMS, DASHBOARD_ACADEMICS, DASHBOARD_BOARD)


def district_messages(
    incident,
    *,
    from_sequence: int,
    now,
    panels: tuple[str, ...] = page.PANELS,
    banner: str = "",
) -> list[tuple[str, dict]]:
    """The messages that update the district dashboards showing this incident: rendered blocks
    for the communications, academics and board pages, once per audience; a refresh notice for the
    pages whose contents differ from person to person (principals) or span the district
    (legal, the incident list).

    A change of drafts alone (``panels`` is ``page.DRAFT_PANELS``) shows only on the
    communications and legal pages; the others get an empty push that moves their sequence on,
    so they neither render nor fetch anything.

    ``banner``, the district's silence banner, goes with the rendered blocks of the
    dashboards that show it; the pages told to refresh fetch it with the rest."""
    sequence = incident.sequence
    base = {"incident": incident.pk, "sequence": sequence, "from": from_sequence}
    drafts_only = panels_are_drafts(panels)
    unchanged = (
        {DASHBOARD_ACADEMICS, DASHBOARD_BOARD, DASHBOARD_PRINCIPALS, DASHBOARD_TEAM}
        if drafts_only
        else set()
    )
    blocks = {audience: "" for audience in unchanged}
    if incident.is_open:
        blocks[DASHBOARD_COMMS] = render_to_string(
            "comms/_comms_block.html", {"block": comms_block(incident, now)}
        )
    if incident.is_open and DASHBOARD_ACADEMICS not in unchanged:
        blocks[DASHBOARD_ACADEMICS] = render_to_string(
            "incidents/_academics_block.html",
            {
                "b": guidance.academics_block(incident, now),
                "guidance_steps": guidance_rules.steps_of(guidance_rules.ACADEMIC),
            },
        )
    if DASHBOARD_BOARD not in unchanged:
        blocks[DASHBOARD_BOARD] = render_to_string(
            "incidents/_briefing_article.html", {"b": briefing_of(incident, now), "now": now}
        )
    messages = []
    for audience in DASHBOARD_AUDIENCES:
        message = {"type": "district.message", **base}
        if audience in blocks:
            shown = blocks[audience] and audience in BANNER_DASHBOARDS
            message.update(kind="push", html=blocks[audience] + (banner if shown else ""))
        else:
            message.update(kind="refresh", html="")
        messages.append((district_group(incident.district_id, audience), message))
    return messages


def close_sockets(group: str, *, reason: str) -> None:
    """Close the group's open sockets (a session's, or every one of a person's): they signed
    out, or their access changed. With Redis down this cannot reach them: the sign-out or the
    change stands, and the sockets find out at their next heartbeat or reconnect."""
    try:
        send(group, {"type": "session.end", "reason": reason})
    except Exception:
        log.warning("could not close the live sockets of %s (%s)", group, reason, exc_info=True)
