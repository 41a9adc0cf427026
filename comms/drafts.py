"""The fact sheet, templates and the draft workflow: nothing leaves before approval.

draft -> in review -> (legal review) -> approved -> published, with "returned" back to draft
and "withdrawn" on the side. Every transition locks the draft row, checks the revision it
was asked about, and appends a timeline row, so two people acting at once cannot both win.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from comms import discipline, services, workflow
from comms.models import (
    Audience,
    Channel,
    CommsPolicy,
    Dispatch,
    Draft,
    Drafter,
    DraftRevision,
    FactSheetRevision,
    MessageTemplate,
    NoticeClock,
    PublishedUpdate,
    WarningAcknowledgement,
)
from incidents import events
from incidents.errors import Conflict, Invalid, PromiseDiffers, Refused
from incidents.models import RESPONSE_TEAM_ROLES, District, Incident, Role, User
from incidents.text import checked_text
from incidents.timeline import timeline_append

S = Draft.State

# The starting text when the district has no template for an audience.
DEFAULT_TEMPLATES = {
    Audience.STAFF: (
        "Colleagues,\n\n{known}\n\nWhat we do not know yet: {unknown}\n\n"
        "What we are doing: {doing}\n\nWhat to do in your classroom or office: {should_do}\n\n"
        "Next update: {next_update}."
    ),
    Audience.FAMILIES: (
        "Dear families,\n\n{known}\n\nWhat we are doing: {doing}\n\n"
        "What you can do: {should_do}\n\nWe will send the next update {next_update}."
    ),
    Audience.BOARD: (
        "Board members,\n\nStatus: {known}\n\nNot yet known: {unknown}\n\n"
        "Actions under way: {doing}\n\nNext briefing: {next_update}."
    ),
    Audience.MEDIA: (
        "{district} is responding to {title}. {known}\n\n{doing}\n\n"
        "The district will share its next update {next_update}."
    ),
}


# --- Fact sheet -------------------------------------------------------------------------


def _owner_or_comms(incident: Incident, by: User) -> bool:
    return by.district_id == incident.district_id and (
        by.pk == incident.owner_id or by.has_role(Role.COMMUNICATIONS)
    )


def fact_sheet_current(incident: Incident) -> FactSheetRevision | None:
    return FactSheetRevision.objects.filter(incident=incident).order_by("-number").first()


@transaction.atomic
def fact_sheet_revise(
    *, incident: Incident, by: User, expected_number: int, **fields: str
) -> FactSheetRevision:
    """Save a new revision of the fact sheet. Refused if someone saved one in between."""
    if not _owner_or_comms(incident, by):
        raise Refused("Only the incident owner and the communications lead edit the fact sheet.")
    Incident.objects.select_for_update().filter(pk=incident.pk).first()
    current = fact_sheet_current(incident)
    number = current.number if current else 0
    if expected_number != number:
        raise Conflict(
            f"Someone saved revision {number} of the fact sheet while you were editing. "
            "Your text is below: compare it with theirs and save again."
        )
    unknown = set(fields) - set(FactSheetRevision.FIELDS)
    if unknown:
        raise Invalid(f"Unknown fact sheet fields: {', '.join(sorted(unknown))}.")
    revision = FactSheetRevision.objects.create(
        incident=incident,
        number=number + 1,
        author=by,
        **{name: fields.get(name, "").strip() for name in FactSheetRevision.FIELDS},
    )
    timeline_append(
        incident=incident,
        kind="factsheet.revised",
        actor=by,
        summary=f"Fact sheet revised (revision {revision.number})",
        payload={"revision": revision.number},
    )
    return revision


# --- Templates --------------------------------------------------------------------------


def template_for(district: District, kind: str, audience: str) -> MessageTemplate | None:
    templates = {
        t.kind: t
        for t in MessageTemplate.objects.filter(
            district=district, audience=audience, kind__in=[kind, MessageTemplate.ANY_KIND]
        )
    }
    return templates.get(kind) or templates.get(MessageTemplate.ANY_KIND)


@transaction.atomic
def template_save(
    *, district: District, by: User, kind: str, audience: str, body: str
) -> MessageTemplate:
    """Write the district's template for a kind of incident and an audience."""
    if by.district_id != district.pk or not by.has_role(Role.CIO, Role.COMMUNICATIONS):
        raise Refused("Only the CIO and the communications lead edit message templates.")
    if kind != MessageTemplate.ANY_KIND and kind not in Incident.Kind.values:
        raise Invalid("Choose a kind of incident, or “any”.")
    if audience not in Audience.values:
        raise Invalid("Choose an audience: staff, families, board, or media and public.")
    body = checked_text(
        body,
        model=MessageTemplate,
        field="body",
        label="The template",
        missing="A template needs text: write what the message says.",
    )
    template, created = MessageTemplate.objects.select_for_update().get_or_create(
        district=district, kind=kind, audience=audience, defaults={"body": body}
    )
    if not created and template.body != body:
        # Legal reviewed the old words, not these.
        template.body, template.pre_reviewed_by_legal, template.reviewed_by = body, False, None
        template.save()
    return template


