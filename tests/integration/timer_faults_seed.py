"""Seed data for the timer fault tests; run as a script against a throwaway database.

The tests run in a pytest process whose Django points at another database, so the seeding
runs here, in a subprocess with ``DATABASE_URL`` and ``REDIS_URL`` set to the test's own
PostgreSQL database and redis-server:

    python tests/integration/timer_faults_seed.py --deadlines 100 --due-in 3 --spread 1

It creates (or reuses) a district with a CIO and a communications lead, both with phones,
opens enough incidents through ``incident_open`` (which schedules every timer), names the lead
on each, then moves the first ``--deadlines`` of their pending deadlines to the database's
``now()`` plus ``--due-in`` seconds, spread over ``--spread`` consecutive seconds (1: all in
the same second). It prints one JSON object: the deadline ids and how many text messages each
should send.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_console.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from comms.models import Deadline  # noqa: E402
from incidents.duties import district_set_up  # noqa: E402
from incidents.models import District, Incident, Role, RoleGrant, User  # noqa: E402
from incidents.services import incident_open, incident_role_assign  # noqa: E402

# Every incident schedules this many deadlines: two per audience clock, one per default duty,
# and the two phase prompts.
DEADLINES_PER_INCIDENT = 17


def person(district: District, username: str, role: str, phone: str) -> User:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={"first_name": username.title(), "district": district, "phone": phone},
    )
    RoleGrant.objects.get_or_create(user=user, role=role)
    return user


def texts_expected(kind: str) -> int:
    # Silence escalates to the lead and the owner; every other reminder goes to one person.
    return 2 if kind == Deadline.Kind.CADENCE_OVERDUE else 1


def seed(*, deadlines: int, due_in: float, spread: int) -> dict:
    district, _ = District.objects.get_or_create(
        slug="faultline", defaults={"name": "Faultline District", "time_zone": "America/Chicago"}
    )
    district_set_up(district=district)
    cio = person(district, "cio", Role.CIO, "+15555550100")
    lead = person(district, "lead", Role.COMMUNICATIONS, "+15555550101")
    opened = []
    for n in range(-(-deadlines // DEADLINES_PER_INCIDENT)):
        incident = incident_open(
            by=cio, title=f"Fault drill {n}", kind=Incident.Kind.SIS, severity=2, all_schools=True
        )
        incident_role_assign(incident=incident, function=Role.COMMUNICATIONS, user=lead, by=cio)
        opened.append(incident.pk)
    chosen = list(
        Deadline.objects.filter(incident__in=opened, status=Deadline.Status.PENDING)
        .order_by("pk")
        .values_list("pk", "kind")[:deadlines]
    )
    # Due times come from the database clock, the one the engine's fired_at uses.
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        now = cursor.fetchone()[0]
    for i, (pk, _) in enumerate(chosen):
        Deadline.objects.filter(pk=pk).update(due_at=now + timedelta(seconds=due_in + i % spread))
    return {
        "deadlines": [pk for pk, _ in chosen],
        "texts": {str(pk): texts_expected(kind) for pk, kind in chosen},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadlines", type=int, required=True)
    parser.add_argument("--due-in", type=float, required=True)
    parser.add_argument("--spread", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(seed(deadlines=args.deadlines, due_in=args.due_in, spread=args.spread)))


if __name__ == "__main__":
    main()
