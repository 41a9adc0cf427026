"""The menu: one link for each page the signed-in person's roles give them."""

from django.urls import reverse
from django.utils import timezone

from comms.selectors import silences_by_incident, unread_count
from incidents.access import OVERSIGHT_ROLES
from incidents.models import RESPONSE_TEAM_ROLES, Role

# (role that grants the link, label, url name), in menu order.
ROLE_PAGES: list[tuple[frozenset[str], str, str]] = [
    (RESPONSE_TEAM_ROLES, "Incidents", "incidents:list"),
    (frozenset({Role.COMMUNICATIONS, *OVERSIGHT_ROLES}), "Communications", "comms:dashboard"),
    (frozenset({Role.ACADEMICS, *OVERSIGHT_ROLES}), "Academics", "incidents:academics"),
    (frozenset({Role.LEGAL, *OVERSIGHT_ROLES}), "Legal", "comms:legal"),
    (frozenset({Role.PRINCIPAL}), "School guidance", "incidents:guidance"),
    (frozenset({Role.TRANSLATOR}), "Translations", "comms:translations"),
    (frozenset({Role.BOARD_LIAISON, *OVERSIGHT_ROLES}), "Board briefing", "incidents:briefing"),
    (frozenset({Role.FACILITATOR, Role.CIO}), "Exercises", "exercises:control"),
    (frozenset({Role.CIO}), "District setup", "incidents:settings"),
]


def pages_for(user) -> list[tuple[str, str]]:
    if not user.is_authenticated:
        return []
    return [(label, reverse(name)) for roles, label, name in ROLE_PAGES if user.has_role(*roles)]


# Who sees the district's silences on every page: the response team, and the board liaison,
# who answers to the board for every promise the district made.
SILENCE_SHOWN_TO = RESPONSE_TEAM_ROLES | {Role.BOARD_LIAISON}


def navigation(request):
    """The menu, the unread count, and any silence in the district for the response team
    and the board liaison.

    Silence is shown on every page they open: a broken promise to an audience is the one
    thing nobody on the team may miss. Pushes keep it current (``console.live``).
    """
    # Error pages render for requests refused before the middleware ran (an unknown host):
    # no person is known on those.
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    shown = user.district_id is not None and user.has_role(*SILENCE_SHOWN_TO)
    now = timezone.now()
    return {
        "nav_pages": pages_for(user),
        "current_district": user.district,
        "role_labels": [Role(r).label for r in Role.values if r in user.roles],
        "unread_notifications": unread_count(user),
        "silence_banner": shown,
        "silences": silences_by_incident(user.district_id, now) if shown else [],
        "silence_now": now,
    }