@transaction.atomic
def template_mark_reviewed(*, template: MessageTemplate, by: User) -> MessageTemplate:
    """Legal counsel marks a template's current text as reviewed ahead of time."""
    if by.district_id != template.district_id or not by.has_role(Role.LEGAL):
        raise Refused("Only legal counsel marks a template as pre-reviewed.")
    template.pre_reviewed_by_legal, template.reviewed_by = True, by
    template.save(update_fields=["pre_reviewed_by_legal", "reviewed_by", "updated_at"])
    return template


def fill(template_body: str, incident: Incident, facts: FactSheetRevision | None) -> str:
    """The template with its placeholders filled from the fact sheet."""
    values = {name: getattr(facts, name, "") or "" for name in FactSheetRevision.FIELDS}
    values.update(title=incident.title, district=incident.district.name)
    out = template_body
    for name, value in values.items():
        out = out.replace("{" + name + "}", value or f"[{name.replace('_', ' ')}]")
    return out


# --- Drafts -----------------------------------------------------------------------------


def policy_for(district: District) -> CommsPolicy:
    """The district's communications policy, saved when the district was set up. Reading
    never writes: a district without one reads the defaults."""
    return CommsPolicy.objects.filter(district=district).first() or CommsPolicy(district=district)


def needs_legal(draft: Draft, incident: Incident, policy: CommsPolicy) -> bool:
    """Legal review applies when flagged, or by the district's rules for the audience and for
    student-data incidents. A template legal reviewed ahead of time covers the audience rule."""
    if draft.flagged_for_legal:
        return True
    if policy.student_data_needs_legal and Incident.Impact.STUDENT_DATA in incident.impacts:
        return True
    return draft.audience in policy.legal_audiences and not draft.from_pre_reviewed_template


@transaction.atomic
def drafter_name(*, incident: Incident, by: User, user: User) -> Drafter:
    """The communications lead names someone on the response team to write drafts."""
    if by.district_id != incident.district_id or not by.has_role(Role.COMMUNICATIONS):
        raise Refused("Only the communications lead names drafters.")
    if user.district_id != incident.district_id or not user.has_role(*RESPONSE_TEAM_ROLES):
        raise Invalid(f"{user} is not on this district's response team.")
    drafter, created = Drafter.objects.get_or_create(
        incident=incident, user=user, defaults={"named_by": by}
    )
    if created:
        timeline_append(
            incident=incident,
            kind="drafter.named",
            actor=by,
            summary=f"{user} named to write drafts",
            payload={"user": user.pk},
        )
        _recheck_sockets(user)
    return drafter


def _recheck_sockets(user: User) -> None:
    """The person's open pages reconnect and get the pushes of their new audience."""
    events.access_changed_on_commit(user.pk)


@transaction.atomic
def drafter_remove(*, incident: Incident, by: User, user: User) -> None:
    if by.district_id != incident.district_id or not by.has_role(Role.COMMUNICATIONS):
        raise Refused("Only the communications lead removes drafters.")
    deleted, _ = Drafter.objects.filter(incident=incident, user=user).delete()
    if deleted:
        timeline_append(
            incident=incident,
            kind="drafter.removed",
            actor=by,
            summary=f"{user} no longer writes drafts",
            payload={"user": user.pk},
        )
        _recheck_sockets(user)


def _check_body(body: str) -> str:
    return checked_text(
        body,
        model=DraftRevision,
        field="body",
        label="The message",
        missing="The message is empty. Write what people need to know.",
    )


def _log(draft: Draft, by: User, kind: str, summary: str, **payload) -> None:
    timeline_append(
        incident=draft.incident,
        kind=kind,
        actor=by,
        summary=f"{Audience(draft.audience).label} {Channel(draft.channel).label.lower()} "
        f"draft: {summary}",
        payload={"draft": draft.pk, "revision": draft.revision, **payload},
    )


