"""Instructional guidance for schools, acknowledgements, questions, and decisions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from incidents import events, guidance_rules
from incidents.errors import Invalid
from incidents.models import (
    GuidanceAcknowledgement,
    GuidanceVersion,
    Incident,
    Question,
    Role,
    School,
    User,
)
from incidents.text import checked_text
from incidents.timeline import timeline_append

# Starting text per kind of incident, for the first version.
DEFAULT_GUIDANCE = {
    "today": "Teach the lessons you planned. Take attendance on paper and keep the sheets "
    "for the office.",
    "can_wait": "Entering grades, online assignments and anything that needs the affected system.",
    "simplify": "You may replace online work with paper or discussion, and postpone quizzes "
    "that need the system.",
    "ask": "Your principal, who can send questions to the academic lead from this page.",
}
KIND_GUIDANCE = {
    "lms": {"can_wait": "Online assignments, submissions and anything in the learning platform."},
    "network": {
        "today": "Plan for no internet in classrooms today. Use printed material and "
        "offline activities."
    },
    "cyber": {
        "today": "Do not sign in to district systems until told it is safe. Teach "
        "from printed or offline material."
    },
}
MISSING_GUIDANCE = {"today": "Say what classrooms do today: it is the one part every school needs."}


def affected_schools(incident: Incident) -> list[School]:
    if incident.all_schools:
        return list(School.objects.filter(district_id=incident.district_id).order_by("name"))
    if "schools" in getattr(incident, "_prefetched_objects_cache", {}):
        return sorted(incident.schools.all(), key=lambda school: (school.name, school.pk))
    return list(incident.schools.order_by("name"))


def affected_schools_by_incident(incidents: list[Incident]) -> dict[int, list[School]]:
    """``affected_schools`` for many incidents in two queries whatever their number, or one
    when the caller prefetched their schools."""
    if not incidents:
        return {}
    district_schools: dict[int, list[School]] = {}
    for school in School.objects.filter(
        district_id__in={i.district_id for i in incidents}
    ).order_by("name", "pk"):
        district_schools.setdefault(school.district_id, []).append(school)
    named: dict[int, list[School]] = {}
    if all("schools" in getattr(i, "_prefetched_objects_cache", {}) for i in incidents):
        # The caller prefetched them (the incident page's and the briefing's querysets).
        for i in incidents:
            named[i.pk] = sorted(i.schools.all(), key=lambda s: (s.name, s.pk))
    else:
        for link in (
            Incident.schools.through.objects.filter(incident_id__in=[i.pk for i in incidents])
            .select_related("school")
            .order_by("school__name", "school_id")
        ):
            named.setdefault(link.incident_id, []).append(link.school)
    return {
        i.pk: list(district_schools.get(i.district_id, []))
        if i.all_schools
        else named.get(i.pk, [])
        for i in incidents
    }


def principals_of(schools: list[School]) -> list[User]:
    return list(
        User.objects.filter(
            schools__in=schools, role_grants__role=Role.PRINCIPAL, is_active=True
        ).distinct()
    )


def current_version(incident: Incident) -> GuidanceVersion | None:
    return GuidanceVersion.objects.filter(incident=incident).order_by("-number").first()


def starting_text(incident: Incident) -> dict[str, str]:
    """The next version starts from the current one, or from the template for the kind."""
    current = current_version(incident)
    if current:
        return {name: getattr(current, name) for name in GuidanceVersion.FIELDS}
    text = {**DEFAULT_GUIDANCE, **KIND_GUIDANCE.get(incident.kind, {})}
    return {**text, "questions": ""}


@transaction.atomic
def guidance_publish(*, incident: Incident, by: User, **fields: str) -> GuidanceVersion:
    """Publish the next version. Answers marked for the guidance join its questions section,
    and the principals of the affected schools are told."""
    guidance_rules.require(by, "publish", incident=incident)
    if incident.status == Incident.Status.CLOSED:
        raise Invalid("This incident is closed; its guidance can no longer change.")
    values = {
        name: checked_text(
            fields.get(name),
            model=GuidanceVersion,
            field=name,
            label=f"“{GuidanceVersion.LABELS[name]}”",
            missing=MISSING_GUIDANCE.get(name),
        )
        for name in GuidanceVersion.FIELDS
    }
    Incident.objects.select_for_update().filter(pk=incident.pk).first()
    current = current_version(incident)
    number = (current.number if current else 0) + 1
    answered = list(
        Question.objects.select_for_update()
        .filter(incident=incident, for_guidance=True, in_version__isnull=True)
        .exclude(answer="")
    )
    if answered:
        entries = "\n\n".join(f"Q: {q.text}\nA: {q.answer}" for q in answered)
        values["questions"] = "\n\n".join(filter(None, [values["questions"], entries]))[:8000]
        Question.objects.filter(pk__in=[q.pk for q in answered]).update(in_version=number)
    version = GuidanceVersion.objects.create(incident=incident, number=number, author=by, **values)
    schools = affected_schools(incident)
    timeline_append(
        incident=incident,
        kind="guidance.published",
        actor=by,
        summary=f"Guidance version {number} published for {len(schools)} school(s)",
        payload={"version": number, "schools": [s.pk for s in schools]},
    )
    events.tell(
        incident=incident,
        recipients=principals_of(schools),
        subject=f"New classroom guidance (version {number}): {incident.title}",
        body="Read it on your guidance page and acknowledge it for your school.",
    )
    return version


@transaction.atomic
def guidance_acknowledge(
    *, incident: Incident, school: School, by: User
) -> GuidanceAcknowledgement:
    """A principal confirms their school follows the current version."""
    guidance_rules.require(by, "acknowledge", incident=incident, school=school)
    if school.pk not in {s.pk for s in affected_schools(incident)}:
        raise Invalid(f"{school} is not affected by this incident.")
    current = current_version(incident)
    if current is None:
        raise Invalid("No guidance has been published for this incident yet.")
    ack, created = GuidanceAcknowledgement.objects.get_or_create(
        incident=incident, school=school, version=current.number, defaults={"by": by}
    )
    if created:
        timeline_append(
            incident=incident,
            kind="guidance.acknowledged",
            actor=by,
            summary=f"{school} acknowledged guidance version {current.number}",
            payload={"school": school.pk, "version": current.number},
        )
    return ack


@transaction.atomic
def guidance_nudge(*, incident: Incident, by: User) -> list[School]:
    """Remind the principals of schools not yet on the current version."""
    guidance_rules.require(by, "nudge", incident=incident)
    current = current_version(incident)
    if current is None:
        raise Invalid("Publish guidance before nudging schools to acknowledge it.")
    done = set(
        GuidanceAcknowledgement.objects.filter(
            incident=incident, version=current.number
        ).values_list("school_id", flat=True)
    )
    behind = [s for s in affected_schools(incident) if s.pk not in done]
    if not behind:
        raise Invalid("Every affected school is already on the current version.")
    timeline_append(
        incident=incident,
        kind="guidance.nudged",
        actor=by,
        summary=f"{len(behind)} school(s) reminded to acknowledge version {current.number}",
        payload={"version": current.number, "schools": [s.pk for s in behind]},
    )
    recipients = principals_of(behind)
    events.tell(
        incident=incident,
        recipients=recipients,
        subject=f"Please acknowledge guidance version {current.number}: {incident.title}",
        body="Your school has not yet acknowledged the current classroom guidance.",
    )
    return behind


@transaction.atomic
def question_ask(*, incident: Incident, school: School, by: User, text: str) -> Question:
    """A principal sends a question from one of their schools up to the academic lead."""
    guidance_rules.require(by, "ask", incident=incident, school=school)
    incident.refresh_from_db(fields=["status"])
    if incident.status == Incident.Status.CLOSED:
        raise Invalid("This incident is closed; ask the academic lead directly.")
    if school.pk not in {s.pk for s in affected_schools(incident)}:
        raise Invalid(f"{school} is not affected by this incident.")
    text = checked_text(
        text, model=Question, field="text", label="The question", missing="Write the question."
    )
    question = Question.objects.create(incident=incident, school=school, text=text, asked_by=by)
    timeline_append(
        incident=incident,
        kind="question.asked",
        actor=by,
        summary=f"Question from {school}",
        payload={"question": question.pk, "school": school.pk},
    )
    return question


@transaction.atomic
def question_answer(*, question: Question, by: User, answer: str, for_guidance: bool) -> Question:
    """The academic lead answers; an answer may join the next version of the guidance."""
    question = Question.objects.select_for_update().select_related("incident").get(pk=question.pk)
    guidance_rules.require(by, "answer", incident=question.incident)
    answer = checked_text(
        answer, model=Question, field="answer", label="The answer", missing="Write the answer."
    )
    question.answer, question.answered_by, question.answered_at = answer, by, timezone.now()
    question.for_guidance = for_guidance
    question.save(update_fields=["answer", "answered_by", "answered_at", "for_guidance"])
    timeline_append(
        incident=question.incident,
        kind="question.answered",
        actor=by,
        summary="Question answered" + (" (added to the next guidance)" if for_guidance else ""),
        payload={"question": question.pk},
    )
    events.tell(
        incident=question.incident,
        recipients=[question.asked_by],
        subject=f"Your question was answered: {question.incident.title}",
        body=answer[:500],
    )
    return question


@dataclass(frozen=True)
class SchoolStatus:
    school: School
    version: int | None
    at: object | None
    current: bool


def school_statuses(incident: Incident, current: GuidanceVersion | None) -> list[SchoolStatus]:
    """Per affected school: the newest version it acknowledged, and whether it is current."""
    acks = GuidanceAcknowledgement.objects.filter(incident=incident).order_by("version")
    return _statuses(affected_schools(incident), list(acks), current)


def _statuses(
    schools: list[School],
    acks: list[GuidanceAcknowledgement],
    current: GuidanceVersion | None,
) -> list[SchoolStatus]:
    """``acks`` oldest version first."""
    latest: dict[int, GuidanceAcknowledgement] = {}
    for ack in acks:
        latest[ack.school_id] = ack
    rows = []
    for school in schools:
        ack = latest.get(school.pk)
        rows.append(
            SchoolStatus(
                school,
                ack.version if ack else None,
                ack.at if ack else None,
                bool(current and ack and ack.version == current.number),
            )
        )
    return rows


def changes_since(incident: Incident, version: int | None) -> list[tuple[str, list[str]]]:
    """What changed, per section, between ``version`` and the current version: the lines
    added and removed, so a principal reads only what is new."""
    current = current_version(incident)
    if current is None or version is None or version >= current.number:
        return []
    return _changes(
        GuidanceVersion.objects.filter(incident=incident, number=version).first(), current
    )


def _changes(old: GuidanceVersion | None, current: GuidanceVersion) -> list[tuple[str, list[str]]]:
    if old is None:
        return []
    changes = []
    for name in GuidanceVersion.FIELDS:
        before = getattr(old, name).splitlines()
        after = getattr(current, name).splitlines()
        lines = [
            ("Added: " if line[0] == "+" else "Removed: ") + line[1:]
            for line in difflib.unified_diff(before, after, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---")) and line[1:].strip()
        ]
        if lines:
            changes.append((GuidanceVersion.LABELS[name], lines))
    return changes


@dataclass
class GuidanceState:
    """What the school pages show of one incident's guidance, loaded for many incidents at
    once by ``guidance_states``."""

    incident: Incident
    schools: list[School]
    versions: dict[int, GuidanceVersion]
    acks: list[GuidanceAcknowledgement]
    questions: list[Question]

    @property
    def current(self) -> GuidanceVersion | None:
        return self.versions[max(self.versions)] if self.versions else None

    def statuses(self) -> list[SchoolStatus]:
        return _statuses(self.schools, self.acks, self.current)

    def changes_since(self, version: int | None) -> list[tuple[str, list[str]]]:
        current = self.current
        if current is None or version is None or version >= current.number:
            return []
        return _changes(self.versions.get(version), current)


def guidance_states(
    incidents: list[Incident], *, questions_from: list[School] | None = None
) -> list[GuidanceState]:
    """The guidance state of each incident, in a fixed number of queries: affected schools,
    every version, acknowledgements and questions (only those from ``questions_from`` when
    given)."""
    if not incidents:
        return []
    ids = [i.pk for i in incidents]
    schools = affected_schools_by_incident(incidents)
    versions: dict[int, dict[int, GuidanceVersion]] = {pk: {} for pk in ids}
    for version in GuidanceVersion.objects.filter(incident_id__in=ids):
        versions[version.incident_id][version.number] = version
    acks: dict[int, list[GuidanceAcknowledgement]] = {pk: [] for pk in ids}
    for ack in GuidanceAcknowledgement.objects.filter(incident_id__in=ids).order_by("version"):
        acks[ack.incident_id].append(ack)
    questions: dict[int, list[Question]] = {pk: [] for pk in ids}
    asked = Question.objects.filter(incident_id__in=ids).select_related("school", "asked_by")
    if questions_from is not None:
        asked = asked.filter(school__in=questions_from)
    for question in asked:
        questions[question.incident_id].append(question)
    return [
        GuidanceState(i, schools[i.pk], versions[i.pk], acks[i.pk], questions[i.pk])
        for i in incidents
    ]


def principal_incidents(user: User) -> QuerySet[Incident]:
    """The open incidents that affect a school ``user`` leads: the only ones a principal acts on."""
    return (
        Incident.objects.filter(district_id=user.district_id)
        .exclude(status=Incident.Status.CLOSED)
        .filter(Q(all_schools=True) | Q(schools__in=user.schools.all()))
        .distinct()
    )


def incidents_for_principal(user: User) -> list[Incident]:
    return list(principal_incidents(user).order_by("-declared_at"))


def academics_block(incident: Incident, now) -> dict:
    """One incident on the academics dashboard: schools against the current version, and the
    questions sent up."""
    return academics_blocks([incident], now)[0]


def academics_blocks(incidents: list[Incident], now) -> list[dict]:
    """``academics_block`` for each incident, in a fixed number of queries."""
    from incidents.selectors import injects_for

    injects = injects_for(incidents, Role.ACADEMICS)
    blocks = []
    for state in guidance_states(incidents):
        statuses = state.statuses()
        blocks.append(
            {
                "incident": state.incident,
                "clock": state.incident.clock(now),
                "current": state.current,
                "statuses": statuses,
                "on_current": sum(1 for s in statuses if s.current),
                "questions": state.questions,
                "injects": injects[state.incident.pk],
            }
        )
    return blocks
