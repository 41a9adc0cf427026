"""factory_boy factories: explicit, sequenced, no randomness."""

from __future__ import annotations

import factory
from django.utils import timezone

from incidents import duties
from incidents.models import District, Incident, IncidentRole, Role, RoleGrant, School, System, User

PASSWORD = "test-pass-123"


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"District {n}")
    slug = factory.Sequence(lambda n: f"district-{n}")
    time_zone = "America/Chicago"

    @factory.post_generation
    def defaults(district, create, extracted, **kwargs):
        """Set up as the console sets up a new district: checklist and policy saved."""
        if create:
            duties.district_set_up(district=district)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"School {n}")


class SystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = System

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"System {n}")
    category = System.Category.SIS


class UserFactory(factory.django.DjangoModelFactory):
    """A person in a district. ``roles=[Role.CIO]`` grants district roles."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    district = factory.SubFactory(DistrictFactory)
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            RoleGrant.objects.get_or_create(user=self, role=role)

    @factory.post_generation
    def schools(self, create, extracted, **kwargs):
        if extracted:
            self.schools.add(*extracted)


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    district = factory.SelfAttribute("owner.district")
    owner = factory.SubFactory(UserFactory, roles=[Role.CIO])
    title = factory.Sequence(lambda n: f"Incident {n}")
    kind = Incident.Kind.SIS
    severity = Incident.Severity.HIGH
    all_schools = True
    declared_at = factory.LazyFunction(timezone.now)


class IncidentRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentRole

    incident = factory.SubFactory(IncidentFactory)
    function = Role.COMMUNICATIONS
    user = factory.SubFactory(UserFactory)
    assigned_by = factory.SelfAttribute("incident.owner")


def open_exercise(setup, *, time_scale: int = 60, **extra) -> Incident:
    """An exercise declared through the service by ``setup``'s CIO, its clock ``time_scale``
    times real time."""
    from incidents import services

    values = {"title": "Drill", "kind": Incident.Kind.SIS, "severity": 2, "all_schools": True}
    return services.incident_open(
        by=setup.cio, is_exercise=True, time_scale=time_scale, **{**values, **extra}
    )
