import pytest
from django.urls import reverse

from incidents.models import Incident, IncidentRole, Role, TimelineEntry
from tests.factories import IncidentFactory

LANDING = {
    Role.CIO: "/incidents/",
    Role.COMMUNICATIONS: "/comms/",
    Role.LEGAL: "/comms/legal/",
    Role.ACADEMICS: "/incidents/academics/",
    Role.TECHNICAL: "/incidents/",
    Role.BOARD_LIAISON: "/incidents/briefing/",
    Role.PRINCIPAL: "/incidents/guidance/",
}


def valid_form(setup, **overrides):
    data = {
        "title": "Student information system unavailable",
        "kind": "sis",
        "severity": "2",
        "systems": [setup.systems[0].pk],
        "scope": "all",
        "impacts": ["instruction"],
        "mode": "real",
        "time_scale": "",
    }
    data.update(overrides)
    return data


def test_sign_in_page_is_served(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/incidents/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", list(LANDING))
def test_each_role_lands_on_its_own_page(client, riverbend, role):
    client.force_login(riverbend.by_role(role))

    landing = client.get("/")
    page = client.get(landing["Location"])

    assert landing["Location"] == LANDING[role]
    assert page.status_code == 200


def test_account_without_a_role_is_told_plainly(client, riverbend):
    riverbend.comms.role_grants.all().delete()
    client.force_login(riverbend.comms)

    response = client.get("/")

    assert response.status_code == 403
    assert b"no role in a district" in response.content


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (Role.PRINCIPAL, "/comms/"),
        (Role.BOARD_LIAISON, "/comms/legal/"),
        (Role.COMMUNICATIONS, "/incidents/academics/"),
        (Role.LEGAL, "/incidents/guidance/"),
        (Role.TECHNICAL, "/incidents/briefing/"),
        (Role.COMMUNICATIONS, "/incidents/new/"),
        (Role.TECHNICAL, "/incidents/new/"),
    ],
)
def test_role_pages_refuse_other_roles(client, riverbend, role, url):
    client.force_login(riverbend.by_role(role))

    response = client.get(url)

    assert response.status_code == 403
    assert b"This page is for the" in response.content


def test_cio_sees_only_their_districts_incidents(client, riverbend, lakeshore):
    IncidentFactory(owner=riverbend.cio, title="Riverbend network down")
    IncidentFactory(owner=lakeshore.cio, title="Lakeshore phones down")
    client.force_login(riverbend.cio)

    response = client.get("/incidents/")

    assert b"Riverbend network down" in response.content
    assert b"Lakeshore phones down" not in response.content


def test_cio_opens_an_incident(client, riverbend):
    client.force_login(riverbend.cio)

    response = client.post("/incidents/new/", valid_form(riverbend))

    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/{incident.pk}/"
    assert incident.owner == riverbend.cio
    assert list(incident.systems.all()) == [riverbend.systems[0]]
    assert incident.impacts == ["instruction"]


def test_cio_opens_an_exercise_on_a_scaled_clock(client, riverbend):
    client.force_login(riverbend.cio)

    client.post("/incidents/new/", valid_form(riverbend, mode="exercise", time_scale="60"))

    incident = Incident.objects.get()
    assert incident.is_exercise and incident.time_scale == 60


def test_missing_fields_are_refused_with_field_messages(client, riverbend):
    client.force_login(riverbend.cio)

    response = client.post("/incidents/new/", {"scope": "some", "mode": "exercise"})

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) >= {"title", "kind", "severity", "schools", "time_scale"}
    assert b"Nothing was saved" in response.content
    assert not Incident.objects.exists()
    assert not TimelineEntry.objects.exists()


def test_oversized_title_is_refused(client, riverbend):
    client.force_login(riverbend.cio)

    response = client.post("/incidents/new/", valid_form(riverbend, title="x" * 201))

    assert response.status_code == 422
    assert "at most 200 characters" in response.context["form"].errors["title"][0]
    assert not Incident.objects.exists()


@pytest.mark.parametrize("scale", ["0", "3601", "fast"])
def test_exercise_speed_out_of_range_is_refused(client, riverbend, scale):
    client.force_login(riverbend.cio)

    response = client.post(
        "/incidents/new/", valid_form(riverbend, mode="exercise", time_scale=scale)
    )

    assert response.status_code == 422
    assert "time_scale" in response.context["form"].errors
    assert not Incident.objects.exists()


def test_another_districts_school_is_refused(client, riverbend, lakeshore):
    client.force_login(riverbend.cio)

    response = client.post(
        "/incidents/new/", valid_form(riverbend, scope="some", schools=[lakeshore.schools[0].pk])
    )

    assert response.status_code == 422
    assert "schools" in response.context["form"].errors
    assert not Incident.objects.exists()


