"""Pages for the rest of the district: academics, principals and the board, plus the
decision log and the private review of the response team."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from comms.briefing import briefing_incidents, briefings_of
from console import page
from console.views.answers import attempt, back_to
from console.views.incidents import incident_page
from incidents import decisions, guidance, guidance_rules, recovery, selectors
from incidents.access import (
    incident_for,
    require_dashboard,
    require_district_role,
    require_role,
)
from incidents.forms import (
    DecisionForm,
    FollowUpDoneForm,
    FollowUpForm,
    GuidanceForm,
    QuestionAnswerForm,
    QuestionAskForm,
    ReviewForm,
    SchoolForm,
    form_error_text,
)
from incidents.models import GuidanceVersion, Incident, Question, Role, User
from incidents.selectors import injects_for


def _refused_form(request: HttpRequest, form: forms.Form, page) -> HttpResponse:
    """The page the form sits on, with what was wrong, as 422: nothing was saved."""
    messages.error(request, form_error_text(form))
    response = page(request)
    response.status_code = 422
    return response


# --- Academics ----------------------------------------------------------------------------


@login_required
@require_GET
def academics_dashboard(request: HttpRequest) -> HttpResponse:
    """Per open incident: which version each school acknowledged, and questions to answer."""
    return _academics_page(request)


def _academics_page(request: HttpRequest) -> HttpResponse:
    read_only = require_dashboard(request.user, Role.ACADEMICS)
    now = timezone.now()
    steps = guidance_rules.steps_for(request.user)

    def render_blocks(missing):
        return {
            b["incident"].pk: loader.render_to_string(
                "incidents/_academics_block.html",
                {"b": b, "guidance_steps": steps, "csrf_token": page.TOKEN_SLOT},
            )
            for b in guidance.academics_blocks(missing, now)
        }

    blocks = page.kept_blocks(
        f"academics:{','.join(sorted(steps))}",
        list(selectors.open_incidents_for_district(request.user.district_id)),
        now,
        render_blocks,
        token=get_token(request),
    )
    return render(
        request,
        "incidents/academics.html",
        {"blocks": blocks, "now": now, "read_only": read_only, "guidance_steps": steps},
    )


@login_required
@require_http_methods(["GET", "POST"])
def guidance_edit(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request.user, incident_id)
    require_role(request.user, Role.ACADEMICS)
    form = GuidanceForm(request.POST or None, initial=guidance.starting_text(incident))
    status, error = 200, None
    if request.method == "POST":
        if form.is_valid():
            published = attempt(
                lambda: guidance.guidance_publish(
                    incident=incident, by=request.user, **form.cleaned_data
                )
            )
            error, status = published.error, published.status
            if not error:
                messages.success(
                    request, f"Version {published.value.number} published; principals were told."
                )
                return redirect("incidents:academics")
        else:
            error, status = "Nothing was published. Check the fields marked below.", 422
    return render(
        request,
        "incidents/guidance_edit.html",
        {
            "incident": incident,
            "form": form,
            "error": error,
            "history": GuidanceVersion.objects.filter(incident=incident).select_related("author"),
        },
        status=status,
    )


@login_required
@require_POST
def guidance_nudge(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request.user, incident_id)
    nudged = attempt(lambda: guidance.guidance_nudge(incident=incident, by=request.user))
    done = f"Reminded {len(nudged.value or [])} school(s)."
    return back_to(request, nudged.error, done, "incidents:academics")


@login_required
@require_POST
def question_answer(request: HttpRequest, question_id: int) -> HttpResponse:
    question = get_object_or_404(
        Question.objects.select_related("incident"),
        pk=question_id,
        incident__district_id=request.user.district_id,
    )
    form = QuestionAnswerForm(request.POST)
    if not form.is_valid():
        return _refused_form(request, form, _academics_page)
    answered = attempt(
        lambda: guidance.question_answer(question=question, by=request.user, **form.cleaned_data)
    )
    return back_to(request, answered.error, "Answer sent to the school.", "incidents:academics")


# --- Principals ---------------------------------------------------------------------------


@login_required
@require_GET
def school_guidance(request: HttpRequest) -> HttpResponse:
    """One page for a principal: the current guidance for their schools, what changed since
    they last acknowledged, the acknowledge button, and questions sent up."""
    return _principal_page(request)


def _principal_page(request: HttpRequest) -> HttpResponse:
    require_district_role(request.user, Role.PRINCIPAL)
    user = request.user
    my_schools = list(user.schools.order_by("name"))
    now = timezone.now()
    blocks = []
    states = guidance.guidance_states(
        guidance.incidents_for_principal(user), questions_from=my_schools
    )
    injects = injects_for([state.incident for state in states], Role.PRINCIPAL)
    for state in states:
        incident, current = state.incident, state.current
        affected = {s.pk for s in state.schools}
        statuses = [
            s for s in state.statuses() if s.school.pk in affected and s.school in my_schools
        ]
        seen = min((s.version or 0 for s in statuses), default=0)
        blocks.append(
            {
                "incident": incident,
                "clock": incident.clock(now),
                "current": current,
                "statuses": statuses,
                "changes": state.changes_since(seen or None),
                "questions": state.questions,
                "injects": injects[incident.pk],
            }
        )
    return render(
        request,
        "incidents/guidance.html",
        {"schools": my_schools, "blocks": blocks, "now": now},
    )


def _principal_incident(request: HttpRequest, incident_id: int) -> Incident:
    """An open incident that affects a school the principal leads. Any other number, closed,
    elsewhere in the district or in no district, is the same 404: a principal cannot tell
    which incidents exist."""
    require_district_role(request.user, Role.PRINCIPAL)
    incident = guidance.principal_incidents(request.user).filter(pk=incident_id).first()
    if incident is None:
        raise Http404("No open incident affecting your schools has that number.")
    return incident


@login_required
@require_POST
def guidance_acknowledge(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _principal_incident(request, incident_id)
    form = SchoolForm(request.POST, district=incident.district_id)
    if not form.is_valid():
        return _refused_form(request, form, _principal_page)
    school = form.cleaned_data["school"]
    ack = attempt(
        lambda: guidance.guidance_acknowledge(incident=incident, school=school, by=request.user)
    )
    ok = "" if ack.error else f"{school} acknowledged version {ack.value.version}. Thank you."
    return back_to(request, ack.error, ok, "incidents:guidance")


@login_required
@require_POST
def question_ask(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = _principal_incident(request, incident_id)
    form = QuestionAskForm(request.POST, district=incident.district_id)
    if not form.is_valid():
        return _refused_form(request, form, _principal_page)
    asked = attempt(
        lambda: guidance.question_ask(incident=incident, by=request.user, **form.cleaned_data)
    )
    return back_to(
        request, asked.error, "Question sent to the academic lead.", "incidents:guidance"
    )


# --- Decisions and the board --------------------------------------------------------------


@login_required
@require_POST
def decision_record(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request.user, incident_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _refused_form(request, form, lambda r: incident_page(r, incident_id))
    recorded = attempt(
        lambda: decisions.decision_record(incident=incident, by=request.user, **form.cleaned_data)
    )
    return back_to(
        request, recorded.error, "Decision recorded.", "incidents:detail", incident_id=incident.pk
    )


@login_required
@require_GET
def board_briefing(request: HttpRequest) -> HttpResponse:
    """The governance briefing: only approved words, decisions the board may see, and the
    next update. Read-only and printable."""
    preview = require_dashboard(request.user, Role.BOARD_LIAISON)
    now = timezone.now()

    def render_articles(missing):
        return {
            b.incident.pk: loader.render_to_string(
                "incidents/_briefing_article.html", {"b": b, "now": now}
            )
            for b in briefings_of(missing, now)
        }

    articles = page.kept_blocks(
        "briefing", briefing_incidents(request.user.district_id, now), now, render_articles
    )
    return render(
        request, "incidents/briefing.html", {"articles": articles, "now": now, "preview": preview}
    )


# --- Review -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def review_page(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request.user, incident_id)
    error, status = None, 200
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "action":
            form = FollowUpForm(request.POST, district=incident.district_id)
        elif which == "done":
            form = FollowUpDoneForm(request.POST, incident=incident)
        else:
            form = ReviewForm(request.POST)
        if not form.is_valid():
            error, status = form_error_text(form), 422
        else:
            data, by = form.cleaned_data, request.user
            saved = attempt(
                {
                    "action": lambda: recovery.followup_add(incident=incident, by=by, **data),
                    "done": lambda: recovery.followup_done(action=data["action"], by=by),
                }.get(which, lambda: recovery.review_save(incident=incident, by=by, **data))
            )
            if not saved.error:
                return back_to(
                    request, None, "Review saved.", "incidents:review", incident_id=incident.pk
                )
            error, status = saved.error, saved.status
    review = getattr(incident, "review", None) if recovery.review_open(incident) else None
    return render(
        request,
        "incidents/review.html",
        {
            "incident": incident,
            "open": recovery.review_open(incident),
            "review": review,
            "actions": review.actions.select_related("owner") if review else [],
            "people": User.objects.filter(district_id=incident.district_id, is_active=True),
            "error": error,
        },
        status=status,
    )
