"""The draft workflow table against the pages and the services, for every state and role.

For each state a draft can be in and each person who might open it, the editor must offer
exactly the steps the services then accept from that person, and ``allowed_actions`` must
name the same steps: the table, the buttons and the rules cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from comms import drafters, drafts, workflow
from comms.models import Draft
from incidents import services as incident_services

S = Draft.State
STATES = ["draft", "flagged", "in_review", "legal_review", "approved", "published", "withdrawn"]
PEOPLE = ["cio", "comms", "drafter", "technical", "legal", "board", "principal"]


@pytest.fixture
def incident(riverbend):
    incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    drafters.drafter_name(incident=incident, by=riverbend.comms, user=riverbend.academics)
    return incident


def person(riverbend, name: str):
    return riverbend.academics if name == "drafter" else getattr(riverbend, name)


def draft_in(state: str, incident, riverbend) -> Draft:
    comms = riverbend.comms
    draft = drafts.draft_create(incident=incident, by=comms, audience="staff", channel="email")
    if state in ("flagged", "legal_review"):
        draft = drafts.draft_flag_legal(draft=draft, by=comms, flagged=True)
    if state in ("in_review", "legal_review", "approved", "published"):
        draft = drafts.draft_submit(draft=draft, by=comms, expected_revision=1)
    if state in ("approved", "published"):
        draft = drafts.draft_approve(draft=draft, by=comms, expected_revision=1)
    if state == "published":
        drafts.draft_publish(
            draft=draft,
            by=comms,
            expected_revision=1,
            promised_next_at=timezone.now() + timedelta(minutes=30),
        )
    if state == "withdrawn":
        draft = drafts.draft_withdraw(draft=draft, by=comms, reason="No longer needed")
    draft.refresh_from_db()
    return draft


def step_request(step: str, draft: Draft) -> tuple[str, dict]:
    """The URL and a valid form for one step, so only the rules can refuse it."""
    revision = {"expected_revision": draft.revision}
    if step == "edit":
        return f"/comms/drafts/{draft.pk}/", {"body": "New words for staff.", **revision}
    data = {
        "acknowledge": {"code": "no_next_update", "note": "Said in person"},
        "return": {"note": "Say which grades"},
        "withdraw": {"note": "Superseded"},
        "correct": {"note": "Wrong day"},
        "publish": {"next_update_in": 30, "override_reason": "x", "keep_promised_time": "on"},
    }.get(step, {})
    return f"/comms/drafts/{draft.pk}/{step}/", {**revision, **data}


def shown_steps(html: str, draft: Draft) -> set[str]:
    """The steps whose forms the editor shows (warning acknowledgements appear only beside a
    warning, so they are checked against the services alone)."""
    steps = set(re.findall(rf'action="/comms/drafts/{draft.pk}/([a-z]+)/"', html)) - {"check"}
    if f'action="/comms/drafts/{draft.pk}/"' in html:
        steps.add("edit")
    return steps - {"acknowledge"}


@pytest.mark.parametrize("state", STATES)
def test_the_editor_offers_exactly_what_the_services_accept(
    client, incident, riverbend, state: str
) -> None:
    mismatches = []
    for name in PEOPLE:
        user = person(riverbend, name)
        draft = draft_in(state, incident, riverbend)
        expected = workflow.allowed_actions(draft, user)
        client.force_login(user)
        page = client.get(f"/comms/drafts/{draft.pk}/")
        shown = shown_steps(page.content.decode(), draft) if page.status_code == 200 else set()

        accepted = set()
        for step in workflow.STEPS:
            url, data = step_request(step, draft)
            response = client.post(url, data)
            if response.status_code == 302:
                accepted.add(step)
                draft = draft_in(state, incident, riverbend)
            else:
                assert response.status_code in (403, 404, 409, 422), (name, step, response)

        if not (shown == expected - {"acknowledge"} and accepted == expected):
            mismatches.append(
                f"{name}: table {sorted(expected)}, shown {sorted(shown)}, "
                f"accepted {sorted(accepted)}"
            )
    assert not mismatches, f"in state {state}:\n" + "\n".join(mismatches)


def test_the_table_names_who_moves_a_draft_on() -> None:
    """The workflow as the product promises it, read straight from the table."""
    assert workflow.STEPS["approve"] == {S.IN_REVIEW: workflow.LEAD}
    assert workflow.STEPS["publish"] == {S.APPROVED: workflow.LEAD}
    assert workflow.STEPS["clear"] == {S.LEGAL_REVIEW: workflow.LEGAL}
    assert workflow.STEPS["return"] == {
        S.LEGAL_REVIEW: workflow.LEGAL,
        S.IN_REVIEW: workflow.LEAD,
    }
    assert S.PUBLISHED not in workflow.STEPS["edit"]
    assert all(S.WITHDRAWN not in rows for rows in workflow.STEPS.values())


def test_the_editor_takes_every_step_of_the_table() -> None:
    from console.views.comms import STEPS as EDITOR_STEPS

    assert set(EDITOR_STEPS) | {"edit"} == set(workflow.STEPS)
