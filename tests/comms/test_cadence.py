"""Recording updates and changing cadence: through services and the incident page."""

import re
from datetime import timedelta

import pytest

from comms import services
from comms.models import AudienceClock, PublishedUpdate
from incidents import services as incident_services
from incidents.errors import Invalid, Refused
from incidents.models import Incident, TimelineEntry
from tests.conftest import CLOCK_START as START
from tests.factories import open_exercise


@pytest.fixture
def incident(riverbend, clock):
    return incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )


def staff_clock(incident):
    return AudienceClock.objects.get(incident=incident, audience="staff")


def record(incident, by, minutes=30, audience="staff", summary="We are on it."):
    return services.update_record(
        incident=incident,
        audience=audience,
        summary=summary,
        promised_next_at=START + timedelta(minutes=minutes),
        by=by,
    )


def test_recording_an_update_restarts_the_clock_at_the_promise(incident, riverbend):
    record(incident, riverbend.comms, minutes=45)

    clock = staff_clock(incident)
    assert clock.next_update_due_at == START + timedelta(minutes=45)
    assert clock.last_published_at == START
    assert clock.generation == 2
    assert TimelineEntry.objects.filter(incident=incident, kind="update.published").exists()


def test_recording_the_first_staff_update_ticks_its_duty(incident, riverbend):
    record(incident, riverbend.comms)

    duty = incident.duties.get(trigger="update_staff")
    assert duty.done_at == START


@pytest.mark.parametrize(
    ("minutes", "message"),
    [(0, "in the future"), (-5, "in the future"), (61, "at most 60 minutes")],
)
def test_a_promise_in_the_past_or_beyond_the_cadence_is_refused(
    incident, riverbend, minutes, message
):
    with pytest.raises(Invalid, match=message):
        record(incident, riverbend.comms, minutes=minutes)

    assert staff_clock(incident).generation == 1
    assert not PublishedUpdate.objects.exists()


@pytest.mark.parametrize("role", ["academics", "legal", "technical", "board", "principal"])
def test_only_comms_or_owner_records_updates(incident, riverbend, role):
    with pytest.raises(Refused):
        record(incident, getattr(riverbend, role))

    assert not PublishedUpdate.objects.exists()


def test_another_districts_comms_lead_is_refused(incident, lakeshore):
    with pytest.raises(Refused):
        record(incident, lakeshore.comms)


def test_empty_or_oversized_summary_is_refused(incident, riverbend):
    with pytest.raises(Invalid, match="Say in a sentence"):
        record(incident, riverbend.comms, summary="   ")
    with pytest.raises(Invalid, match="10,000"):
        record(incident, riverbend.comms, summary="x" * 10001)


def test_a_closed_incident_takes_no_updates(incident, riverbend):
    incident_services.incident_enter_recovery(incident=incident, by=riverbend.cio)
    incident_services.incident_close(incident=incident, by=riverbend.cio)

    with pytest.raises(Invalid, match="closed"):
        record(incident, riverbend.comms)


def test_shorter_cadence_brings_the_next_update_forward(incident, riverbend):
    services.cadence_change(
        incident=incident,
        audience="staff",
        interval=20,
        reason="Report cards today",
        by=riverbend.comms,
    )

    clock = staff_clock(incident)
    assert clock.next_update_due_at == START + timedelta(minutes=20)
    assert clock.generation == 2
    entry = TimelineEntry.objects.get(incident=incident, kind="cadence.changed")
    assert "Report cards today" in entry.summary


def test_longer_cadence_never_moves_a_promise_already_made(incident, riverbend):
    services.cadence_change(
        incident=incident, audience="staff", interval=600, reason="Overnight", by=riverbend.cio
    )

    clock = staff_clock(incident)
    assert clock.next_update_due_at == START + timedelta(minutes=60)
    assert clock.generation == 1
    assert clock.interval_override_minutes == 600


@pytest.mark.parametrize("interval", [4, 10081])
def test_cadence_outside_five_minutes_to_seven_days_is_refused(incident, riverbend, interval):
    with pytest.raises(Invalid, match="between 5 minutes and 7 days"):
        services.cadence_change(
            incident=incident, audience="staff", interval=interval, reason="x", by=riverbend.cio
        )

    assert staff_clock(incident).interval_override_minutes is None


def test_cadence_change_needs_a_reason(incident, riverbend):
    with pytest.raises(Invalid, match="reason"):
        services.cadence_change(
            incident=incident, audience="staff", interval=30, reason=" ", by=riverbend.cio
        )


def test_exercise_clock_scales_the_cadence(riverbend, clock):
    exercise = open_exercise(riverbend)

    assert staff_clock(exercise).next_update_due_at == START + timedelta(minutes=1)
    with pytest.raises(Invalid, match="at most 60 minutes"):
        services.update_record(
            incident=exercise,
            audience="staff",
            summary="x",
            promised_next_at=START + timedelta(minutes=2),
            by=riverbend.cio,
        )


# --- Through the page -------------------------------------------------------------------


