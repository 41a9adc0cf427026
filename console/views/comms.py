"""Communications and legal pages, and the forms that keep the update clocks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from comms import (
    discipline,
    drafters,
    drafts,
    facts,
    feeds,
    paragraphs,
    policy,
    public,
    selectors,
    services,
    translations,
    workflow,
)
from comms.forms import (
    AcknowledgeForm,
    CadenceChangeForm,
    CorrectForm,
    DraftCheckForm,
    DraftEditForm,
    DrafterForm,
    DraftNewForm,
    FactSheetForm,
    HeadingNewForm,
    NoteForm,
    NoticeGivenForm,
    ParagraphForm,
    PublishForm,
    TemplateForm,
    TemplateReviewForm,
    WithdrawForm,
)
from comms.models import (
    ApprovedParagraph,
    Draft,
    DraftRevision,
    FactSheetRevision,
    MessageTemplate,
    NoticeClock,
)
from console import page
from console.views.answers import Attempt, attempt, back_to
from console.views.incidents import incident_page, respond_to_change
from incidents.access import incident_for, require_dashboard
from incidents.errors import PromiseDiffers
from incidents.forms import form_error_text
from incidents.models import District, Role, School, User
from incidents.selectors import injects_for, open_incidents_for_district


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Per open incident: each audience's clock, and drafts by state with who they wait for."""
    read_only = require_dashboard(request.user, Role.COMMUNICATIONS)
    now = timezone.now()
    incidents = list(
        open_incidents_for_district(request.user.district_id).select_related("district")
    )

    def render_blocks(missing):
        return {
            block["incident"].pk: loader.render_to_string(
                "comms/_comms_block.html", {"block": block, "read_only": read_only}
            )
            for block in selectors.comms_blocks(missing, now)
        }

    blocks = page.kept_blocks(f"comms:{int(bool(read_only))}", incidents, now, render_blocks)
    return render(
        request, "comms/dashboard.html", {"blocks": blocks, "now": now, "read_only": read_only}
    )


@login_required
@require_GET
def legal_dashboard(request: HttpRequest) -> HttpResponse:
    """The review queue, statutory notice clocks and the log of every disclosure made."""
    return _legal_page(request)


def _legal_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    read_only = require_dashboard(request.user, Role.LEGAL)
    district_id = request.user.district_id
    now = timezone.now()
    incidents = open_incidents_for_district(district_id)
    injects = injects_for(incidents, Role.LEGAL)
    return render(
        request,
        "comms/legal.html",
        {
            "rows": [(incident, incident.clock(now)) for incident in incidents],
            "injects": [(i, injects[i.pk]) for i in incidents if injects[i.pk]],
            "queue": selectors.legal_queue(district_id),
            "notices": selectors.notices_open(district_id),
            "log": selectors.disclosure_log(district_id),
            "now": now,
            "read_only": read_only,
        },
        status=status,
    )


def _submit(request, incident_id: int, form, done: str, form_name: str, call) -> HttpResponse:
    """Validate ``form``, run ``call`` and answer with the cadence panel or a redirect."""
    error = None
    if not form.is_valid():
        error = "Nothing was saved. Check the fields marked below."
    else:
        error = attempt(lambda: call(form)).error
        if error:
            form.add_error(None, error)
    extra = {form_name: form} if error else {}
    return respond_to_change(
        request, incident_id, "cadence", error=error, done=done, cadence_error=error, **extra
    )


