"""Who may see and do what. Views call these before they call a service."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from incidents.errors import DomainError
from incidents.models import RESPONSE_TEAM_ROLES, Incident, Role, User


def is_response_team(user: User) -> bool:
    return user.is_authenticated and user.has_role(*RESPONSE_TEAM_ROLES)


def can_view_incident(user: User, incident: Incident) -> bool:
    return (
        user.is_authenticated
        and user.district_id == incident.district_id
        and is_response_team(user)
    )


def require_role(user: User, *roles: str) -> None:
    """Refuse with a plain message unless the user holds one of ``roles``."""
    if not user.has_role(*roles):
        names = " or ".join(Role(r).label for r in Role.values if r in roles)
        raise PermissionDenied(
            f"This page is for the {names}. Your account does not hold that role."
        )


def require_district_role(user: User, *roles: str) -> None:
    """Refuse unless the user belongs to a district and holds one of ``roles`` there."""
    if user.district_id is None:
        raise PermissionDenied("Your account is not part of a district.")
    require_role(user, *roles)


# The CIO governs the space between functions: every dashboard is open to them, read-only
# where the action is another role's.
OVERSIGHT_ROLES = frozenset({Role.CIO})


def require_dashboard(user: User, role: str) -> bool:
    """Refuse unless the user holds ``role`` in a district or oversees the response there.

    Returns True when the page is shown read-only: the person oversees it but does not hold
    the role whose actions the page offers."""
    require_district_role(user, role, *OVERSIGHT_ROLES)
    return not user.has_role(role)


def refusal_message(error: DomainError) -> str:
    """A domain refusal as a message to show; a refusal of role becomes a plain 403."""
    if error.status_code == 403:
        raise PermissionDenied(str(error)) from error
    return str(error)


def incident_for(
    user: User, incident_id: int, queryset: QuerySet[Incident] | None = None
) -> Incident:
    """Load an incident the user may see on the response team's pages.

    Another district's incident is reported as not found, so its existence is not disclosed.
    """
    if queryset is None:
        queryset = Incident.objects.select_related("district", "owner")
    incident = queryset.filter(pk=incident_id).first()
    if incident is None or incident.district_id != user.district_id:
        raise Http404("No incident with that number in your district.")
    if not is_response_team(user):
        raise PermissionDenied(
            "Incident pages are for the response team. Your role has its own page: "
            "use the link in the menu."
        )
    return incident
