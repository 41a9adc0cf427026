"""Seed data for the families delivery test; run as a script against a throwaway database.

    python tests/integration/families_seed.py --email 4000 --sms 1000

Creates a district with confirmed subscribers (by email and by text message, to the whole
district), then publishes one families update on the web channel through the same service
the publish button calls, and one in an exercise, which must reach nobody. The publication's
hand-off goes to the stack's Redis, so the families worker delivers it. Prints one JSON
object: the update's id, the exercise update's id, and the subscribers' addresses.
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

from django.utils import timezone  # noqa: E402

from comms import drafts  # noqa: E402
from comms.models import Subscriber  # noqa: E402
from incidents.duties import district_set_up  # noqa: E402
from incidents.models import District, Incident, Role, RoleGrant, User  # noqa: E402
from incidents.services import incident_open  # noqa: E402

NEXT = " We will update you again within the hour."


def person(district: District, username: str, role: str) -> User:
    user, _ = User.objects.get_or_create(
        username=username, defaults={"first_name": username.title(), "district": district}
    )
    RoleGrant.objects.get_or_create(user=user, role=role)
    return user


def publish(incident: Incident, lead: User, body: str) -> int:
    draft = drafts.draft_create(incident=incident, by=lead, audience="families", channel="web")
    draft = drafts.draft_edit(draft=draft, by=lead, body=body + NEXT, expected_revision=1)
    draft = drafts.draft_submit(draft=draft, by=lead, expected_revision=draft.revision)
    draft = drafts.draft_approve(draft=draft, by=lead, expected_revision=draft.revision)
    update = drafts.draft_publish(
        draft=draft,
        by=lead,
        expected_revision=draft.revision,
        promised_next_at=timezone.now() + timedelta(minutes=30),
        override_reason="Staff were told at the morning meeting.",
    )
    return update.pk


def seed(*, email: int, sms: int) -> dict:
    district, _ = District.objects.get_or_create(
        slug="families", defaults={"name": "Families District", "time_zone": "America/Chicago"}
    )
    district_set_up(district=district)
    cio = person(district, "cio", Role.CIO)
    lead = person(district, "lead", Role.COMMUNICATIONS)
    now = timezone.now()
    addresses = [f"family{n}@example.org" for n in range(email)]
    addresses += [f"+1617555{n:04d}" for n in range(sms)]
    Subscriber.objects.bulk_create(
        [
            Subscriber(
                district=district,
                channel="sms" if address.startswith("+") else "email",
                address=address,
                confirmed_at=now,
            )
            for address in addresses
        ],
        batch_size=1000,
    )
    exercise = incident_open(
        by=cio,
        title="Drill",
        kind=Incident.Kind.SIS,
        severity=2,
        all_schools=True,
        is_exercise=True,
    )
    rehearsed = publish(exercise, lead, "This is a drill.")
    incident = incident_open(
        by=cio, title="SIS outage", kind=Incident.Kind.SIS, severity=2, all_schools=True
    )
    update = publish(incident, lead, "Report cards are delayed until Monday.")
    return {"update": update, "exercise_update": rehearsed, "addresses": addresses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--email", type=int, required=True)
    parser.add_argument("--sms", type=int, required=True)
    args = parser.parse_args()
    print(json.dumps(seed(email=args.email, sms=args.sms)))


if __name__ == "__main__":
    main()
