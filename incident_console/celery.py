"""The Celery application and its beat schedule.

The schedule lives here, in code, so that every deployment runs the same timers and a
review of this file shows all of them.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_console.settings")

app = Celery("incident_console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "sweep-deadlines": {
        "task": "comms.tasks.sweep_deadlines",
        "schedule": 1.0,
        # A sweep that waited longer than this is superseded by the next one.
        "options": {"expires": 5},
    },
    "live-heartbeat": {
        "task": "incidents.tasks.live_heartbeat",
        "schedule": 15.0,
        "options": {"expires": 15},
    },
    "requeue-notifications": {
        "task": "comms.tasks.requeue_notifications",
        "schedule": 15.0,
        "options": {"expires": 30},
    },
}
