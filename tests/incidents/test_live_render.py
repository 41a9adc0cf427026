"""A push renders each panel once per distinct set of viewer flags: it must be exactly what
each audience's own full rendering would be."""

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comms.drafters import drafter_name
from comms.drafts import draft_create
from comms.models import Audience, Channel
from console import page
from incidents import decisions, guidance, selectors, services
from incidents.models import Decision, Role


def full_rendering(incident, audience, now) -> str:
    context = page.incident_context(incident, page.viewer_of(audience), now)
    return "".join(
        render_to_string(f"incidents/incident_detail.html#{panel}", context)
        for panel in page.PANELS
    )


def busy_incident(riverbend):
    incident = services.incident_open(
        by=riverbend.cio,
        title="Student information system down",
        kind="sis",
        severity=2,
        all_schools=True,
    )
    services.incident_role_assign(
        incident=incident, function=Role.COMMUNICATIONS, user=riverbend.comms, by=riverbend.cio
    )
    drafter_name(incident=incident, by=riverbend.comms, user=riverbend.academics)
    draft_create(
        incident=incident, by=riverbend.comms, audience=Audience.FAMILIES, channel=Channel.EMAIL
    )
    decisions.decision_record(
        incident=incident,
        by=riverbend.cio,
        text="Grades are frozen until Friday",
        decided_by="Superintendent",
        rationale="The gradebook cannot be trusted until it is restored.",
        visibility=Decision.Visibility.GOVERNANCE,
    )
    return incident


@pytest.mark.parametrize("status", ["active", "recovery", "closed"])
def test_every_audience_gets_exactly_its_own_rendering(riverbend, status):
    incident = busy_incident(riverbend)
    if status != "active":
        services.incident_enter_recovery(incident=incident, by=riverbend.cio)
    if status == "closed":
        services.incident_close(incident=incident, by=riverbend.cio)
    incident = selectors.incident_detail_queryset().get(pk=incident.pk)
    now = timezone.now()

    pushes = page.pushed_panels(incident, now)

    assert set(pushes) == set(page.AUDIENCES)
    for audience in page.AUDIENCES:
        assert pushes[audience] == full_rendering(incident, audience, now), audience
    # The audiences differ where they should: controls for the owner, drafts hidden from
    # the academic and technical leads, the export link for the record-keepers.
    assert pushes[page.OWNER] != pushes[Role.COMMUNICATIONS]
    assert "panel-drafts" in pushes[Role.LEGAL]
    assert "Export for the record" in pushes[Role.LEGAL]
    assert "Export for the record" not in pushes[Role.TECHNICAL]
    # A named drafter writes drafts whatever their role; the technical lead does not.
    if status != "closed":
        assert 'id="new-audience"' in pushes[page.DRAFTER]
    assert 'id="new-audience"' not in pushes[Role.TECHNICAL]


def test_a_push_loads_the_shared_data_once(riverbend):
    pk = busy_incident(riverbend).pk
    now = timezone.now()
    # A fresh row each time: a row remembers what it read (its public title, for one).
    incident = selectors.incident_detail_queryset().get(pk=pk)
    with CaptureQueriesContext(connection) as one_audience:
        full_rendering(incident, page.OWNER, now)
    incident = selectors.incident_detail_queryset().get(pk=pk)
    with CaptureQueriesContext(connection) as every_audience:
        page.pushed_panels(incident, now)

    assert len(every_audience) == len(one_audience)


