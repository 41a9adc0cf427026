"""Districts, people and their roles, incidents, role assignments and the timeline."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import get_timezone, get_timezone_name
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from incidents import phases
from incidents.clock import Clock


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(
            f"“{value}” is not an IANA time zone name; use a name such as America/Chicago."
        )


@functools.cache
def zone_label(name: str, locale: str = "en_US") -> str:
    """An IANA zone by the name people use for it ("Eastern Time"), from the Unicode CLDR
    through Babel. A zone without a generic name (one with no daylight saving, such as
    Pacific/Honolulu) takes its standard name; one without either keeps the IANA name."""
    if name in ("UTC", "Etc/UTC"):
        return "UTC"
    zone = get_timezone(name)
    for variant in ("generic", "standard"):
        label = get_timezone_name(zone, width="long", zone_variant=variant, locale=locale)
        # CLDR falls back to a place name such as "United States (Honolulu) Time".
        if "(" not in label:
            return label
    return name


class District(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def zone_label(self) -> str:
        """The zone as people say it: "Central Time", not "America/Chicago"."""
        return zone_label(self.time_zone)


class School(models.Model):
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="schools")
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="school_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class System(models.Model):
    """One entry of the district's catalog of systems an incident can affect."""

    class Category(models.TextChoices):
        SIS = "sis", "Student information"
        LMS = "lms", "Learning platform"
        IDENTITY = "identity", "Identity and sign-in"
        NETWORK = "network", "Network"
        PHONES = "phones", "Phones"
        TRANSPORT = "transport", "Transportation"
        PAYROLL = "payroll", "Payroll and finance"
        SAFETY = "safety", "Safety systems"
        MESSAGING = "messaging", "Family messaging"
        OTHER = "other", "Other"

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="systems")
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="system_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    """The roles a person can hold in a district. A person may hold several."""

    CIO = "cio", "CIO"
    COMMUNICATIONS = "communications", "Communications lead"
    ACADEMICS = "academics", "Academic lead"
    LEGAL = "legal", "Legal counsel"
    TECHNICAL = "technical", "Technical lead"
    BOARD_LIAISON = "board_liaison", "Board liaison"
    PRINCIPAL = "principal", "Principal"
    TRANSLATOR = "translator", "Translator"
    FACILITATOR = "facilitator", "Exercise facilitator"


# The functions the owner assigns for one incident; each is filled by someone who holds the
# district role of the same name.
INCIDENT_FUNCTIONS: tuple[Role, ...] = (
    Role.COMMUNICATIONS,
    Role.ACADEMICS,
    Role.LEGAL,
    Role.BOARD_LIAISON,
    Role.TECHNICAL,
)

RESPONSE_TEAM_ROLES = frozenset(
    {Role.CIO, Role.COMMUNICATIONS, Role.ACADEMICS, Role.LEGAL, Role.TECHNICAL}
)


class User(AbstractUser):
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="people"
    )
    schools = models.ManyToManyField(
        School, blank=True, related_name="principals", help_text="Schools a principal leads."
    )
    phone = models.CharField(
        max_length=20, blank=True, help_text="Mobile number for text reminders, e.g. +15555550123."
    )
    # Raised by "Sign out everywhere": every session signed in before it no longer verifies.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def _get_session_auth_hash(self, secret=None):
        """Django's session hash, over the password and, once raised, the session epoch: a
        session verifies only while both are what they were when it signed in."""
        value = self.password if not self.session_epoch else f"{self.password}:{self.session_epoch}"
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            value,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def roles(self) -> frozenset[str]:
        """The district roles this person holds, read once per request."""
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            cached = frozenset(self.role_grants.values_list("role", flat=True))
            self._roles_cache = cached
        return cached

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class RoleGrant(models.Model):
    """A district role held by a person, in the person's district."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="rolegrant_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}"


