"""Everything that leaves the response team, and the engine that keeps its clocks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from incidents.models import District, Incident, School, User
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


def cadence_interval(
    audience: str,
    phase: str,
    *,
    override: int | None = None,
    district: Mapping[tuple[str, str], int] | None = None,
) -> int:
    """Minutes between updates to ``audience`` in ``phase``: the incident's own interval when
    one was set, else the district's default (keyed by (audience, phase)), else the console's.
    The one place this rule is written."""
    return override or (district or {}).get((audience, phase)) or DEFAULT_INTERVALS[audience][phase]


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
        now = incident.stands_at(now)
        if now >= self.next_update_due_at:
            return ClockState.OVERDUE
        if now >= self.due_soon_at(incident):
            return ClockState.DUE_SOON
        return ClockState.ON_TRACK

    def silent_for(self, now: datetime, incident: Incident) -> timedelta:
        """How long the audience has waited past its promised update, on the incident's own
        clock: an exercise at 60x real time has been silent 60 minutes per wall minute."""
        return max(incident.span_between(self.next_update_due_at, now), timedelta(0))


# The audiences whose web-channel updates the public status page shows; nothing else reaches it.
PUBLIC_AUDIENCES = ("families", "media")


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"
    WEB = "web", "Web and status page"
    VOICE = "voice", "Voice script"


class PublishedUpdate(models.Model):
    """An update that went out to an audience, and the next-update time it promised.

    Updates published from an approved draft carry the draft, the channel and the full text;
    ``withdrawn_at`` marks one taken back, which the status page then says in place of it.
    A correction is an update of its own that ``corrects`` an earlier one and says what was
    wrong (``correction_note``); the status page shows its text in place of the corrected one.
    """

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="updates")
    audience = models.CharField(max_length=20, choices=Audience.choices)
    summary = models.TextField(max_length=10000)
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    draft = models.ForeignKey(
        "Draft", on_delete=models.PROTECT, null=True, blank=True, related_name="publications"
    )
    revision = models.PositiveIntegerField(null=True, blank=True)
    staff_first_override = models.CharField(max_length=500, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    correction_note = models.CharField(max_length=500, blank=True)
    # District languages published without a translation, and why.
    missing_languages = models.JSONField(default=list, blank=True)
    missing_reason = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    promised_next_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at"]
        indexes = [models.Index(fields=["channel", "-published_at"], name="update_public_feed")]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} update at {self.published_at:%Y-%m-%d %H:%M}"


class PublicHeading(models.Model):
    """The incident's public title and one-line summary: drafted, reviewed and approved like
    any message (a heading draft), and what the public page and outward messages name the
    incident by. Until one is published they use the district's neutral title."""

    TITLE_MAX = 80
    SUMMARY_MAX = 200

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="public_heading"
    )
    title = models.CharField(max_length=TITLE_MAX)
    summary = models.CharField(max_length=SUMMARY_MAX)
    draft = models.ForeignKey("Draft", on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveIntegerField()
    published_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.title


class FactSheetRevision(models.Model):
    """One version of the incident's single record of facts. Every message starts here."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="fact_sheets")
    number = models.PositiveIntegerField()
    known = models.TextField("What we know", max_length=4000, blank=True)
    unknown = models.TextField("What we do not know yet", max_length=4000, blank=True)
    doing = models.TextField("What we are doing", max_length=4000, blank=True)
    should_do = models.TextField("What people should do", max_length=4000, blank=True)
    next_update = models.CharField("When the next update comes", max_length=300, blank=True)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    FIELDS = ("known", "unknown", "doing", "should_do", "next_update")

    class Meta:
        ordering = ["incident", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "number"], name="factsheet_unique_number"),
        ]

    def __str__(self) -> str:
        return f"Fact sheet {self.number} of incident {self.incident_id}"


class MessageTemplate(models.Model):
    """The district's starting text for one kind of incident and one audience.

    Placeholders in braces are filled from the fact sheet: {known}, {unknown}, {doing},
    {should_do}, {next_update}, {title}, {district}. Editing the text clears the legal
    pre-review, because legal reviewed the old words.
    """

    ANY_KIND = "any"

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="templates")
    kind = models.CharField(max_length=20, default=ANY_KIND)
    audience = models.CharField(max_length=20, choices=Audience.choices)
    body = models.TextField(max_length=5000)
    pre_reviewed_by_legal = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["audience", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "kind", "audience"], name="template_one_per_kind_audience"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} template ({self.kind})"


class ApprovedParagraph(models.Model):
    """A paragraph legal counsel approved ahead of time. A draft whose every paragraph is an
    approved one needs no legal review of its own (``comms.paragraphs``). ``{next_update}``
    may stand in it for the time of the next update; every other word is as counsel read it.
    Retired paragraphs are kept, with who retired them, and cover nothing from then on."""

    SLOT = "{next_update}"

    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="approved_paragraphs"
    )
    text = models.TextField(max_length=1500)
    approved_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(default=timezone.now)
    retired_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["approved_at"]

    def __str__(self) -> str:
        return f"Approved paragraph {self.pk} of {self.district}"


def all_audiences() -> list[str]:
    return list(Audience.values)


def all_channels() -> list[str]:
    return list(Channel.values)


class CommsPolicy(models.Model):
    """A district's standing rules for what leaves the building."""

    district = models.OneToOneField(District, on_delete=models.CASCADE, related_name="policy")
    # Audiences whose every draft goes through legal review.
    legal_audiences = models.JSONField(default=list, blank=True)
    # Incidents with student-data impact send drafts through legal review: those to these
    # audiences on these channels (by default every audience on every channel).
    student_data_needs_legal = models.BooleanField(default=True)
    student_data_audiences = models.JSONField(default=all_audiences, blank=True)
    student_data_channels = models.JSONField(default=all_channels, blank=True)
    # Statutory notice clocks, in days from declaration, for student-data incidents.
    notice_days = models.JSONField(default=list, blank=True)
    # What the public page and every outward email or text call an incident until its public
    # title is approved: never the internal title the CIO typed when declaring it.
    neutral_title = models.CharField(max_length=80, default="Service disruption")
    # Where an approved update is delivered, per audience: distribution list addresses and
    # phone numbers (a staff or board text list). Families are reached through the district's
    # mass-notification system, from the copy-ready export.
    email_lists = models.JSONField(default=dict, blank=True)
    sms_lists = models.JSONField(default=dict, blank=True)
    # Where each public update is also posted as signed JSON (the district's website or its
    # mass-notification system), and the secret its signature is made with.
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=64, blank=True)
    # The languages besides English the district writes to families in: BCP 47 codes.
    languages = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"Communications policy of {self.district}"