def test_a_backlog_of_pushes_renders_the_latest_state_once(riverbend, monkeypatch):
    """A burst of changes queues one push task each; the first to run sends the latest state,
    and the tasks it covered send nothing."""
    from console import live
    from incidents.timeline import timeline_append

    incident = busy_incident(riverbend)
    sent = []
    monkeypatch.setattr(live, "send_all", sent.append)
    first = incident.sequence
    for n in range(3):
        timeline_append(incident=incident, kind="note", summary=f"Change {n}")
    incident.refresh_from_db()
    sent.clear()

    live.publish(incident.pk, from_sequence=first)
    for from_sequence in (first + 1, first + 2):
        with CaptureQueriesContext(connection) as covered:
            live.publish(incident.pk, from_sequence=from_sequence)
        # The incident row and the remembered push (the cache is in the database): no more.
        assert len(covered.captured_queries) == 2, "a covered task rendered or loaded more"

    pushes = [m for batch in sent for _, m in batch if m["type"] == "incident.push"]
    assert len(pushes) == len(page.AUDIENCES), "the covered tasks rendered again"
    assert {(m["from"], m["sequence"]) for m in pushes} == {(first, incident.sequence)}

    timeline_append(incident=incident, kind="note", summary="A later change")
    sent.clear()
    live.publish(incident.pk, from_sequence=incident.sequence)
    assert sent, "a change after the last push must be pushed"


def pushed_after(incident, monkeypatch, change) -> tuple[dict[str, str], object]:
    """The incident pushes ``live.publish`` sends for the rows ``change`` appends."""
    from console import live

    incident.refresh_from_db()
    before = incident.sequence
    change()
    sent = []
    monkeypatch.setattr(live, "send_all", sent.extend)
    live.publish(incident.pk, from_sequence=before)
    fresh = selectors.incident_detail_queryset().get(pk=incident.pk)
    pushes = {g.rsplit(".", 1)[-1]: m["html"] for g, m in sent if m["type"] == "incident.push"}
    return pushes, fresh


def test_a_draft_change_pushes_only_the_drafts_panel_and_the_timeline(riverbend, monkeypatch):
    from comms.drafts import draft_submit

    incident = busy_incident(riverbend)
    draft = incident.drafts.get()

    pushes, fresh = pushed_after(
        incident,
        monkeypatch,
        lambda: draft_submit(draft=draft, by=riverbend.comms, expected_revision=draft.revision),
    )

    assert page.panels_changed_by(["draft.submitted"]) == ("drafts", "timeline")
    for audience, html in pushes.items():
        assert 'id="panel-drafts"' in html and 'id="panel-timeline"' in html, audience
        assert 'id="panel-roles"' not in html and 'id="panel-clock"' not in html, audience
    # The pushed panels are exactly those of the audience's full rendering.
    now = timezone.now()
    context = page.incident_context(fresh, page.viewer_of(Role.LEGAL), now)
    with timezone.override(riverbend.district.zone):
        expected = "".join(
            render_to_string(f"incidents/incident_detail.html#{panel}", context)
            for panel in ("drafts", "timeline")
        )
    assert pushes[Role.LEGAL] == expected


def test_any_other_change_pushes_every_panel(riverbend, monkeypatch):
    incident = busy_incident(riverbend)

    pushes, _ = pushed_after(
        incident,
        monkeypatch,
        lambda: services.incident_role_assign(
            incident=incident, function=Role.LEGAL, user=riverbend.legal, by=riverbend.cio
        ),
    )

    assert page.panels_changed_by(["draft.approved", "role.assigned"]) == page.PANELS
    assert page.panels_changed_by([]) == page.PANELS
    for panel in page.PANELS:
        assert f'id="panel-{panel}"' in pushes[page.OWNER], panel


def test_a_push_shows_every_time_in_the_district_zone(riverbend, monkeypatch):
    """A worker renders with no request and so no active zone: pushed panels and dashboard
    blocks must still show Riverbend's Central Time, exactly as a page fetched over HTTP."""
    import re

    from console import live
    from incidents.timeline import timeline_append

    incident = busy_incident(riverbend)
    incident.refresh_from_db()
    before = incident.sequence
    timeline_append(incident=incident, kind="note", summary="A change that is pushed")
    sent = []
    monkeypatch.setattr(live, "send_all", sent.extend)

    live.publish(incident.pk, from_sequence=before)

    rendered = [m["html"] for _, m in sent if m.get("html")]
    assert len(rendered) >= len(page.AUDIENCES) + 2, "the incident page and dashboards pushed"
    for html in rendered:
        assert "UTC" not in html, html
    for _, message in sent:
        if message["type"] == "incident.push":
            assert re.search(r"\d:\d\d [AP]M C[SD]T", message["html"]), message["html"]
    fresh = selectors.incident_detail_queryset().get(pk=incident.pk)
    with timezone.override(riverbend.district.zone):
        expected = render_to_string(
            "incidents/incident_detail.html#timeline",
            page.incident_context(fresh, page.viewer_of(page.OWNER), timezone.now()),
        )
    owner_push = next(m["html"] for g, m in sent if g == live.incident_group(incident.pk, "owner"))
    assert expected in owner_push


