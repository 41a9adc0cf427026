"""A district's communications policy: which messages need legal review, where approved
updates are delivered, and the statutory notice clocks of a student-data incident."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from comms import paragraphs, webhook
from comms.models import (
    CommsPolicy,
    Draft,
    NoticeClock,
)
from incidents.errors import Invalid, Refused
from incidents.models import District, Incident, Role, User
from incidents.text import checked_text
from incidents.timeline import timeline_append


def policy_for(district: District) -> CommsPolicy:
    """The district's communications policy, saved when the district was set up. Reading
    never writes: a district without one reads the defaults."""
    return CommsPolicy.objects.filter(district=district).first() or CommsPolicy(district=district)


def needs_legal(
    draft: Draft, incident: Incident, policy: CommsPolicy, *, body: str | None = None
) -> bool:
    """Legal review applies when flagged, or by the district's rules for the audience and for
    student-data incidents. A template legal reviewed ahead of time covers the audience rule.
    A correction of an update legal cleared changes words legal reviewed: it goes back to legal.
    A draft built only from paragraphs legal approved (``comms.paragraphs``) needs none unless
    flagged. ``body`` is the draft's current text, read when not given."""
    if draft.flagged_for_legal:
        return True
    if built_from_approved(draft, incident, body):
        return False
    if draft.corrects_id and _legal_cleared(draft.corrects):
        return True
    if student_data_rule(policy, draft.audience, draft.channel) and (
        Incident.Impact.STUDENT_DATA in incident.impacts
    ):
        return True
    return draft.audience in policy.legal_audiences and not draft.from_pre_reviewed_template


def built_from_approved(draft: Draft, incident: Incident, body: str | None = None) -> bool:
    """Whether the draft's current text is made only of paragraphs legal approved."""
    approved = paragraphs.approved_texts(incident.district_id)
    if not approved:
        return False
    if body is None:
        body = draft.revisions.get(number=draft.revision).body
    return paragraphs.built_from(body, approved)


def student_data_rule(policy: CommsPolicy, audience: str, channel: str) -> bool:
    """Whether the district's rule for student-data incidents covers this audience and
    channel: a two-line staff text can go out without counsel while families' emails wait."""
    return (
        policy.student_data_needs_legal
        and audience in policy.student_data_audiences
        and channel in policy.student_data_channels
    )


def _legal_cleared(update) -> bool:
    original = update.draft
    return original is not None and original.legal_cleared_revision == update.revision


@transaction.atomic
def policy_set(*, district: District, by: User, **values) -> CommsPolicy:
    """The CIO sets the district's rules for legal review, notices and delivery lists."""
    if by.district_id != district.pk or not by.has_role(Role.CIO):
        raise Refused("Only the district's CIO sets the communications policy.")
    policy = CommsPolicy.objects.select_for_update().get_or_create(district=district)[0]
    for name, value in values.items():
        setattr(policy, name, value)
    if policy.webhook_url and not policy.webhook_secret:
        # The receiver checks each post's signature with it (comms.webhook).
        policy.webhook_secret = webhook.new_secret()
    policy.save()
    return policy


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
