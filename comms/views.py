"""Communications and legal pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from incidents.models import Role
from incidents.views import render_open_incidents


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render_open_incidents(request, Role.COMMUNICATIONS, "comms/dashboard.html")


@login_required
@require_GET
def legal_dashboard(request: HttpRequest) -> HttpResponse:
    return render_open_incidents(request, Role.LEGAL, "comms/legal.html")