def test_incident_page_shows_phase_clock_in_district_time(client, riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    client.force_login(riverbend.cio)

    response = client.get(f"/incidents/{incident.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "Phase 1: Control" in body
    assert "Phase 2: Trust begins" in body
    # America/Chicago is CST or CDT; the page never shows server UTC as local time.
    assert "CST" in body or "CDT" in body
    assert 'role="timer"' in body


@pytest.mark.parametrize("role", [Role.COMMUNICATIONS, Role.ACADEMICS, Role.LEGAL, Role.TECHNICAL])
def test_response_team_can_read_the_incident(client, riverbend, role):
    incident = IncidentFactory(owner=riverbend.cio)
    client.force_login(riverbend.by_role(role))

    assert client.get(f"/incidents/{incident.pk}/").status_code == 200


@pytest.mark.parametrize("role", [Role.PRINCIPAL, Role.BOARD_LIAISON])
@pytest.mark.parametrize("suffix", ["", "review/", "timeline.json"])
def test_principal_and_board_are_refused_on_incident_pages(client, riverbend, role, suffix):
    incident = IncidentFactory(owner=riverbend.cio)
    client.force_login(riverbend.by_role(role))

    response = client.get(f"/incidents/{incident.pk}/{suffix}")

    assert response.status_code == 403
    assert b"Incident pages are for the response team" in response.content


@pytest.mark.parametrize("suffix", ["", "review/"])
def test_another_district_cannot_see_an_incident(client, riverbend, lakeshore, suffix):
    incident = IncidentFactory(owner=riverbend.cio, title="Riverbend secret")
    client.force_login(lakeshore.cio)

    response = client.get(f"/incidents/{incident.pk}/{suffix}")

    assert response.status_code == 404
    assert b"Riverbend secret" not in response.content


def test_another_district_cannot_list_or_assign(client, riverbend, lakeshore):
    incident = IncidentFactory(owner=riverbend.cio)
    client.force_login(lakeshore.cio)

    response = client.post(
        f"/incidents/{incident.pk}/roles/", {"function": "legal", "user": lakeshore.legal.pk}
    )

    assert response.status_code == 404
    assert not IncidentRole.objects.exists()


def test_owner_assigns_a_role_through_htmx(client, riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    client.force_login(riverbend.cio)

    response = client.post(
        f"/incidents/{incident.pk}/roles/",
        {"function": "communications", "user": riverbend.comms.pk},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert b'id="panel-roles"' in response.content
    assert b"<html" not in response.content
    assert IncidentRole.objects.get(incident=incident).user == riverbend.comms


def test_wrong_person_for_a_role_is_refused_in_the_panel(client, riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    client.force_login(riverbend.cio)

    response = client.post(
        f"/incidents/{incident.pk}/roles/",
        {"function": "legal", "user": riverbend.comms.pk},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 422
    assert b"does not hold the Legal counsel role" in response.content
    assert not IncidentRole.objects.exists()


@pytest.mark.parametrize("role", [Role.COMMUNICATIONS, Role.TECHNICAL, Role.PRINCIPAL])
def test_only_the_owner_may_assign(client, riverbend, role):
    incident = IncidentFactory(owner=riverbend.cio)
    client.force_login(riverbend.by_role(role))

    response = client.post(
        f"/incidents/{incident.pk}/roles/", {"function": "legal", "user": riverbend.legal.pk}
    )

    assert response.status_code == 403
    assert not IncidentRole.objects.exists()


def test_non_owner_sees_roles_read_only(client, riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    client.force_login(riverbend.comms)

    response = client.get(f"/incidents/{incident.pk}/")

    assert b'name="function"' not in response.content


def test_forged_form_without_csrf_token_is_refused(riverbend):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(riverbend.cio)

    response = client.post("/incidents/new/", valid_form(riverbend))

    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_principal_sees_incidents_affecting_their_schools_only(client, riverbend):
    IncidentFactory(owner=riverbend.cio, title="At my school", all_schools=False).schools.add(
        riverbend.schools[0]
    )
    IncidentFactory(owner=riverbend.cio, title="Elsewhere", all_schools=False).schools.add(
        riverbend.schools[2]
    )
    client.force_login(riverbend.principal)

    response = client.get("/incidents/guidance/")

    assert b"At my school" in response.content
    assert b"Elsewhere" not in response.content


def test_incident_page_query_count_is_fixed(client, riverbend, django_assert_max_num_queries):
    incident = IncidentFactory(owner=riverbend.cio)
    incident.systems.add(*riverbend.systems)
    client.force_login(riverbend.cio)

    with django_assert_max_num_queries(21):
        response = client.get(f"/incidents/{incident.pk}/")

    assert response.status_code == 200


def test_a_change_answers_with_every_panel_in_one_response(client, riverbend):
    """The changed panel in place and the others out of band: no follow-up requests."""
    incident = IncidentFactory(owner=riverbend.cio)
    client.force_login(riverbend.cio)

    response = client.post(
        f"/incidents/{incident.pk}/roles/",
        {"function": Role.LEGAL, "user": riverbend.legal.pk},
        HTTP_HX_REQUEST="true",
    )

    body = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert body.lstrip().startswith('<section class="panel" id="panel-roles"')
    assert 'id="panel-roles" data-seq' in body and body.count("hx-swap-oob") == 7
    assert "Legal counsel: " in body[body.index('id="panel-timeline"') :]