def test_a_push_of_the_drafts_loads_only_what_the_drafts_and_the_timeline_show(riverbend):
    incident = selectors.incident_detail_queryset().get(pk=busy_incident(riverbend).pk)
    now = timezone.now()

    with CaptureQueriesContext(connection) as narrow:
        page.pushed_panels(incident, now, page.DRAFT_PANELS)
    with CaptureQueriesContext(connection) as every_panel:
        page.pushed_panels(incident, now)

    tables = " ".join(q["sql"] for q in narrow.captured_queries)
    for table in ("incidents_incidentduty", "incidents_decision", "incidents_guidanceversion"):
        assert table not in tables, table
    assert len(narrow) < len(every_panel)


def test_a_draft_change_updates_only_the_communications_and_legal_dashboards(
    riverbend, monkeypatch
):
    from comms.drafts import draft_submit
    from console import live

    incident = busy_incident(riverbend)
    draft = incident.drafts.get()
    monkeypatch.setattr(
        live, "briefing_of", lambda *a: pytest.fail("the board briefing was rendered")
    )
    monkeypatch.setattr(
        guidance, "academics_block", lambda *a: pytest.fail("the academics block was rendered")
    )

    incident.refresh_from_db()
    before = incident.sequence
    draft_submit(draft=draft, by=riverbend.comms, expected_revision=draft.revision)
    sent = []
    monkeypatch.setattr(live, "send_all", sent.extend)
    live.publish(incident.pk, from_sequence=before)

    incident.refresh_from_db()
    dashboards = {
        group.rsplit(".", 1)[-1]: message
        for group, message in sent
        if message["type"] == "district.message"
    }
    assert set(dashboards) == set(live.DASHBOARD_AUDIENCES)
    assert dashboards[live.DASHBOARD_COMMS]["kind"] == "push"
    assert "Drafts in progress" in dashboards[live.DASHBOARD_COMMS]["html"]
    assert dashboards[live.DASHBOARD_LEGAL]["kind"] == "refresh"
    for audience in (
        live.DASHBOARD_ACADEMICS,
        live.DASHBOARD_BOARD,
        live.DASHBOARD_PRINCIPALS,
        live.DASHBOARD_TEAM,
    ):
        message = dashboards[audience]
        # An empty push moves the page's sequence on: no gap, so no fetch at the next heartbeat.
        assert (message["kind"], message["html"]) == ("push", ""), audience
        assert (message["from"], message["sequence"]) == (before, incident.sequence)


def test_any_other_change_renders_every_dashboard_block(riverbend, monkeypatch):
    from console import live
    from incidents.timeline import timeline_append

    incident = busy_incident(riverbend)
    incident.refresh_from_db()
    before = incident.sequence
    timeline_append(incident=incident, kind="note", summary="A change every page shows")
    sent = []
    monkeypatch.setattr(live, "send_all", sent.extend)

    live.publish(incident.pk, from_sequence=before)

    dashboards = {
        group.rsplit(".", 1)[-1]: message
        for group, message in sent
        if message["type"] == "district.message"
    }
    assert f'id="briefing-{incident.pk}"' in dashboards[live.DASHBOARD_BOARD]["html"]
    assert dashboards[live.DASHBOARD_ACADEMICS]["html"]
    assert dashboards[live.DASHBOARD_TEAM]["kind"] == "refresh"


