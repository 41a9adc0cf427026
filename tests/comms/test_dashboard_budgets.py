"""Query budgets: what each dashboard costs for a district with two open incidents, each
with drafts in review (a budget that grows means a query slipped into a loop)."""

import pytest

from comms import drafts
from incidents import services as incident_services


@pytest.fixture
def busy(riverbend):
    for n in range(2):
        incident = incident_services.incident_open(
            by=riverbend.cio,
            title=f"Incident {n}",
            kind="sis",
            severity=2,
            all_schools=True,
            impacts=["student_data"],
        )
        for audience in ("staff", "families"):
            draft = drafts.draft_create(
                incident=incident, by=riverbend.comms, audience=audience, channel="email"
            )
            drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)
    return riverbend


@pytest.mark.parametrize(
    ("role", "url", "budget"),
    [
        ("comms", "/comms/", 21),
        ("legal", "/comms/legal/", 14),
        ("cio", "/incidents/", 12),
        ("academics", "/incidents/academics/", 15),
        ("board", "/incidents/briefing/", 16),
        ("principal", "/incidents/guidance/", 20),
    ],
)
def test_dashboard_query_budget(client, busy, role, url, budget, django_assert_max_num_queries):
    client.force_login(getattr(busy, role))

    with django_assert_max_num_queries(budget):
        response = client.get(url)

    assert response.status_code == 200
