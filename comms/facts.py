"""The fact sheet and the message templates filled from it.

The fact sheet is one set of facts every audience's message starts from, kept as revisions;
a new draft starts from the district's template for its audience, with the facts filled in.
"""

from __future__ import annotations

from django.db import transaction

from comms import services, workflow
from comms.models import (
    Audience,
    FactSheetRevision,
    MessageTemplate,
)
from incidents.errors import Conflict, Invalid, Refused
from incidents.models import District, Incident, Role, User
from incidents.text import checked_text
from incidents.timeline import timeline_append

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


def fact_sheet_current(incident: Incident) -> FactSheetRevision | None:
    return FactSheetRevision.objects.filter(incident=incident).order_by("-number").first()


@transaction.atomic
def fact_sheet_revise(
    *, incident: Incident, by: User, expected_number: int, **fields: str
) -> FactSheetRevision:
    """Save a new revision of the fact sheet. Refused if someone saved one in between."""
    if not workflow.may_speak_for(incident, by):
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
    services.audience_checked(audience)
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
