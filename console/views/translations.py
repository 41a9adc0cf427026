"""Translations: the translator's list of what was sent to them, the page where they write
it, and the communications lead's steps (send a draft for translation, approve one).

A translator sees only the translations sent to them: any other answers 404, so the page
does not tell them that a draft exists.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from comms import machine, translations
from comms.models import Draft, Translation, TranslationRevision
from console.views.answers import attempt, back_to
from console.views.comms import draft_for
from incidents.models import Role, User
from incidents.text import limit


class TranslationForm(forms.Form):
    body = forms.CharField(
        label="The translation",
        max_length=limit(TranslationRevision, "body"),
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": "Write the translation before saving it."},
    )
    expected_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class TranslationApproveForm(forms.Form):
    expected_revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    reader_checked = forms.BooleanField(required=False)


class TranslationRequestForm(forms.Form):
    language = forms.CharField(max_length=20)
    translator = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="The communications lead"
    )

    def __init__(self, *args, district_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["translator"].queryset = translations.translators(district_id)


def _translation_for(user: User, translation_id: int) -> Translation:
    translation = (
        Translation.objects.select_related("draft__incident__district", "translator")
        .filter(pk=translation_id, draft__incident__district_id=user.district_id)
        .first()
    )
    if translation is None or not translations.may_write(translation, user):
        raise Http404("No translation with that number was sent to you.")
    return translation


@login_required
@require_GET
def translation_list(request: HttpRequest) -> HttpResponse:
    """What was sent to this person for translation, open drafts first."""
    user = request.user
    if not user.has_role(Role.TRANSLATOR, Role.COMMUNICATIONS):
        raise PermissionDenied("The translations are for translators and the communications lead.")
    mine = (
        Translation.objects.filter(translator=user, draft__incident__district_id=user.district_id)
        .select_related("draft__incident")
        .order_by("-requested_at")
    )
    rows = []
    for translation in mine:
        draft = translation.draft
        latest = translation.revisions.order_by("-number").first()
        rows.append(
            {
                "translation": translation,
                "draft": draft,
                "language": translations.english_name_of(translation.language),
                "state": translations.STATE_LABELS[
                    translations.state_of(draft, translation, latest)
                ]
                if draft.state not in (Draft.State.PUBLISHED, Draft.State.WITHDRAWN)
                else draft.get_state_display(),
            }
        )
    return render(request, "comms/translations.html", {"rows": rows})


def _page(request, translation: Translation, *, form=None, status=200, error=None):
    draft = translation.draft
    latest = translation.revisions.order_by("-number").first()
    source = draft.revisions.get(number=draft.revision)
    context = {
        "translation": translation,
        "draft": draft,
        "source": source,
        "latest": latest,
        "state": translations.state_of(draft, translation, latest),
        "changes": translations.source_changes(translation),
        "language": translations.english_name_of(translation.language),
        "native": translations.name_of(translation.language),
        "direction": translations.direction_of(translation.language),
        "open": draft.state not in (Draft.State.PUBLISHED, Draft.State.WITHDRAWN),
        "checks": translations.checks_for(
            source.body, latest.body if latest else "", translation.language, draft.channel
        )
        if latest
        else [],
        "machine": machine.available(),
        "error": error,
        "form": form
        or TranslationForm(
            initial={
                "body": latest.body if latest else "",
                "expected_revision": translation.revision,
            }
        ),
    }
    return render(request, "comms/translation.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def translation_detail(request: HttpRequest, translation_id: int) -> HttpResponse:
    """The English as it stands, what changed in it since the translation was written, and
    the translation to write."""
    translation = _translation_for(request.user, translation_id)
    if request.method == "GET":
        return _page(request, translation)
    form = TranslationForm(request.POST)
    if not form.is_valid():
        return _page(request, translation, form=form, status=422, error="Nothing was saved.")
    saved = attempt(
        lambda: translations.translation_write(
            translation=translation,
            by=request.user,
            body=form.cleaned_data["body"],
            expected_revision=form.cleaned_data["expected_revision"],
        )
    )
    if saved.error:
        if saved.status == 403:
            raise PermissionDenied(saved.error)
        return _page(request, translation, form=form, status=saved.status, error=saved.error)
    return back_to(
        request, None, "Translation saved.", "comms:translation", translation_id=translation.pk
    )


@login_required
@require_POST
def translation_request(request: HttpRequest, draft_id: int) -> HttpResponse:
    """The communications lead sends a draft to a translator for one language."""
    draft = draft_for(request.user, draft_id)
    form = TranslationRequestForm(request.POST, district_id=draft.incident.district_id)
    if not form.is_valid():
        error = "Choose a language and a translator of the district."
    else:
        error = attempt(
            lambda: translations.translation_request(
                draft=draft,
                by=request.user,
                language=form.cleaned_data["language"],
                translator=form.cleaned_data["translator"],
            )
        ).error
    if error and not request.user.has_role(Role.COMMUNICATIONS):
        raise PermissionDenied(error)
    return back_to(request, error, "Sent for translation.", "comms:draft", draft_id=draft.pk)


@login_required
@require_POST
def translation_approve(request: HttpRequest, translation_id: int) -> HttpResponse:
    """The communications lead approves a translation for the draft's current revision."""
    translation = _translation_for(request.user, translation_id)
    form = TranslationApproveForm(request.POST)
    if not form.is_valid():
        raise Http404("Approve from the draft's page.")
    approved = attempt(
        lambda: translations.translation_approve(
            translation=translation,
            by=request.user,
            expected_revision=form.cleaned_data["expected_revision"],
            reader_checked=form.cleaned_data["reader_checked"],
        )
    )
    if approved.status == 403:
        raise PermissionDenied(approved.error)
    return back_to(
        request,
        approved.error,
        f"{translations.english_name_of(translation.language)} approved for revision "
        f"{translation.draft.revision}.",
        "comms:draft",
        draft_id=translation.draft_id,
    )


@login_required
@require_POST
def translation_machine(request: HttpRequest, translation_id: int) -> HttpResponse:
    """Start the translation from the server's machine translation, marked as such."""
    translation = _translation_for(request.user, translation_id)
    form = TranslationApproveForm(request.POST)
    if not form.is_valid():
        raise Http404("Ask for a machine draft from the translation's page.")
    drafted = attempt(
        lambda: translations.translation_machine_draft(
            translation=translation,
            by=request.user,
            expected_revision=form.cleaned_data["expected_revision"],
        )
    )
    return back_to(
        request,
        drafted.error,
        "Machine draft saved. Read it and correct it before it is approved.",
        "comms:translation",
        translation_id=translation.pk,
    )
