"""An incident's trust scorecard, computed from its timeline and nothing else.

Pure standard library: callers turn timeline rows into ``Event`` values and pass them in.
Every figure is derived from events, so the scorecard cannot drift from the audit trail.
Malformed events (missing keys, wrong types, unparsable or offset-less times) are skipped
rather than raised on: one bad row must not take the whole scorecard down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from incidents.clock import Clock

DEFAULT_AUDIENCES = ("staff", "families", "board", "media")

INCIDENT_OPENED = "incident.opened"
CADENCE_CHANGED = "cadence.changed"
UPDATE_PUBLISHED = "update.published"
DRAFT_WITHDRAWN = "draft.withdrawn"
UPDATE_CORRECTED = "update.corrected"
GUIDANCE_PUBLISHED = "guidance.published"
GUIDANCE_ACKNOWLEDGED = "guidance.acknowledged"
# A families or public update published with some of the district's languages, not all.
UPDATE_LANGUAGES = "update.languages"


@dataclass(frozen=True)
class Event:
    """One timeline entry: when it happened (aware UTC), its kind and its payload."""

    at: datetime
    kind: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class AudienceScore:
    """How one audience was kept informed.

    ``first_update_after``: declaration to the audience's first published update, or None.
    ``longest_silence``: the longest time the audience spent past a promised update time
    without a new update (zero if no promise was ever overrun), the first promise included:
    the time the update clock promised the first update at declaration (or brought forward
    by a cadence change before it), recorded on the declaration's timeline row.
    ``promises_kept`` / ``promises_broken`` / ``promises_pending``: each published update's
    promise of the next one, judged by when (or whether) the next update came.
    """

    audience: str
    first_update_after: timedelta | None
    longest_silence: timedelta
    promises_kept: int
    promises_broken: int
    promises_pending: int


@dataclass(frozen=True)
class Scorecard:
    """The whole scorecard for one incident as of ``now``.

    ``audiences``: one ``AudienceScore`` per requested audience, in the order requested.
    ``withdrawn`` / ``corrections``: withdrawn messages and published corrections.
    ``guidance_all_acknowledged_after``: declaration until the last of ``school_ids``
    acknowledged guidance (first published version or later), or None if not all have.
    ``staff_before_families``: staff heard no later than families (True), families heard
    first or alone (False), or families have not heard yet (None).
    ``time_scale``: how fast the incident's clock ran (an exercise at 60x real time); every
    span above is on that clock, not the wall clock.
    """

    audiences: tuple[AudienceScore, ...]
    withdrawn: int
    corrections: int
    guidance_all_acknowledged_after: timedelta | None
    guidance_schools_acknowledged: int
    guidance_schools_total: int
    staff_before_families: bool | None
    time_scale: int = 1
    # Declaration until the first families or public update that went out in every district
    # language (None while none has), the longest time one language's readers went without
    # the update the others had, and the languages whose readers have not heard the latest,
    # each with how long (on the incident's clock).
    languages_all_heard_after: timedelta | None = None
    longest_language_gap: timedelta | None = None
    languages_unheard: tuple[tuple[str, timedelta], ...] = ()

    def audience(self, name: str) -> AudienceScore | None:
        """The score for audience ``name``, or None if it was not requested."""
        return next((score for score in self.audiences if score.audience == name), None)


def compute(
    *,
    declared_at: datetime,
    events: Sequence[Event],
    now: datetime,
    audiences: Sequence[str] = DEFAULT_AUDIENCES,
    school_ids: Sequence[int] = (),
    time_scale: int = 1,
) -> Scorecard:
    """Compute the scorecard for an incident declared at ``declared_at``, as of ``now``.

    Event times are wall-clock times; with ``time_scale`` above 1 (an exercise) every span
    is reported on the incident's own clock, ``time_scale`` times the wall-clock span."""
    # Naive or non-datetime stamps cannot be ordered against aware ones; drop them first.
    usable = [e for e in events if _is_aware(getattr(e, "at", None))]
    # A stable sort keeps the recorded order for events that share a timestamp.
    ordered = sorted(usable, key=lambda e: e.at)

    updates: dict[str, list[tuple[datetime, datetime]]] = {}
    first_promises: dict[str, datetime] = {}
    withdrawn = corrections = 0
    first_guidance: tuple[datetime, int] | None = None
    wanted_schools = set(school_ids)
    first_ack: dict[int, datetime] = {}
    all_heard_at: datetime | None = None
    unheard_since: dict[str, datetime] = {}
    longest_gap: timedelta | None = None

    for event in ordered:
        payload = event.payload if isinstance(event.payload, Mapping) else {}
        if event.kind == INCIDENT_OPENED and isinstance(payload.get("first_promises"), Mapping):
            for audience, value in payload["first_promises"].items():
                promise = _parse_time(value)
                if _is_name(audience) and promise is not None:
                    first_promises[audience] = promise
        elif event.kind == CADENCE_CHANGED:
            audience = payload.get("audience")
            promise = _parse_time(payload.get("promised_next_at"))
            # A change that brings the first update forward moves the first promise; after
            # the first update, promises are the published ones.
            if _is_name(audience) and promise is not None and audience not in updates:
                first_promises[audience] = promise
        elif event.kind == UPDATE_PUBLISHED:
            audience = payload.get("audience")
            promise = _parse_time(payload.get("promised_next_at"))
            if _is_name(audience) and promise is not None:
                updates.setdefault(audience, []).append((event.at, promise))
        elif event.kind == UPDATE_LANGUAGES:
            missing = [m for m in payload.get("missing") or [] if _is_name(m)]
            heard = [h for h in payload.get("languages") or [] if _is_name(h)]
            if not missing and all_heard_at is None:
                all_heard_at = event.at
            for language in missing:
                unheard_since.setdefault(language, event.at)
            for language in heard:
                since = unheard_since.pop(language, None)
                if since is not None:
                    longest_gap = max(longest_gap or timedelta(0), event.at - since)
        elif event.kind == DRAFT_WITHDRAWN and _is_int(payload.get("draft")):
            withdrawn += 1
        elif event.kind == UPDATE_CORRECTED and _is_name(payload.get("audience")):
            corrections += 1
        elif event.kind == GUIDANCE_PUBLISHED:
            version = payload.get("version")
            if first_guidance is None and _is_int(version) and version >= 1:
                first_guidance = (event.at, version)
        elif event.kind == GUIDANCE_ACKNOWLEDGED and first_guidance is not None:
            school, version = payload.get("school"), payload.get("version")
            # Acknowledging an older draft, or before anything was published, proves nothing
            # about what the school is doing now; only the first publication onward counts.
            if (
                _is_int(school)
                and _is_int(version)
                and school in wanted_schools
                and version >= first_guidance[1]
            ):
                first_ack.setdefault(school, event.at)

    scale = time_scale if _is_int(time_scale) and time_scale >= 1 else 1
    all_acknowledged_after = None
    if wanted_schools and len(first_ack) == len(wanted_schools):
        all_acknowledged_after = (max(first_ack.values()) - declared_at) * scale

    return Scorecard(
        audiences=tuple(
            _scaled(
                _score_audience(
                    name, updates.get(name, []), first_promises.get(name), declared_at, now
                ),
                scale,
            )
            for name in dict.fromkeys(audiences)
        ),
        withdrawn=withdrawn,
        corrections=corrections,
        guidance_all_acknowledged_after=all_acknowledged_after,
        guidance_schools_acknowledged=len(first_ack),
        guidance_schools_total=len(wanted_schools),
        staff_before_families=_staff_before_families(updates),
        time_scale=scale,
        languages_all_heard_after=(all_heard_at - declared_at) * scale if all_heard_at else None,
        longest_language_gap=_longest(longest_gap, unheard_since, now, scale),
        languages_unheard=tuple(
            (language, (now - since) * scale) for language, since in unheard_since.items()
        ),
    )


