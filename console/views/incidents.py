"""Incident pages. Each view loads, checks access, calls one service and renders."""

from __future__ import annotations

import sys

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from comms import policy as comms_policy
from comms import services as comms_services
from comms.forms import CadenceDefaultsForm, CommsPolicyForm
from comms.selectors import district_intervals
from console import page
from console.views.answers import attempt, back_to
from incidents import duties, selectors, services
from incidents.access import incident_for, require_district_role, require_role
from incidents.forms import DutyFormSet, IncidentOpenForm, RoleAssignForm
from incidents.models import RESPONSE_TEAM_ROLES, IncidentDuty, Role
from incidents.text import spreadsheet_safe

# Where each role lands after signing in, in order of precedence for people with several.
HOME_BY_ROLE: list[tuple[str, str]] = [
    (Role.CIO, "incidents:list"),
    (Role.COMMUNICATIONS, "comms:dashboard"),
    (Role.LEGAL, "comms:legal"),
    (Role.ACADEMICS, "incidents:academics"),
    (Role.TECHNICAL, "incidents:list"),
    (Role.BOARD_LIAISON, "incidents:briefing"),
    (Role.PRINCIPAL, "incidents:guidance"),
    (Role.TRANSLATOR, "comms:translations"),
    (Role.FACILITATOR, "exercises:control"),
]


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    for role, url_name in HOME_BY_ROLE:
        if request.user.has_role(role) and request.user.district_id:
            return redirect(url_name)
    raise PermissionDenied(
        "Your account has no role in a district yet. Ask your district's CIO to add you."
    )