class Incident(models.Model):
    class Kind(models.TextChoices):
        SIS = "sis", "Student information system (SIS)"
        LMS = "lms", "Learning platform (LMS)"
        IDENTITY = "identity", "Identity and single sign-on"
        NETWORK = "network", "Network"
        PHONES = "phones", "Phones"
        CYBER = "cyber", "Ransomware or cyber attack"
        OTHER = "other", "Other"

    class Severity(models.IntegerChoices):
        CRITICAL = 1, "1 – Critical: instruction or safety stopped across the district"
        HIGH = 2, "2 – High: several schools or a core service disrupted"
        MODERATE = 3, "3 – Moderate: one school or a workaround exists"
        LOW = 4, "4 – Low: inconvenience, little visible impact"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RECOVERY = "recovery", "Recovery"
        CLOSED = "closed", "Closed"

    class Impact(models.TextChoices):
        INSTRUCTION = "instruction", "Instruction"
        SAFETY = "safety", "Safety"
        OPERATIONS = "operations", "Operations"
        STUDENT_DATA = "student_data", "Student data"

    MIN_TIME_SCALE = 1
    MAX_TIME_SCALE = 3600

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="incidents")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    systems = models.ManyToManyField(System, blank=True, related_name="incidents")
    all_schools = models.BooleanField(default=False)
    schools = models.ManyToManyField(School, blank=True, related_name="incidents")
    impacts = models.JSONField(default=list, blank=True)
    is_exercise = models.BooleanField(default=False)
    time_scale = models.PositiveIntegerField(default=1)
    # An exercise's clock once its facilitator has paused, sped or jumped it (see
    # ``incidents.clock``); empty while it runs as declared.
    clock_segments = models.JSONField(default=list, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="owned_incidents")
    declared_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    systems_restored_at = models.DateTimeField(null=True, blank=True)
    recovery_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Bumped with every timeline row; live pages compare it to notice a missed change.
    sequence = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-declared_at"]
        indexes = [models.Index(fields=["district", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(time_scale__gte=1, time_scale__lte=3600),
                name="incident_time_scale_range",
            ),
            models.CheckConstraint(
                condition=models.Q(is_exercise=True) | models.Q(time_scale=1),
                name="incident_real_runs_in_real_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def own_clock(self) -> Clock:
        """The incident's own clock: the wall clock from declaration, or an exercise's."""
        if self.clock_segments:
            return Clock.from_json(self.clock_segments)
        return Clock.starting(self.declared_at, self.time_scale)

    def wall_time_at(self, offset: timedelta) -> datetime:
        """When, on the wall clock, the incident's own clock reaches ``offset``."""
        return self.own_clock.wall_time_at(offset)

    def elapsed_at(self, moment: datetime) -> timedelta:
        """The incident's own clock at wall-clock ``moment``."""
        return self.own_clock.elapsed_at(moment)

    def span_between(self, start: datetime, end: datetime) -> timedelta:
        """How long the incident's own clock ran from ``start`` to ``end``."""
        own = self.own_clock
        return own.elapsed_at(end) - own.elapsed_at(start)

    def stands_at(self, now: datetime) -> datetime:
        """The wall moment the incident's clock stands at (``Clock.stands_at``). A promise
        falls due when this passes it, so none does while an exercise waits, however long
        the room takes."""
        return self.own_clock.stands_at(now)

    def wall_span(self, span: timedelta) -> timedelta:
        """How long ``span`` on the incident's clock lasts on the wall clock at its speed."""
        return span / self.time_scale

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    def recovery_prompt(self, now: datetime) -> str:
        """Why the owner should consider Recovery now, or an empty string."""
        if self.status != self.Status.ACTIVE:
            return ""
        if self.systems_restored_at:
            return "The affected systems are marked restored."
        if self.clock(now).recovery_due:
            return "72 hours have passed since declaration."
        return ""

    def clock(self, now: datetime | None = None) -> phases.PhaseClock:
        return phases.phase_on(self.own_clock, now=now or timezone.now(), status=self.status)

    def impact_labels(self) -> list[str]:
        return [self.Impact(value).label for value in self.impacts if value in self.Impact]


class IncidentRole(models.Model):
    """Who leads one function (communications, academics, ...) for one incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="role_set")
    function = models.CharField(
        max_length=20, choices=[(r.value, r.label) for r in INCIDENT_FUNCTIONS]
    )
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="incident_roles")
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "function"], name="incidentrole_one_per_function"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_function_display()}: {self.user}"


class DutyTrigger(models.TextChoices):
    """What marks a duty done without anyone ticking it."""

    MANUAL = "manual", "Marked done by hand"
    ROLES_NAMED = "roles_named", "Communications and academic leads named"
    UPDATE_STAFF = "update_staff", "First update to staff published"
    UPDATE_FAMILIES = "update_families", "First update to families published"
    UPDATE_BOARD = "update_board", "First update to the board published"
    UPDATE_MEDIA = "update_media", "First update to media and the public published"


class DutyTemplate(models.Model):
    """One line of a district's phase checklist, copied into each incident at declaration."""

    MAX_DUE_MINUTES = 30 * 24 * 60

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="duties")
    title = models.CharField(max_length=200)
    due_minutes = models.PositiveIntegerField(
        help_text="Minutes after declaration, on the incident's clock."
    )
    trigger = models.CharField(
        max_length=20, choices=DutyTrigger.choices, default=DutyTrigger.MANUAL
    )

    class Meta:
        ordering = ["due_minutes", "pk"]

    def __str__(self) -> str:
        return self.title


def due_by(now: datetime, field: str) -> models.Q:
    """Rows whose ``field`` moment has passed by ``now`` on their incident's own clock
    (``Incident.stands_at``): for a paused exercise, by the moment it stopped."""
    return models.Q(**{"incident__paused_at__isnull": True, f"{field}__lte": now}) | models.Q(
        **{f"{field}__lte": models.F("incident__paused_at")}
    )


class IncidentDuty(models.Model):
    """A duty of one incident, with its own copy of the district's wording and timing."""

    class State(models.TextChoices):
        DONE = "done", "Done"
        DUE = "due", "Due"
        OVERDUE = "overdue", "Overdue"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="duties")
    title = models.CharField(max_length=200)
    due_minutes = models.PositiveIntegerField()
    trigger = models.CharField(max_length=20, choices=DutyTrigger.choices)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_minutes", "pk"]

    def __str__(self) -> str:
        return self.title

    def due_at(self, incident: Incident | None = None) -> datetime:
        incident = incident or self.incident
        return incident.wall_time_at(timedelta(minutes=self.due_minutes))

    def state(self, now: datetime, incident: Incident | None = None) -> str:
        if self.done_at:
            return self.State.DONE
        incident = incident or self.incident
        return (
            self.State.OVERDUE
            if incident.stands_at(now) >= self.due_at(incident)
            else self.State.DUE
        )


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove a timeline row."""


class TimelineQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Timeline rows are never changed.")

    def delete(self):
        raise AppendOnlyError("Timeline rows are never deleted.")


class TimelineEntry(models.Model):
    """One state change of an incident: the audit trail and the source of live updates."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    sequence = models.PositiveBigIntegerField()
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=60)
    summary = models.CharField(max_length=500)
    payload = models.JSONField(default=dict, blank=True)

    objects = TimelineQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "sequence"], name="timeline_unique_sequence"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Timeline rows are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Timeline rows are never deleted.")