class Drafter(models.Model):
    """Someone the communications lead named to write drafts for one incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="drafters")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    named_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    named_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="drafter_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} drafts for incident {self.incident_id}"


class Draft(models.Model):
    """A message to one audience on one channel, on its way to approval and publication.

    Approval and legal clearance are bound to one revision number: a later edit makes a new
    revision, which needs both again. A correction draft ``corrects`` a published update, to the
    same audience on the same channel, and says what was wrong in ``correction_note``.
    """

    class Purpose(models.TextChoices):
        MESSAGE = "message", "Message"
        HEADING = "heading", "Public title and summary"

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        LEGAL_REVIEW = "legal_review", "Legal review"
        APPROVED = "approved", "Approved"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="drafts")
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.MESSAGE)
    audience = models.CharField(max_length=20, choices=Audience.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    revision = models.PositiveIntegerField(default=1)
    flagged_for_legal = models.BooleanField(default=False)
    from_pre_reviewed_template = models.BooleanField(default=False)
    legal_cleared_revision = models.PositiveIntegerField(null=True, blank=True)
    # When the draft last went to legal review; cleared when legal clears or returns it.
    legal_since = models.DateTimeField(null=True, blank=True)
    approved_revision = models.PositiveIntegerField(null=True, blank=True)
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    return_note = models.CharField(max_length=1000, blank=True)
    withdraw_reason = models.CharField(max_length=500, blank=True)
    corrects = models.ForeignKey(
        PublishedUpdate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction_drafts",
    )
    correction_note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["incident", "state"], name="draft_by_state")]

    def __str__(self) -> str:
        return f"{self.get_audience_display()} {self.get_channel_display()} draft {self.pk}"

    @property
    def is_heading(self) -> bool:
        return self.purpose == self.Purpose.HEADING

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_DRAFT_STATES


# Drafts still on their way out: every state before published or withdrawn.
OPEN_DRAFT_STATES = (
    Draft.State.DRAFT,
    Draft.State.IN_REVIEW,
    Draft.State.LEGAL_REVIEW,
    Draft.State.APPROVED,
)


class DraftRevision(models.Model):
    """One version of a draft's text. Never changed once written."""

    MAX_BODY = 10000

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    body = models.TextField(max_length=MAX_BODY)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    fact_sheet_number = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["draft", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["draft", "number"], name="draftrevision_unique"),
        ]

    def __str__(self) -> str:
        return f"Revision {self.number} of draft {self.draft_id}"


