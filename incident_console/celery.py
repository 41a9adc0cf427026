"""The Celery application, its beat schedule and the timer loop beat runs.

The schedule lives here, in code, so that every deployment runs the same periodic tasks and
a review of this file shows all of them. The deadlines themselves are not on it: beat's
process fires them from PostgreSQL (``start_timer_loop``).
"""

import functools
import os

from celery import Celery
from celery.signals import beat_init
from celery.worker.consumer import Consumer
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_console.settings")


class PromptReconnectConsumer(Consumer):
    """The worker's broker consumer, reconnecting within a second of the broker's return.

    Celery's default waits 2 s, then 4 s, then longer between attempts, so deliveries and
    live pushes waited up to six seconds after a Redis restart of one. The first retry is
    immediate, the next ones every half second, then every ``BROKER_RECONNECT_SECONDS``;
    with no limit on the attempts, the worker outlasts an outage of any length.
    """

    def ensure_connected(self, conn):
        conn.ensure_connection = functools.partial(
            conn.ensure_connection,
            interval_start=0,
            interval_step=min(0.5, settings.BROKER_RECONNECT_SECONDS),
            interval_max=settings.BROKER_RECONNECT_SECONDS,
        )
        return super().ensure_connected(conn)


app = Celery("incident_console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.worker_consumer = f"{__name__}:PromptReconnectConsumer"
app.autodiscover_tasks()


@beat_init.connect(dispatch_uid="incident_console.start_timer_loop")
def start_timer_loop(sender, **kwargs) -> None:
    """The deadlines fire in beat's own process, from PostgreSQL alone (``comms.timers``):
    a Redis outage delays what they hand off, never the firing."""
    import django

    django.setup()
    from comms import timers

    timers.start()


HEARTBEAT_SECONDS = 5.0
# How long a page waits without a heartbeat before it takes its socket for dead: four missed.
# static/js/console.js holds the same number; a test keeps the two in step.
HEARTBEAT_WATCHDOG_SECONDS = 20

app.conf.beat_schedule = {
    # Every 5 s: a page that hears none for 20 s (its groups lost, say to a Redis flush)
    # reconnects and catches up over HTTP.
    "live-heartbeat": {
        "task": "console.tasks.live_heartbeat",
        "schedule": HEARTBEAT_SECONDS,
        "options": {"expires": HEARTBEAT_SECONDS},
    },
    "requeue-notifications": {
        "task": "comms.tasks.requeue_notifications",
        "schedule": settings.REQUEUE_EVERY_SECONDS,
        "options": {"expires": 2 * settings.REQUEUE_EVERY_SECONDS},
    },
    "purge-unconfirmed-subscribers": {
        "task": "comms.tasks.purge_unconfirmed_subscribers",
        "schedule": 3600.0,
        "options": {"expires": 600},
    },
}
