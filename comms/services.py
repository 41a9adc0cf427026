"""Writes for communications and the timer engine."""

from __future__ import annotations

from django.utils import timezone

from comms.models import EngineHeartbeat

ENGINE = "timers"


def engine_heartbeat_record(*, name: str = ENGINE) -> EngineHeartbeat:
    """Record that beat's schedule reached a worker just now."""
    heartbeat, _ = EngineHeartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now()}
    )
    return heartbeat
