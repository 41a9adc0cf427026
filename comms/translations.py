"""Translations of families and media drafts into the district's languages.

Each language of a draft is a ``Translation`` with its own chain of revisions. The
communications lead sends a draft to a translator for a language; the translator (who sees
only what was sent to them) or the lead writes it; the lead approves it. An approval binds the
pair (the draft revision it was written from, the translation revision), so when the English
changes the translation is out of date: it shows what changed in the English, and it cannot
be approved or published until someone revises it against the new English.

Language codes are BCP 47 tags (``es``, ``vi``, ``ar``, ``zh-Hans``), read with Babel, which
also gives each language's name in that language and its direction.
"""

from __future__ import annotations

import difflib
import functools
import gettext
import re
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError, negotiate_locale
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from comms.models import (
    PUBLIC_AUDIENCES,
    Draft,
    DraftRevision,
    PublishedTranslation,
    PublishedUpdate,
    Translation,
    TranslationRevision,
)
from comms.policy import policy_for
from incidents.errors import Conflict, Invalid, Refused
from incidents.models import District, Role, User
from incidents.text import checked_text
from incidents.timeline import timeline_append

ENGLISH = "en"
_CLOSED = (Draft.State.PUBLISHED, Draft.State.WITHDRAWN)


def locale(code: str) -> Locale:
    """The Babel locale of a BCP 47 tag. Raises ``ValueError`` naming the tag."""
    try:
        return Locale.parse(code.strip(), sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(
            f"“{code}” is not a language code. Use a BCP 47 code, such as es (Spanish), "
            "vi (Vietnamese), ar (Arabic), zh-Hans (Chinese, simplified), ht (Haitian "
            "Creole) or so (Somali)."
        ) from None


def name_of(code: str) -> str:
    """The language's name in that language: "español", "Tiếng Việt", "العربية"."""
    return locale(code).display_name or code


def english_name_of(code: str) -> str:
    return locale(code).english_name or code


def direction_of(code: str) -> str:
    """ "rtl" or "ltr", for the ``dir`` attribute."""
    return locale(code).text_direction


def negotiate(accept_language: str, offered: list[str]) -> str:
    """The offered language a browser's ``Accept-Language`` prefers (Babel's negotiation over
    the header's tags in order of quality), else the first offered."""
    preferred = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            preferred.append((-quality, i, tag.strip()))
    tags = [tag for _, _, tag in sorted(preferred)]
    return negotiate_locale(tags, offered, sep="-") or offered[0]


@functools.cache
def words_language(code: str) -> str:
    """The language the console's own words on the public pages and in messages to families
    are shown in for a reader of ``code``: ``code`` where a compiled catalog is in
    ``LOCALE_PATHS`` (Django's own catalogs do not count), else English."""
    tag = code.replace("-", "_")
    found = code == ENGLISH or any(
        gettext.find("django", str(path), [tag, tag.split("_")[0]])
        for path in settings.LOCALE_PATHS
    )
    return code if found else ENGLISH


def offered_languages(district: District) -> list[str]:
    """English and the district's languages, from the policy loaded with the district."""
    return [ENGLISH, *(getattr(getattr(district, "policy", None), "languages", None) or [])]


def district_languages(district: District) -> list[str]:
    """The languages besides English the district writes to families in."""
    return list(policy_for(district).languages or [])


def translators(district_id: int):
    """The district's active translators, to send drafts to."""
    return User.objects.filter(
        district_id=district_id, is_active=True, role_grants__role=Role.TRANSLATOR
    ).order_by("last_name", "first_name", "username")


STATE_LABELS = {
    "not_sent": "Not sent for translation",
    "waiting": "Waiting for the translator",
    "out_of_date": "Out of date: the English changed",
    "to_approve": "Ready for approval",
    "approved": "Approved",
}


@dataclass(frozen=True)
class LanguageState:
    """Where one district language of a draft stands."""

    code: str
    name: str
    english_name: str
    translation: Translation | None
    latest: TranslationRevision | None
    # not_sent, waiting (nothing written yet), out_of_date, to_approve, approved
    state: str

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]


