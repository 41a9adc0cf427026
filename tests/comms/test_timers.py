"""The timer engine: every timer path fires once, ignores a stale generation, and ignores a
duplicate delivery; catch-up after downtime; exercises on a scaled clock."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from comms import services, timers
from comms.delivery import deliver
from comms.models import AudienceClock, Deadline, EngineHeartbeat, Notification
from comms.tasks import deliver_notification
from incidents import services as incident_services
from incidents.duties import duty_mark_done
from incidents.models import Incident, Role, TimelineEntry
from tests.conftest import CLOCK_START as START
from tests.factories import open_exercise


@pytest.fixture
def incident(riverbend, clock, django_capture_on_commit_callbacks):
    riverbend.comms.phone = "+15555550101"
    riverbend.comms.email = "comms@example.org"
    riverbend.comms.save()
    riverbend.cio.phone = "+15555550100"
    riverbend.cio.save()
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_services.incident_open(
            by=riverbend.cio,
            title="SIS down",
            kind=Incident.Kind.SIS,
            severity=2,
            all_schools=True,
        )
        for function, person in [
            (Role.COMMUNICATIONS, riverbend.comms),
            (Role.ACADEMICS, riverbend.academics),
        ]:
            incident_services.incident_role_assign(
                incident=incident, function=function, user=person, by=riverbend.cio
            )
    return incident


def sweep(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return timers.sweep()


def kinds(incident, prefix=""):
    return list(
        TimelineEntry.objects.filter(incident=incident, kind__startswith=prefix)
        .order_by("sequence")
        .values_list("kind", flat=True)
    )


def test_declaring_schedules_every_timer(incident):
    pending = Deadline.objects.filter(incident=incident, status="pending")

    # Every kind but an exercise's injects, which only a scenario schedules.
    expected = set(Deadline.Kind.values) - {Deadline.Kind.INJECT}
    assert set(pending.values_list("kind", flat=True)) == expected
    assert AudienceClock.objects.filter(incident=incident).count() == 4
    staff = AudienceClock.objects.get(incident=incident, audience="staff")
    assert staff.next_update_due_at == START + timedelta(minutes=60)


def test_nothing_fires_before_it_is_due(incident, clock, django_capture_on_commit_callbacks):
    clock.move_to(START + timedelta(minutes=44))

    result = sweep(django_capture_on_commit_callbacks)

    assert result.fired == []


def test_due_soon_reminds_the_communications_lead_once(
    incident, clock, django_capture_on_commit_callbacks, riverbend, sms_outbox
):
    clock.move_to(START + timedelta(minutes=45, seconds=1))

    first = sweep(django_capture_on_commit_callbacks)
    second = sweep(django_capture_on_commit_callbacks)

    assert len(first.fired) == 1 and second.fired == []
    assert kinds(incident, "cadence") == ["cadence.due_soon"]
    sent = Notification.objects.filter(deadline_id=first.fired[0])
    assert {(n.recipient, n.channel, n.status) for n in sent} == {
        (riverbend.comms, "in_app", "sent"),
        (riverbend.comms, "email", "sent"),
        (riverbend.comms, "sms", "sent"),
    }
    assert [c["to"] for c in sms_outbox.calls] == ["+15555550101"]


def test_silence_escalates_to_the_owner(
    incident, clock, django_capture_on_commit_callbacks, riverbend
):
    clock.move_to(START + timedelta(minutes=60, seconds=1))

    sweep(django_capture_on_commit_callbacks)

    silence = Deadline.objects.get(incident=incident, kind="cadence_overdue", subject="staff")
    assert silence.status == "fired"
    recipients = set(
        Notification.objects.filter(deadline=silence, channel="in_app").values_list(
            "recipient", flat=True
        )
    )
    assert recipients == {riverbend.comms.pk, riverbend.cio.pk}
    entry = TimelineEntry.objects.get(incident=incident, kind="cadence.silence")
    assert "staff" in entry.summary and "Escalated" in entry.summary


def test_an_update_supersedes_the_old_generation(
    incident, clock, django_capture_on_commit_callbacks, riverbend
):
    clock.move_to(START + timedelta(minutes=30))
    services.update_record(
        incident=incident,
        audience="staff",
        summary="We know the SIS is down; next update at 11.",
        promised_next_at=START + timedelta(minutes=80),
        by=riverbend.comms,
    )
    clock.move_to(START + timedelta(minutes=61))

    sweep(django_capture_on_commit_callbacks)

    old = Deadline.objects.get(
        incident=incident, kind="cadence_overdue", subject="staff", generation=1
    )
    assert old.status == "cancelled"
    assert "cadence.silence" not in kinds(incident)


def test_update_one_instant_before_overdue_never_raises_silence(
    incident, clock, django_capture_on_commit_callbacks, riverbend
):
    clock.move_to(START + timedelta(minutes=60) - timedelta(microseconds=1))
    services.update_record(
        incident=incident,
        audience="staff",
        summary="Still working on it.",
        promised_next_at=START + timedelta(minutes=90),
        by=riverbend.comms,
    )
    clock.move_to(START + timedelta(minutes=60, seconds=2))

    sweep(django_capture_on_commit_callbacks)

    assert "cadence.silence" not in kinds(incident)


def test_duty_overdue_fires_once_and_a_done_duty_is_cancelled(
    incident, clock, django_capture_on_commit_callbacks, riverbend
):
    duties = list(incident.duties.order_by("due_minutes"))
    duty_mark_done(duty=duties[2], by=riverbend.cio)  # first family update, due at 120 min
    clock.move_to(START + timedelta(minutes=121))

    sweep(django_capture_on_commit_callbacks)
    sweep(django_capture_on_commit_callbacks)

    overdue = TimelineEntry.objects.filter(incident=incident, kind="duty.overdue")
    # Roles were named (auto-done); staff update (60 min) is overdue; families was done.
    assert [e.payload["subject"] for e in overdue] == [str(duties[1].pk)]
    done = Deadline.objects.get(kind="duty_due", subject=str(duties[2].pk))
    assert done.status == "cancelled"


def test_phase_two_begins_at_24_hours_and_recovery_is_prompted_at_72(
    incident, clock, django_capture_on_commit_callbacks
):
    clock.move_to(START + timedelta(hours=24, seconds=1))
    sweep(django_capture_on_commit_callbacks)
    clock.move_to(START + timedelta(hours=72, seconds=1))
    sweep(django_capture_on_commit_callbacks)

    assert kinds(incident, "phase") == ["phase.trust", "phase.recovery_due"]


def test_closing_lapses_every_pending_timer(
    incident, clock, django_capture_on_commit_callbacks, riverbend
):
    incident_services.incident_enter_recovery(incident=incident, by=riverbend.cio)
    incident_services.incident_close(incident=incident, by=riverbend.cio)
    clock.move_to(START + timedelta(days=8))

    result = sweep(django_capture_on_commit_callbacks)

    assert result.fired == []
    assert not Deadline.objects.filter(incident=incident, status="pending").exists()


def test_after_downtime_everything_overdue_fires_once_in_order_marked_late(
    incident, clock, django_capture_on_commit_callbacks
):
    clock.move_to(START + timedelta(hours=5))

    result = sweep(django_capture_on_commit_callbacks)

    due = list(Deadline.objects.filter(pk__in=result.fired).values_list("due_at", flat=True))
    order = [Deadline.objects.get(pk=pk).due_at for pk in result.fired]
    assert order == sorted(due)
    fired = TimelineEntry.objects.filter(incident=incident, payload__late_seconds__gt=0)
    assert fired.count() == len(result.fired) > 5
    assert all("late)" in e.summary for e in fired)
    assert sweep(django_capture_on_commit_callbacks).fired == []


def test_exercise_clock_fires_on_its_scale(
    riverbend, clock, django_capture_on_commit_callbacks, sms_outbox
):
    riverbend.cio.phone = "+15555550100"
    riverbend.cio.save()
    exercise = open_exercise(riverbend)
    clock.move_to(START + timedelta(minutes=1, seconds=1))  # 60 incident minutes

    sweep(django_capture_on_commit_callbacks)

    assert "cadence.silence" in kinds(exercise)
    texts = Notification.objects.filter(incident=exercise, channel="sms")
    assert texts.exists() and set(texts.values_list("status", flat=True)) == {"suppressed"}
    assert sms_outbox.calls == []


def test_a_duplicated_delivery_task_sends_once(incident, clock, riverbend, sms_outbox):
    clock.move_to(START + timedelta(minutes=61))
    timers.sweep()  # on-commit hand-off not run: the rows wait in the outbox
    text = Notification.objects.filter(channel="sms", recipient=riverbend.comms).first()

    results = [deliver_notification.apply(args=[text.pk]).result for _ in range(3)]

    assert results == ["sent", "skipped", "skipped"]
    assert sms_outbox.delivered_keys() == [text.key]


def test_a_second_sweep_fires_nothing_twice(incident, clock):
    clock.move_to(START + timedelta(minutes=61))

    counts = [len(timers.sweep().fired) for _ in range(2)]

    assert counts[0] > 0 and counts[1] == 0


@pytest.mark.django_db(transaction=True)
def test_the_loop_fires_what_falls_due_and_stamps_the_heartbeat(incident, clock, monkeypatch):
    clock.move_to(START + timedelta(minutes=61))
    due = Deadline.objects.filter(status="pending", due_at__lte=timezone.now())
    assert due.exists()
    stop = threading.Event()
    idle = []

    def wait(seconds):
        # The first time nothing was left to fire, the loop stops.
        idle.append(seconds)
        stop.set()

    monkeypatch.setattr(stop, "wait", wait)

    timers.run(stop)

    assert idle == [timers.IDLE_WAIT_SECONDS]
    assert not due.exists()
    assert set(kinds(incident, "cadence")) == {"cadence.due_soon", "cadence.silence"}
    assert EngineHeartbeat.objects.get(name="timers").beat_at == START + timedelta(minutes=61)


@pytest.mark.django_db(transaction=True)
def test_the_loop_survives_a_failed_sweep(db, monkeypatch):
    stop = threading.Event()
    calls = []

    def failing_sweep(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            stop.set()
        raise timers.Deadline.DoesNotExist("the database went away")

    monkeypatch.setattr(timers, "sweep", failing_sweep)
    monkeypatch.setattr(stop, "wait", lambda seconds: None)

    timers.run(stop)  # returns once stopped, instead of raising out of the thread

    assert len(calls) == 2


def test_a_send_that_died_with_its_worker_is_retried_once(incident, clock, riverbend, sms_outbox):
    from comms.delivery import undelivered_due

    clock.move_to(START + timedelta(minutes=61))
    timers.sweep()
    text = Notification.objects.filter(channel="sms", recipient=riverbend.comms).first()
    Notification.objects.filter(pk=text.pk).update(status="sending", claimed_at=timezone.now())
    clock.move_to(START + timedelta(minutes=65))

    ids = undelivered_due()
    assert text.pk in ids
    assert deliver(notification_id=text.pk) == "sent"
    assert deliver(notification_id=text.pk) == "skipped"
    assert sms_outbox.delivered_keys() == [text.key]


@pytest.mark.django_db(transaction=True)
def test_a_send_the_database_could_not_record_at_once_is_recorded_not_sent_again(
    incident, clock, riverbend, sms_outbox, monkeypatch
):
    from django.db import OperationalError
    from django.db.models.query import QuerySet

    clock.move_to(START + timedelta(minutes=61))
    monkeypatch.setattr(deliver_notification, "delay", lambda pk: None)  # rows wait
    timers.sweep()
    text = Notification.objects.filter(channel="sms", recipient=riverbend.comms).first()
    update = QuerySet.update
    blinks = []

    def update_while_the_database_restarts(self, **kwargs):
        # The database goes away once, just after the provider accepted the text.
        if kwargs.get("status") == "sent" and not blinks:
            blinks.append(kwargs)
            raise OperationalError("server closed the connection unexpectedly")
        return update(self, **kwargs)

    monkeypatch.setattr(QuerySet, "update", update_while_the_database_restarts)
    monkeypatch.setattr(time, "sleep", lambda seconds: None)

    assert deliver(notification_id=text.pk) == "sent"

    text.refresh_from_db()
    assert blinks and text.status == "sent"
    # Left "sending", the stale-claim sweep would have sent it a second time.
    assert deliver(notification_id=text.pk) == "skipped"
    assert sms_outbox.delivered_keys() == [text.key]


def test_a_failing_provider_backs_off_then_gives_up(incident, clock, riverbend, settings):
    settings.SMS_PROVIDER = "tests.comms.test_timers.BrokenProvider"
    clock.move_to(START + timedelta(minutes=61))
    timers.sweep()
    text = Notification.objects.filter(channel="sms", recipient=riverbend.comms).first()

    outcomes = []
    for _ in range(Notification.MAX_ATTEMPTS):
        outcomes.append(deliver(notification_id=text.pk))
        clock.shift(timedelta(minutes=11))

    text.refresh_from_db()
    assert outcomes[:-1] == ["retry"] * (Notification.MAX_ATTEMPTS - 1)
    assert outcomes[-1] == "failed"
    assert text.status == "failed" and "provider down" in text.last_error


class BrokenProvider:
    def send(self, *, to, body, idempotency_key):
        raise ConnectionError("provider down")


def test_the_heartbeat_is_the_loops_to_stamp_not_a_sweeps(db, clock):
    # A sweep run by hand (a management command, a test) says nothing about whether the
    # engine is running: only the loop that beat runs stamps it.
    timers.sweep()

    assert not EngineHeartbeat.objects.filter(name="timers").exists()


def test_beat_starts_the_timer_loop_in_its_own_process(monkeypatch):
    from celery.signals import beat_init

    from incident_console.celery import app

    started = []
    monkeypatch.setattr(timers, "start", lambda: started.append("loop"))

    beat_init.send(sender=None)

    assert started == ["loop"]
    # No sweep rides on the broker any more.
    assert all("sweep" not in entry["task"] for entry in app.conf.beat_schedule.values())