@transaction.atomic
def draft_create(*, incident: Incident, by: User, audience: str, channel: str) -> Draft:
    """Start a draft from the district's template, filled from the current fact sheet."""
    if not workflow.is_writer(incident, by):
        raise Refused(
            "Only the communications lead, the drafters they name and the incident owner "
            "write drafts."
        )
    if incident.status == Incident.Status.CLOSED:
        raise Invalid("This incident is closed; no new messages are drafted for it.")
    if audience not in Audience.values or channel not in Channel.values:
        raise Invalid("Choose an audience and a channel.")
    template = template_for(incident.district, incident.kind, audience)
    facts = fact_sheet_current(incident)
    body = fill(template.body if template else DEFAULT_TEMPLATES[audience], incident, facts)
    draft = Draft.objects.create(
        incident=incident,
        audience=audience,
        channel=channel,
        created_by=by,
        from_pre_reviewed_template=bool(template and template.pre_reviewed_by_legal),
    )
    DraftRevision.objects.create(
        draft=draft, number=1, body=body, author=by, fact_sheet_number=facts and facts.number
    )
    _log(draft, by, "draft.created", "started")
    return draft


def _locked(draft: Draft, expected_revision: int | None = None) -> Draft:
    locked = Draft.objects.select_for_update().select_related("incident__district").get(pk=draft.pk)
    if expected_revision is not None and expected_revision != locked.revision:
        raise Conflict(
            f"This draft changed while you were looking at it: revision {locked.revision} is "
            f"the latest, you acted on revision {expected_revision}. Read the latest and try "
            "again."
        )
    return locked


@transaction.atomic
def draft_edit(*, draft: Draft, by: User, body: str, expected_revision: int) -> Draft:
    """Save new text as a new revision. Approval and legal clearance belonged to the old
    text, so an edited draft goes back to being a draft."""
    draft = _locked(draft, expected_revision)
    workflow.require(draft, by, "edit")
    body = _check_body(body)
    latest = draft.revisions.order_by("-number").first()
    if latest and latest.body == body:
        return draft
    facts = fact_sheet_current(draft.incident)
    draft.revision += 1
    DraftRevision.objects.create(
        draft=draft,
        number=draft.revision,
        body=body,
        author=by,
        fact_sheet_number=facts and facts.number,
    )
    was = draft.state
    draft.state = S.DRAFT
    draft.save(update_fields=["revision", "state", "updated_at"])
    note = " (its approval no longer applies)" if was == S.APPROVED else ""
    _log(draft, by, "draft.edited", f"revision {draft.revision} saved{note}")
    return draft


@transaction.atomic
def draft_flag_legal(
    *, draft: Draft, by: User, flagged: bool, expected_revision: int | None = None
) -> Draft:
    """Ask for legal review of a draft before it is sent on, or take the request back."""
    draft = _locked(draft, expected_revision)
    workflow.require(draft, by, "flag" if flagged else "unflag")
    if draft.flagged_for_legal != flagged:
        draft.flagged_for_legal = flagged
        draft.save(update_fields=["flagged_for_legal", "updated_at"])
        _log(draft, by, "draft.flagged", "flagged for legal" if flagged else "legal flag removed")
    return draft


@transaction.atomic
def draft_submit(*, draft: Draft, by: User, expected_revision: int) -> Draft:
    """Send a draft for review: to legal first when the rules say so."""
    draft = _locked(draft, expected_revision)
    workflow.require(draft, by, "submit")
    legal = needs_legal(draft, draft.incident, policy_for(draft.incident.district))
    cleared = draft.legal_cleared_revision == draft.revision
    draft.state = S.LEGAL_REVIEW if legal and not cleared else S.IN_REVIEW
    draft.return_note = ""
    draft.save(update_fields=["state", "return_note", "updated_at"])
    where = "legal review" if draft.state == S.LEGAL_REVIEW else "review"
    _log(draft, by, "draft.submitted", f"revision {draft.revision} sent to {where}")
    return draft


@transaction.atomic
def draft_legal_clear(*, draft: Draft, by: User, expected_revision: int) -> Draft:
    """Legal counsel clears this revision; it returns to the communications lead's review."""
    draft = _locked(draft, expected_revision)
    workflow.require(draft, by, "clear")
    draft.state, draft.legal_cleared_revision = S.IN_REVIEW, draft.revision
    draft.save(update_fields=["state", "legal_cleared_revision", "updated_at"])
    _log(draft, by, "draft.legal_cleared", f"revision {draft.revision} cleared by legal")
    return draft