def state_of(draft: Draft, translation: Translation | None, latest) -> str:
    if translation is None:
        return "not_sent"
    if latest is None:
        return "waiting"
    if latest.source_revision != draft.revision:
        return "out_of_date"
    if (
        translation.approved_revision == latest.number
        and translation.approved_source_revision == draft.revision
    ):
        return "approved"
    return "to_approve"


def languages_of(draft: Draft) -> list[LanguageState]:
    """Each of the district's languages for a families or media draft, with its state."""
    if draft.audience not in PUBLIC_AUDIENCES or draft.is_heading:
        return []
    codes = district_languages(draft.incident.district)
    found = {t.language: t for t in draft.translations.select_related("translator")}
    latest = {
        r.translation_id: r
        for r in TranslationRevision.objects.filter(translation__draft=draft).order_by("number")
    }
    states = []
    for code in codes:
        translation = found.get(code)
        revision = latest.get(translation.pk) if translation else None
        states.append(
            LanguageState(
                code=code,
                name=name_of(code),
                english_name=english_name_of(code),
                translation=translation,
                latest=revision,
                state=state_of(draft, translation, revision),
            )
        )
    return states


def source_changes(translation: Translation) -> list[tuple[str, str]]:
    """What changed in the English since the translation's latest revision was written: the
    words, each marked "same", "removed" or "added"."""
    latest = translation.revisions.order_by("-number").first()
    draft = translation.draft
    if latest is None or latest.source_revision == draft.revision:
        return []
    before, after = (
        DraftRevision.objects.get(draft=draft, number=n).body.split()
        for n in (latest.source_revision, draft.revision)
    )
    changes: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            changes.append(("same", " ".join(before[a0:a1])))
            continue
        if a1 > a0:
            changes.append(("removed", " ".join(before[a0:a1])))
        if b1 > b0:
            changes.append(("added", " ".join(after[b0:b1])))
    return changes


def is_lead(user: User, draft: Draft) -> bool:
    return user.district_id == draft.incident.district_id and user.has_role(Role.COMMUNICATIONS)


def _log(translation: Translation, by: User, kind: str, summary: str) -> None:
    draft = translation.draft
    timeline_append(
        incident=draft.incident,
        kind=kind,
        actor=by,
        summary=f"{english_name_of(translation.language)} translation of the "
        f"{draft.get_audience_display().lower()} draft: {summary}",
        payload={
            "draft": draft.pk,
            "language": translation.language,
            "revision": translation.revision,
            "source_revision": draft.revision,
        },
    )


@transaction.atomic
def translation_request(
    *, draft: Draft, by: User, language: str, translator: User | None
) -> Translation:
    """Send a families or media draft to a translator for one of the district's languages
    (or keep it with the communications lead, with no translator)."""
    draft = Draft.objects.select_for_update().select_related("incident__district").get(pk=draft.pk)
    if not is_lead(by, draft):
        raise Refused("Only the communications lead sends drafts for translation.")
    if draft.audience not in PUBLIC_AUDIENCES or draft.is_heading:
        raise Invalid("Only updates to families and the public are translated.")
    if draft.state in _CLOSED:
        raise Conflict(f"A draft that is {draft.get_state_display().lower()} is not translated.")
    if language not in district_languages(draft.incident.district):
        raise Invalid(
            f"“{language}” is not one of the district's languages. Add it in district setup first."
        )
    if translator is not None and not (
        translator.district_id == draft.incident.district_id
        and (translator.has_role(Role.TRANSLATOR) or translator.has_role(Role.COMMUNICATIONS))
    ):
        raise Invalid("Choose a translator of the district.")
    translation, created = Translation.objects.get_or_create(
        draft=draft,
        language=language,
        defaults={"translator": translator, "requested_by": by},
    )
    if not created:
        translation.translator = translator
        translation.save(update_fields=["translator"])
    translation.draft = draft
    who = translator.get_full_name() or translator.username if translator else "the lead"
    _log(translation, by, "translation.requested", f"sent to {who}")
    if translator is not None and translator.pk != by.pk:
        from comms import outbox

        outbox.notify(
            incident=draft.incident,
            deadline=None,
            recipients=[translator],
            subject=f"Translate into {english_name_of(language)}: "
            f"{draft.get_audience_display()} update",
            body="A draft is waiting for your translation in the console.",
        )
    return translation


