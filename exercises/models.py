"""A tabletop exercise: one play of a scenario, as an exercise incident and its injects."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from incidents.models import District, Incident, User


class Exercise(models.Model):
    """One play of a scenario. Resetting starts a new play; the old one stays for its report."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="exercises")
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="exercise")
    # Where the scenario came from (a shipped file's name, or "district:<id>"), and the
    # scenario itself as it was when the play began, so a reset replays the same thing.
    source = models.CharField(max_length=100)
    scenario = models.JSONField()
    facilitator = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaces"
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.incident.title

    @property
    def is_running(self) -> bool:
        return self.ended_at is None


class Inject(models.Model):
    """Something that happens in the exercise at a time on its clock."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="injects")
    number = models.PositiveIntegerField()
    at = models.DurationField()
    to = models.JSONField()
    sender = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    changes = models.JSONField(default=dict, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["exercise", "number"], name="inject_number_once"),
        ]

    def __str__(self) -> str:
        return f"Inject {self.number}"

    @property
    def recipients(self) -> str:
        from exercises.scenarios import recipients_label

        return recipients_label(self.to)


class DistrictScenario(models.Model):
    """A scenario a district wrote for itself, kept as the file it uploaded."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="scenarios")
    title = models.CharField(max_length=200)
    text = models.TextField()
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["district", "title"], name="scenario_title_once"),
        ]

    def __str__(self) -> str:
        return self.title
