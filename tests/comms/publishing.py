"""Taking a draft through the workflow in tests: written, reviewed, cleared, approved, out."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from comms import drafts
from comms.models import Draft

# A next-update promise that names no clock time, so any promised time agrees with it.
NEXT = " We will update you again within the hour."


def approved(draft: Draft, lead, *, counsel=None) -> Draft:
    """Submit the draft's latest revision, have ``counsel`` clear it when it goes to legal,
    and approve it."""
    draft = drafts.draft_submit(draft=draft, by=lead, expected_revision=draft.revision)
    if draft.state == Draft.State.LEGAL_REVIEW:
        draft = drafts.draft_legal_clear(draft=draft, by=counsel, expected_revision=draft.revision)
    return drafts.draft_approve(draft=draft, by=lead, expected_revision=draft.revision)


def published(draft: Draft, lead, *, counsel=None, minutes: float = 30) -> Draft:
    """``approved``, then published with a promise ``minutes`` from now (staff-first waived)."""
    draft = approved(draft, lead, counsel=counsel)
    drafts.draft_publish(
        draft=draft,
        by=lead,
        expected_revision=draft.revision,
        promised_next_at=timezone.now() + timedelta(minutes=minutes),
        override_reason="Staff were told in person.",
    )
    draft.refresh_from_db()
    return draft


def written(incident, lead, body: str, *, audience="families", channel="web") -> Draft:
    """A new draft with ``body`` (and the next-update sentence) as its second revision."""
    draft = drafts.draft_create(incident=incident, by=lead, audience=audience, channel=channel)
    return drafts.draft_edit(draft=draft, by=lead, body=body + NEXT, expected_revision=1)
