"""Everything that leaves the response team, and the engine that keeps its clocks."""

from django.db import models


class EngineHeartbeat(models.Model):
    """The last time the timer engine's beat reached a worker.

    One row per engine name. Its age says whether beat and a worker are both alive.
    """

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
