"""Reads for clocks, silences and the in-console inbox."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from comms import discipline
from comms.models import (
    OPEN_DRAFT_STATES,
    PUBLIC_AUDIENCES,
    Audience,
    AudienceClock,
    CadenceDefault,
    CadencePhase,
    ClockState,
    Draft,
    DraftRevision,
    NoticeClock,
    Notification,
    PublishedUpdate,
    cadence_interval,
)
from incidents.models import Incident, Role, User, due_by
from incidents.selectors import injects_for


@dataclass(frozen=True)
class ClockRow:
    audience: str
    label: str
    state: str
    state_label: str
    due_at: datetime
    due_soon_at: datetime
    silent_for: timedelta
    interval_minutes: int
    overridden: bool
    override_reason: str
    last_published_at: datetime | None


def clock_rows(incident: Incident, now: datetime) -> list[ClockRow]:
    """Each audience's clock, in a fixed order, with its state at ``now``."""
    return clock_rows_by_incident([incident], now)[incident.pk]


def clock_rows_by_incident(incidents: list[Incident], now: datetime) -> dict[int, list[ClockRow]]:
    """``clock_rows`` for many incidents in one query, whatever their number: each clock
    comes with its district's default interval for its audience in every phase."""
    if not incidents:
        return {}
    district_default = {
        f"default_{phase}": Subquery(
            CadenceDefault.objects.filter(
                district_id=OuterRef("incident__district_id"),
                audience=OuterRef("audience"),
                phase=phase,
            ).values("interval_minutes")[:1]
        )
        for phase in CadencePhase.values
    }
    clocks: dict[int, dict[str, AudienceClock]] = {i.pk: {} for i in incidents}
    for clock in AudienceClock.objects.filter(incident__in=incidents).annotate(**district_default):
        clocks[clock.incident_id][clock.audience] = clock
    by_incident = {}
    for incident in incidents:
        phase = CadencePhase.of(incident.clock(now).phase)
        rows = []
        for audience in Audience.values:
            clock = clocks[incident.pk].get(audience)
            if clock is None:
                continue
            state = clock.state(now, incident)
            rows.append(
                ClockRow(
                    audience=audience,
                    label=Audience(audience).label,
                    state=state,
                    state_label=ClockState(state).label,
                    due_at=clock.next_update_due_at,
                    due_soon_at=clock.due_soon_at(incident),
                    silent_for=clock.silent_for(now, incident),
                    interval_minutes=cadence_interval(
                        audience,
                        phase,
                        override=clock.interval_override_minutes,
                        district={(audience, phase): getattr(clock, f"default_{phase}")},
                    ),
                    overridden=clock.interval_override_minutes is not None,
                    override_reason=clock.override_reason,
                    last_published_at=clock.last_published_at,
                )
            )
        by_incident[incident.pk] = rows
    return by_incident


@dataclass(frozen=True)
class Silence:
    incident: Incident
    audience_label: str
    since: datetime
    silent_for: timedelta


def silences_for_district(district_id: int, now: datetime) -> list[Silence]:
    """Every audience of an open incident in the district whose promised update is late."""
    clocks = (
        AudienceClock.objects.filter(
            due_by(now, "next_update_due_at"), incident__district_id=district_id
        )
        .exclude(incident__status=Incident.Status.CLOSED)
        .select_related("incident")
        .order_by("next_update_due_at")
    )
    return [
        Silence(
            c.incident,
            Audience(c.audience).label,
            c.next_update_due_at,
            c.silent_for(now, c.incident),
        )
        for c in clocks
    ]


def silences_by_incident(district_id: int, now: datetime) -> list[tuple[Incident, list[Silence]]]:
    """``silences_for_district`` with one entry per incident, longest-silent incident first,
    so a banner takes one line per incident rather than one per audience."""
    grouped: dict[int, tuple[Incident, list[Silence]]] = {}
    for silence in silences_for_district(district_id, now):
        grouped.setdefault(silence.incident.pk, (silence.incident, []))[1].append(silence)
    return list(grouped.values())