@pytest.mark.parametrize("other", ["a later sequence", "another database"])
def test_a_push_remembered_from_another_database_state_never_suppresses_one(
    riverbend, monkeypatch, other
):
    """After a database reset or a restored backup, ids and sequence numbers come again: the
    remembered push of that other state must not stand in for this one."""
    from django.core.cache import cache

    from console import live
    from incidents.timeline import timeline_append

    incident = busy_incident(riverbend)
    incident.refresh_from_db()
    before = incident.sequence
    timeline_append(incident=incident, kind="note", summary="A change after a restore")
    incident.refresh_from_db()
    declared, sequence = incident.declared_at.isoformat(), incident.sequence
    if other == "a later sequence":
        remembered = f"{declared}#{sequence + 50}"
    else:
        remembered = f"2020-01-01T00:00:00+00:00#{sequence}"
    cache.set(live.pushed_key(incident.pk), remembered)
    sent = []
    monkeypatch.setattr(live, "send_all", sent.extend)

    live.publish(incident.pk, from_sequence=before)

    assert any(m["type"] == "incident.push" for _, m in sent)
    assert cache.get(live.pushed_key(incident.pk)) == f"{declared}#{sequence}"


def test_a_part_that_is_the_same_for_everyone_is_rendered_once_per_push():
    from django.template import Context, Template, TemplateSyntaxError

    part = Template('{% load console %}{% rendered_once "rows" %}{{ n }}{% endrendered_once %}')
    push = {}

    assert part.render(Context({"n": 1, "rendered_once": push})) == "1"
    assert part.render(Context({"n": 2, "rendered_once": push})) == "1"
    assert part.render(Context({"n": 2})) == "2"  # a page request renders it as usual
    with pytest.raises(TemplateSyntaxError, match="one quoted name"):
        Template("{% load console %}{% rendered_once rows %}{% endrendered_once %}")


def test_a_change_carries_the_silence_banner_to_the_team_and_never_to_principals(
    riverbend, monkeypatch
):
    from datetime import timedelta

    import time_machine

    from console import live
    from incidents.timeline import timeline_append

    incident = busy_incident(riverbend)
    incident.refresh_from_db()
    before = incident.sequence
    with time_machine.travel(timezone.now() + timedelta(hours=3), tick=False):
        timeline_append(incident=incident, kind="note", summary="Still working on it")
        sent = []
        monkeypatch.setattr(live, "send_all", sent.extend)
        live.publish(incident.pk, from_sequence=before)

    html = {group: message["html"] for group, message in sent}
    banner = 'id="silence-banner"'
    silent = "silent to staff for"
    for audience in live.BANNER_DASHBOARDS:
        shown = html[live.district_group(riverbend.district.pk, audience)]
        assert banner in shown and silent in shown, audience
    for audience in page.BANNER_AUDIENCES:
        assert silent in html[live.incident_group(incident.pk, audience)], audience
    assert banner not in html[live.incident_group(incident.pk, page.DRAFTER)]
    for audience in (live.DASHBOARD_PRINCIPALS, live.DASHBOARD_LEGAL, live.DASHBOARD_TEAM):
        # Legal and the incident list fetch their page, banner included; principals never
        # see the district's silences.
        assert html[live.district_group(riverbend.district.pk, audience)] == "", audience


def test_a_draft_change_carries_no_banner(riverbend, monkeypatch):
    from comms.drafts import draft_submit
    from console import live

    incident = busy_incident(riverbend)
    draft = incident.drafts.get()
    incident.refresh_from_db()
    before = incident.sequence
    draft_submit(draft=draft, by=riverbend.comms, expected_revision=draft.revision)
    sent = []
    monkeypatch.setattr(live, "send_all", sent.extend)
    monkeypatch.setattr(live, "silences_by_incident", lambda *a: pytest.fail("banner rendered"))

    live.publish(incident.pk, from_sequence=before)

    assert all('id="silence-banner"' not in message["html"] for _, message in sent)
