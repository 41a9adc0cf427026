"""Celery tasks for communications and the timer engine."""

from celery import shared_task

from comms import services


@shared_task(ignore_result=True)
def engine_heartbeat() -> None:
    """Stamp the engine heartbeat. Safe to run twice: the row only moves forward in time."""
    services.engine_heartbeat_record()
