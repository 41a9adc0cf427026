"""Seed data for the resilience tests; run as a script against the test's own database.

    python tests/integration/resilience_seed.py --drafts 12 --deadlines 40 --due-in 4

Like ``timer_faults_seed.py`` (whose district and people it shares), it runs in a subprocess
with ``DATABASE_URL`` and ``REDIS_URL`` set to the test's PostgreSQL database and
redis-server. It opens one real incident with the communications lead named, ``--drafts``
staff text-message drafts in review, and a district distribution list for staff texts, so
every publication owes one text. It signs in the people the test's pages belong to (real
session rows, as signing in leaves), optionally moves a burst of deadlines of other incidents
onto the schedule, publishes the first ``--publish`` drafts, gives the owner a break-glass
password and authenticator (``--break-glass``), and prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_console.settings")

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from comms import drafts  # noqa: E402
from comms import policy as comms_policy  # noqa: E402
from incidents.duties import district_set_up  # noqa: E402
from incidents.models import District, Incident, Role  # noqa: E402
from incidents.services import incident_open, incident_role_assign  # noqa: E402
from signin.demo import DEMO_TOTP_SECRET  # noqa: E402
from signin.services import totp_ensure  # noqa: E402
from tests.integration import timer_faults_seed  # noqa: E402

STAFF_TEXT_LIST = "+15555550199"
BREAK_GLASS_PASSWORD = "resilience-break-glass-1"


def seed(
    *,
    draft_count: int,
    deadlines: int,
    due_in: float,
    spread: int,
    publish: int = 0,
    break_glass: bool = False,
) -> dict:
    burst = (
        timer_faults_seed.seed(deadlines=deadlines, due_in=due_in, spread=spread)
        if deadlines
        else {"deadlines": [], "texts": {}}
    )
    district = District.objects.get_or_create(
        slug="faultline", defaults={"name": "Faultline District", "time_zone": "America/Chicago"}
    )[0]
    district_set_up(district=district)
    person = timer_faults_seed.person
    cio = person(district, "cio", Role.CIO, "+15555550100")
    lead = person(district, "lead", Role.COMMUNICATIONS, "+15555550101")
    people = {
        "owner": cio,
        "communications": lead,
        "technical": person(district, "tech", Role.TECHNICAL, ""),
        "legal": person(district, "legal", Role.LEGAL, ""),
    }
    if break_glass:
        # The owner signs in with a password and the demo authenticator secret.
        cio.set_password(BREAK_GLASS_PASSWORD)
        cio.save(update_fields=["password"])
        totp_ensure(user=cio, secret=DEMO_TOTP_SECRET)
    policy = comms_policy.policy_for(district)
    policy.sms_lists = {"staff": [STAFF_TEXT_LIST]}
    policy.save(update_fields=["sms_lists"])
    # Nobody is connected yet: skip rendering a live push for every seeded row.
    with mock.patch("console.live.publish"):
        incident = incident_open(
            by=cio, title="Live drill", kind=Incident.Kind.SIS, severity=2, all_schools=True
        )
        incident_role_assign(incident=incident, function=Role.COMMUNICATIONS, user=lead, by=cio)
        ids = []
        for _ in range(draft_count):
            draft = drafts.draft_create(incident=incident, by=lead, audience="staff", channel="sms")
            drafts.draft_submit(draft=draft, by=lead, expected_revision=1)
            ids.append(draft.pk)
        for pk in ids[:publish]:
            draft = drafts.Draft.objects.get(pk=pk)
            drafts.draft_approve(draft=draft, by=lead, expected_revision=1)
            drafts.draft_publish(
                draft=draft,
                by=lead,
                expected_revision=1,
                promised_next_at=timezone.now() + timedelta(minutes=30),
                keep_promised_time=True,
            )
    sessions = {}
    for audience, user in people.items():
        client = Client()
        client.force_login(user)
        sessions[audience] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {
        "incident": incident.pk,
        "drafts": ids,
        "cookie": settings.SESSION_COOKIE_NAME,
        "sessions": sessions,
        "burst": burst,
        "break_glass": {"login": cio.username, "password": BREAK_GLASS_PASSWORD},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, required=True)
    parser.add_argument("--deadlines", type=int, default=0)
    parser.add_argument("--due-in", type=float, default=4)
    parser.add_argument("--spread", type=int, default=1)
    parser.add_argument("--publish", type=int, default=0, help="of the drafts, publish these")
    parser.add_argument("--break-glass", action="store_true", help="give the owner a password")
    args = parser.parse_args()
    print(
        json.dumps(
            seed(
                draft_count=args.drafts,
                deadlines=args.deadlines,
                due_in=args.due_in,
                spread=args.spread,
                publish=args.publish,
                break_glass=args.break_glass,
            )
        )
    )


if __name__ == "__main__":
    main()
