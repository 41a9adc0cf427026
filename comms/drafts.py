"""The draft workflow and publishing: nothing leaves before approval.

draft -> in review -> (legal review) -> approved -> published, with "returned" back to draft
and "withdrawn" on the side. Every transition locks the draft row, checks the revision it
was asked about, and appends a timeline row, so two people acting at once cannot both win.
A published update is corrected by a new draft that names it and goes the same way.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from comms import (
    discipline,
    public,
    selectors,
    services,
    subscriptions,
    translations,
    workflow,
)
from comms.facts import DEFAULT_TEMPLATES, fact_sheet_current, fill, template_for
from comms.models import (
    OPEN_DRAFT_STATES,
    PUBLIC_AUDIENCES,
    Audience,
    CadencePhase,
    Channel,
    CommsPolicy,
    Dispatch,
    Draft,
    DraftRevision,
    PublicHeading,
    PublishedUpdate,
    WarningAcknowledgement,
)
from comms.policy import needs_legal, policy_for
from incident_console import broker
from incidents.errors import Conflict, Invalid, PromiseDiffers, Refused
from incidents.models import Incident, User
from incidents.phases import format_duration
from incidents.text import checked_text
from incidents.timeline import timeline_append

S = Draft.State


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
def heading_draft_create(*, incident: Incident, by: User) -> Draft:
    """Start a draft of the incident's public title and one-line summary, from the approved
    one if there is one, else from the district's neutral title and the fact sheet. It is a
    message to the public on the web: reviewed, cleared by legal where the district's rules
    say so, approved and published like any other."""
    return draft_create(
        incident=incident,
        by=by,
        audience=Audience.MEDIA,
        channel=Channel.WEB,
        purpose=Draft.Purpose.HEADING,
    )


def _heading_start(incident: Incident) -> str:
    heading = PublicHeading.objects.filter(incident=incident).first()
    if heading is not None:
        return f"{heading.title}\n\n{heading.summary}"
    facts = fact_sheet_current(incident)
    known = (facts.known if facts else "").strip().split("\n")[0]
    return f"{public.neutral_title(incident.district_id)}\n\n{known}"


@transaction.atomic
def draft_create(
    *,
    incident: Incident,
    by: User,
    audience: str,
    channel: str,
    purpose: str = Draft.Purpose.MESSAGE,
) -> Draft:
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
    if channel == Channel.WEB and audience not in PUBLIC_AUDIENCES:
        raise Invalid(
            "The web channel is the public status page, which families and the public read: "
            "send a staff or board update by email or text message."
        )
    facts = fact_sheet_current(incident)
    if purpose == Draft.Purpose.HEADING:
        template, body = None, _heading_start(incident)
    else:
        template = template_for(incident.district, incident.kind, audience)
        body = fill(template.body if template else DEFAULT_TEMPLATES[audience], incident, facts)
    draft = Draft.objects.create(
        incident=incident,
        purpose=purpose,
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


@transaction.atomic
def draft_correct(*, draft: Draft, by: User, note: str) -> Draft:
    """Start a correction of the update ``draft`` published: a new draft to the same audience
    on the same channel, starting from the published text, that says what was wrong. It is
    reviewed, cleared by legal where the rules say so, approved and published like any other;
    published, it takes the corrected text's place on the status page."""
    draft = _locked(draft)
    workflow.require(draft, by, "correct")
    incident = draft.incident
    if incident.status == Incident.Status.CLOSED:
        raise Invalid("This incident is closed; no new messages are drafted for it.")
    note = checked_text(
        note,
        model=Draft,
        field="correction_note",
        label="What was wrong",
        missing="Say what was wrong in the published update; the correction says it too.",
    )
    update = (
        PublishedUpdate.objects.filter(draft=draft, withdrawn_at__isnull=True)
        .order_by("-published_at")
        .first()
    )
    if update is None:
        raise Invalid("This update was withdrawn; there is nothing left to correct.")
    # A correction of a correction corrects the same original: its text is the one in the
    # original's place on the status page.
    original = update.corrects or update
    pending = Draft.objects.filter(corrects=original, state__in=OPEN_DRAFT_STATES).first()
    if pending is not None:
        raise Conflict(
            f"A correction of this update is already on its way (draft {pending.pk}, "
            f"{pending.get_state_display().lower()}): change that one instead."
        )
    correction = Draft.objects.create(
        incident=incident,
        audience=draft.audience,
        channel=draft.channel,
        created_by=by,
        corrects=original,
        correction_note=note,
    )
    facts = fact_sheet_current(incident)
    DraftRevision.objects.create(
        draft=correction,
        number=1,
        body=update.summary,
        author=by,
        fact_sheet_number=facts and facts.number,
    )
    when = f"{timezone.localtime(update.published_at, incident.district.zone):%-I:%M %p}"
    _log(correction, by, "draft.created", f"correction of the update of {when} started: {note}")
    return correction


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