class GuidanceVersion(models.Model):
    """One published version of the classroom guidance for an incident."""

    FIELDS = ("today", "can_wait", "simplify", "ask", "questions")
    LABELS = {
        "today": "What classrooms do today",
        "can_wait": "What can wait",
        "simplify": "What teachers may simplify",
        "ask": "Who to ask",
        "questions": "Questions and answers",
    }

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="guidance")
    number = models.PositiveIntegerField()
    today = models.TextField(max_length=4000)
    can_wait = models.TextField(max_length=4000, blank=True)
    simplify = models.TextField(max_length=4000, blank=True)
    ask = models.CharField(max_length=500, blank=True)
    questions = models.TextField(max_length=8000, blank=True)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["incident", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "number"], name="guidance_unique_number"),
        ]

    def __str__(self) -> str:
        return f"Guidance v{self.number} for incident {self.incident_id}"


class GuidanceAcknowledgement(models.Model):
    """A principal confirming their school follows a version of the guidance."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="guidance_acks")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "school", "version"], name="guidance_ack_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school} acknowledged v{self.version}"


class Question(models.Model):
    """A question sent up from a school, and the academic lead's answer."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="questions")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(max_length=2000)
    asked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(max_length=4000, blank=True)
    answered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    # The answer goes into the next guidance version as a question-and-answer entry.
    for_guidance = models.BooleanField(default=False)
    in_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["answered_at", "-asked_at"]

    def __str__(self) -> str:
        return self.text[:60]


class Decision(models.Model):
    """A decision of the response, who made it and why, and whether the board may see it."""

    class Visibility(models.TextChoices):
        TEAM = "team", "Response team only"
        GOVERNANCE = "governance", "Board may see it"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="decisions")
    text = models.CharField("Decision", max_length=1000)
    decided_by = models.CharField("Who decided", max_length=200)
    rationale = models.TextField("Why", max_length=4000)
    visibility = models.CharField(max_length=20, choices=Visibility.choices)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return self.text[:60]


class Review(models.Model):
    """The private review opened in Recovery: for the response team only, never public."""

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="review")
    what_happened = models.TextField(max_length=8000, blank=True)
    why = models.TextField(max_length=8000, blank=True)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Review of incident {self.incident_id}"


class FollowUp(models.Model):
    """An action the review decided on, with the person who owns it."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="actions")
    text = models.CharField(max_length=500)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["done_at", "due_on", "pk"]

    def __str__(self) -> str:
        return self.text
