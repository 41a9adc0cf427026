"""The incident lifecycle table against the incident page and the services, for every status
and role: the page offers exactly the steps the services accept, and the table names them."""

from __future__ import annotations

import re

import pytest

from console.views.incidents import TRANSITIONS
from incidents import lifecycle
from incidents import services as incident_services
from tests.factories import UserFactory

STATUSES = ["active", "restored", "recovery", "closed"]
PEOPLE = ["cio", "other_cio", "comms", "academics", "legal", "technical"]


def incident_in(status: str, riverbend):
    incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    if status == "restored":
        incident_services.incident_mark_restored(incident=incident, by=riverbend.cio)
    if status in ("recovery", "closed"):
        incident_services.incident_enter_recovery(incident=incident, by=riverbend.cio)
    if status == "closed":
        incident_services.incident_close(incident=incident, by=riverbend.cio)
    incident.refresh_from_db()
    return incident


@pytest.mark.parametrize("status", STATUSES)
def test_the_page_offers_exactly_what_the_services_accept(client, riverbend, status):
    people = {name: getattr(riverbend, name, None) for name in PEOPLE}
    # A second CIO of the district, who does not own the incident.
    people["other_cio"] = UserFactory(district=riverbend.district, roles=["cio"])
    mismatches = []
    for name, user in people.items():
        incident = incident_in(status, riverbend)
        expected = {
            step.name
            for step in lifecycle.allowed_steps(incident, is_owner=user.pk == incident.owner_id)
        }
        client.force_login(user)
        page = client.get(f"/incidents/{incident.pk}/").content.decode()
        shown = set(re.findall(rf'action="/incidents/{incident.pk}/status/([a-z]+)/"', page))

        accepted = set()
        for step in lifecycle.STEPS:
            before = (incident.status, incident.systems_restored_at)
            response = client.post(f"/incidents/{incident.pk}/status/{step}/")
            incident.refresh_from_db()
            if (incident.status, incident.systems_restored_at) != before:
                assert response.status_code == 302, (name, step, response)
                accepted.add(step)
                incident = incident_in(status, riverbend)
            else:
                # A refusal of role is a 403; a step the status does not allow is said on
                # the page the person is sent back to.
                assert response.status_code in (302, 403), (name, step, response)
        if not (shown == expected == accepted):
            mismatches.append(
                f"{name}: table {sorted(expected)}, shown {sorted(shown)}, "
                f"accepted {sorted(accepted)}"
            )
    assert not mismatches, f"with the incident {status}:\n" + "\n".join(mismatches)


def test_every_step_of_the_table_has_a_route_and_nothing_else_does():
    assert set(TRANSITIONS) == set(lifecycle.STEPS)
