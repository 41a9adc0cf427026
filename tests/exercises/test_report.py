"""The after-action report names the failure patterns a scripted play committed, and none
that it did not, from the timeline alone; a pause is never counted as silence."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from comms import timers
from exercises import services
from tests.comms.publishing import published, written
from tests.conftest import CLOCK_START as START

SECOND = timedelta(seconds=1)


def _sweep(capture):
    with capture(execute=True):
        timers.sweep()


@pytest.fixture
def played(riverbend, clock, django_capture_on_commit_callbacks):
    """Staff are left past their first promised update, then hear that grades load slowly
    while families are told the gradebook is back, with a guess at the cause."""
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        play = services.exercise_start(by=riverbend.facilitator, source="ransomware-student-data")
    incident = play.incident
    # At 60x the staff's first update is promised for 1:00 on the clock, 60 s of wall time.
    clock.move_to(START + 61 * SECOND)
    _sweep(capture)
    with capture(execute=True):
        published(
            written(
                incident,
                riverbend.comms,
                "Grades are loading slowly for some teachers.",
                audience="staff",
                channel="email",
            ),
            riverbend.comms,
            counsel=riverbend.legal,
            minutes=0.5,
        )
        published(
            written(
                incident,
                riverbend.comms,
                "The gradebook has been restored. We believe the root cause was a phishing email.",
            ),
            riverbend.comms,
            counsel=riverbend.legal,
            minutes=0.5,
        )
    clock.move_to(START + 70 * SECOND)
    with capture(execute=True):
        services.exercise_end(exercise=play, by=riverbend.facilitator)
    play.refresh_from_db()
    return play


def test_the_report_names_what_the_play_committed_and_nothing_else(played):
    report = services.report_for(played, START + 70 * SECOND)

    assert {p.code for p in report.committed} == {"silence", "speculation", "facts_differ"}
    silence = next(p for p in report.patterns if p.code == "silence")
    assert silence.first == timedelta(minutes=61)
    assert all(e.kind == "cadence.silence" for e in silence.evidence)
    speculation = next(p for p in report.patterns if p.code == "speculation")
    assert [e.kind for e in speculation.evidence] == ["draft.published"]
    assert "Families" in speculation.evidence[0].summary
    assert report.ended == timedelta(minutes=70)


def test_injects_are_timed_to_their_first_answer(riverbend, played):
    report = services.report_for(played, START + 70 * SECOND)

    reporter = next(i for i in report.injects if i.number == 3)
    assert reporter.arrived == timedelta(minutes=61)
    assert reporter.answered_by == str(riverbend.comms)
    assert reporter.answered_after == timedelta(0)
    # Inject 2 went to the technical lead and the CIO, who did nothing.
    assert next(i for i in report.injects if i.number == 2).answered_after is None


def test_duties_are_met_or_missed_on_the_exercise_clock(played):
    report = services.report_for(played, START + 70 * SECOND)

    staff = next(d for d in report.duties if "staff" in d.title.lower())
    assert staff.due == timedelta(minutes=60)
    assert staff.done == timedelta(minutes=61)
    assert not staff.met
    assert staff in report.duties_missed


def test_a_pause_is_not_silence(riverbend, clock, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        play = services.exercise_start(by=riverbend.facilitator, source="network-phones-down")
    clock.move_to(START + 30 * SECOND)
    services.exercise_pause(exercise=play, by=riverbend.facilitator)
    clock.move_to(START + 630 * SECOND)
    services.exercise_resume(exercise=play, by=riverbend.facilitator)
    clock.move_to(START + 650 * SECOND)
    _sweep(capture)
    with capture(execute=True):
        published(
            written(
                play.incident,
                riverbend.comms,
                "Phones are down at every school.",
                audience="staff",
                channel="email",
            ),
            riverbend.comms,
            minutes=0.5,
        )
    report = services.report_for(play, START + 650 * SECOND)

    assert not next(p for p in report.patterns if p.code == "silence").happened
    staff = report.scorecard.audience("staff")
    assert staff.first_update_after == timedelta(minutes=50)
    assert staff.longest_silence == timedelta(0)


def test_the_report_page_prints_and_exports(riverbend, played):
    client = Client()
    client.force_login(riverbend.facilitator)

    page = client.get(f"/exercises/{played.pk}/report/").content.decode()
    figures = json.loads(client.get(f"/exercises/{played.pk}/report.json").content)
    table = client.get(f"/exercises/{played.pk}/report.csv")

    assert page.count(">Happened<") == 3 and page.count(">Did not happen<") == 3
    assert "Print this report" in page
    assert {p["code"] for p in figures["patterns"] if p["happened"]} == {
        "silence",
        "speculation",
        "facts_differ",
    }
    assert table["Content-Type"].startswith("text/csv")
    rows = table.content.decode()
    assert "pattern,Silence longer than the cadence,yes,1 h 01 min,1" in rows
    assert "duty,First update to staff,late,1 h 00 min,1 h 01 min" in rows


@pytest.mark.parametrize("role", ["principal", "translator", "board_liaison"])
def test_the_report_is_refused_to_other_roles(riverbend, played, role):
    client = Client()
    client.force_login(riverbend.by_role(role))
    assert client.get(f"/exercises/{played.pk}/report/").status_code == 403


def test_the_team_may_read_it(riverbend, played):
    client = Client()
    client.force_login(riverbend.comms)
    assert client.get(f"/exercises/{played.pk}/report.json").status_code == 200


def test_another_district_cannot(lakeshore, played):
    client = Client()
    client.force_login(lakeshore.cio)
    assert client.get(f"/exercises/{played.pk}/report/").status_code == 404