def test_cadence_form_refuses_out_of_range_with_the_range(client, incident, riverbend):
    client.force_login(riverbend.comms)

    response = client.post(
        f"/comms/incidents/{incident.pk}/cadence/",
        {"audience": "staff", "interval": "2", "reason": "fast"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert b"at least 5 minutes" in response.content
    assert staff_clock(incident).interval_override_minutes is None


def test_cadence_form_changes_the_interval(client, incident, riverbend):
    client.force_login(riverbend.comms)

    response = client.post(
        f"/comms/incidents/{incident.pk}/cadence/",
        {"audience": "staff", "interval": "30", "reason": "Testing day"},
    )

    assert response.status_code == 302
    assert staff_clock(incident).interval_override_minutes == 30


def test_silence_is_shown_on_every_response_dashboard(client, incident, riverbend, clock):
    clock.move_to(START + timedelta(minutes=75))

    pages = {}
    for person, url in [
        (riverbend.cio, "/incidents/"),
        (riverbend.comms, "/comms/"),
        (riverbend.legal, "/comms/legal/"),
        (riverbend.academics, "/incidents/academics/"),
        (riverbend.cio, f"/incidents/{incident.pk}/"),
        (riverbend.board, "/incidents/briefing/"),
    ]:
        client.force_login(person)
        pages[url] = " ".join(re.sub(r"<[^>]+>", " ", client.get(url).content.decode()).split())

    for url, body in pages.items():
        assert "Silence: a promised update is late" in body, url
        assert "silent to staff for 15 min" in body, url


def test_the_silence_banner_takes_one_line_per_incident(client, incident, riverbend, clock):
    """On a phone the banner must not push the page below the fold: the title once, then
    every silent audience after it."""
    clock.move_to(START + timedelta(hours=5))
    client.force_login(riverbend.comms)

    body = client.get("/comms/").content.decode()
    banner = body[body.index('class="silence-banner"') : body.index("</section>")]

    assert banner.count("<li>") == 1
    assert banner.count(incident.title) == 1
    for audience in ("staff", "families", "board"):
        assert f"{audience} for " in banner


def test_silence_is_not_shown_to_principals(client, incident, riverbend, clock):
    clock.move_to(START + timedelta(minutes=75))
    client.force_login(riverbend.principal)

    body = client.get("/incidents/guidance/").content.decode()

    assert "Silence" not in body
    assert 'id="silence-banner"' not in body


def test_the_briefing_marks_a_late_board_update(client, incident, riverbend, clock):
    due = AudienceClock.objects.get(incident=incident, audience="board").next_update_due_at
    client.force_login(riverbend.board)

    clock.move_to(due - timedelta(minutes=1))
    before = " ".join(
        re.sub(r"<[^>]+>", " ", client.get("/incidents/briefing/").content.decode()).split()
    )
    clock.move_to(due + timedelta(minutes=90))
    after = " ".join(
        re.sub(r"<[^>]+>", " ", client.get("/incidents/briefing/").content.decode()).split()
    )

    assert "Overdue" not in before
    assert "Next board update Overdue promised for" in after
    assert "late by 1 h 30 min" in after


def test_exercise_pages_say_exercise(client, riverbend, clock):
    exercise = open_exercise(riverbend)
    client.force_login(riverbend.cio)

    body = client.get(f"/incidents/{exercise.pk}/").content.decode()

    assert "<strong>EXERCISE</strong>" in body
    assert "(EXERCISE)" in body


def test_incident_close_requires_recovery_first(incident, riverbend):
    with pytest.raises(Invalid, match="Recovery before closing"):
        incident_services.incident_close(incident=incident, by=riverbend.cio)

    assert Incident.objects.get(pk=incident.pk).status == "active"


def test_the_first_promises_are_on_the_timeline_and_a_late_first_update_is_silence(
    incident, riverbend, clock
):
    """The scorecard reads the families' first promised update from the declaration's row
    and counts the wait past it before the first update (issue #18, item 5)."""
    from incidents.selectors import scorecard_for

    opened = TimelineEntry.objects.get(incident=incident, kind="incident.opened")
    families_due = AudienceClock.objects.get(incident=incident, audience="families")
    promised = opened.payload["first_promises"]["families"]
    assert promised == families_due.next_update_due_at.isoformat()

    late = families_due.next_update_due_at + timedelta(minutes=95)
    clock.move_to(late)
    services.update_record(
        incident=incident,
        audience="families",
        summary="Grades are safe; the system is still down.",
        promised_next_at=late + timedelta(minutes=30),
        by=riverbend.comms,
    )
    card = scorecard_for(Incident.objects.get(pk=incident.pk), late)

    assert card.audience("families").longest_silence == timedelta(minutes=95)


def test_a_cadence_change_that_brings_the_update_forward_records_the_new_promise(
    incident, riverbend
):
    services.cadence_change(
        incident=incident,
        audience="staff",
        interval=10,
        reason="Teachers need it.",
        by=riverbend.comms,
    )
    services.cadence_change(
        incident=incident, audience="staff", interval=600, reason="Quieter now.", by=riverbend.comms
    )

    changes = TimelineEntry.objects.filter(incident=incident, kind="cadence.changed").order_by(
        "sequence"
    )
    assert changes[0].payload["promised_next_at"] == (START + timedelta(minutes=10)).isoformat()
    assert "promised_next_at" not in changes[1].payload