class Translation(models.Model):
    """One district language of a families or media draft: its own chain of revisions,
    written by the translator it was sent to or by the communications lead.

    An approval binds a pair: the draft's revision the translation was written from and the
    translation's revision. When the English changes, the pair no longer matches, the
    translation is out of date, and it cannot be published until revised and approved again.
    """

    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=20)
    translator = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    # The latest revision's number; 0 until someone writes one.
    revision = models.PositiveIntegerField(default=0)
    approved_revision = models.PositiveIntegerField(null=True, blank=True)
    approved_source_revision = models.PositiveIntegerField(null=True, blank=True)
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(
                fields=["draft", "language"], name="translation_once_per_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.language} translation of draft {self.draft_id}"


class TranslationRevision(models.Model):
    """One version of a translation, and the draft revision it translates."""

    translation = models.ForeignKey(Translation, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    body = models.TextField(max_length=DraftRevision.MAX_BODY)
    source_revision = models.PositiveIntegerField()
    # Written by a translation provider, not a person: needs a reader's check to approve.
    machine = models.BooleanField(default=False)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["translation", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["translation", "number"], name="translation_revision_once"
            ),
        ]

    def __str__(self) -> str:
        return f"revision {self.number} of {self.translation}"


class PublishedTranslation(models.Model):
    """The text one language's readers got with a published update."""

    update = models.ForeignKey(
        PublishedUpdate, on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(max_length=20)
    body = models.TextField(max_length=DraftRevision.MAX_BODY)
    revision = models.PositiveIntegerField()
    source_revision = models.PositiveIntegerField()

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(
                fields=["update", "language"], name="published_translation_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.language} text of update {self.update_id}"


class WarningAcknowledgement(models.Model):
    """A discipline warning on one revision that the drafter read and answered with a note."""

    revision = models.ForeignKey(DraftRevision, on_delete=models.CASCADE, related_name="acks")
    code = models.CharField(max_length=40)
    note = models.CharField(max_length=500)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["revision", "code"], name="ack_once_per_warning"),
        ]

    def __str__(self) -> str:
        return f"{self.code} acknowledged on revision {self.revision_id}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting to send"
    SENDING = "sending", "Sending"
    RETRY = "retry", "Will retry"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Not sent: exercise"


class OutboxRow(models.Model):
    """What every outbox row shares: a unique key (the providers' idempotency key), and the
    delivery state that ``comms.delivery`` claims and settles with conditional UPDATEs."""

    Status = OutboxStatus
    MAX_ATTEMPTS = 6

    key = models.CharField(max_length=120, unique=True)
    status = models.CharField(
        max_length=12, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # The provider's id for the message it accepted, and the last status it reported for it.
    provider_id = models.CharField(max_length=64, blank=True)
    provider_status = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Subscriber(models.Model):
    """A family's email address or phone number, subscribed on the public status page to the
    whole district (no schools) or to chosen schools.

    Only what delivery needs is kept: the address, the schools, and the confirmation's state
    and times. The pending confirmation's secret is stored as a hash. Unsubscribing deletes
    the row, and with it every message still waiting for it.
    """

    class Via(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="subscribers")
    channel = models.CharField(max_length=10, choices=Via.choices)
    # An email address in lower case, or a phone number in E.164 (+15551234567).
    address = models.CharField(max_length=254)
    schools = models.ManyToManyField(School, blank=True, related_name="+")
    # The language the family reads updates in: "en" or one of the district's languages.
    language = models.CharField(max_length=20, default="en")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirm_secret = models.CharField(max_length=64, blank=True)
    confirm_sent_at = models.DateTimeField(null=True, blank=True)
    confirm_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["district", "channel", "address"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "channel", "address"], name="subscriber_once_per_address"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.address}"

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


class Dispatch(OutboxRow):
    """The outbox for published updates: one text to one destination (a distribution list
    address, a phone number, the district's webhook, or a subscribed family), delivered at
    most once, keyed like notifications."""

    WEBHOOK = "webhook"

    update = models.ForeignKey(PublishedUpdate, on_delete=models.CASCADE, related_name="dispatches")
    channel = models.CharField(max_length=10, choices=[*Channel.choices, (WEBHOOK, "Webhook")])
    destination = models.CharField(max_length=254)
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.channel} to {self.destination}"


class NoticeClock(models.Model):
    """A statutory notice deadline for an incident with student-data impact."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notices")
    days = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    given_at = models.DateTimeField(null=True, blank=True)
    given_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "days"], name="notice_once_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.days}-day notice for incident {self.incident_id}"


class Deadline(models.Model):
    """A timed thing, as a row: the database, not a queue, holds when it is due."""

    class Kind(models.TextChoices):
        DUTY_DUE = "duty_due", "Duty due"
        CADENCE_DUE_SOON = "cadence_due_soon", "Update due soon"
        CADENCE_OVERDUE = "cadence_overdue", "Update overdue"
        PHASE_TRUST = "phase_trust", "Phase 2 begins"
        RECOVERY_DUE = "recovery_due", "72 hours reached"
        INJECT = "exercise_inject", "Exercise inject"

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


class Notification(OutboxRow):
    """The outbox: one message to one person on one channel, delivered at most once.

    ``key`` is unique, so firing a deadline twice cannot queue a message twice, and it is the
    idempotency key handed to providers.
    """

    class Channel(models.TextChoices):
        IN_APP = "in_app", "In the console"
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notifications")
    deadline = models.ForeignKey(
        Deadline, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications"
    )
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=2000)
    read_at = models.DateTimeField(null=True, blank=True)

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
