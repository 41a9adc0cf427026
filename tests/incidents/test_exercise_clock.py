"""Every span shown for an exercise is on the exercise clock, and says so: the silence banner,
the update clocks, relative times, the timers' lateness and the trust scorecard."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from django.template import Context, Template
from django.test import Client

from comms import timers
from comms.models import AudienceClock
from incidents.models import TimelineEntry
from incidents.scorecard import Event, compute
from tests.conftest import CLOCK_START as START
from tests.factories import open_exercise


@pytest.fixture
def exercise(riverbend, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return open_exercise(riverbend, time_scale=120, title="Ransomware drill", kind="cyber")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _families_due(incident) -> datetime:
    return AudienceClock.objects.get(incident=incident, audience="families").next_update_due_at


def test_the_silence_banner_counts_exercise_minutes(riverbend, exercise, clock):
    clock.move_to(_families_due(exercise) + timedelta(seconds=6))
    client = Client()
    client.force_login(riverbend.academics)

    text = _text(client.get("/incidents/academics/").content.decode())

    assert "families for 12 min on the exercise clock" in text
    assert "families for 6 s" not in text


def test_the_update_clocks_count_exercise_minutes(riverbend, exercise, clock):
    clock.move_to(_families_due(exercise) + timedelta(seconds=6))
    client = Client()
    client.force_login(riverbend.cio)

    html = client.get(f"/incidents/{exercise.pk}/").content.decode()

    assert "Overdue: silent for 12 min on the exercise clock" in _text(html)
    # The script that keeps the badge current is told the clock's speed.
    assert 'data-scale="120" data-suffix=" on the exercise clock"' in html


def test_relative_times_of_an_exercise_are_on_its_clock(exercise):
    template = Template("{% load console %}{% relative_time when now incident %}")
    now = exercise.declared_at + timedelta(minutes=13)

    text = _text(
        template.render(Context({"when": exercise.declared_at, "now": now, "incident": exercise}))
    )

    assert text == "26 h 00 min ago on the exercise clock"


def test_relative_times_of_a_real_incident_are_unlabelled(riverbend, exercise):
    exercise.is_exercise, exercise.time_scale = False, 1
    template = Template("{% load console %}{% relative_time when now incident %}")
    now = exercise.declared_at + timedelta(minutes=13)

    text = _text(
        template.render(Context({"when": exercise.declared_at, "now": now, "incident": exercise}))
    )

    assert text == "13 min ago"


def test_a_late_alarm_says_how_late_on_the_exercise_clock(
    exercise, clock, django_capture_on_commit_callbacks
):
    clock.move_to(_families_due(exercise) + timedelta(minutes=3))

    with django_capture_on_commit_callbacks(execute=True):
        timers.sweep()

    silence = TimelineEntry.objects.filter(incident=exercise, kind="cadence.silence").first()
    assert silence is not None
    assert re.search(r"raised \d+ h \d+ min late on the exercise clock", silence.summary)


def test_the_scorecard_reports_exercise_spans():
    declared = START
    events = [
        Event(
            declared,
            "incident.opened",
            {"first_promises": {"families": (declared + timedelta(seconds=30)).isoformat()}},
        ),
        Event(
            declared + timedelta(seconds=25),
            "update.published",
            {
                "audience": "staff",
                "promised_next_at": (declared + timedelta(minutes=5)).isoformat(),
            },
        ),
        Event(
            declared + timedelta(minutes=34, seconds=30),
            "update.published",
            {
                "audience": "families",
                "promised_next_at": (declared + timedelta(hours=1)).isoformat(),
            },
        ),
    ]

    card = compute(
        declared_at=declared, events=events, now=declared + timedelta(minutes=35), time_scale=120
    )

    assert card.audience("staff").first_update_after == timedelta(minutes=50)
    assert card.audience("families").longest_silence == timedelta(hours=68)
    assert card.time_scale == 120


def test_the_scorecard_panel_says_its_spans_are_on_the_exercise_clock(riverbend, exercise):
    client = Client()
    client.force_login(riverbend.cio)

    text = _text(client.get(f"/incidents/{exercise.pk}/").content.decode())

    assert "Every time span is on the exercise clock, which runs 120× real time." in text