def _locked(translation: Translation) -> Translation:
    return (
        Translation.objects.select_for_update()
        .select_related("draft__incident__district")
        .get(pk=translation.pk)
    )


def may_write(translation: Translation, user: User) -> bool:
    return translation.translator_id == user.pk or is_lead(user, translation.draft)


@transaction.atomic
def translation_write(
    *, translation: Translation, by: User, body: str, expected_revision: int, machine=False
) -> Translation:
    """Save a new revision of the translation, written from the draft's current revision."""
    translation = _locked(translation)
    draft = translation.draft
    if not may_write(translation, by):
        raise Refused("Only the translator it was sent to, or the communications lead, writes it.")
    if draft.state in _CLOSED:
        raise Conflict(f"A draft that is {draft.get_state_display().lower()} is not translated.")
    if expected_revision != translation.revision:
        raise Conflict(
            f"This translation changed while you were looking at it: revision "
            f"{translation.revision} is the latest, you edited revision {expected_revision}. "
            "Read the latest and try again."
        )
    body = checked_text(
        body,
        model=TranslationRevision,
        field="body",
        label="The translation",
        missing="The translation is empty. Write the text in the language, or leave it.",
    )
    translation.revision += 1
    translation.save(update_fields=["revision"])
    TranslationRevision.objects.create(
        translation=translation,
        number=translation.revision,
        body=body,
        source_revision=draft.revision,
        machine=machine,
        author=by,
    )
    _log(translation, by, "translation.written", f"revision {translation.revision}")
    return translation


def translation_machine_draft(
    *, translation: Translation, by: User, expected_revision: int
) -> Translation:
    """Save the configured provider's translation of the current English as a machine
    draft: a revision marked as written by a machine, which needs a reader's check."""
    from comms import machine

    if not may_write(translation, by):
        raise Refused("Only the translator it was sent to, or the communications lead, writes it.")
    draft = translation.draft
    source = draft.revisions.get(number=draft.revision).body
    try:
        text = machine.provider().translate(source, source=ENGLISH, target=translation.language)
    except machine.Unavailable as error:
        raise Invalid(str(error)) from None
    return translation_write(
        translation=translation, by=by, body=text, expected_revision=expected_revision, machine=True
    )


@transaction.atomic
def translation_approve(
    *, translation: Translation, by: User, expected_revision: int, reader_checked: bool = False
) -> Translation:
    """Approve the translation's latest revision for the draft's current revision."""
    translation = _locked(translation)
    draft = translation.draft
    if not is_lead(by, draft):
        raise Refused("Only the communications lead approves translations.")
    if expected_revision != translation.revision:
        raise Conflict(
            f"This translation changed while you were looking at it: revision "
            f"{translation.revision} is the latest. Read it and approve again."
        )
    latest = translation.revisions.order_by("-number").first()
    if latest is None:
        raise Invalid("Nothing is written in this language yet.")
    if latest.source_revision != draft.revision:
        raise Invalid(
            f"The English changed after this translation was written (revision "
            f"{latest.source_revision}; the draft is at {draft.revision}). Revise the "
            "translation first."
        )
    if latest.machine and not reader_checked:
        raise Invalid(
            "This is a machine draft, not yet edited by a person. Confirm that a reader of "
            f"{english_name_of(translation.language)} checked it before approving it."
        )
    translation.approved_revision = latest.number
    translation.approved_source_revision = draft.revision
    translation.approved_by, translation.approved_at = by, timezone.now()
    translation.save(
        update_fields=[
            "approved_revision",
            "approved_source_revision",
            "approved_by",
            "approved_at",
        ]
    )
    _log(translation, by, "translation.approved", f"revision {latest.number} approved")
    return translation


def ready_and_missing(draft: Draft) -> tuple[list[LanguageState], list[LanguageState]]:
    """The district languages approved for the draft's current revision, and the rest."""
    states = languages_of(draft)
    ready = [s for s in states if s.state == "approved"]
    return ready, [s for s in states if s.state != "approved"]


