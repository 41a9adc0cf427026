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
    "engine-heartbeat": {
        "task": "comms.tasks.engine_heartbeat",
        "schedule": 2.0,
        # A heartbeat older than its interval says nothing more than a fresh one.
        "options": {"expires": 10},
    },
}