def inbox_for(user: User) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(recipient=user, channel=Notification.Channel.IN_APP)
        .select_related("incident")
        .order_by("-created_at")
    )


def unread_count(user: User) -> int:
    """The person's unread in-console messages, as loaded with them for this request if
    they were (``console.people``)."""
    loaded = getattr(user, "unread_in_app", None)
    if loaded is not None:
        return loaded
    return inbox_for(user).filter(read_at__isnull=True).count()


def district_intervals(district_id: int) -> dict[tuple[str, str], int]:
    """The district's interval for every audience and phase, defaults filled in."""
    district = {
        (row.audience, row.phase): row.interval_minutes
        for row in CadenceDefault.objects.filter(district_id=district_id)
    }
    return {
        (audience, phase): cadence_interval(audience, phase, district=district)
        for phase in CadencePhase.values
        for audience in Audience.values
    }


def drafts_for_incident(incident: Incident):
    return Draft.objects.filter(incident=incident).order_by("state", "-updated_at")


def previous_lengths(incident: Incident) -> dict[str, list[int]]:
    """Per audience, the lengths of the updates it has already had, oldest first."""
    lengths: dict[str, list[int]] = {}
    for audience, text in (
        PublishedUpdate.objects.filter(incident=incident)
        .order_by("published_at")
        .values_list("audience", "summary")
    ):
        lengths.setdefault(audience, []).append(len(text))
    return lengths


def latest_texts_by_audience(incident: Incident) -> dict[str, str]:
    """For every audience, the text it will see next or saw last: its newest open draft's
    current revision, else its newest published update."""

    texts: dict[str, str] = dict(
        PublishedUpdate.objects.filter(incident=incident, withdrawn_at__isnull=True)
        .order_by("published_at")
        .values_list("audience", "summary")
    )
    texts.update(
        DraftRevision.objects.filter(
            draft__incident=incident,
            draft__state__in=OPEN_DRAFT_STATES,
            number=F("draft__revision"),
        )
        .order_by("draft__updated_at")
        .values_list("draft__audience", "body")
    )
    return texts


def legal_queue(district_id: int):
    return (
        Draft.objects.filter(incident__district_id=district_id, state=Draft.State.LEGAL_REVIEW)
        .select_related("incident")
        .order_by(F("legal_since").asc(nulls_first=True), "updated_at")
    )


def disclosure_log(district_id: int, limit: int = 200):
    """Every update published in the district, newest first: what was said, to whom, when."""
    return (
        PublishedUpdate.objects.filter(incident__district_id=district_id)
        .select_related("incident", "published_by")
        .order_by("-published_at")[:limit]
    )


def notices_open(district_id: int):
    return (
        NoticeClock.objects.filter(incident__district_id=district_id)
        .select_related("incident", "given_by")
        .order_by("given_at", "due_at")
    )


def lapsed_audiences(incident: Incident, now: datetime) -> set[str]:
    """The audiences of an open incident whose promised update time has passed."""
    if not incident.is_open:
        return set()
    return set(
        AudienceClock.objects.filter(
            due_by(now, "next_update_due_at"), incident=incident
        ).values_list("audience", flat=True)
    )


def findings_for(
    draft,
    body: str,
    texts: dict[str, str] | None = None,
    lengths: dict[str, list[int]] | None = None,
    lapsed: set[str] | None = None,
) -> list:
    """Discipline warnings for ``body`` as a message to the draft's audience. ``texts``,
    ``lengths`` and ``lapsed`` may be passed in when several drafts of one incident are
    checked at once."""
    incident = draft.incident
    texts = latest_texts_by_audience(incident) if texts is None else texts
    lengths = previous_lengths(incident) if lengths is None else lengths
    lapsed = lapsed_audiences(incident, timezone.now()) if lapsed is None else lapsed
    return list(
        _checked(
            body,
            draft.audience,
            draft.channel,
            CadencePhase.of(incident.clock().phase),
            tuple(lengths.get(draft.audience, [])),
            tuple(
                (audience, _facts(text))
                for audience, text in texts.items()
                if audience != draft.audience
            ),
            draft.audience in lapsed,
        )
    )


