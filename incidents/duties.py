"""Phase duties: the checklist each incident copies from its district at declaration."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from incidents import events
from incidents.errors import Invalid, Refused
from incidents.models import (
    District,
    DutyTemplate,
    DutyTrigger,
    Incident,
    IncidentDuty,
    Role,
    User,
)
from incidents.text import checked_text
from incidents.timeline import timeline_append

NO_TITLE = "Give each duty a title."

# The checklist a district starts with: (title, minutes after declaration, trigger).
DEFAULT_DUTIES: list[tuple[str, int, str]] = [
    ("Name the communications and academic leads", 30, DutyTrigger.ROLES_NAMED),
    ("First update to staff", 60, DutyTrigger.UPDATE_STAFF),
    ("First update to families", 120, DutyTrigger.UPDATE_FAMILIES),
    ("Publish instructional guidance for schools", 180, DutyTrigger.MANUAL),
    ("Brief the board", 240, DutyTrigger.UPDATE_BOARD),
    ("Confirm what is known and not yet known with every lead", 720, DutyTrigger.MANUAL),
    ("Review cadence for Phase 2: Trust", 1440, DutyTrigger.MANUAL),
]


def default_duties(district: District) -> list[DutyTemplate]:
    """The checklist a district starts with, unsaved."""
    return [
        DutyTemplate(district=district, title=t, due_minutes=m, trigger=trig)
        for t, m, trig in DEFAULT_DUTIES
    ]


def district_duties(district: District) -> list[DutyTemplate]:
    """The district's checklist, saved when the district was set up (``district_set_up``).
    Reading never writes: a district without one reads the default checklist."""
    return list(district.duties.all()) or default_duties(district)


@transaction.atomic
def district_set_up(*, district: District) -> None:
    """Give a new district its defaults: the phase checklist here and, through the
    ``district_created`` event, the communications policy. Safe to run twice."""
    if not district.duties.exists():
        DutyTemplate.objects.bulk_create(default_duties(district))
    events.district_created.send(sender=District, district=district)


def duties_copy(*, incident: Incident) -> list[IncidentDuty]:
    """Give a new incident its own copy of the district's checklist."""
    return IncidentDuty.objects.bulk_create(
        IncidentDuty(incident=incident, title=d.title, due_minutes=d.due_minutes, trigger=d.trigger)
        for d in district_duties(incident.district)
    )


def _complete(duty: IncidentDuty, by: User | None, how: str) -> None:
    duty.done_at, duty.done_by = timezone.now(), by
    duty.save(update_fields=["done_at", "done_by"])
    timeline_append(
        incident=duty.incident,
        kind="duty.done",
        actor=by,
        summary=f"Duty done: {duty.title}{how}",
        payload={"duty": duty.pk},
    )


@transaction.atomic
def duty_mark_done(*, duty: IncidentDuty, by: User) -> IncidentDuty:
    """Tick a duty off by hand. Only the owner ticks duties."""
    incident = duty.incident
    if by.pk != incident.owner_id:
        raise Refused("Only the incident owner marks duties done.")
    if incident.status == Incident.Status.CLOSED:
        raise Invalid("This incident is closed; its checklist can no longer change.")
    duty = IncidentDuty.objects.select_for_update().get(pk=duty.pk)
    if duty.done_at is None:
        _complete(duty, by, "")
    return duty


def duties_complete_by_trigger(*, incident: Incident, trigger: str, by: User | None) -> None:
    """Tick off the open duties that ``trigger`` fulfils. Runs in the caller's transaction."""
    for duty in IncidentDuty.objects.select_for_update().filter(
        incident=incident, trigger=trigger, done_at__isnull=True
    ):
        _complete(duty, by, " (recorded automatically)")


@transaction.atomic
def district_duties_replace(
    *, district: District, by: User, rows: list[tuple[str, int, str]]
) -> list[DutyTemplate]:
    """Replace the district's checklist. Incidents already declared keep their own copy."""
    if by.district_id != district.pk or not by.has_role(Role.CIO):
        raise Refused("Only the district's CIO edits the phase checklist.")
    if not rows:
        raise Invalid("Keep at least one duty: an empty checklist leaves incidents unguided.")
    for title, minutes, trigger in rows:
        checked_text(
            title, model=DutyTemplate, field="title", label="A duty's title", missing=NO_TITLE
        )
        if not 1 <= minutes <= DutyTemplate.MAX_DUE_MINUTES:
            raise Invalid("Each duty is due between 1 minute and 30 days after declaration.")
        if trigger not in DutyTrigger.values:
            raise Invalid("Choose how each duty is marked done.")
    district.duties.all().delete()
    return DutyTemplate.objects.bulk_create(
        DutyTemplate(district=district, title=t.strip(), due_minutes=m, trigger=trig)
        for t, m, trig in rows
    )
