import pytest

from incidents import services
from incidents.errors import Invalid, Refused
from incidents.models import Incident, IncidentRole, Role, TimelineEntry
from tests.factories import IncidentFactory


def open_incident(setup, **overrides):
    kwargs = {
        "by": setup.cio,
        "title": "SIS down",
        "kind": Incident.Kind.SIS,
        "severity": Incident.Severity.HIGH,
        "systems": setup.systems[:1],
        "all_schools": True,
        "impacts": [Incident.Impact.INSTRUCTION],
    }
    kwargs.update(overrides)
    return services.incident_open(**kwargs)


def test_opening_makes_the_cio_owner_and_writes_the_timeline(riverbend):
    incident = open_incident(riverbend)

    assert incident.owner == riverbend.cio
    assert incident.district == riverbend.district
    assert incident.status == Incident.Status.ACTIVE
    entry = TimelineEntry.objects.get(incident=incident)
    assert (entry.kind, entry.sequence, entry.actor) == ("incident.opened", 1, riverbend.cio)
    assert incident.sequence == 1


def test_opening_for_some_schools_records_them(riverbend):
    incident = open_incident(riverbend, all_schools=False, schools=riverbend.schools[:2])

    assert set(incident.schools.all()) == set(riverbend.schools[:2])
    assert not incident.all_schools


def test_a_real_incident_always_runs_in_real_time(riverbend):
    incident = open_incident(riverbend, is_exercise=False, time_scale=60)

    assert incident.time_scale == 1


def test_an_exercise_keeps_its_clock_speed(riverbend):
    incident = open_incident(riverbend, is_exercise=True, time_scale=60)

    assert incident.is_exercise and incident.time_scale == 60


@pytest.mark.parametrize("scale", [0, 3601])
def test_exercise_clock_speed_outside_range_is_refused(riverbend, scale):
    with pytest.raises(Invalid, match="between 1 and 3600"):
        open_incident(riverbend, is_exercise=True, time_scale=scale)

    assert not Incident.objects.exists()


@pytest.mark.parametrize("role", [r for r in Role if r != Role.CIO])
def test_only_a_cio_can_open(riverbend, role):
    with pytest.raises(Refused):
        open_incident(riverbend, by=riverbend.by_role(role))

    assert not Incident.objects.exists()


def test_another_districts_systems_are_refused(riverbend, lakeshore):
    with pytest.raises(Invalid, match="belong to your district"):
        open_incident(riverbend, systems=lakeshore.systems)

    assert not Incident.objects.exists()


def test_some_schools_with_none_chosen_is_refused(riverbend):
    with pytest.raises(Invalid, match="Choose the affected schools"):
        open_incident(riverbend, all_schools=False, schools=[])


def test_owner_assigns_a_role(riverbend):
    incident = open_incident(riverbend)

    services.incident_role_assign(
        incident=incident, function=Role.COMMUNICATIONS, user=riverbend.comms, by=riverbend.cio
    )

    assert (
        IncidentRole.objects.get(incident=incident, function=Role.COMMUNICATIONS).user
        == riverbend.comms
    )
    entry = TimelineEntry.objects.filter(incident=incident).order_by("-sequence").first()
    assert entry.kind == "role.assigned"
    assert entry.payload == {"function": "communications", "user": riverbend.comms.pk}
    assert Incident.objects.get(pk=incident.pk).sequence == 2


def test_reassigning_replaces_the_holder_and_names_the_previous(riverbend):
    incident = open_incident(riverbend)
    other_comms = type(riverbend.comms).objects.create(
        username="comms-2", district=riverbend.district
    )
    other_comms.role_grants.create(role=Role.COMMUNICATIONS)
    services.incident_role_assign(
        incident=incident, function=Role.COMMUNICATIONS, user=riverbend.comms, by=riverbend.cio
    )

    services.incident_role_assign(
        incident=incident, function=Role.COMMUNICATIONS, user=other_comms, by=riverbend.cio
    )

    assert IncidentRole.objects.get(incident=incident).user == other_comms
    latest = TimelineEntry.objects.filter(incident=incident).order_by("-sequence").first()
    assert f"was {riverbend.comms}" in latest.summary


def test_assigning_the_same_person_again_writes_nothing(riverbend):
    incident = open_incident(riverbend)
    services.incident_role_assign(
        incident=incident, function=Role.LEGAL, user=riverbend.legal, by=riverbend.cio
    )

    services.incident_role_assign(
        incident=incident, function=Role.LEGAL, user=riverbend.legal, by=riverbend.cio
    )

    assert TimelineEntry.objects.filter(incident=incident).count() == 2


def test_clearing_a_role_removes_the_assignment(riverbend):
    incident = open_incident(riverbend)
    services.incident_role_assign(
        incident=incident, function=Role.LEGAL, user=riverbend.legal, by=riverbend.cio
    )

    services.incident_role_assign(
        incident=incident, function=Role.LEGAL, user=None, by=riverbend.cio
    )

    assert not IncidentRole.objects.filter(incident=incident).exists()
    latest = TimelineEntry.objects.filter(incident=incident).order_by("-sequence").first()
    assert latest.kind == "role.unassigned"


def test_only_the_owner_assigns_roles(riverbend):
    incident = open_incident(riverbend)
    second_cio = type(riverbend.cio).objects.create(username="cio-2", district=riverbend.district)
    second_cio.role_grants.create(role=Role.CIO)

    with pytest.raises(Refused, match="Only the incident owner"):
        services.incident_role_assign(
            incident=incident, function=Role.LEGAL, user=riverbend.legal, by=second_cio
        )

    assert not IncidentRole.objects.exists()


def test_a_person_without_the_role_cannot_be_assigned(riverbend):
    incident = open_incident(riverbend)

    with pytest.raises(Invalid, match="does not hold the Legal counsel role"):
        services.incident_role_assign(
            incident=incident, function=Role.LEGAL, user=riverbend.comms, by=riverbend.cio
        )

    assert not IncidentRole.objects.exists()


def test_a_person_from_another_district_cannot_be_assigned(riverbend, lakeshore):
    incident = open_incident(riverbend)

    with pytest.raises(Invalid):
        services.incident_role_assign(
            incident=incident, function=Role.LEGAL, user=lakeshore.legal, by=riverbend.cio
        )


def test_principal_is_not_an_incident_function(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)

    with pytest.raises(Invalid, match="Choose one of"):
        services.incident_role_assign(
            incident=incident, function=Role.PRINCIPAL, user=riverbend.principal, by=riverbend.cio
        )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("kind", "ransomware", "Choose the kind of incident"), ("severity", 9, "Choose a severity")],
)
def test_an_unknown_kind_or_severity_is_refused(riverbend, field, value, message):
    with pytest.raises(Invalid, match=message):
        open_incident(riverbend, **{field: value})

    assert not Incident.objects.exists()
