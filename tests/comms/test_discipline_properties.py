"""Properties of the discipline checks over any text: they run on every keystroke of the
editor, so no text, audience, channel or phase may make them raise or return nonsense."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from comms import discipline
from comms.models import DraftRevision

CODES = set(discipline.CODES)
STATUSES = {None, "down", "degraded", "restored"}
CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")

# Any unicode, NUL and surrogate-free; plus words the checks look for, so that the phrase
# patterns are exercised, not only random noise.
WORDS = st.sampled_from(
    [
        "we believe the cause",
        "restored by 3 pm",
        "will be fixed by tomorrow",
        "vendor's fault",
        "SIS",
        "servers",
        "next update at 2:30",
        "is down",
        "was down",
        "back online",
        "until it is restored",
        "urgent",
        "€",
        "😀",
        "\x00",
        ".",
        "\n",
        "e.g.",
        "3 p.m.",
        "at 13",
        "no further updates",
    ]
)
TEXT = st.lists(st.one_of(WORDS, st.text(max_size=40)), max_size=40).map(" ".join)
FACTS = st.builds(
    discipline.Facts,
    status=st.sampled_from(sorted(STATUSES, key=str)),
    next_update=st.one_of(st.none(), st.from_regex(CLOCK, fullmatch=True)),
)


@given(
    body=TEXT,
    audience=st.sampled_from(discipline.AUDIENCES),
    channel=st.sampled_from(discipline.CHANNELS),
    phase=st.sampled_from(discipline.PHASES),
    previous=st.lists(st.integers(min_value=0, max_value=DraftRevision.MAX_BODY), max_size=5),
    others=st.dictionaries(st.sampled_from(discipline.AUDIENCES), FACTS, max_size=4),
)
@example(
    body="\x00" * 50,
    audience="families",
    channel="sms",
    phase="control",
    previous=[0, 0],
    others={},
)
def test_check_never_raises_and_every_finding_is_well_formed(
    body, audience, channel, phase, previous, others
):
    arguments = dict(
        body=body,
        audience=audience,
        channel=channel,
        phase=phase,
        previous_lengths=previous,
        other_audiences=others,
    )

    findings = discipline.check(**arguments)

    assert isinstance(findings, list)
    for finding in findings:
        assert finding.code in CODES
        assert finding.title.strip() and finding.reason.strip()
        # An excerpt always quotes the writer's own words, so the editor can point at them.
        assert finding.excerpt in body
    # The same text gives the same warnings, in the same order, with no repeats.
    assert discipline.check(**arguments) == findings
    assert len({(f.code, f.excerpt) for f in findings}) == len(findings)
    if not body.strip():
        assert findings == []


@given(body=TEXT)
def test_extracted_facts_are_normalised(body):
    facts = discipline.extract_facts(body)

    assert facts.status in STATUSES
    assert facts.next_update is None or CLOCK.match(facts.next_update)


@given(body=st.text(max_size=400))
def test_sms_segments_always_hold_the_whole_text(body):
    info = discipline.sms_segments(body)

    assert info.encoding in ("GSM-7", "UCS-2")
    assert info.characters >= len(body)
    assert info.segments >= 1
    # Every unit fits somewhere: the parts together hold at least the whole message.
    assert info.segments * info.per_segment >= info.characters
    if info.segments == 1:
        assert info.characters <= {"GSM-7": 160, "UCS-2": 70}[info.encoding]


@given(body=TEXT)
def test_reading_grade_is_a_finite_grade(body):
    grade = discipline.reading_grade(body)

    assert math.isfinite(grade) and grade >= 0


@given(size=st.integers(min_value=1, max_value=DraftRevision.MAX_BODY), unit=WORDS)
def test_the_longest_draft_is_checked(size, unit):
    """The editor checks up to 10,000 characters on every pause in typing."""
    body = (unit + " ") * (size // (len(unit) + 1) + 1)

    findings = discipline.check(
        body=body[: DraftRevision.MAX_BODY], audience="families", channel="sms", phase="control"
    )

    assert all(f.code in CODES for f in findings)


@given(
    value=st.text(max_size=12).filter(
        lambda v: v not in discipline.AUDIENCES + discipline.CHANNELS + discipline.PHASES
    ),
    which=st.sampled_from(["audience", "channel", "phase"]),
)
def test_an_unknown_audience_channel_or_phase_is_a_value_error(value, which):
    """Views pass only the model's own choices; anything else is a programming error and is
    said so plainly, never a crash deeper inside."""
    arguments = {"audience": "staff", "channel": "email", "phase": "control", which: value}

    with pytest.raises(ValueError, match="is not one of"):
        discipline.check(body="Next update at 2 pm.", **arguments)