@transaction.atomic
def draft_return(*, draft: Draft, by: User, note: str, expected_revision: int) -> Draft:
    """Send a draft back to its writer with a note: legal from legal review, the
    communications lead from review."""
    draft = _locked(draft, expected_revision)
    note = checked_text(
        note,
        model=Draft,
        field="return_note",
        label="The note",
        missing="Say what needs to change; the note goes back with the draft.",
    )
    workflow.require(draft, by, "return")
    by_whom = "legal" if draft.state == S.LEGAL_REVIEW else "review"
    draft.state, draft.return_note = S.DRAFT, f"{by}: {note}"
    draft.save(update_fields=["state", "return_note", "updated_at"])
    _log(draft, by, "draft.returned", f"returned by {by_whom}: {note}", note=note)
    return draft


@transaction.atomic
def draft_approve(*, draft: Draft, by: User, expected_revision: int) -> Draft:
    """The communications lead approves exactly this revision."""
    draft = _locked(draft, expected_revision)
    workflow.require(draft, by, "approve")
    legal = needs_legal(draft, draft.incident, policy_for(draft.incident.district))
    if legal and draft.legal_cleared_revision != draft.revision:
        raise Invalid("This draft needs legal review of its current text before approval.")
    draft.state, draft.approved_revision = S.APPROVED, draft.revision
    draft.approved_by, draft.approved_at = by, timezone.now()
    draft.save(
        update_fields=["state", "approved_revision", "approved_by", "approved_at", "updated_at"]
    )
    _log(draft, by, "draft.approved", f"revision {draft.revision} approved")
    return draft


def staff_heard_first(draft: Draft) -> bool:
    """A family or media update may go out only after staff heard this round first: a staff
    update published since this audience's previous update (or any, for the first)."""
    if draft.audience not in (Audience.FAMILIES, Audience.MEDIA):
        return True
    updates = PublishedUpdate.objects.filter(incident=draft.incident, withdrawn_at__isnull=True)
    last_staff = updates.filter(audience=Audience.STAFF).order_by("-published_at").first()
    if last_staff is None:
        return False
    last_same = updates.filter(audience=draft.audience).order_by("-published_at").first()
    return last_same is None or last_staff.published_at >= last_same.published_at


@transaction.atomic
def draft_publish(
    *,
    draft: Draft,
    by: User,
    expected_revision: int,
    promised_next_at: datetime,
    override_reason: str = "",
    keep_promised_time: bool = False,
) -> PublishedUpdate:
    """Publish the approved revision: record it, start the audience's clock at the promised
    time, and queue delivery. Exercises deliver nothing outside the console.

    A text that names another next-update time than ``promised_next_at`` is refused unless
    ``keep_promised_time`` says to publish it anyway: readers would see two times."""
    draft = _locked(draft, expected_revision)
    incident = draft.incident
    workflow.require(draft, by, "publish")
    if draft.approved_revision != draft.revision:
        raise Invalid("Only the approved revision can be published; approve the latest first.")
    override_reason = checked_text(
        override_reason,
        model=PublishedUpdate,
        field="staff_first_override",
        label="The reason to publish before staff have heard",
    )
    # Decided once, before this update is recorded: afterwards it would count itself.
    staff_first = staff_heard_first(draft)
    if not staff_first and not override_reason:
        raise Invalid(
            "Staff hear first: publish the matching staff update before this one, or give the "
            "reason for going ahead without it."
        )
    body = draft.revisions.get(number=draft.revision).body
    zone = incident.district.zone
    differs = discipline.promise_differs(
        body, timezone.localtime(promised_next_at, zone), timezone.localtime(timezone.now(), zone)
    )
    if differs and not keep_promised_time:
        raise PromiseDiffers(differs.reason)
    update = services.update_record(
        incident=incident,
        audience=draft.audience,
        summary=body,
        promised_next_at=promised_next_at,
        by=by,
    )
    update.channel, update.draft, update.revision = draft.channel, draft, draft.revision
    update.staff_first_override = "" if staff_first else override_reason
    update.save(update_fields=["channel", "draft", "revision", "staff_first_override"])
    draft.state = S.PUBLISHED
    draft.save(update_fields=["state", "updated_at"])
    override = f"; staff-first overridden: {override_reason}" if update.staff_first_override else ""
    if differs:
        override += "; its text names another next-update time than the one promised"
    _log(draft, by, "draft.published", f"revision {draft.revision} published{override}")
    _dispatch(update, policy_for(incident.district))
    return update


