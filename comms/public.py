"""What the public is told an incident is called: only words that were reviewed.

An incident's internal title is what the CIO typed when declaring it, and nobody reviews it.
The public status page and every email or text that leaves the district name an incident by
its approved public title (``PublicHeading``), or by the district's neutral title until one is
approved.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Max, Q, Sum, prefetch_related_objects

from comms.models import (
    PUBLIC_AUDIENCES,
    Channel,
    CommsPolicy,
    PublicHeading,
    PublishedTranslation,
    PublishedUpdate,
)
from incidents.errors import Invalid
from incidents.models import District, Incident

NEUTRAL_DEFAULT = CommsPolicy._meta.get_field("neutral_title").default
# A heading draft's text: the title, a blank line, the summary.
HEADING_LAYOUT = (
    "First line: the public title. After a blank line: one line that says what people notice now."
)


def parse_heading(body: str) -> tuple[str, str]:
    """The title and the summary of a heading draft's text, or Invalid saying what to fix."""
    parts = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    if len(parts) != 2:
        raise Invalid(
            f"A public title and summary is two parts: {HEADING_LAYOUT} This text has {len(parts)}."
        )
    title, summary = parts
    if len(title) > PublicHeading.TITLE_MAX:
        raise Invalid(
            f"The public title is {len(title)} characters; keep it to "
            f"{PublicHeading.TITLE_MAX} so it fits a phone and an email subject."
        )
    if len(summary) > PublicHeading.SUMMARY_MAX:
        raise Invalid(
            f"The summary is {len(summary)} characters; keep it to one line of at most "
            f"{PublicHeading.SUMMARY_MAX}."
        )
    return title, summary


def neutral_title(district_id: int) -> str:
    value = (
        CommsPolicy.objects.filter(district_id=district_id)
        .values_list("neutral_title", flat=True)
        .first()
    )
    return value or NEUTRAL_DEFAULT


def public_title(incident: Incident) -> str:
    """The incident's name wherever the public reads it."""
    heading = heading_or_none(incident)
    return heading.title if heading else neutral_title(incident.district_id)


def heading_or_none(incident: Incident) -> PublicHeading | None:
    """The incident's approved public title, or None (loaded with the incident by
    ``select_related("public_heading")``, or read here once: Django remembers either answer)."""
    try:
        return incident.public_heading
    except PublicHeading.DoesNotExist:
        return None


def heading_of(incident: Incident, neutral: str) -> tuple[str, str]:
    """The incident's public (title, summary): ``neutral`` and no summary where none is
    approved."""
    heading = heading_or_none(incident)
    return (heading.title, heading.summary) if heading else (neutral, "")


@dataclass
class PublicIncident:
    """One incident as the public sees it: reviewed words, plain service names, schools."""

    incident: Incident
    title: str
    summary: str
    services: list[str]
    schools: list[str]
    updates: list[PublishedUpdate] = field(default_factory=list)

    @property
    def latest(self) -> PublishedUpdate:
        """The newest update, as corrected: what the public last read."""
        update = self.updates[0]
        return update.correction or update

    @property
    def next_update_at(self):
        return self.latest.promised_next_at


EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# How far back the status page's history reaches, and how many updates its feed shows.
HISTORY = timedelta(days=90)
FEED = 20


def public_status(district: District, now: datetime) -> tuple[list, list, list]:
    """What the public status page shows: the incidents the public has been told about that
    are still open, those resolved in the last 90 days, and the newest updates. Exercises and
    incidents without a public update are not shown. Five queries, whatever the numbers."""
    neutral = getattr(getattr(district, "policy", None), "neutral_title", "") or NEUTRAL_DEFAULT
    updates = list(
        PublishedUpdate.objects.filter(
            incident__district=district,
            channel=Channel.WEB,
            audience__in=PUBLIC_AUDIENCES,
            incident__is_exercise=False,
            corrects__isnull=True,
        )
        .filter(Q(incident__closed_at__isnull=True) | Q(incident__closed_at__gte=now - HISTORY))
        .select_related("incident__public_heading")
        .order_by("-published_at")
    )
    latest: dict[int, PublishedUpdate] = {}
    for correction in PublishedUpdate.objects.filter(
        corrects__in=updates, withdrawn_at__isnull=True
    ).order_by("published_at"):
        latest[correction.corrects_id] = correction
    by_incident: dict[int, PublicIncident] = {}
    for update in updates:
        update.correction = latest.get(update.pk)
        incident = update.incident
        if incident.pk not in by_incident:
            title, summary = heading_of(incident, neutral)
            by_incident[incident.pk] = PublicIncident(incident, title, summary, [], [])
        by_incident[incident.pk].updates.append(update)
        update.public_title = by_incident[incident.pk].title
    incidents = [p.incident for p in by_incident.values()]
    prefetch_related_objects(incidents, "systems", "schools")
    for shown in by_incident.values():
        categories = {s.get_category_display(): None for s in shown.incident.systems.all()}
        shown.services = list(categories)
        shown.schools = (
            ["All schools"]
            if shown.incident.all_schools
            else [s.name for s in shown.incident.schools.all()]
        )
    active = [p for p in by_incident.values() if p.incident.status != Incident.Status.CLOSED]
    resolved = [p for p in by_incident.values() if p.incident.status == Incident.Status.CLOSED]
    return active, resolved, updates[:FEED]


def status_version(district: District, today) -> str:
    """A fingerprint of everything the district's public pages show, in one query: every
    change to an incident appends to its timeline and moves its sequence number (a
    publication, a withdrawal, a correction, a public title, closing, its services), so the
    sum and count of the sequences change with any of them. The district's neutral title and
    zone, and the day (history covers 90 days), complete it."""
    totals = Incident.objects.filter(district=district, is_exercise=False).aggregate(
        n=Count("id"), total=Sum("sequence"), latest=Max("declared_at")
    )
    policy = getattr(district, "policy", None)
    neutral = getattr(policy, "neutral_title", "")
    languages = ",".join(getattr(policy, "languages", None) or [])
    # The latest declaration tells this database's incidents from another's with the same
    # counts (a reset or a restore): a page kept from before is never served after it.
    raw = (
        f"{district.pk}|{totals['n']}|{totals['total']}|{totals['latest']}|{neutral}|"
        f"{district.time_zone}|{today}|{languages}"
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def last_changed(shown: list[PublicIncident]) -> datetime:
    """When what these incidents show the public last changed: an update or its correction
    published or withdrawn, a public title, a close. The same in every process, so every
    process answers the same Last-Modified. A fixed early date when nothing is shown."""
    moments = []
    for item in shown:
        heading = heading_or_none(item.incident)
        moments += [item.incident.closed_at, heading and heading.published_at]
        for update in item.updates:
            moments += [update.published_at, update.withdrawn_at]
            if update.correction:
                moments.append(update.correction.published_at)
    found = [m for m in moments if m is not None]
    return max(found) if found else EPOCH


def in_language(updates: list[PublishedUpdate], language: str) -> None:
    """Give each update (and its correction) the text its readers in ``language`` read: the
    approved translation published with it, else the English. Sets ``text`` and
    ``text_language``. One query, whatever the number of updates."""
    shown = [u for u in updates] + [u.correction for u in updates if getattr(u, "correction", None)]
    translated = {}
    if language != "en" and shown:
        translated = {
            t.update_id: t.body
            for t in PublishedTranslation.objects.filter(update__in=shown, language=language)
        }
    for update in shown:
        if update.pk in translated:
            update.text, update.text_language = translated[update.pk], language
        else:
            update.text, update.text_language = update.summary, "en"
