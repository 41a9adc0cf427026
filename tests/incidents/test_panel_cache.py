"""The incident page's panels are rendered once per incident state and viewer permissions,
and reused by the page requests that would render them the same (console.page.PanelCache)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from comms import drafts
from console import page
from incidents import decisions, guidance
from incidents import services as incident_services
from incidents.models import Role
from tests.factories import IncidentFactory

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _page(client: Client, incident) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/incidents/{incident.pk}/")
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def incident(riverbend, clock):
    # Time stands still: two page reads a moment apart must not straddle the edge of a
    # 30-second window, which on a slow machine they otherwise sometimes do.
    incident = IncidentFactory(owner=riverbend.cio)
    incident.systems.add(*riverbend.systems)
    return incident


def test_a_second_reader_gets_the_same_panels_with_their_own_token(riverbend, incident):
    first, rendered = _page(_signed_in(riverbend.cio), incident)
    second, kept = _page(_signed_in(riverbend.cio), incident)

    first_tokens, second_tokens = set(TOKEN.findall(first)), set(TOKEN.findall(second))
    assert len(first_tokens) == 1 and len(second_tokens) == 1
    assert first_tokens != second_tokens
    assert page.TOKEN_SLOT not in second
    assert TOKEN.sub("", first) == TOKEN.sub("", second)
    # The panels' own queries (roles, clocks, drafts, decisions, duties, timeline, scorecard)
    # are not made again.
    assert kept <= rendered - 9


def test_a_change_to_the_incident_shows_on_the_next_page(riverbend, incident):
    client = _signed_in(riverbend.cio)
    before, _ = _page(client, incident)

    decisions.decision_record(
        incident=incident,
        by=riverbend.cio,
        text="Report cards go out a week late.",
        decided_by="The superintendent",
        rationale="Grades cannot be checked until the system is back.",
        visibility="team",
    )
    after, _ = _page(client, incident)

    assert "Report cards go out a week late." not in before
    assert "Report cards go out a week late." in after


def test_readers_with_other_permissions_get_their_own_panels(riverbend, incident):
    owner, _ = _page(_signed_in(riverbend.cio), incident)
    legal, _ = _page(_signed_in(riverbend.legal), incident)

    assert "Record a decision" in owner
    assert "Record a decision" not in legal
    assert riverbend.legal.has_role(Role.LEGAL)


def test_a_form_that_failed_is_never_served_from_the_kept_panels(riverbend, incident):
    client = _signed_in(riverbend.cio)
    _page(client, incident)

    response = client.post(
        f"/incidents/{incident.pk}/roles/",
        {"function": Role.LEGAL, "user": 999999},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()


@pytest.mark.parametrize(
    ("time_scale", "same_after", "new_after"),
    [(1, timedelta(seconds=29), timedelta(seconds=30)), (60, timedelta(0), timedelta(seconds=1))],
)
def test_a_kept_panel_is_rendered_again_after_its_window(
    riverbend, incident, time_scale, same_after, new_after
):
    """Thirty seconds on the incident's own clock: a second at 60x."""
    incident.time_scale = time_scale
    start = datetime(2026, 12, 5, 12, 0, 0, tzinfo=UTC)

    def prefix(at: datetime) -> str:
        return page.PanelCache(incident, at).prefix

    before = prefix(start)
    assert prefix(start + same_after) == before
    assert prefix(start + new_after) != before
    incident.sequence += 1
    assert prefix(start) != before


def _dashboard(client: Client) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/comms/")
    assert response.status_code == 200
    return response.content.decode(), len(queries)


@pytest.fixture
def in_review(riverbend, incident):
    """A families draft waiting for the communications lead's approval."""
    incident_services.incident_role_assign(
        incident=incident, function=Role.COMMUNICATIONS, user=riverbend.comms, by=riverbend.cio
    )
    draft = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="families", channel="web"
    )
    return drafts.draft_submit(draft=draft, by=riverbend.comms, expected_revision=1)


def test_the_communications_dashboard_keeps_each_incidents_block(riverbend, in_review):
    first, rendered = _dashboard(_signed_in(riverbend.comms))
    second, kept = _dashboard(_signed_in(riverbend.comms))

    assert TOKEN.sub("", first) == TOKEN.sub("", second)
    assert "waiting for your approval" in second
    # The block's own queries (drafts, their texts, what went out) are not made again.
    assert kept < rendered


def test_the_communications_dashboard_shows_a_change_and_each_readers_wording(riverbend, in_review):
    lead, _ = _dashboard(_signed_in(riverbend.comms))
    oversight, _ = _dashboard(_signed_in(riverbend.cio))
    drafts.draft_return(
        draft=in_review, by=riverbend.comms, expected_revision=1, note="Say when we know more."
    )
    returned, _ = _dashboard(_signed_in(riverbend.comms))

    assert "waiting for your approval" in lead
    assert "waiting for the communications lead's approval" in oversight
    assert "waiting for your approval" not in returned and "waiting for the writer" in returned


@pytest.mark.parametrize(
    ("path", "reader"),
    [
        ("/comms/", "comms"),
        ("/incidents/academics/", "academics"),
        ("/incidents/briefing/", "board"),
    ],
)
def test_each_dashboard_keeps_its_blocks_with_the_readers_own_token(
    riverbend, incident, path, reader
):
    guidance.question_ask(
        incident=incident,
        school=riverbend.schools[0],
        by=riverbend.principal,
        text="Can the unit test be given on paper?",
    )
    user = getattr(riverbend, reader)
    with CaptureQueriesContext(connection) as rendered:
        first = _signed_in(user).get(path).content.decode()
    with CaptureQueriesContext(connection) as kept:
        second = _signed_in(user).get(path).content.decode()

    def blocks(body: str) -> str:
        return TOKEN.sub("", body[body.index('id="live-root"') :])

    assert incident.title in blocks(second)
    assert blocks(first) == blocks(second)
    assert page.TOKEN_SLOT not in second
    assert len(kept) < len(rendered)
    if reader == "academics":
        # The answer form carries each reader's own token (masked anew each time).
        assert "Send the answer" in second
        first_tokens, second_tokens = set(TOKEN.findall(first)), set(TOKEN.findall(second))
        assert first_tokens and second_tokens and not first_tokens & second_tokens
