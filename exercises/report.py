"""The after-action report of an exercise, built from its timeline alone.

For each failure pattern of the doctrine it says whether the play committed it, when on the
exercise clock, and the timeline rows that show it; how fast each inject was answered; which
duties were met and which were missed; and the trust scorecard. Every time is a reading of
the exercise's own clock, so a pause is never counted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from exercises.scenarios import recipients_label
from incidents.clock import Clock
from incidents.models import Incident, Role, TimelineEntry
from incidents.phases import CONTROL_ENDS
from incidents.scorecard import format_span
from incidents.text import spreadsheet_safe

# Schools may stand on different guidance versions for this long after a new one, on the
# exercise clock, before the report counts it: time to read and acknowledge it.
GUIDANCE_GRACE = timedelta(minutes=30)
PUBLIC_AUDIENCES = ("families", "media")


@dataclass(frozen=True)
class Evidence:
    sequence: int
    reading: timedelta
    kind: str
    summary: str


@dataclass(frozen=True)
class Pattern:
    code: str
    title: str
    why: str
    evidence: tuple[Evidence, ...] = ()

    @property
    def happened(self) -> bool:
        return bool(self.evidence)

    @property
    def first(self) -> timedelta | None:
        return self.evidence[0].reading if self.evidence else None


@dataclass(frozen=True)
class InjectAnswer:
    number: int
    sender: str
    to: tuple[str, ...]
    arrived: timedelta
    answered_after: timedelta | None
    answered_by: str
    answer: str

    @property
    def recipients(self) -> str:
        return recipients_label(self.to)


@dataclass(frozen=True)
class DutyResult:
    title: str
    due: timedelta
    done: timedelta | None

    @property
    def met(self) -> bool:
        return self.done is not None and self.done <= self.due


@dataclass
class Report:
    incident: Incident
    ended: timedelta
    patterns: list[Pattern]
    injects: list[InjectAnswer]
    duties: list[DutyResult]
    scorecard: Any = None
    speeds: list[int] = field(default_factory=list)

    @property
    def committed(self) -> list[Pattern]:
        return [p for p in self.patterns if p.happened]

    @property
    def duties_met(self) -> list[DutyResult]:
        return [d for d in self.duties if d.met]

    @property
    def duties_missed(self) -> list[DutyResult]:
        return [d for d in self.duties if not d.met]


# The doctrine's failure patterns: (code, title, why it matters).
PATTERNS = {
    "silence": (
        "Silence longer than the cadence",
        "A promised update did not go out on time; every minute of silence is filled by guesses.",
    ),
    "overcorrection": (
        "Overcorrection after silence",
        "After a silence, a long catch-up reads as panic and buries what people need.",
    ),
    "speculation": (
        "Speculation about cause, or a restoration promise, in Phase 1",
        "In the first 24 hours guesses turn out wrong and a missed fix time becomes the story.",
    ),
    "facts_differ": (
        "Facts differing across audiences",
        "Staff, families, the board and the press compare notes; different facts read as "
        "confusion or concealment.",
    ),
    "guidance_versions": (
        "Schools on different guidance versions",
        "Classrooms a street apart doing different things is what families notice first.",
    ),
    "cause_public": (
        "Detail about the cause released publicly before Recovery",
        "Learn privately, stabilise publicly: a post-mortem in public reopens the incident.",
    ),
}

# The discipline warnings, recorded on the publication's timeline row, behind each pattern.
WARNINGS = {
    "overcorrection": {"overcorrection"},
    "speculation": {"speculation", "restoration_promise"},
    "facts_differ": {"facts_disagree"},
}


def build(incident: Incident, entries: Sequence[TimelineEntry], *, now: datetime) -> Report:
    """The report of ``incident`` from its timeline ``entries`` (in sequence order)."""
    own = incident.own_clock
    ended_at = incident.closed_at or now
    found: dict[str, list[Evidence]] = {code: [] for code in PATTERNS}

    def evidence(entry: TimelineEntry) -> Evidence:
        return Evidence(entry.sequence, own.elapsed_at(entry.at), entry.kind, entry.summary)

    for entry in entries:
        payload = entry.payload if isinstance(entry.payload, dict) else {}
        if entry.kind == "cadence.silence":
            found["silence"].append(evidence(entry))
        if entry.kind != "draft.published":
            continue
        warnings = set(payload.get("warnings") or [])
        for code, wanted in WARNINGS.items():
            if warnings & wanted:
                found[code].append(evidence(entry))
        public = payload.get("audience") in PUBLIC_AUDIENCES
        if public and "public_post_mortem" in warnings and payload.get("phase") != "recovery":
            found["cause_public"].append(evidence(entry))
    found["speculation"] = [e for e in found["speculation"] if e.reading < CONTROL_ENDS]
    found["guidance_versions"] = _guidance_divergence(entries, own, ended_at)
    return Report(
        incident=incident,
        ended=own.elapsed_at(ended_at),
        patterns=[
            Pattern(code, title, why, tuple(found[code])) for code, (title, why) in PATTERNS.items()
        ],
        injects=_inject_answers(entries, own),
        duties=_duties(entries, own, ended_at),
        speeds=sorted({s.scale for s in own.segments}),
    )


def _guidance_divergence(entries, own: Clock, ended_at: datetime) -> list[Evidence]:
    """The rows of each spell in which the schools that had acknowledged guidance stood on
    different versions for longer than ``GUIDANCE_GRACE``."""
    standing: dict[int, int] = {}
    since: datetime | None = None
    spell: list[TimelineEntry] = []
    spells: list[list[TimelineEntry]] = []

    def close(at: datetime) -> None:
        if since is not None and own.elapsed_at(at) - own.elapsed_at(since) > GUIDANCE_GRACE:
            spells.append(list(spell))

    for entry in entries:
        payload = entry.payload if isinstance(entry.payload, dict) else {}
        if entry.kind not in ("guidance.published", "guidance.acknowledged"):
            continue
        if entry.kind == "guidance.acknowledged":
            school, version = payload.get("school"), payload.get("version")
            if isinstance(school, int) and isinstance(version, int):
                standing[school] = max(version, standing.get(school, 0))
        diverged = len(set(standing.values())) > 1
        if diverged and since is None:
            since, spell = entry.at, [entry]
        elif diverged:
            spell.append(entry)
        elif since is not None:
            spell.append(entry)
            close(entry.at)
            since, spell = None, []
    close(ended_at)
    evidence = []
    for rows in spells:
        evidence += [Evidence(r.sequence, own.elapsed_at(r.at), r.kind, r.summary) for r in rows]
    return evidence


def _inject_answers(entries, own: Clock) -> list[InjectAnswer]:
    """For each inject, the first step after it by one of the people it went to."""
    team: dict[str, set[int]] = {}
    facilitators: set[int] = set()
    for entry in entries:
        payload = entry.payload if isinstance(entry.payload, dict) else {}
        if entry.kind == "incident.opened" and entry.actor_id:
            team.setdefault(Role.CIO, set()).add(entry.actor_id)
        elif entry.kind == "role.assigned" and isinstance(payload.get("user"), int):
            team.setdefault(payload.get("function", ""), set()).add(payload["user"])
        elif entry.kind == "exercise.started" and entry.actor_id:
            facilitators.add(entry.actor_id)
    members = set().union(*team.values()) if team else set()
    answers = []
    for index, entry in enumerate(entries):
        payload = entry.payload if isinstance(entry.payload, dict) else {}
        if entry.kind != "exercise.inject":
            continue
        to = tuple(payload.get("to") or ())
        people = set().union(*(team.get(role, set()) for role in to)) if to else set()
        if "everyone" in to:
            people = members

        # A principal is nobody on the team, and not the facilitator.
        principals = Role.PRINCIPAL in to or "everyone" in to
        outsiders = members | facilitators
        answer = next(
            (
                later
                for later in entries[index + 1 :]
                if later.actor_id is not None
                and not later.kind.startswith("exercise.")
                and (later.actor_id in people or (principals and later.actor_id not in outsiders))
            ),
            None,
        )
        arrived = own.elapsed_at(entry.at)
        answers.append(
            InjectAnswer(
                number=payload.get("number", 0),
                sender=entry.summary.split(":", 1)[0],
                to=to,
                arrived=arrived,
                answered_after=own.elapsed_at(answer.at) - arrived if answer else None,
                answered_by=str(answer.actor) if answer else "",
                answer=answer.summary if answer else "",
            )
        )
    return answers


def _duties(entries, own: Clock, ended_at: datetime) -> list[DutyResult]:
    """Every duty of the play, from the declaration's checklist and the duties injects added,
    with when it was done."""
    listed: dict[int, tuple[str, timedelta]] = {}
    done: dict[int, timedelta] = {}
    for entry in entries:
        payload = entry.payload if isinstance(entry.payload, dict) else {}
        rows = []
        if entry.kind == "incident.opened":
            rows = payload.get("duties") or []
        elif entry.kind == "duty.added":
            rows = [payload]
        for row in rows:
            if isinstance(row.get("duty"), int) and isinstance(row.get("due_minutes"), int):
                listed[row["duty"]] = (row.get("title", ""), timedelta(minutes=row["due_minutes"]))
        if entry.kind == "duty.done" and isinstance(payload.get("duty"), int):
            done.setdefault(payload["duty"], own.elapsed_at(entry.at))
    ended = own.elapsed_at(ended_at)
    return [
        DutyResult(title, due, done.get(pk))
        for pk, (title, due) in sorted(listed.items(), key=lambda item: (item[1][1], item[0]))
        if due <= ended or pk in done
    ]


def figures(report: Report) -> dict:
    """The report's figures as plain data, for the JSON export."""

    def minutes(span: timedelta | None) -> float | None:
        return None if span is None else round(span.total_seconds() / 60, 1)

    score = report.scorecard
    return {
        "incident": report.incident.title,
        "ended_at_minutes": minutes(report.ended),
        "patterns": [
            {
                "code": p.code,
                "title": p.title,
                "happened": p.happened,
                "first_at_minutes": minutes(p.first),
                "evidence": [{**asdict(e), "reading": minutes(e.reading)} for e in p.evidence],
            }
            for p in report.patterns
        ],
        "injects": [
            {
                "number": i.number,
                "to": list(i.to),
                "arrived_at_minutes": minutes(i.arrived),
                "answered_after_minutes": minutes(i.answered_after),
                "answered_by": i.answered_by,
            }
            for i in report.injects
        ],
        "duties": [
            {
                "title": d.title,
                "due_at_minutes": minutes(d.due),
                "done_at_minutes": minutes(d.done),
                "met": d.met,
            }
            for d in report.duties
        ],
        "scorecard": None
        if score is None
        else {
            "audiences": [
                {
                    "audience": a.audience,
                    "first_update_after_minutes": minutes(a.first_update_after),
                    "longest_silence_minutes": minutes(a.longest_silence),
                    "promises_kept": a.promises_kept,
                    "promises_broken": a.promises_broken,
                }
                for a in score.audiences
            ],
            "withdrawn": score.withdrawn,
            "corrections": score.corrections,
        },
    }


def as_csv(report: Report) -> str:
    """The same figures as rows: one per pattern, inject and duty."""
    rows = [["section", "item", "happened or met", "at (exercise clock)", "detail"]]
    for p in report.patterns:
        happened = "yes" if p.happened else "no"
        rows.append(["pattern", p.title, happened, format_span(p.first), str(len(p.evidence))])
    for i in report.injects:
        answered = "answered" if i.answered_after is not None else "not answered"
        rows.append(
            [
                "inject",
                f"{i.number}: {i.sender}",
                answered,
                format_span(i.arrived),
                format_span(i.answered_after),
            ]
        )
    for d in report.duties:
        met = "met" if d.met else ("missed" if d.done is None else "late")
        rows.append(["duty", d.title, met, format_span(d.due), format_span(d.done)])
    out = io.StringIO()
    csv.writer(out).writerows([[spreadsheet_safe(cell) for cell in row] for row in rows])
    return out.getvalue()