def on_own_clock(
    clock: Clock, *, declared_at: datetime, events: Sequence[Event], now: datetime
) -> tuple[list[Event], datetime]:
    """The events and ``now`` moved onto an exercise's own clock: each moment becomes the
    declaration plus the clock's reading then, and each promised time the reading it stood
    for when it was promised. Computed with ``time_scale`` 1, the scorecard then leaves out
    the time the clock was paused and counts a jump ahead as time that passed."""

    def moved(moment: datetime) -> datetime:
        return declared_at + clock.elapsed_at(moment)

    def promise(value: Any, stated_at: datetime) -> Any:
        moment = _parse_time(value)
        if moment is None:
            return value
        return (declared_at + clock.promised(moment, stated_at=stated_at)).isoformat()

    result = []
    for event in events:
        if not _is_aware(getattr(event, "at", None)):
            continue
        payload = dict(event.payload) if isinstance(event.payload, Mapping) else {}
        if "promised_next_at" in payload:
            payload["promised_next_at"] = promise(payload["promised_next_at"], event.at)
        if isinstance(payload.get("first_promises"), Mapping):
            payload["first_promises"] = {
                audience: promise(value, event.at)
                for audience, value in payload["first_promises"].items()
            }
        result.append(Event(at=moved(event.at), kind=event.kind, payload=payload))
    return result, moved(now)


