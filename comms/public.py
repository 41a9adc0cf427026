"""What the public is told an incident is called: only words that were reviewed.

An incident's internal title is what the CIO typed when declaring it, and nobody reviews it.
The public status page and every email or text that leaves the district name an incident by
its approved public title (``PublicHeading``), or by the district's neutral title until one is
approved.
"""

from __future__ import annotations

import re

from comms.models import CommsPolicy, PublicHeading
from incidents.errors import Invalid
from incidents.models import Incident

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
    heading = PublicHeading.objects.filter(incident=incident).values_list("title", flat=True)
    return heading.first() or neutral_title(incident.district_id)


def heading_of(incident: Incident, neutral: str) -> tuple[str, str]:
    """The incident's public (title, summary), its heading loaded with it
    (``select_related("public_heading")``): ``neutral`` and no summary where none is
    approved."""
    try:
        heading = incident.public_heading
    except PublicHeading.DoesNotExist:
        return neutral, ""
    return heading.title, heading.summary
