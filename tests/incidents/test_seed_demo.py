import pytest
from django.core.management import CommandError, call_command

from console.management.commands.seed_demo import DEMO_PASSWORD
from incidents.models import District, Incident, Role, RoleGrant, TimelineEntry, User


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


def counts():
    return (
        District.objects.count(),
        User.objects.count(),
        RoleGrant.objects.count(),
        Incident.objects.count(),
        TimelineEntry.objects.count(),
    )


def test_seed_creates_two_districts_with_every_role(db, debug_on):
    call_command("seed_demo")

    assert District.objects.count() == 2
    for district in District.objects.all():
        held = set(RoleGrant.objects.filter(user__district=district).values_list("role", flat=True))
        assert held == set(Role.values)
    principal = User.objects.get(username="rb-principal")
    assert principal.schools.count() == 2
    assert principal.check_password(DEMO_PASSWORD)


def test_seed_is_idempotent(db, debug_on):
    call_command("seed_demo")
    before = counts()

    call_command("seed_demo")

    assert counts() == before


def test_seed_refuses_with_debug_off(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="Refusing to load demo users"):
        call_command("seed_demo")

    assert not User.objects.exists()


def test_seed_runs_with_debug_off_when_forced(db, settings):
    settings.DEBUG = False

    call_command("seed_demo", force=True)

    assert User.objects.filter(username="rb-cio").exists()
