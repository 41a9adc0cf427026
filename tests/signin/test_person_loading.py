"""The signed-in person is loaded with their district, roles and unread count in one query,
and what a page shows from them is what the database says at that request."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from comms.models import Notification
from console.people import person
from incidents.models import Role, RoleGrant
from tests.conftest import make_district
from tests.factories import IncidentFactory


def _notify(user, *, read: bool = False) -> Notification:
    return Notification.objects.create(
        key=f"test:{uuid.uuid4()}",
        incident=IncidentFactory(owner=user),
        recipient=user,
        channel=Notification.Channel.IN_APP,
        subject="Update due",
        body="The staff update is due in 15 minutes.",
        read_at=timezone.now() if read else None,
    )


def test_one_query_loads_the_person_their_district_roles_and_unread_count(riverbend):
    RoleGrant.objects.create(user=riverbend.cio, role=Role.LEGAL)
    _notify(riverbend.cio)
    _notify(riverbend.cio)
    _notify(riverbend.cio, read=True)
    _notify(riverbend.comms)

    with CaptureQueriesContext(connection) as queries:
        loaded = person(riverbend.cio.pk)
        district = loaded.district.name
        roles = loaded.roles
        unread = loaded.unread_in_app

    assert len(queries) == 1
    assert district == riverbend.district.name
    assert roles == frozenset({Role.CIO, Role.LEGAL})
    assert unread == 2


def test_a_person_with_no_roles_and_no_messages_has_none(riverbend):
    RoleGrant.objects.filter(user=riverbend.translator).delete()

    loaded = person(riverbend.translator.pk)

    assert loaded.roles == frozenset()
    assert loaded.unread_in_app == 0


def test_no_such_person_is_none(db):
    assert person(987654) is None


def test_a_role_taken_away_is_gone_from_the_next_page(client, riverbend):
    client.force_login(riverbend.comms)
    assert client.get("/comms/").status_code == 200

    RoleGrant.objects.filter(user=riverbend.comms, role=Role.COMMUNICATIONS).delete()

    assert client.get("/comms/").status_code == 403


def test_the_menu_counts_the_unread_messages_at_each_request(client, riverbend):
    client.force_login(riverbend.cio)
    _notify(riverbend.cio)
    first = client.get("/incidents/")
    _notify(riverbend.cio)
    second = client.get("/incidents/")

    assert first.context["unread_notifications"] == 1
    assert second.context["unread_notifications"] == 2


@pytest.mark.parametrize("backend", [0, 1])
def test_a_deactivated_person_is_signed_out_by_either_backend(client, riverbend, settings, backend):
    client.force_login(riverbend.cio, backend=settings.AUTHENTICATION_BACKENDS[backend])
    assert client.get("/incidents/").status_code == 200

    riverbend.cio.is_active = False
    riverbend.cio.save(update_fields=["is_active"])

    response = client.get("/incidents/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_a_session_signed_in_before_the_upgrade_stays_signed_in(client, settings):
    executor = MigrationExecutor(connection)
    executor.migrate([("signin", "0003_security_event_account_attacked")])
    cio = make_district("riverbend", "America/Chicago").cio
    # As Django's own backend signed it in, before the console's backends.
    client.force_login(cio, backend="django.contrib.auth.backends.ModelBackend")
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    assert client.get("/incidents/").status_code == 200

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("signin", "0004_sessions_keep_their_sign_in")])
    settings.AUTHENTICATION_BACKENDS = ["console.people.PersonBackend"]

    response = client.get("/incidents/")
    assert response.status_code == 200
    assert response.context["user"] == cio
