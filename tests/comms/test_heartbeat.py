import time_machine
from django.utils import timezone

from comms.models import EngineHeartbeat
from comms.tasks import engine_heartbeat


def test_heartbeat_task_stamps_the_engine_row(db):
    with time_machine.travel("2026-11-23 15:00:00Z", tick=False):
        engine_heartbeat.apply()
    with time_machine.travel("2026-11-23 15:00:02Z", tick=False):
        engine_heartbeat.apply()

    row = EngineHeartbeat.objects.get()
    assert row.name == "timers"
    assert row.beat_at == timezone.datetime.fromisoformat("2026-11-23T15:00:02+00:00")


def test_beat_schedule_runs_the_heartbeat_every_two_seconds():
    from incident_console.celery import app

    entry = app.conf.beat_schedule["engine-heartbeat"]

    assert entry["task"] == "comms.tasks.engine_heartbeat"
    assert entry["schedule"] == 2.0
    assert "comms.tasks.engine_heartbeat" in app.tasks
