"""The Celery application and its beat schedule.

The schedule lives here, in code, so that every deployment runs the same timers and a
review of this file shows all of them.
"""

import functools
import os

from celery import Celery
from celery.worker.consumer import Consumer

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_console.settings")


class PromptReconnectConsumer(Consumer):
    """The worker's broker consumer, reconnecting within a second of the broker's return.

    Celery's default waits 2 s, then 4 s, then longer between attempts, so a Redis restart
    of one second left the timer sweeps unconsumed for up to six. The first retry is
    immediate, the next ones every half second, then every second.
    """

    def ensure_connected(self, conn):
        conn.ensure_connection = functools.partial(
            conn.ensure_connection, interval_start=0, interval_step=0.5, interval_max=1
        )
        return super().ensure_connected(conn)


app = Celery("incident_console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.worker_consumer = f"{__name__}:PromptReconnectConsumer"
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "sweep-deadlines": {
        "task": "comms.tasks.sweep_deadlines",
        "schedule": 1.0,
        # A sweep that waited longer than this is superseded by the next one.
        "options": {"expires": 5},
    },
    "live-heartbeat": {
        "task": "console.tasks.live_heartbeat",
        "schedule": 15.0,
        "options": {"expires": 15},
    },
    "requeue-notifications": {
        "task": "comms.tasks.requeue_notifications",
        "schedule": 15.0,
        "options": {"expires": 30},
    },
}