@login_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    require_district_role(request.user, *RESPONSE_TEAM_ROLES)
    incidents = selectors.incidents_for_district(request.user.district_id)
    return render(
        request,
        "incidents/incident_list.html",
        {
            "incidents": incidents,
            "can_open": request.user.has_role(Role.CIO),
            "now": timezone.now(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    require_district_role(request.user, Role.CIO)
    district = request.user.district
    form = IncidentOpenForm(request.POST or None, district=district)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            opened = attempt(
                lambda: services.incident_open(by=request.user, **form.service_kwargs())
            )
            if not opened.error:
                messages.success(request, "Incident declared. The phase clock has started.")
                return redirect("incidents:detail", incident_id=opened.value.pk)
            form.add_error(None, opened.error)
        status = 422
    return render(request, "incidents/incident_new.html", {"form": form}, status=status)


def incident_page_context(request: HttpRequest, incident_id: int, **forms) -> dict:
    """The incident page's context for the signed-in person."""
    # The public title shows in the messages panel; it comes with the incident's row.
    incident = incident_for(
        request.user,
        incident_id,
        selectors.incident_detail_queryset().select_related("public_heading"),
    )
    drafters = list(incident.drafters.select_related("user"))
    viewer = page.viewer_for(request.user, incident, {d.user_id for d in drafters})
    return page.incident_context(incident, viewer, timezone.now(), drafters, **forms)


def render_panel(
    request: HttpRequest, incident_id: int, panel: str, *, error: bool = False, **extra
) -> HttpResponse:
    """The changed panel of the incident page and, after a change, every other panel out of
    band in the same answer: one request brings the person's page up to date, the socket
    tells everyone else, and nothing is fetched twice."""
    context = incident_page_context(request, incident_id, **extra)
    context.update(extra)
    html = loader.render_to_string(f"incidents/incident_detail.html#{panel}", context, request)
    if not error:
        context["oob"] = True
        html += "".join(
            loader.render_to_string(f"incidents/incident_detail.html#{other}", context, request)
            for other in page.PANELS
            if other != panel
        )
    return HttpResponse(html, status=422 if error else 200)


@login_required
@require_GET
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    return incident_page(request, incident_id)


def incident_page(request: HttpRequest, incident_id: int, *, status: int = 200) -> HttpResponse:
    """The whole incident page; forms posted from it that fail come back to it."""
    context = incident_page_context(request, incident_id)
    if request.method == "GET":
        context["panel_cache"] = page.PanelCache(context["incident"], context["now"])
    return render(request, "incidents/incident_detail.html", context, status=status)


@login_required
@require_POST
def incident_role_assign(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request.user, incident_id)
    form = RoleAssignForm(request.POST, district=incident.district)
    error = None
    if not form.is_valid():
        error = " ".join(m for errors in form.errors.values() for m in errors)
    else:
        error = attempt(
            lambda: services.incident_role_assign(
                incident=incident,
                function=form.cleaned_data["function"],
                user=form.cleaned_data["user"],
                by=request.user,
            )
        ).error
    return respond_to_change(
        request, incident_id, "roles", error=error, done="Role assignment saved.", role_error=error
    )


def respond_to_change(
    request: HttpRequest, incident_id: int, panel: str, *, error: str | None, done: str, **extra
) -> HttpResponse:
    """htmx: the changed panel, and the other panels told to refresh. Otherwise: back to the
    incident page with a message, so the page works without JavaScript."""
    if request.htmx:
        return render_panel(request, incident_id, panel, error=bool(error), **extra)
    return back_to(request, error, done, "incidents:detail", incident_id=incident_id)


def _apply(request: HttpRequest, incident_id: int, panel: str, done: str, change) -> HttpResponse:
    """Run one service for the incident page; refusals of role become 403s."""
    incident = incident_for(request.user, incident_id)
    error = attempt(lambda: change(incident)).error
    return respond_to_change(
        request, incident_id, panel, error=error, done=done, **{f"{panel}_error": error}
    )


@login_required
@require_POST
def duty_done(request: HttpRequest, incident_id: int, duty_id: int) -> HttpResponse:
    def change(incident):
        duty = get_object_or_404(IncidentDuty, pk=duty_id, incident=incident)
        duties.duty_mark_done(duty=duty, by=request.user)

    return _apply(request, incident_id, "duties", "Duty marked done.", change)


TRANSITIONS = {
    "restored": (services.incident_mark_restored, "Systems marked restored."),
    "recovery": (services.incident_enter_recovery, "The incident is in Recovery."),
    "close": (services.incident_close, "The incident is closed."),
}


@login_required
@require_POST
def incident_transition(request: HttpRequest, incident_id: int, action: str) -> HttpResponse:
    if action not in TRANSITIONS:
        raise Http404("No such action.")
    service, done = TRANSITIONS[action]
    return _apply(
        request,
        incident_id,
        "clock",
        done,
        lambda incident: service(incident=incident, by=request.user),
    )


def render_open_incidents(request: HttpRequest, role: str, template: str, **extra) -> HttpResponse:
    require_district_role(request.user, role)
    incidents = list(selectors.open_incidents_for_district(request.user.district_id))
    now = timezone.now()
    rows = [(incident, incident.clock(now)) for incident in incidents]
    return render(request, template, {"rows": rows, "now": now, **extra})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else "You do not have access here."
    return render(request, "403.html", {"message": message}, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """A 500, or a 503 when the database is out of reach: that passes, so say when to retry.

    Rendered without the request's context: the context processors would ask the database.
    """
    failure = sys.exc_info()[1]
    if isinstance(failure, OperationalError | InterfaceError):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = "5"
        return response
    return HttpResponse(loader.render_to_string("500.html"), status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request the console will not read: a file, too many fields, too large a body."""
    if isinstance(exception, TooManyFilesSent):
        message = "The console accepts no file uploads."
    elif isinstance(exception, TooManyFieldsSent):
        message = "The form sent far more fields than any page of the console has."
    elif isinstance(exception, RequestDataTooBig):
        message = "The form sent more than the console accepts (1 MB)."
    else:
        message = "The console could not read this request."
    return render(request, "400.html", {"message": message}, status=400)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The URL resolver's own 404 carries a dict of the patterns tried: never show that.
    args = getattr(exception, "args", ())
    message = args[0] if args and isinstance(args[0], str) else "There is no page here."
    return render(request, "404.html", {"message": message}, status=404)


@login_required
@require_http_methods(["GET", "POST"])
def district_settings(request: HttpRequest) -> HttpResponse:
    """The CIO's standing setup: the phase checklist and the default update cadence."""
    require_district_role(request.user, Role.CIO)
    district = request.user.district
    current = duties.district_duties(district)
    initial = [
        {"title": d.title, "due_minutes": d.due_minutes, "trigger": d.trigger} for d in current
    ]
    intervals = district_intervals(district.pk)
    which = request.POST.get("form") if request.method == "POST" else None
    duty_set = DutyFormSet(request.POST if which == "duties" else None, initial=initial)
    cadence = CadenceDefaultsForm(
        request.POST if which == "cadence" else None, initial_intervals=intervals
    )
    saved_policy = comms_policy.policy_for(district)
    policy = CommsPolicyForm(
        request.POST if which == "policy" else None,
        initial=CommsPolicyForm.initial_from(saved_policy),
    )
    status = 200
    if which == "duties":
        if duty_set.is_valid():
            rows = [
                (f.cleaned_data["title"], f.cleaned_data["due_minutes"], f.cleaned_data["trigger"])
                for f in duty_set.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            saved = attempt(
                lambda: duties.district_duties_replace(
                    district=district, by=request.user, rows=rows
                )
            )
            if not saved.error:
                messages.success(request, "Phase checklist saved. New incidents will use it.")
                return redirect("incidents:settings")
            duty_set._non_form_errors = duty_set.error_class([saved.error])
        status = 422
    elif which == "policy":
        if policy.is_valid():
            comms_policy.policy_set(district=district, by=request.user, **policy.policy_values())
            messages.success(request, "Communications policy saved.")
            return redirect("incidents:settings")
        status = 422
    elif which == "cadence":
        if cadence.is_valid():
            comms_services.cadence_defaults_set(
                district=district, by=request.user, intervals=cadence.intervals()
            )
            messages.success(request, "Default cadence saved.")
            return redirect("incidents:settings")
        status = 422
    return render(
        request,
        "incidents/settings.html",
        {
            "duty_set": duty_set,
            "cadence": cadence,
            "policy": policy,
            "webhook_secret": saved_policy.webhook_secret if saved_policy.webhook_url else "",
        },
        status=status,
    )


AUDIT_FIELDS = ["sequence", "at", "kind", "actor", "summary", "payload"]


@login_required
@require_GET
def timeline_export(request: HttpRequest, incident_id: int, fmt: str) -> HttpResponse:
    """The whole timeline as CSV or JSON, for legal counsel's records. Times are UTC."""
    import csv
    import json

    if fmt not in ("csv", "json"):
        raise Http404("The timeline exports as .csv or .json.")
    incident = incident_for(request.user, incident_id)
    require_role(request.user, Role.LEGAL, Role.CIO)
    rows = [
        {
            "sequence": entry.sequence,
            "at": entry.at.isoformat(),
            "kind": entry.kind,
            "actor": str(entry.actor) if entry.actor else "",
            "summary": entry.summary,
            "payload": entry.payload,
        }
        for entry in incident.timeline.select_related("actor").order_by("sequence")
    ]
    name = f"incident-{incident.pk}-timeline"
    if fmt == "json":
        response = HttpResponse(
            json.dumps(
                {"incident": incident.pk, "title": incident.title, "timeline": rows}, indent=2
            ),
            content_type="application/json",
        )
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.DictWriter(response, fieldnames=AUDIT_FIELDS)
        writer.writeheader()
        for row in rows:
            cells = {**row, "payload": json.dumps(row["payload"])}
            writer.writerow(
                {k: spreadsheet_safe(v) if isinstance(v, str) else v for k, v in cells.items()}
            )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
