"""Communications and legal pages, and the forms that keep the update clocks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from comms import selectors, services
from comms.forms import CadenceChangeForm, UpdateRecordForm
from incidents.access import incident_for
from incidents.errors import DomainError
from incidents.models import Role
from incidents.views import render_open_incidents, respond_to_change


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render_open_incidents(request, Role.COMMUNICATIONS, "comms/dashboard.html")


@login_required
@require_GET
def legal_dashboard(request: HttpRequest) -> HttpResponse:
    return render_open_incidents(request, Role.LEGAL, "comms/legal.html")


def _submit(request, incident_id: int, form, done: str, form_name: str, call) -> HttpResponse:
    """Validate ``form``, run ``call`` and answer with the cadence panel or a redirect."""
    error = None
    if not form.is_valid():
        error = "Nothing was saved. Check the fields marked below."
    else:
        try:
            call(form)
        except DomainError as exc:
            if exc.status_code == 403:
                raise PermissionDenied(str(exc)) from exc
            form.add_error(None, str(exc))
            error = str(exc)
    extra = {form_name: form} if error else {}
    return respond_to_change(
        request, incident_id, "cadence", error=error, done=done, cadence_error=error, **extra
    )


@login_required
@require_POST
def update_record(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = incident_for(request.user, incident_id)
    form = UpdateRecordForm(request.POST, incident=incident)

    def call(form):
        services.update_record(
            incident=incident,
            audience=form.cleaned_data["audience"],
            summary=form.cleaned_data["summary"],
            promised_next_at=form.promised_next_at(),
            by=request.user,
        )

    return _submit(request, incident_id, form, "Update recorded.", "update_form", call)


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
