"""The websocket route through the real ASGI app, signed in by session cookie."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from incident_console.asgi import application
from incidents import services
from incidents.models import Role
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def session_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        (b"origin", b"http://localhost"),
    ]


def connect(incident_id: int, headers):
    return WebsocketCommunicator(application, f"/ws/incidents/{incident_id}/", headers=headers)


def test_team_member_is_told_of_a_committed_change(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.comms)

    async def scenario():
        communicator = connect(incident.pk, headers)
        connected, _ = await communicator.connect()
        hello = await communicator.receive_json_from(timeout=2)
        await database_sync_to_async(services.incident_role_assign)(
            incident=incident, function=Role.LEGAL, user=riverbend.legal, by=riverbend.cio
        )
        changed = await communicator.receive_json_from(timeout=2)
        await communicator.disconnect()
        return connected, hello, changed

    connected, hello, changed = async_to_sync(scenario)()

    assert connected
    assert hello == {"type": "hello", "sequence": 0}
    assert changed == {"type": "changed", "sequence": 1, "kind": "role.assigned"}


@pytest.mark.parametrize("who", ["principal", "board", "other_district", "anonymous"])
def test_others_are_refused_and_receive_nothing(riverbend, lakeshore, who):
    incident = IncidentFactory(owner=riverbend.cio)
    headers = {
        "principal": lambda: session_headers(riverbend.principal),
        "board": lambda: session_headers(riverbend.board),
        "other_district": lambda: session_headers(lakeshore.cio),
        "anonymous": lambda: [(b"origin", b"http://localhost")],
    }[who]()

    async def scenario():
        communicator = connect(incident.pk, headers)
        await communicator.connect()
        closing = await communicator.receive_output(timeout=2)
        nothing_more = await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        return closing, nothing_more

    closing, nothing_more = async_to_sync(scenario)()

    # Accepted, then closed at once with a code the page understands, and nothing sent.
    assert closing == {"type": "websocket.close", "code": 4401 if who == "anonymous" else 4403}
    assert nothing_more


def test_a_foreign_origin_is_refused(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    headers = [h for h in session_headers(riverbend.cio) if h[0] != b"origin"]
    headers.append((b"origin", b"http://evil.example"))

    async def scenario():
        communicator = connect(incident.pk, headers)
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    assert not async_to_sync(scenario)()