def check_publishable(draft: Draft, reason: str) -> list[LanguageState]:
    """The approved languages to publish with the draft. Raises ``Invalid`` when a language
    is missing and no reason was given."""
    ready, missing = ready_and_missing(draft)
    if missing and not reason.strip():
        names = ", ".join(s.english_name for s in missing)
        raise Invalid(
            f"Not approved for this revision: {names}. Publish when every language is "
            "approved, or give the reason for publishing without them; their readers will "
            "be shown as not having heard."
        )
    return ready


def publish_with(update: PublishedUpdate, draft: Draft, ready, missing_reason: str) -> None:
    """Record each approved language's text with the published update, and the missing."""
    PublishedTranslation.objects.bulk_create(
        [
            PublishedTranslation(
                update=update,
                language=s.code,
                body=s.latest.body,
                revision=s.latest.number,
                source_revision=draft.revision,
            )
            for s in ready
        ]
    )
    codes = [s.code for s in ready]
    missing = [c for c in district_languages(draft.incident.district) if c not in codes]
    if missing:
        update.missing_languages, update.missing_reason = missing, missing_reason.strip()[:500]
        update.save(update_fields=["missing_languages", "missing_reason"])
    if codes or missing:
        # The trust scorecard's record of who heard this update in their language.
        names = ", ".join(english_name_of(c) for c in missing)
        timeline_append(
            incident=draft.incident,
            kind="update.languages",
            actor=update.published_by,
            summary=f"{draft.get_audience_display()} update published in "
            + ", ".join(["English", *(english_name_of(c) for c in codes)])
            + (f"; not in {names}: {update.missing_reason}" if missing else ""),
            payload={
                "update": update.pk,
                "audience": draft.audience,
                "languages": codes,
                "missing": missing,
            },
        )


# --- Checks of a translation ---------------------------------------------------------------

_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
# Languages whose reading ease textstat measures, and the formula used for each.
_READING = {"es": ("fernandez_huerta", 60.0)}


@dataclass(frozen=True)
class Check:
    code: str
    title: str
    reason: str


def _numbers(text: str) -> list[str]:
    return sorted(re.sub(r"[.,:]", ":", n) for n in _NUMBER.findall(text))


def checks_for(source: str, text: str, language: str, channel: str) -> list[Check]:
    """Warnings about one translation against its English, and a note of what is not
    checked in that language (the English phrase checks read English only)."""
    found: list[Check] = []
    english = english_name_of(language)
    missing = sorted(set(_numbers(source)) - set(_numbers(text)))
    extra = sorted(set(_numbers(text)) - set(_numbers(source)))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"the English has {', '.join(missing)}, the translation does not")
        if extra:
            parts.append(f"the translation has {', '.join(extra)}, the English does not")
        found.append(
            Check(
                "numbers_differ",
                "Numbers or times differ from the English",
                "; ".join(parts)[:1].upper()
                + "; ".join(parts)[1:]
                + ". A time, a date or a number must be the same in every language.",
            )
        )
    if channel == "sms" and text:
        from comms.discipline import sms_segments

        info = sms_segments(text)
        if info.segments > 1:
            found.append(
                Check(
                    "sms_segments",
                    f"{info.segments} text-message parts",
                    f"In {english} the text needs {info.encoding} ({info.per_segment} "
                    f"characters a part): {info.characters} characters make {info.segments} "
                    "parts, each charged and delivered separately.",
                )
            )
    formula = _READING.get(language.split("-")[0])
    if formula and len(text.split()) >= 30:
        from textstat.textstat import textstatistics

        measure = textstatistics()
        measure.set_lang(language.split("-")[0])
        ease = getattr(measure, formula[0])(text)
        if ease < formula[1]:
            found.append(
                Check(
                    "reading_grade",
                    "Hard to read for families",
                    f"Reading ease {ease:.0f} (Fernández Huerta; below {formula[1]:.0f} is hard "
                    "for many adults). Use shorter sentences and everyday words.",
                )
            )
    not_covered = [
        "speculation, promises, blame and jargon (those checks read English)",
    ]
    if not formula:
        not_covered.insert(0, "reading level")
    found.append(
        Check(
            "not_covered",
            f"Not checked in {english}",
            "The console does not check " + " or ".join(not_covered) + f" in {english}: "
            "a reader of the language should.",
        )
    )
    return found
