"""Paragraphs legal counsel approved ahead of time, and whether a draft is built only from them.

In the first hours of a student-data incident counsel cannot read every two-line note. What
counsel can do is approve, on an ordinary day, the paragraphs such notes are made of. A draft
whose every paragraph is one of them (its words as approved, spacing aside, the next-update
time filled in) needs no legal review of its own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from comms.models import ApprovedParagraph
from incidents.errors import Invalid, Refused
from incidents.models import District, Role, User
from incidents.text import checked_text

# What may stand where a paragraph says {next_update}: a time, at most five words ("at 2 pm",
# "tomorrow by 9 a.m.", "on Friday at noon"), with no sentence punctuation, so that nothing
# counsel has not read can ride in with it.
_SLOT_TEXT = r"(?:(?:[ap]\.\s?m\.?|[A-Za-z0-9:]+),?\s?){1,5}?"
_OTHER_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def paragraphs_of(text: str) -> list[str]:
    """The paragraphs of ``text`` (blank-line separated), each with its spacing made single."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


@functools.lru_cache(maxsize=512)
def _pattern(approved: str) -> re.Pattern[str]:
    literal = re.escape(" ".join(approved.split()))
    slot = re.escape(ApprovedParagraph.SLOT)
    return re.compile(literal.replace(slot, _SLOT_TEXT))


def built_from(body: str, approved: Iterable[str]) -> bool:
    """Whether every paragraph of ``body`` is one of the ``approved`` paragraphs."""
    patterns = [_pattern(text) for text in approved]
    parts = paragraphs_of(body)
    return bool(parts and patterns) and all(
        any(p.fullmatch(part) for p in patterns) for part in parts
    )


def approved_texts(district_id: int) -> list[str]:
    """The district's paragraphs in force."""
    return list(
        ApprovedParagraph.objects.filter(
            district_id=district_id, retired_at__isnull=True
        ).values_list("text", flat=True)
    )


def _legal_of(district: District, by: User, what: str) -> None:
    if by.district_id != district.pk or not by.has_role(Role.LEGAL):
        raise Refused(f"Only the district's legal counsel {what} paragraphs.")


@transaction.atomic
def paragraph_approve(*, district: District, by: User, text: str) -> ApprovedParagraph:
    """Legal counsel approves a paragraph for drafts to be built from."""
    _legal_of(district, by, "approves")
    text = checked_text(
        text,
        model=ApprovedParagraph,
        field="text",
        label="The paragraph",
        missing="Write the paragraph you approve.",
    )
    if "\n\n" in text.strip().replace("\r\n", "\n"):
        raise Invalid("Approve one paragraph at a time: remove the blank lines.")
    others = set(_OTHER_PLACEHOLDER.findall(text)) - {ApprovedParagraph.SLOT}
    if others:
        raise Invalid(
            f"{sorted(others)[0]} cannot stand in an approved paragraph: only "
            f"{ApprovedParagraph.SLOT} may, for the time of the next update. Write out the "
            "words you approve."
        )
    text = " ".join(text.split())
    if text in approved_texts(district.pk):
        raise Invalid("This paragraph is approved already.")
    return ApprovedParagraph.objects.create(district=district, text=text, approved_by=by)


@transaction.atomic
def paragraph_retire(*, paragraph: ApprovedParagraph, by: User) -> ApprovedParagraph:
    """Legal counsel withdraws an approval: drafts built from it need review from now on."""
    paragraph = ApprovedParagraph.objects.select_for_update().get(pk=paragraph.pk)
    _legal_of(paragraph.district, by, "retires")
    if paragraph.retired_at is None:
        paragraph.retired_at, paragraph.retired_by = timezone.now(), by
        paragraph.save(update_fields=["retired_at", "retired_by"])
    return paragraph
