"""The public status as an Atom feed (per district and per school) and as a small JSON
document for the district's own website: the same reviewed public words as the status page.

Atom is written with Django's own feed generator. The JSON document is versioned
(``"version": 1``): a field is added in a new version, never renamed or removed in this one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from django.utils.feedgenerator import Atom1Feed

from comms.public import PublicIncident
from incidents.models import District, School

JSON_VERSION = 1
FEED_ENTRIES = 20


def affects(shown: PublicIncident, school: School) -> bool:
    incident = shown.incident
    return incident.all_schools or any(s.pk == school.pk for s in incident.schools.all())


def atom(
    *,
    district: District,
    shown: list[PublicIncident],
    title: str,
    link: str,
    url_of: Callable[[PublicIncident], str],
) -> str:
    """The newest public updates of ``shown``, newest first, each as corrected (a withdrawn
    one says so instead of its text)."""
    feed = Atom1Feed(
        title=title,
        link=link,
        description=f"Service status updates from {district.name}.",
        language="en",
        feed_guid=link,
        feed_url=link,
    )
    entries = sorted(
        ((item, update) for item in shown for update in item.updates),
        key=lambda pair: pair[1].published_at,
        reverse=True,
    )[:FEED_ENTRIES]
    for item, update in entries:
        shown_as = update.correction or update
        if update.withdrawn_at:
            text = "This update was withdrawn. Please rely on the newer updates."
        elif update.correction:
            text = f"Corrected: {update.correction.correction_note}\n\n{shown_as.summary}"
        else:
            text = update.summary
        feed.add_item(
            title=item.title,
            link=url_of(item),
            description=text,
            unique_id=f"{link}#update-{update.pk}",
            pubdate=update.published_at,
            updateddate=update.withdrawn_at or shown_as.published_at,
        )
    return feed.writeString("utf-8")


def status_json(
    *,
    district: District,
    active: list[PublicIncident],
    resolved: list[PublicIncident],
    url_of: Callable[[PublicIncident], str],
    updated: datetime,
) -> str:
    """The district's current status for its website (documented in docs/public-feeds.md)."""

    def incident(item: PublicIncident) -> dict:
        latest = item.latest
        return {
            "id": item.incident.pk,
            "title": item.title,
            "summary": item.summary,
            "services": item.services,
            "schools": item.schools,
            "url": url_of(item),
            "latest_update": {
                "text": latest.summary,
                "published_at": latest.published_at.isoformat(),
                "corrected": bool(item.updates[0].correction),
                "withdrawn": item.updates[0].withdrawn_at is not None,
            },
            "next_update_at": None if item.incident.closed_at else item.next_update_at.isoformat(),
            "resolved_at": item.incident.closed_at.isoformat() if item.incident.closed_at else None,
        }

    document = {
        "version": JSON_VERSION,
        "district": {"name": district.name, "time_zone": district.time_zone},
        "updated_at": updated.isoformat(),
        "status": "disrupted" if active else "normal",
        "incidents": [incident(item) for item in active],
        "resolved": [incident(item) for item in resolved],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