# The checks depend only on their arguments, and a dashboard shows the same open drafts on
# every view: remember recent answers instead of running every draft's checks per request.
@functools.lru_cache(maxsize=4096)
def _checked(body, audience, channel, phase, lengths, others, lapsed) -> tuple:
    return tuple(
        discipline.check(
            body=body,
            audience=audience,
            channel=channel,
            phase=phase,
            previous_lengths=lengths,
            other_audiences=dict(others),
            lapsed=lapsed,
        )
    )


@functools.lru_cache(maxsize=1024)
def _facts(text: str):
    return discipline.extract_facts(text)


def comms_block(incident: Incident, now: datetime) -> dict:
    """One incident on the communications dashboard: clocks, open drafts with who they wait
    for, and how many discipline warnings each carries."""
    return comms_blocks([incident], now)[0]


def comms_blocks(incidents: list[Incident], now: datetime) -> list[dict]:
    """``comms_block`` for each incident, in a fixed number of queries."""

    if not incidents:
        return []
    ids = [i.pk for i in incidents]
    open_drafts: dict[int, list] = {pk: [] for pk in ids}
    for draft in Draft.objects.filter(incident_id__in=ids).order_by("state", "-updated_at"):
        if draft.is_open:
            open_drafts[draft.incident_id].append(draft)
    bodies = dict(
        DraftRevision.objects.filter(
            draft__in=[d for drafts in open_drafts.values() for d in drafts],
            number=F("draft__revision"),
        ).values_list("draft_id", "body")
    )
    # latest_texts_by_audience and previous_lengths, for every incident at once.
    texts: dict[int, dict[str, str]] = {pk: {} for pk in ids}
    lengths: dict[int, dict[str, list[int]]] = {pk: {} for pk in ids}
    # The latest update each audience heard, for "what has gone out" beside the open drafts.
    latest: dict[int, dict[str, PublishedUpdate]] = {pk: {} for pk in ids}
    # Since when each language's readers have not heard: an update published without their
    # language opens the gap, the next one with it closes it.
    unheard: dict[int, dict[str, datetime]] = {pk: {} for pk in ids}
    for update in PublishedUpdate.objects.filter(incident_id__in=ids).order_by("published_at"):
        lengths[update.incident_id].setdefault(update.audience, []).append(len(update.summary))
        latest[update.incident_id][update.audience] = update
        if update.audience in PUBLIC_AUDIENCES and update.corrects_id is None:
            gaps = unheard[update.incident_id]
            for language in list(gaps):
                if language not in update.missing_languages:
                    del gaps[language]
            for language in update.missing_languages:
                gaps.setdefault(language, update.published_at)
        if update.withdrawn_at is None:
            texts[update.incident_id][update.audience] = update.summary
    for incident_id, audience, body in (
        DraftRevision.objects.filter(
            draft__incident_id__in=ids,
            draft__state__in=OPEN_DRAFT_STATES,
            number=F("draft__revision"),
        )
        .order_by("draft__updated_at")
        .values_list("draft__incident_id", "draft__audience", "body")
    ):
        texts[incident_id][audience] = body
    clocks = clock_rows_by_incident(incidents, now)
    injects = injects_for(incidents, Role.COMMUNICATIONS)
    blocks = []
    for incident in incidents:
        for draft in open_drafts[incident.pk]:
            draft.incident = incident
            draft.warning_count = len(
                findings_for(
                    draft,
                    bodies.get(draft.pk, ""),
                    texts=texts[incident.pk],
                    lengths=lengths[incident.pk],
                    lapsed={row.audience for row in clocks[incident.pk] if row.state == "overdue"},
                )
            )
        blocks.append(
            {
                "incident": incident,
                "clock": incident.clock(now),
                "clocks": clocks[incident.pk],
                "drafts": open_drafts[incident.pk],
                "published": [
                    latest[incident.pk][a] for a in Audience.values if a in latest[incident.pk]
                ],
                "now": now,
                "unheard": [
                    (language, incident.span_between(since, now))
                    for language, since in unheard[incident.pk].items()
                ],
                "injects": injects[incident.pk],
            }
        )
    return blocks