def _needs_legal(draft: Draft) -> bool:
    return needs_legal(draft, draft.incident, policy_for(draft.incident.district))


@transaction.atomic
def draft_submit(*, draft: Draft, by: User, expected_revision: int) -> Draft:
    """Send a draft for review: to legal first when the rules say so."""
    draft = _locked(draft, expected_revision)
    workflow.require(draft, by, "submit")
    if draft.is_heading:
        public.parse_heading(draft.revisions.get(number=draft.revision).body)
    legal = _needs_legal(draft)
    cleared = draft.legal_cleared_revision == draft.revision
    draft.state = S.LEGAL_REVIEW if legal and not cleared else S.IN_REVIEW
    draft.return_note = ""
    draft.legal_since = timezone.now() if draft.state == S.LEGAL_REVIEW else None
    draft.save(update_fields=["state", "return_note", "legal_since", "updated_at"])
    where = "legal review" if draft.state == S.LEGAL_REVIEW else "review"
    _log(draft, by, "draft.submitted", f"revision {draft.revision} sent to {where}")
    return draft


@transaction.atomic
def draft_legal_clear(*, draft: Draft, by: User, expected_revision: int) -> Draft:
    """Legal counsel clears this revision; it returns to the communications lead's review."""
    draft = _locked(draft, expected_revision)
    workflow.require(draft, by, "clear")
    draft.state, draft.legal_cleared_revision = S.IN_REVIEW, draft.revision
    waited = _waited(draft)
    draft.legal_since = None
    draft.save(update_fields=["state", "legal_cleared_revision", "legal_since", "updated_at"])
    _log(
        draft,
        by,
        "draft.legal_cleared",
        f"revision {draft.revision} cleared by legal{waited}",
    )
    return draft


def _waited(draft: Draft) -> str:
    """ ", after 25 min in legal review" for the timeline, on the incident's own clock."""
    if draft.legal_since is None:
        return ""
    incident = draft.incident
    span = incident.span_between(draft.legal_since, timezone.now())
    clock = " on the exercise clock" if incident.is_exercise else ""
    return f", after {format_duration(span)} in legal review{clock}"


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
    draft.state, draft.return_note, draft.legal_since = S.DRAFT, f"{by}: {note}", None
    draft.save(update_fields=["state", "return_note", "legal_since", "updated_at"])
    _log(draft, by, "draft.returned", f"returned by {by_whom}: {note}", note=note)
    return draft


@transaction.atomic
def draft_approve(*, draft: Draft, by: User, expected_revision: int) -> Draft:
    """The communications lead approves exactly this revision."""
    draft = _locked(draft, expected_revision)
    workflow.require(draft, by, "approve")
    legal = _needs_legal(draft)
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
    missing_languages_reason: str = "",
) -> PublishedUpdate:
    """Publish the approved revision: record it, start the audience's clock at the promised
    time, and queue delivery. Exercises deliver nothing outside the console.

    A text that names another next-update time than ``promised_next_at`` is refused unless
    ``keep_promised_time`` says to publish it anyway: readers would see two times. A families
    or media update goes out in every district language approved for this revision at once;
    one without all of them needs ``missing_languages_reason``."""
    draft = _locked(draft, expected_revision)
    incident = draft.incident
    workflow.require(draft, by, "publish")
    if draft.approved_revision != draft.revision:
        raise Invalid("Only the approved revision can be published; approve the latest first.")
    if draft.is_heading:
        raise Invalid("A public title is published on its own, without promising a next update.")
    override_reason = checked_text(
        override_reason,
        model=PublishedUpdate,
        field="staff_first_override",
        label="The reason to publish before staff have heard",
    )
    # Decided once, before this update is recorded: afterwards it would count itself. A
    # correction fixes words the audience already has: it need not wait for staff.
    staff_first = draft.corrects_id is not None or staff_heard_first(draft)
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
    languages = translations.check_publishable(draft, missing_languages_reason)
    # The warnings the text carries as it goes out, checked before this update counts as one
    # the audience already had; the timeline keeps them for the after-action report.
    warnings = [f.code for f in selectors.findings_for(draft, body)]
    phase = CadencePhase.of(incident.clock().phase).value
    update = services.update_record(
        incident=incident,
        audience=draft.audience,
        summary=body,
        promised_next_at=promised_next_at,
        by=by,
    )
    update.channel, update.draft, update.revision = draft.channel, draft, draft.revision
    update.staff_first_override = "" if staff_first else override_reason
    update.corrects_id, update.correction_note = draft.corrects_id, draft.correction_note
    update.save(
        update_fields=[
            "channel",
            "draft",
            "revision",
            "staff_first_override",
            "corrects",
            "correction_note",
        ]
    )
    draft.state = S.PUBLISHED
    draft.save(update_fields=["state", "updated_at"])
    override = f"; staff-first overridden: {override_reason}" if update.staff_first_override else ""
    if differs:
        override += "; its text names another next-update time than the one promised"
    _log(
        draft,
        by,
        "draft.published",
        f"revision {draft.revision} published{override}",
        audience=draft.audience,
        channel=draft.channel,
        phase=phase,
        warnings=warnings,
    )
    if update.corrects_id:
        _log_correction(update, by)
    translations.publish_with(update, draft, languages, missing_languages_reason)
    _dispatch(update, policy_for(incident.district))
    subscriptions.queue_for(update)
    return update