@login_required
@require_POST
def cadence_change(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request.user, incident_id)
    form = CadenceChangeForm(request.POST)

    def call(form):
        services.cadence_change(
            incident=incident,
            audience=form.cleaned_data["audience"],
            interval=form.cleaned_data["interval"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        )

    return _submit(request, incident_id, form, "Cadence changed.", "cadence_form", call)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The signed-in person's reminders and alerts. Opening the page marks them read."""
    notifications = list(selectors.inbox_for(request.user)[:100])
    unread = [n.pk for n in notifications if n.read_at is None]
    response = render(
        request, "comms/inbox.html", {"notifications": notifications, "unread": set(unread)}
    )
    services.notifications_mark_read(user=request.user, ids=unread, at=timezone.now())
    return response


class RevisionForm(forms.Form):
    expected_revision = forms.IntegerField(widget=forms.HiddenInput)


# --- Access -------------------------------------------------------------------------------


def draft_for(user, draft_id: int) -> Draft:
    """A draft of the user's district, for those who may read outward messages before they
    go out (``workflow.may_read``)."""
    draft = (
        Draft.objects.select_related("incident__district", "incident__owner", "corrects")
        .filter(pk=draft_id)
        .first()
    )
    if draft is None or draft.incident.district_id != user.district_id:
        raise Http404("No draft with that number in your district.")
    if not workflow.may_read(draft, user):
        raise PermissionDenied(
            "Drafts are for the CIO, the communications lead, the drafters they name and "
            "legal counsel."
        )
    return draft


# --- Fact sheet ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def fact_sheet(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request.user, incident_id)
    current = facts.fact_sheet_current(incident)
    initial = {name: getattr(current, name, "") for name in FactSheetRevision.FIELDS}
    initial["expected_number"] = current.number if current else 0
    form = FactSheetForm(request.POST or None, initial=initial)
    status, error = 200, None
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            expected = data.pop("expected_number")
            saved = attempt(
                lambda: facts.fact_sheet_revise(
                    incident=incident, by=request.user, expected_number=expected, **data
                )
            )
            if not saved.error:
                messages.success(request, "Fact sheet saved as a new revision.")
                return redirect("comms:facts", incident_id=incident.pk)
            status, error = saved.status, saved.error
        else:
            status, error = 422, "Nothing was saved. Check the fields marked below."
    return render(
        request,
        "comms/facts.html",
        {
            "incident": incident,
            "form": form,
            "error": error,
            "current": current,
            "history": incident.fact_sheets.select_related("author")[:50],
            "can_edit": workflow.may_speak_for(incident, request.user),
        },
        status=status,
    )


# --- Drafts -------------------------------------------------------------------------------


@login_required
@require_POST
def draft_new(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request.user, incident_id)
    form = DraftNewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an audience and a channel for the new draft.")
        return redirect("incidents:detail", incident_id=incident.pk)
    created = attempt(
        lambda: drafts.draft_create(incident=incident, by=request.user, **form.cleaned_data)
    )
    if created.error:
        return back_to(request, created.error, "", "incidents:detail", incident_id=incident.pk)
    return redirect("comms:draft", draft_id=created.value.pk)


@login_required
@require_POST
def heading_new(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Start a draft of the incident's public title and summary."""
    incident = incident_for(request.user, incident_id)
    if not HeadingNewForm(request.POST).is_valid():
        messages.error(request, "Use the button on the incident page to draft the public title.")
        return redirect("incidents:detail", incident_id=incident.pk)
    created = attempt(lambda: drafts.heading_draft_create(incident=incident, by=request.user))
    if created.error:
        return back_to(request, created.error, "", "incidents:detail", incident_id=incident.pk)
    return redirect("comms:draft", draft_id=created.value.pk)


def _editor(request, draft: Draft, *, status: int = 200, error: str | None = None, **forms):
    current = draft.revisions.get(number=draft.revision)
    body = forms["edit_form"]["body"].value() if "edit_form" in forms else current.body
    findings = selectors.findings_for(draft, body or "")
    acks = {a.code: a for a in current.acks.select_related("by")}
    user = request.user
    incident = draft.incident
    actions = workflow.allowed_actions(draft, user)
    next_steps = actions & workflow.NEXT_STEPS
    languages = translations.languages_of(draft)
    context = {
        "draft": draft,
        "incident": incident,
        "current": current,
        "findings": findings,
        "acks": acks,
        "segments": discipline.sms_segments(body or "") if draft.channel == "sms" else None,
        "revisions": draft.revisions.select_related("author"),
        "error": error,
        "actions": actions,
        "next_steps": next_steps,
        "waiting_for": workflow.WAITING_FOR.get(draft.state, ""),
        "flag_steps": [("flag", "Flag for legal review"), ("unflag", "Remove the legal flag")],
        "needs_legal": policy.needs_legal(
            draft, incident, policy.policy_for(incident.district), body=current.body
        ),
        "from_approved": policy.built_from_approved(draft, incident, current.body),
        "approved_paragraphs": paragraphs.approved_texts(incident.district_id)
        if "edit" in actions
        else [],
        "edit_form": forms.get("edit_form")
        or DraftEditForm(initial={"body": current.body, "expected_revision": draft.revision}),
        "note_form": forms.get("note_form")
        or NoteForm(initial={"expected_revision": draft.revision}),
        "publish_form": forms.get("publish_form")
        or PublishForm(incident=incident, initial={"expected_revision": draft.revision}),
        "staff_heard_first": draft.is_heading or drafts.staff_heard_first(draft),
        "languages": languages,
        "is_lead": translations.is_lead(user, draft),
        "draft_open": draft.state not in (Draft.State.PUBLISHED, Draft.State.WITHDRAWN),
        "languages_missing": [s for s in languages if s.state != "approved"],
        "translators": translations.translators(incident.district_id) if languages else [],
        "heading_layout": public.HEADING_LAYOUT,
    }
    return render(request, "comms/draft.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def draft_detail(request: HttpRequest, draft_id: int) -> HttpResponse:
    """The editor: the text, live discipline warnings, history, and the next step."""
    draft = draft_for(request.user, draft_id)
    if request.method == "GET":
        return _editor(request, draft)
    form = DraftEditForm(request.POST)
    if not form.is_valid():
        return _editor(
            request, draft, status=422, error="Nothing was saved. See below.", edit_form=form
        )
    saved = attempt(
        lambda: drafts.draft_edit(
            draft=draft,
            by=request.user,
            body=form.cleaned_data["body"],
            expected_revision=form.cleaned_data["expected_revision"],
        )
    )
    if saved.error:
        return _editor(request, draft, status=saved.status, error=saved.error, edit_form=form)
    messages.success(request, "Saved as a new revision.")
    return redirect("comms:draft", draft_id=draft.pk)


@login_required
@require_POST
def draft_check(request: HttpRequest, draft_id: int) -> HttpResponse:
    """Discipline warnings for the text in the editor, as the writer types."""
    draft = draft_for(request.user, draft_id)
    form = DraftCheckForm(request.POST)
    check_error, body = None, ""
    if form.is_valid():
        body = form.cleaned_data["body"]
    else:
        # Text that cannot be saved is said so where the warnings appear; the warnings are for
        # what the writer can keep (at most the first 10,000 characters, without NUL bytes).
        check_error = " ".join(form.errors["body"])
        body = request.POST.get("body", "")[: DraftRevision.MAX_BODY].replace("\x00", "")
    return render(
        request,
        "comms/draft.html#warnings",
        {
            "draft": draft,
            "findings": selectors.findings_for(draft, body),
            "acks": {},
            "live": True,
            "check_error": check_error,
            "segments": discipline.sms_segments(body) if draft.channel == "sms" else None,
        },
        status=422 if check_error else 200,
    )


@dataclass(frozen=True)
class Step:
    """How the editor takes one step of the workflow: the form it reads, the name the editor
    shows that form under when it comes back with an error, what it says when done, and the
    service call (draft, person, cleaned data, form)."""

    form: type[forms.Form]
    done: str
    call: Callable[[Draft, User, dict, forms.Form], object]
    form_name: str = "revision_form"


def _revision_step(service, done: str) -> Step:
    return Step(
        RevisionForm,
        done,
        lambda draft, by, d, f: service(
            draft=draft, by=by, expected_revision=d["expected_revision"]
        ),
    )


def _publish(draft: Draft, by: User, d: dict, form: PublishForm):
    if draft.is_heading:
        return drafts.heading_publish(draft=draft, by=by, expected_revision=d["expected_revision"])
    return drafts.draft_publish(
        draft=draft,
        by=by,
        expected_revision=d["expected_revision"],
        promised_next_at=form.promised_next_at(),
        override_reason=d.get("override_reason", ""),
        keep_promised_time=d.get("keep_promised_time", False),
        missing_languages_reason=d.get("missing_languages_reason", ""),
    )


# One row per step of ``workflow.STEPS`` taken from the editor's buttons; editing the text is
# the editor's own form (``draft_detail``).
STEPS = {
    "submit": _revision_step(drafts.draft_submit, "Sent for review."),
    "clear": _revision_step(drafts.draft_legal_clear, "Cleared by legal."),
    "approve": _revision_step(
        drafts.draft_approve, "Approved. Only this revision can be published."
    ),
    "flag": Step(
        RevisionForm,
        "Flagged for legal review.",
        lambda draft, by, d, f: drafts.draft_flag_legal(
            draft=draft, by=by, flagged=True, expected_revision=d["expected_revision"]
        ),
    ),
    "unflag": Step(
        RevisionForm,
        "Legal flag removed.",
        lambda draft, by, d, f: drafts.draft_flag_legal(
            draft=draft, by=by, flagged=False, expected_revision=d["expected_revision"]
        ),
    ),
    "return": Step(
        NoteForm,
        "Returned with your note.",
        lambda draft, by, d, f: drafts.draft_return(
            draft=draft,
            by=by,
            note=d["note"],
            expected_revision=d.get("expected_revision") or draft.revision,
        ),
        "note_form",
    ),
    "withdraw": Step(
        WithdrawForm,
        "Withdrawn.",
        lambda draft, by, d, f: drafts.draft_withdraw(draft=draft, by=by, reason=d["note"]),
        "note_form",
    ),
    "acknowledge": Step(
        AcknowledgeForm,
        "Warning acknowledged; your note is kept.",
        lambda draft, by, d, f: drafts.warning_acknowledge(
            draft=draft,
            by=by,
            code=d["code"],
            note=d["note"],
            expected_revision=d["expected_revision"],
        ),
        "ack_form",
    ),
    "publish": Step(PublishForm, "Published.", _publish, "publish_form"),
    "correct": Step(
        CorrectForm,
        "Correction started from the published text. Change what was wrong, then send it for "
        "review.",
        lambda draft, by, d, f: drafts.draft_correct(draft=draft, by=by, note=d["note"]),
        "note_form",
    ),
}


@login_required
@require_POST
def draft_action(request: HttpRequest, draft_id: int, action: str) -> HttpResponse:
    """One step of the workflow. Each names the revision it acts on."""
    draft = draft_for(request.user, draft_id)
    step = STEPS.get(action)
    if step is None:
        raise Http404("No such step.")
    extra = {"incident": draft.incident} if step.form is PublishForm else {}
    if step.form is PublishForm and draft.is_heading:
        # A public title promises no next update: publishing it names only the revision.
        extra = {"incident": draft.incident, "heading": True}
    form = step.form(request.POST, **extra)
    if not form.is_valid():
        # The step's form may not be on the page in the draft's state: name every error.
        return _editor(
            request, draft, status=422, error=form_error_text(form), **{step.form_name: form}
        )
    taken = attempt(lambda: step.call(draft, request.user, form.cleaned_data, form))
    if taken.error:
        # Offer the choice to keep the promised time only once the texts disagree.
        form.promise_differs = isinstance(taken.refusal, PromiseDiffers)
        draft.refresh_from_db()
        return _editor(
            request, draft, status=taken.status, error=taken.error, **{step.form_name: form}
        )
    messages.success(request, step.done)
    # A step that starts another draft (a correction) goes on to it.
    target = taken.value if isinstance(taken.value, Draft) else draft
    return redirect("comms:draft", draft_id=target.pk)


@login_required
@require_GET
def draft_export(request: HttpRequest, draft_id: int) -> HttpResponse:
    """The approved text as plain text, ready to paste into the mass-notification system."""
    draft = draft_for(request.user, draft_id)
    if draft.state not in (Draft.State.APPROVED, Draft.State.PUBLISHED):
        raise PermissionDenied("Only approved text can be exported.")
    body = draft.revisions.get(number=draft.approved_revision or draft.revision).body
    response = HttpResponse(body + "\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="incident-{draft.incident_id}-{draft.audience}-'
        f'{draft.channel}-r{draft.revision}.txt"'
    )
    return response


# --- Templates ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def templates_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.district_id is None or not user.has_role(Role.CIO, Role.COMMUNICATIONS, Role.LEGAL):
        raise PermissionDenied(
            "Message templates are for the CIO, the communications lead and legal counsel."
        )
    district = user.district
    form = TemplateForm(request.POST if request.POST.get("form") == "template" else None)
    paragraph_form = ParagraphForm(
        request.POST if request.POST.get("form") == "paragraph" else None
    )
    status, error = 200, None
    if request.method == "POST":
        if request.POST.get("form") == "review":
            review = TemplateReviewForm(request.POST, district=district)
            if not review.is_valid():
                raise Http404("No template with that number in your district.")
            template = review.cleaned_data["template"]
            saved = attempt(lambda: facts.template_mark_reviewed(template=template, by=user))
            done = "Marked as reviewed by legal."
        elif request.POST.get("form") == "paragraph":
            paragraph_form = ParagraphForm(request.POST)
            if paragraph_form.is_valid():
                saved = attempt(
                    lambda: paragraphs.paragraph_approve(
                        district=district, by=user, text=paragraph_form.cleaned_data["text"]
                    )
                )
            else:
                saved = Attempt(error=form_error_text(paragraph_form), status=422)
            done = "Paragraph approved: drafts made only of approved paragraphs skip review."
        elif request.POST.get("form") == "retire":
            raw = request.POST.get("paragraph", "")
            retired = (
                ApprovedParagraph.objects.filter(district=district, pk=int(raw)).first()
                if raw.isdigit()
                else None
            )
            if retired is None:
                raise Http404("No approved paragraph with that number in your district.")
            saved = attempt(lambda: paragraphs.paragraph_retire(paragraph=retired, by=user))
            done = "Approval withdrawn: drafts using that paragraph need legal review again."
        elif form.is_valid():
            saved = attempt(
                lambda: facts.template_save(district=district, by=user, **form.cleaned_data)
            )
            done = "Template saved."
        else:
            saved = Attempt(error="Nothing was saved. Check the fields marked below.", status=422)
        if not saved.error:
            return back_to(request, None, done, "comms:templates")
        status, error = saved.status, saved.error
    return render(
        request,
        "comms/templates.html",
        {
            "templates": MessageTemplate.objects.filter(district=district).select_related(
                "reviewed_by"
            ),
            "form": form,
            "error": error,
            "can_write": user.has_role(Role.CIO, Role.COMMUNICATIONS),
            "is_legal": user.has_role(Role.LEGAL),
            "paragraphs": ApprovedParagraph.objects.filter(
                district=district, retired_at__isnull=True
            ).select_related("approved_by"),
            "paragraph_form": paragraph_form,
        },
        status=status,
    )


# --- Legal --------------------------------------------------------------------------------


@login_required
@require_POST
def notice_given(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = get_object_or_404(
        NoticeClock.objects.select_related("incident"),
        pk=notice_id,
        incident__district_id=request.user.district_id,
    )
    form = NoticeGivenForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _legal_page(request, status=422)
    given = attempt(
        lambda: policy.notice_mark_given(
            notice=notice, by=request.user, note=form.cleaned_data["note"]
        )
    )
    return back_to(request, given.error, "Notice recorded as given.", "comms:legal")


# --- Public status page -------------------------------------------------------------------


def _public_district(slug: str) -> District:
    return get_object_or_404(District.objects.select_related("policy"), slug=slug)


# How long a proxy or browser may reuse a public page, and may keep serving it while it
# fetches the next one in the background.
PUBLIC_MAX_AGE = 30
PUBLIC_STALE = 60


def _public_page(
    request: HttpRequest,
    slug: str,
    name: str,
    render,
    content_type: str = "text/html; charset=utf-8",
    *,
    absolute_links: bool = False,
    negotiated: bool = False,
    district: District | None = None,
) -> HttpResponse:
    """A public page, rendered once per version of what it shows in each web process (not
    per request), with an ETag and Last-Modified so that a conditional GET is answered 304
    and a proxy or CDN can carry the load. ``render(district, now)`` returns the HTML and
    when what it shows last changed, or raises Http404."""
    district = district or _public_district(slug)
    now = timezone.now()
    version = public.status_version(district, timezone.localdate(now, district.zone))
    # Each page of a version has its own tag; one with absolute links, its host's too.
    host = request.get_host() if absolute_links else ""
    tag = hashlib.sha256(f"{version}|{name}|{host}".encode()).hexdigest()[:32]
    etag = f'"{tag}"'
    key = f"public:{district.pk}:{tag}"
    kept = caches["panels"].get(key)
    if kept is None:
        kept = render(district, now)
        caches["panels"].set(key, kept, timeout=600)
    html, since = kept
    response = get_conditional_response(
        request, etag=etag, last_modified=int(since.timestamp())
    ) or HttpResponse(html, content_type=content_type)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(since.timestamp())
    patch_cache_control(
        response, public=True, max_age=PUBLIC_MAX_AGE, stale_while_revalidate=PUBLIC_STALE
    )
    response["Vary"] = "Accept-Encoding"
    if negotiated:
        # Its language came from the browser's languages or the remembered choice.
        response["Vary"] = "Accept-Encoding, Accept-Language, Cookie"
        response["Content-Language"] = name.rsplit(":", 1)[-1]
        response.varies_by_language = True
    # Nothing of the reader's goes into it: PublicPageMiddleware keeps cookies off it.
    response.public_page = True
    return response


# The cookie that remembers a family's choice of language on the status pages.
LANGUAGE_COOKIE = "status_lang"


def page_language(request: HttpRequest, district: District) -> tuple[str, bool]:
    """The language of a status page: ``?lang=``, else the remembered choice, else the
    browser's Accept-Language, among English and the district's languages. Also whether the
    answer depended on the request's headers (a page without ``?lang=``)."""
    offered = translations.offered_languages(district)
    asked = request.GET.get("lang", "")
    if asked in offered:
        return asked, False
    if len(offered) == 1:
        return "en", False
    remembered = request.COOKIES.get(LANGUAGE_COOKIE, "")
    if remembered in offered:
        return remembered, True
    return translations.negotiate(request.headers.get("Accept-Language", ""), offered), True


def language_context(request: HttpRequest, district: District, language: str, path: str):
    offered = translations.offered_languages(district)
    switch = reverse("status-language", args=[district.slug])
    # The page's own words are in the reader's language where the console has them
    # (locale/), else in English; each update's text carries its own language.
    words = translations.words_language(language)
    return {
        "reader_language": language,
        "page_language": words,
        "page_direction": translations.direction_of(words),
        "languages": [
            {
                "code": code,
                "name": translations.name_of(code),
                "url": f"{switch}?lang={code}&next={path}",
                "current": code == language,
            }
            for code in offered
        ]
        if len(offered) > 1
        else [],
    }


def _render_public(template: str, district, language: str, context: dict) -> str:
    with (
        timezone.override(district.zone),
        translation.override(translations.words_language(language)),
    ):
        return loader.render_to_string(template, {"district": district, **context})


@require_GET
def status_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The district's status page: what is affected now, the newest public updates, and the
    incidents resolved in the last 90 days. No sign-in; only reviewed public words, in the
    reader's language where the district approved a translation."""
    district = _public_district(slug)
    language, negotiated = page_language(request, district)

    def render_page(district, now):
        active, resolved, feed = public.public_status(district, now)
        public.in_language(feed + [p.updates[0] for p in resolved if p.updates], language)
        html = _render_public(
            "comms/status.html",
            district,
            language,
            {
                "active": active,
                "resolved": resolved,
                "feed": feed,
                "schools": list(district.schools.all()),
                **language_context(request, district, language, request.path),
            },
        )
        return html, public.last_changed(active + resolved)

    return _public_page(
        request, slug, f"status:{language}", render_page, negotiated=negotiated, district=district
    )


@require_GET
def status_incident(request: HttpRequest, slug: str, incident_id: int) -> HttpResponse:
    """One incident's public updates, newest first, with the next update promised."""
    district = _public_district(slug)
    language, negotiated = page_language(request, district)

    def render_page(district, now):
        active, resolved, _ = public.public_status(district, now)
        shown = next((p for p in active + resolved if p.incident.pk == incident_id), None)
        if shown is None:
            raise Http404("The district has published nothing about this.")
        public.in_language(shown.updates, language)
        html = _render_public(
            "comms/status_incident.html",
            district,
            language,
            {"shown": shown, **language_context(request, district, language, request.path)},
        )
        return html, public.last_changed([shown])

    return _public_page(
        request,
        slug,
        f"incident:{incident_id}:{language}",
        render_page,
        negotiated=negotiated,
        district=district,
    )


@require_GET
def status_language(request: HttpRequest, slug: str) -> HttpResponse:
    """Remember a family's choice of language for the status pages, and go back to the page
    in it. Any other destination than the district's status pages is refused, and a language
    the district does not publish in changes nothing."""
    district = _public_district(slug)
    offered = translations.offered_languages(district)
    language = request.GET.get("lang", "")
    back = request.GET.get("next", "")
    home = reverse("status-page", args=[district.slug])
    if not back.startswith(home) or "//" in back or "\\" in back:
        back = home
    if language not in offered:
        return redirect(back)
    response = redirect(f"{back}?lang={language}")
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
    )
    return response


def _incident_url(request: HttpRequest, district: District):
    return lambda item: request.build_absolute_uri(
        reverse("status-incident", args=[district.slug, item.incident.pk])
    )


@require_GET
def status_feed(request: HttpRequest, slug: str) -> HttpResponse:
    """The district's public updates as an Atom feed."""

    def render_feed(district, now):
        active, resolved, _ = public.public_status(district, now)
        link = request.build_absolute_uri(reverse("status-page", args=[district.slug]))
        return feeds.atom(
            district=district,
            shown=active + resolved,
            title=f"{district.name}: service status",
            link=link,
            url_of=_incident_url(request, district),
        ), public.last_changed(active + resolved)

    return _public_page(request, slug, "feed", render_feed, ATOM, absolute_links=True)


@require_GET
def status_school_feed(request: HttpRequest, slug: str, school_id: int) -> HttpResponse:
    """The public updates about incidents affecting one school, as an Atom feed."""

    def render_feed(district, now):
        school = get_object_or_404(School, district=district, pk=school_id)
        active, resolved, _ = public.public_status(district, now)
        shown = [item for item in active + resolved if feeds.affects(item, school)]
        link = request.build_absolute_uri(reverse("status-page", args=[district.slug]))
        return feeds.atom(
            district=district,
            shown=shown,
            title=f"{school.name}: service status",
            link=link,
            url_of=_incident_url(request, district),
        ), public.last_changed(shown)

    return _public_page(request, slug, f"feed:{school_id}", render_feed, ATOM, absolute_links=True)


@require_GET
def status_json(request: HttpRequest, slug: str) -> HttpResponse:
    """The district's current status as a small, versioned JSON document for its website."""

    def render_json(district, now):
        active, resolved, _ = public.public_status(district, now)
        updated = public.last_changed(active + resolved)
        return feeds.status_json(
            district=district,
            active=active,
            resolved=resolved,
            url_of=_incident_url(request, district),
            updated=updated,
        ), updated

    return _public_page(request, slug, "json", render_json, "application/json", absolute_links=True)


ATOM = "application/atom+xml; charset=utf-8"


@login_required
@require_POST
def drafter_change(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Name or remove a drafter for the incident."""
    incident = incident_for(request.user, incident_id)
    form = DrafterForm(request.POST, district=incident.district_id)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return incident_page(request, incident.pk, status=422)
    person = form.cleaned_data["user"]
    change = drafters.drafter_remove if form.cleaned_data["remove"] else drafters.drafter_name
    changed = attempt(lambda: change(incident=incident, by=request.user, user=person))
    return back_to(
        request, changed.error, "Drafters updated.", "incidents:detail", incident_id=incident.pk
    )