def _dispatch(update: PublishedUpdate, policy: CommsPolicy) -> None:
    """Queue the update for each destination the district set for the audience."""
    destinations = {
        Channel.EMAIL: policy.email_lists.get(update.audience) or [],
        Channel.SMS: policy.sms_lists.get(update.audience) or [],
    }.get(update.channel, [])
    if isinstance(destinations, str):
        destinations = [destinations]
    status = Dispatch.Status.SUPPRESSED if update.incident.is_exercise else Dispatch.Status.PENDING
    rows = Dispatch.objects.bulk_create(
        [
            Dispatch(
                key=f"p{update.pk}:{update.channel}:{dest}"[:120],
                update=update,
                channel=update.channel,
                destination=dest,
                status=status,
            )
            for dest in destinations
        ]
    )
    queued = [row.pk for row in rows if row.status == Dispatch.Status.PENDING]
    if queued:
        from comms.tasks import deliver_dispatch

        # Robust: the publication is saved whether or not the broker answers, so a Redis
        # outage must not turn it into an error page; the requeue task sends these rows.
        transaction.on_commit(lambda: [deliver_dispatch.delay(pk) for pk in queued], robust=True)


@transaction.atomic
def draft_withdraw(*, draft: Draft, by: User, reason: str) -> Draft:
    """Take a draft out of the workflow, or take back a published update. A withdrawn
    published update is replaced on the status page by a note that it was withdrawn."""
    draft = _locked(draft)
    workflow.require(draft, by, "withdraw")
    reason = checked_text(
        reason,
        model=Draft,
        field="withdraw_reason",
        label="The reason",
        missing="Give the reason for withdrawing; it goes on the timeline.",
    )
    if draft.state == S.PUBLISHED:
        PublishedUpdate.objects.filter(draft=draft, withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now()
        )
    draft.state, draft.withdraw_reason = S.WITHDRAWN, reason
    draft.save(update_fields=["state", "withdraw_reason", "updated_at"])
    _log(draft, by, "draft.withdrawn", f"withdrawn: {reason}", reason=reason)
    return draft


@transaction.atomic
def warning_acknowledge(
    *, draft: Draft, by: User, code: str, note: str, expected_revision: int
) -> WarningAcknowledgement:
    """Record that the writer read a discipline warning on this revision, and why it stands."""
    draft = _locked(draft, expected_revision)
    workflow.require(draft, by, "acknowledge")
    note = checked_text(
        note,
        model=WarningAcknowledgement,
        field="note",
        label="The note",
        missing="Say in a few words why the warning does not apply.",
    )
    revision = draft.revisions.get(number=draft.revision)
    ack, _ = WarningAcknowledgement.objects.update_or_create(
        revision=revision, code=code[:40], defaults={"note": note, "by": by}
    )
    _log(draft, by, "draft.warning_acknowledged", f"warning “{code}” acknowledged: {note}")
    return ack


# --- Statutory notices ------------------------------------------------------------------


def notice_clocks_sync(*, incident: Incident) -> list[NoticeClock]:
    """Create the district's statutory notice clocks for a student-data incident."""
    if Incident.Impact.STUDENT_DATA not in incident.impacts:
        return []
    policy = policy_for(incident.district)
    for days in policy.notice_days:
        NoticeClock.objects.get_or_create(
            incident=incident,
            days=int(days),
            defaults={"due_at": incident.declared_at + timezone.timedelta(days=int(days))},
        )
    return list(incident.notices.all())


@transaction.atomic
def notice_mark_given(*, notice: NoticeClock, by: User, note: str) -> NoticeClock:
    """Legal counsel records that a statutory notice was given."""
    notice = NoticeClock.objects.select_for_update().select_related("incident").get(pk=notice.pk)
    if by.district_id != notice.incident.district_id or not by.has_role(Role.LEGAL):
        raise Refused("Only legal counsel records statutory notices.")
    if notice.given_at:
        raise Invalid("This notice is already recorded as given.")
    note = checked_text(
        note,
        model=NoticeClock,
        field="note",
        label="The note",
        missing="Say how and to whom notice was given.",
    )
    notice.given_at, notice.given_by, notice.note = timezone.now(), by, note
    notice.save(update_fields=["given_at", "given_by", "note"])
    timeline_append(
        incident=notice.incident,
        kind="notice.given",
        actor=by,
        summary=f"{notice.days}-day statutory notice given: {note}",
        payload={"notice": notice.pk, "days": notice.days},
    )
    return notice


@transaction.atomic
def policy_set(*, district: District, by: User, **values) -> CommsPolicy:
    """The CIO sets the district's rules for legal review, notices and delivery lists."""
    if by.district_id != district.pk or not by.has_role(Role.CIO):
        raise Refused("Only the district's CIO sets the communications policy.")
    policy = CommsPolicy.objects.select_for_update().get_or_create(district=district)[0]
    for name, value in values.items():
        setattr(policy, name, value)
    policy.save()
    return policy
