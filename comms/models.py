"""Everything that leaves the response team, and the engine that keeps its clocks."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from incidents.models import District, Incident, User
from incidents.phases import Phase


class Audience(models.TextChoices):
    STAFF = "staff", "Staff"
    FAMILIES = "families", "Families"
    BOARD = "board", "Board"
    MEDIA = "media", "Media and public"


class CadencePhase(models.TextChoices):
    CONTROL = "control", "Phase 1: Control"
    TRUST = "trust", "Phase 2: Trust"
    RECOVERY = "recovery", "Recovery"

    @classmethod
    def of(cls, phase: Phase) -> CadencePhase:
        return {Phase.CONTROL: cls.CONTROL, Phase.TRUST: cls.TRUST}.get(phase, cls.RECOVERY)


MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 7 * 24 * 60
# How long before an update is due the communications lead is reminded, on the incident clock.
DUE_SOON_MINUTES = 15

# Minutes between updates, per audience and phase, for a district that has set none.
DEFAULT_INTERVALS: dict[str, dict[str, int]] = {
    Audience.STAFF: {"control": 60, "trust": 240, "recovery": 1440},
    Audience.FAMILIES: {"control": 120, "trust": 480, "recovery": 1440},
    Audience.BOARD: {"control": 240, "trust": 720, "recovery": 2880},
    Audience.MEDIA: {"control": 240, "trust": 720, "recovery": 2880},
}


class CadenceDefault(models.Model):
    """A district's interval between updates for one audience in one phase."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="cadences")
    audience = models.CharField(max_length=20, choices=Audience.choices)
    phase = models.CharField(max_length=20, choices=CadencePhase.choices)
    interval_minutes = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["district", "audience", "phase"], name="cadence_default_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    interval_minutes__gte=MIN_INTERVAL_MINUTES,
                    interval_minutes__lte=MAX_INTERVAL_MINUTES,
                ),
                name="cadence_default_interval_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} {self.phase}: {self.interval_minutes} min"


class ClockState(models.TextChoices):
    ON_TRACK = "on_track", "On track"
    DUE_SOON = "due_soon", "Due soon"
    OVERDUE = "overdue", "Overdue: silence"
    STOPPED = "stopped", "Stopped"


class AudienceClock(models.Model):
    """The update promise to one audience of one incident.

    ``next_update_due_at`` is the time promised in the last published update (or, before the
    first one, declaration plus the first interval). ``generation`` goes up with every change
    to the promise; a deadline made for an older generation no longer applies.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="clocks")
    audience = models.CharField(max_length=20, choices=Audience.choices)
    interval_override_minutes = models.PositiveIntegerField(null=True, blank=True)
    override_reason = models.CharField(max_length=500, blank=True)
    next_update_due_at = models.DateTimeField()
    last_published_at = models.DateTimeField(null=True, blank=True)
    generation = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "audience"], name="clock_one_per_audience"),
        ]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} clock of {self.incident_id}"

    def due_soon_at(self, incident: Incident) -> datetime:
        return self.next_update_due_at - incident.wall_span(timedelta(minutes=DUE_SOON_MINUTES))

    def state(self, now: datetime, incident: Incident) -> str:
        if incident.status == Incident.Status.CLOSED:
            return ClockState.STOPPED
        if now >= self.next_update_due_at:
            return ClockState.OVERDUE
        if now >= self.due_soon_at(incident):
            return ClockState.DUE_SOON
        return ClockState.ON_TRACK

    def silent_for(self, now: datetime) -> timedelta:
        return max(now - self.next_update_due_at, timedelta(0))


class PublishedUpdate(models.Model):
    """An update that went out to an audience, and the next-update time it promised."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="updates")
    audience = models.CharField(max_length=20, choices=Audience.choices)
    summary = models.TextField(max_length=2000)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    promised_next_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} update at {self.published_at:%Y-%m-%d %H:%M}"


class Deadline(models.Model):
    """A timed thing, as a row: the database, not a queue, holds when it is due."""

    class Kind(models.TextChoices):
        DUTY_DUE = "duty_due", "Duty due"
        CADENCE_DUE_SOON = "cadence_due_soon", "Update due soon"
        CADENCE_OVERDUE = "cadence_overdue", "Update overdue"
        PHASE_TRUST = "phase_trust", "Phase 2 begins"
        RECOVERY_DUE = "recovery_due", "72 hours reached"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        FIRED = "fired", "Fired"
        CANCELLED = "cancelled", "Cancelled"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # What the deadline is about: an audience, a duty's id, or "" for the incident itself.
    subject = models.CharField(max_length=40, blank=True)
    generation = models.PositiveIntegerField(default=1)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind", "subject", "generation"], name="deadline_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="deadline_pending_due",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} g{self.generation} at {self.due_at:%H:%M:%S}"

    def is_due(self, now: datetime) -> bool:
        return self.status == self.Status.PENDING and self.due_at <= now


class Notification(models.Model):
    """The outbox: one message to one person on one channel, delivered at most once.

    ``key`` is unique, so firing a deadline twice cannot queue a message twice, and it is the
    idempotency key handed to providers.
    """

    class Channel(models.TextChoices):
        IN_APP = "in_app", "In the console"
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENDING = "sending", "Sending"
        RETRY = "retry", "Will retry"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Not sent: exercise"

    MAX_ATTEMPTS = 6

    key = models.CharField(max_length=120, unique=True)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notifications")
    deadline = models.ForeignKey(
        Deadline, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=2000)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_undelivered",
                condition=models.Q(status__in=["pending", "sending", "retry"]),
            ),
            models.Index(fields=["recipient", "channel", "read_at"], name="notification_inbox"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient_id}: {self.subject}"


class EngineHeartbeat(models.Model):
    """The last time the timer engine's sweep ran to the end.

    One row per engine name. Its age says whether beat, a worker and the database are alive.
    """

    name = models.CharField(max_length=40, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
