"""Query budgets: every dashboard costs the same number of queries whatever the district
holds. A district with one small open incident and one with five larger ones (more drafts
in every state, published updates, schools, guidance versions, acknowledgements, questions,
decisions and timeline rows each, and more recently closed incidents) must cost exactly
the same; a count that differs means a query slipped into a loop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comms import drafts, facts
from incidents import decisions, guidance
from incidents import services as incident_services
from incidents.models import Decision, Incident, Role
from tests.factories import SchoolFactory

# One table: the page, who reads it, and its exact query count. The incident page is read
# for the district's first incident, the status page signed out.
BUDGETS = [
    ("incident list", "cio", "/incidents/", 4),
    ("communications", "comms", "/comms/", 9),
    ("legal", "legal", "/comms/legal/", 7),
    ("academics", "academics", "/incidents/academics/", 9),
    ("briefing", "board", "/incidents/briefing/", 11),
    ("principal guidance", "principal", "/incidents/guidance/", 9),
    ("incident page", "cio", "/incidents/{incident}/", 15),
    ("status page", None, "/status/riverbend/", 7),
]


def _published(incident, setup, audience: str, channel: str) -> None:
    """A draft taken through review (and legal review when the rules ask) and published."""
    draft = drafts.draft_create(
        incident=incident, by=setup.comms, audience=audience, channel=channel
    )
    draft = drafts.draft_submit(draft=draft, by=setup.comms, expected_revision=1)
    if draft.state == "legal_review":
        draft = drafts.draft_legal_clear(draft=draft, by=setup.legal, expected_revision=1)
    draft = drafts.draft_approve(draft=draft, by=setup.comms, expected_revision=1)
    drafts.draft_publish(
        draft=draft,
        by=setup.comms,
        expected_revision=1,
        promised_next_at=timezone.now() + timedelta(minutes=30),
        override_reason="" if audience == "staff" else "Families first this once.",
    )


def _incident(setup, number: int, size: int) -> Incident:
    """One open incident with ``size`` of everything that can be listed about it."""
    named = number % 2 == 0
    incident = incident_services.incident_open(
        by=setup.cio,
        title=f"Incident {number}",
        kind="sis",
        severity=2,
        all_schools=not named,
        schools=setup.schools[:2] if named else (),
        systems=setup.systems,
        impacts=["student_data"] if number % 2 else [],
    )
    incident_services.incident_role_assign(
        incident=incident, function=Role.COMMUNICATIONS, user=setup.comms, by=setup.cio
    )
    facts.fact_sheet_revise(
        incident=incident, by=setup.comms, expected_number=0, known="Grades cannot be viewed."
    )
    _published(incident, setup, "staff", "email")
    _published(incident, setup, "families", "web")
    _published(incident, setup, "board", "email")
    for n in range(size):
        audience = ("families", "media", "board", "staff")[n % 4]
        draft = drafts.draft_create(
            incident=incident, by=setup.comms, audience=audience, channel="email"
        )
        drafts.draft_submit(draft=draft, by=setup.comms, expected_revision=1)
        drafts.draft_create(incident=incident, by=setup.comms, audience=audience, channel="sms")
        decisions.decision_record(
            incident=incident,
            by=setup.cio,
            text=f"Decision {n}",
            decided_by="Superintendent",
            rationale="Keep teaching.",
            visibility=Decision.Visibility.GOVERNANCE if n % 2 == 0 else Decision.Visibility.TEAM,
        )
    for version in (1, 2):
        guidance.guidance_publish(
            incident=incident, by=setup.academics, today=f"Teach as planned ({version})."
        )
        if version == 1:
            guidance.guidance_acknowledge(
                incident=incident, school=setup.schools[0], by=setup.principal
            )
    for n in range(size):
        question = guidance.question_ask(
            incident=incident, school=setup.schools[n % 2], by=setup.principal, text=f"Q{n}?"
        )
        if n % 2 == 0:
            guidance.question_answer(
                question=question, by=setup.academics, answer="Yes.", for_guidance=False
            )
    return incident


@pytest.fixture(params=[1, 5], ids=["1 incident", "5 incidents"])
def district(request, riverbend):
    size = request.param
    for n in range(size - 1):
        school = SchoolFactory(district=riverbend.district, name=f"Extra School {n}")
        riverbend.principal.schools.add(school)
    riverbend.incidents = [_incident(riverbend, n, size) for n in range(size)]
    # Closed in the last fortnight, so still on the briefing with its scorecard.
    for n in range(1 if size == 1 else 2):
        closed = _incident(riverbend, size + n, size)
        incident_services.incident_enter_recovery(incident=closed, by=riverbend.cio)
        incident_services.incident_close(incident=closed, by=riverbend.cio)
    return riverbend


@pytest.mark.parametrize(("page", "role", "url", "budget"), BUDGETS, ids=[b[0] for b in BUDGETS])
def test_dashboard_query_count_is_fixed(client, district, page, role, url, budget):
    if role:
        client.force_login(getattr(district, role))
    url = url.format(incident=district.incidents[0].pk)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    assert len(queries) == budget, "\n".join(q["sql"] for q in queries.captured_queries)
