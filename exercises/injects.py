"""An inject arriving: the timer engine fires it like any deadline, as a row, on the
exercise's clock. It goes to its recipients' inboxes and onto the timeline (and so live onto
their pages), and makes its changes to the incident in the same transaction."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.text import Truncator

from comms import timers
from comms.facts import fact_sheet_current
from comms.models import Deadline, FactSheetRevision
from comms.services import duty_schedule
from exercises.models import Inject
from exercises.scenarios import EVERYONE, span
from incidents.guidance import affected_schools, principals_of
from incidents.models import (
    DutyTrigger,
    Incident,
    IncidentDuty,
    IncidentRole,
    Question,
    Role,
    System,
    User,
)
from incidents.phases import format_duration
from incidents.timeline import timeline_append

# The timeline's summary column holds this much; a timer's "raised late" note may follow.
SUMMARY_LENGTH = 440


def register() -> None:
    timers.HANDLERS[Deadline.Kind.INJECT] = _inject_arrives


def recipients(inject: Inject, incident: Incident) -> list[User]:
    """The people an inject reaches: the holders of its roles in this incident."""
    wanted = set(inject.to)
    everyone = EVERYONE in wanted
    people: list[User] = []
    if everyone or Role.CIO in wanted:
        people.append(incident.owner)
    for role in IncidentRole.objects.filter(incident=incident).select_related("user"):
        if everyone or role.function in wanted:
            people.append(role.user)
    if everyone or Role.PRINCIPAL in wanted:
        people += principals_of(affected_schools(incident))
    if everyone or Role.FACILITATOR in wanted:
        people.append(inject.exercise.facilitator)
    return list({person.pk: person for person in people}.values())


def _inject_arrives(deadline: Deadline, incident: Incident) -> timers.Firing | None:
    inject = (
        # Only the inject's row: an exercise ending at the same moment holds the exercise's.
        Inject.objects.select_for_update(of=("self",))
        .select_related("exercise__facilitator")
        .filter(pk=int(deadline.subject))
        .first()
    )
    if inject is None or inject.fired_at is not None:
        return None
    inject.fired_at = timezone.now()
    inject.save(update_fields=["fired_at"])
    made = _change(inject, incident)
    sender = f" from {inject.sender}" if inject.sender else ""
    return timers.Firing(
        kind="exercise.inject",
        # The timeline keeps a line of it; the inbox keeps it whole.
        summary=Truncator(f"Inject {inject.number}{sender}: {inject.text}").chars(SUMMARY_LENGTH),
        recipients=recipients(inject, incident),
        subject=f"Exercise inject {inject.number}{sender}",
        body=inject.text + ("\n\n" + "\n".join(made) if made else ""),
        payload={
            "inject": inject.pk,
            "number": inject.number,
            "to": list(inject.to),
            "changes": made,
        },
    )


def _change(inject: Inject, incident: Incident) -> list[str]:
    """Make the inject's changes to the incident; answers what changed, in words."""
    changes, made = inject.changes or {}, []
    owner = incident.owner
    if "known" in changes:
        current = fact_sheet_current(incident)
        fields = {n: getattr(current, n) if current else "" for n in FactSheetRevision.FIELDS}
        fields["known"] = "\n".join(filter(None, [fields["known"], changes["known"]]))
        revision = FactSheetRevision.objects.create(
            incident=incident, number=(current.number if current else 0) + 1, author=owner, **fields
        )
        timeline_append(
            incident=incident,
            kind="factsheet.revised",
            summary=f"Fact sheet revised by inject {inject.number} (revision {revision.number})",
            payload={"revision": revision.number, "inject": inject.pk},
        )
        made.append(f"A new fact is on the fact sheet: {changes['known']}")
    if "system" in changes:
        systems = list(
            System.objects.filter(district=incident.district, category=changes["system"])
        )
        incident.systems.add(*systems)
        names = ", ".join(s.name for s in systems) or System.Category(changes["system"]).label
        made.append(f"Marked affected: {names}.")
    if "question" in changes:
        made.append(_question(inject, incident, changes["question"]))
    for key, what in (("briefing_request", "briefing"), ("media_inquiry", "answer")):
        if key in changes:
            made.append(_request(inject, incident, changes[key], what))
    return made


def _question(inject: Inject, incident: Incident, question: dict) -> str:
    schools = affected_schools(incident)
    named = question.get("school")
    school = next((s for s in schools if s.name == named), schools[0] if schools else None)
    if school is None:
        return "No school is affected, so the school's question was not asked."
    principal = next(iter(principals_of([school])), inject.exercise.facilitator)
    row = Question.objects.create(
        incident=incident, school=school, text=question["text"], asked_by=principal
    )
    timeline_append(
        incident=incident,
        kind="question.asked",
        summary=f"Question from {school} (inject {inject.number})",
        payload={"question": row.pk, "school": school.pk, "inject": inject.pk},
    )
    return f"{school} asks the academic lead: {question['text']}"


def _request(inject: Inject, incident: Incident, request: dict, what: str) -> str:
    within = span(request["respond_within"])
    due = inject.at + within
    title = f"Send {request['from']} the {what} they asked for"
    duty = IncidentDuty.objects.create(
        incident=incident,
        title=title[:200],
        due_minutes=int(due / timedelta(minutes=1)),
        trigger=DutyTrigger.MANUAL,
    )
    duty_schedule(incident=incident, duty=duty)
    timeline_append(
        incident=incident,
        kind="duty.added",
        summary=f"Duty added by inject {inject.number}: {duty.title}",
        payload={"duty": duty.pk, "title": duty.title, "due_minutes": duty.due_minutes},
    )
    return f"A duty is due within {format_duration(within)}: {title}."