def _log_correction(update: PublishedUpdate, by: User) -> None:
    """The timeline row the trust scorecard counts corrections by."""
    corrected = update.corrects
    zone = update.incident.district.zone
    timeline_append(
        incident=update.incident,
        kind="update.corrected",
        actor=by,
        summary=f"{Audience(update.audience).label} update of "
        f"{timezone.localtime(corrected.published_at, zone):%-I:%M %p} corrected: "
        f"{update.correction_note}",
        payload={
            "audience": update.audience,
            "update": corrected.pk,
            "correction": update.pk,
        },
    )


@transaction.atomic
def heading_publish(*, draft: Draft, by: User, expected_revision: int) -> PublicHeading:
    """Publish an approved public title and summary: from now on the status page and every
    outward email or text name the incident by it. It restarts no clock and sends nothing."""
    draft = _locked(draft, expected_revision)
    workflow.require(draft, by, "publish")
    if not draft.is_heading:
        raise Invalid("Only a public title and summary is published this way.")
    if draft.approved_revision != draft.revision:
        raise Invalid("Only the approved revision can be published; approve the latest first.")
    title, summary = public.parse_heading(draft.revisions.get(number=draft.revision).body)
    heading, _ = PublicHeading.objects.update_or_create(
        incident=draft.incident,
        defaults={
            "title": title,
            "summary": summary,
            "draft": draft,
            "revision": draft.revision,
            "published_by": by,
            "published_at": timezone.now(),
        },
    )
    draft.state = S.PUBLISHED
    draft.save(update_fields=["state", "updated_at"])
    _log(draft, by, "draft.published", f"public title published: {title}")
    return heading


def _dispatch(update: PublishedUpdate, policy: CommsPolicy) -> None:
    """Queue the update for each destination the district set for the audience."""
    destinations = {
        Channel.EMAIL: policy.email_lists.get(update.audience) or [],
        Channel.SMS: policy.sms_lists.get(update.audience) or [],
    }.get(update.channel, [])
    if isinstance(destinations, str):
        destinations = [destinations]
    targets = [(update.channel, dest) for dest in destinations]
    public_update = update.channel == Channel.WEB and update.audience in PUBLIC_AUDIENCES
    if policy.webhook_url and public_update:
        # What the status page shows is also posted, signed, to the district's own systems.
        targets.append((Dispatch.WEBHOOK, policy.webhook_url))
    status = Dispatch.Status.SUPPRESSED if update.incident.is_exercise else Dispatch.Status.PENDING
    rows = Dispatch.objects.bulk_create(
        [
            Dispatch(
                key=f"p{update.pk}:{channel}:{dest}"[:120],
                update=update,
                channel=channel,
                destination=dest,
                status=status,
            )
            for channel, dest in targets
        ]
    )
    queued = [row.pk for row in rows if row.status == Dispatch.Status.PENDING]
    if queued:
        from comms.tasks import deliver_dispatch

        # The publication is saved whether or not the broker answers, so a Redis outage must
        # not turn it into an error page; the requeue task sends these rows.
        transaction.on_commit(
            lambda: broker.hand_off(
                lambda: [deliver_dispatch.delay(pk) for pk in queued], "dispatches"
            )
        )


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
        # A public title taken back: the public sees the neutral title again.
        PublicHeading.objects.filter(draft=draft).delete()
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