def _longest(closed: timedelta | None, open_gaps: dict[str, datetime], now, scale: int):
    spans = [closed] if closed is not None else []
    spans += [now - since for since in open_gaps.values()]
    return max(spans) * scale if spans else None


def _scaled(score: AudienceScore, scale: int) -> AudienceScore:
    if scale == 1:
        return score
    first = score.first_update_after
    return replace(
        score,
        first_update_after=None if first is None else first * scale,
        longest_silence=score.longest_silence * scale,
    )


def format_span(span: timedelta | None) -> str:
    """Short human text for a span: "—", "45 min", "3 h 05 min" or "2 d 4 h".

    Minutes are rounded down so a span is never reported longer than it was; negative spans
    (clock skew) read as "0 min".
    """
    if span is None:
        return "—"
    minutes = max(int(span.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def _score_audience(
    name: str,
    updates: list[tuple[datetime, datetime]],
    first_promise: datetime | None,
    declared_at: datetime,
    now: datetime,
) -> AudienceScore:
    kept = broken = pending = 0
    longest = timedelta(0)
    if first_promise is not None:
        # The wait past the first promised time for the first update, or still running.
        first_at = updates[0][0] if updates else now
        longest = max(longest, first_at - first_promise)
    for index, (_, promise) in enumerate(updates):
        if index + 1 < len(updates):
            next_at = updates[index + 1][0]
            if next_at <= promise:
                kept += 1
            else:
                broken += 1
                longest = max(longest, next_at - promise)
        elif now > promise:
            # No update yet and the promise has passed: the silence is still running.
            broken += 1
            longest = max(longest, now - promise)
        else:
            pending += 1
    return AudienceScore(
        audience=name,
        first_update_after=updates[0][0] - declared_at if updates else None,
        longest_silence=longest,
        promises_kept=kept,
        promises_broken=broken,
        promises_pending=pending,
    )


def _staff_before_families(updates: Mapping[str, list[tuple[datetime, datetime]]]) -> bool | None:
    families = updates.get("families")
    if not families:
        return None
    staff = updates.get("staff")
    return bool(staff) and staff[0][0] <= families[0][0]


def _parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string with offset, else None."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not _is_aware(value):
        return None
    return value.astimezone(UTC)


def _is_aware(value: Any) -> bool:
    return isinstance(value, datetime) and value.utcoffset() is not None


def _is_int(value: Any) -> bool:
    # bool is an int subclass; True is not a school or a version.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value)
