"""Serve the console with a Celery worker and beat inside the same process.

This is the embedded way to run: one command, SQLite, the in-process channel layer and
Celery over the in-memory transport, for a pilot or a tabletop exercise on a laptop. With
DATABASE_URL and REDIS_URL set, run web, worker and beat as separate processes instead.
"""

from __future__ import annotations

import socket
import threading

from celery.beat import EmbeddedService
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incident_console.celery import app as celery_app


class Command(BaseCommand):
    help = "Serve the console on one machine with an embedded Celery worker and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        if not settings.EMBEDDED:
            raise CommandError(
                "DATABASE_URL and REDIS_URL are set, so web, worker and beat run as separate "
                "processes: use `make run` (honcho and the Procfile) or docker compose."
            )
        worker = celery_app.WorkController(
            hostname=f"embedded@{socket.gethostname()}",
            pool_cls="solo",
            concurrency=1,
            # On one machine one worker takes the team's tasks and the families' deliveries.
            queues=["celery", settings.FAMILIES_QUEUE],
            loglevel="WARNING",
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
        )
        threading.Thread(target=worker.start, name="celery-worker", daemon=True).start()
        # An in-memory schedule: beat's timing state need not survive a restart, because
        # the timers themselves are rows in the database.
        beat = EmbeddedService(celery_app, thread=True, scheduler_cls="celery.beat.Scheduler")
        beat.start()

        import uvicorn

        from incident_console import server
        from incident_console.asgi import application

        self.stdout.write(f"Incident console on http://{host}:{port}/ (worker and beat embedded)")
        try:
            uvicorn.Server(uvicorn.Config(application, host=host, port=port, **server.CONFIG)).run()
        finally:
            beat.stop()
            worker.stop(in_sighandler=False)
