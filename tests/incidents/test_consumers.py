"""The websocket route through the real ASGI app, signed in by session cookie: fragments
rendered per audience, refusals, heartbeats, and sign-out closing the socket."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client

from comms import drafters
from console import live
from console.tasks import live_heartbeat
from incident_console.asgi import application
from incidents import services
from incidents.models import Role
from incidents.timeline import timeline_append
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test runs its sockets in a new event loop; a layer (and its locks and pools) made
    in an earlier test's loop must not be reused in this one."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def session_headers(user, client=None) -> list[tuple[bytes, bytes]]:
    client = client or Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()),
        (b"origin", b"http://localhost"),
    ]


def connect(incident_id: int, headers):
    return WebsocketCommunicator(application, f"/ws/incidents/{incident_id}/", headers=headers)


def without_pass(hello: dict) -> dict:
    """A hello with its admission pass (console.admission) taken out, checked to be there."""
    assert isinstance(hello.get("pass"), str)
    return {k: v for k, v in hello.items() if k != "pass"}


def assign_legal(incident, riverbend):
    services.incident_role_assign(
        incident=incident, function=Role.LEGAL, user=riverbend.legal, by=riverbend.cio
    )


def test_each_audience_receives_its_own_rendering_of_a_change(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    owner_headers = session_headers(riverbend.cio)
    comms_headers = session_headers(riverbend.comms)

    async def scenario():
        owner, comms = connect(incident.pk, owner_headers), connect(incident.pk, comms_headers)
        await owner.connect()
        await comms.connect()
        hellos = [await owner.receive_json_from(2), await comms.receive_json_from(2)]
        await database_sync_to_async(assign_legal)(incident, riverbend)
        pushed = [await owner.receive_json_from(2), await comms.receive_json_from(2)]
        await owner.disconnect()
        await comms.disconnect()
        return hellos, pushed

    hellos, (to_owner, to_comms) = async_to_sync(scenario)()

    assert [without_pass(h) for h in hellos] == [{"type": "hello", "sequence": 0}] * 2
    for push in (to_owner, to_comms):
        assert (push["type"], push["sequence"], push["from"]) == ("push", 1, 0)
        assert 'id="panel-timeline"' in push["html"]
        assert f"Legal counsel: {riverbend.legal}" in push["html"]
        assert "csrfmiddlewaretoken" not in push["html"]
    # Only the owner's rendering has the assignment controls.
    assert 'name="function"' in to_owner["html"]
    assert 'name="function"' not in to_comms["html"]


def test_several_rows_in_one_transaction_make_one_push(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.comms)

    def two_rows():
        with transaction.atomic():
            timeline_append(incident=incident, kind="note", summary="first")
            timeline_append(incident=incident, kind="note", summary="second")

    async def scenario():
        socket = connect(incident.pk, headers)
        await socket.connect()
        await socket.receive_json_from(2)
        await database_sync_to_async(two_rows)()
        push = await socket.receive_json_from(2)
        quiet = await socket.receive_nothing(0.3)
        await socket.disconnect()
        return push, quiet

    push, quiet = async_to_sync(scenario)()

    assert (push["from"], push["sequence"]) == (0, 2)
    assert quiet


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
        await database_sync_to_async(assign_legal)(incident, riverbend)
        nothing_more = await communicator.receive_nothing(timeout=0.3)
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


def test_heartbeat_carries_the_latest_sequence(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.legal)

    async def scenario():
        socket = connect(incident.pk, headers)
        await socket.connect()
        await socket.receive_json_from(2)
        await database_sync_to_async(live_heartbeat)()
        beat = await socket.receive_json_from(2)
        await socket.disconnect()
        return beat

    assert async_to_sync(scenario)() == {"type": "heartbeat", "sequence": 0}


def test_signing_out_closes_the_socket(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    client = Client()
    headers = session_headers(riverbend.comms, client)

    async def scenario():
        socket = connect(incident.pk, headers)
        await socket.connect()
        await socket.receive_json_from(2)
        await database_sync_to_async(client.post)("/accounts/logout/")
        closing = await socket.receive_output(timeout=2)
        await socket.disconnect()
        return closing

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4401}


def test_a_change_of_access_closes_the_socket_for_a_recheck(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.technical)

    async def scenario():
        socket = connect(incident.pk, headers)
        await socket.connect()
        await socket.receive_json_from(2)
        await database_sync_to_async(live.close_sockets)(
            live.user_group(riverbend.technical.pk), reason="access_changed"
        )
        closing = await socket.receive_output(timeout=2)
        await socket.disconnect()
        return closing

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4409}


def test_a_named_drafter_is_rechecked_and_then_gets_the_drafters_push(riverbend):

    incident = IncidentFactory(owner=riverbend.cio)
    services.incident_role_assign(
        incident=incident, function=Role.COMMUNICATIONS, user=riverbend.comms, by=riverbend.cio
    )
    headers = session_headers(riverbend.technical)

    def name_drafter():
        drafters.drafter_name(incident=incident, by=riverbend.comms, user=riverbend.technical)

    def a_note():
        timeline_append(incident=incident, kind="note", summary="Vendor called back")

    async def scenario():
        before = connect(incident.pk, headers)
        await before.connect()
        await before.receive_json_from(2)
        await database_sync_to_async(name_drafter)()
        # The push of the naming may come first; the close follows it.
        while (message := await before.receive_output(timeout=2))["type"] != "websocket.close":
            pass
        after = connect(incident.pk, headers)
        await after.connect()
        await after.receive_json_from(2)
        await database_sync_to_async(a_note)()
        push = await after.receive_json_from(2)
        await after.disconnect()
        return message, push

    closing, push = async_to_sync(scenario)()

    assert closing == {"type": "websocket.close", "code": 4409}
    assert 'id="new-audience"' in push["html"]


def connect_district(headers):
    return WebsocketCommunicator(application, "/ws/district/", headers=headers)


def test_dashboards_receive_blocks_for_their_audience(riverbend):
    from comms import drafts

    incident = IncidentFactory(owner=riverbend.cio)
    comms_headers = session_headers(riverbend.comms)
    board_headers = session_headers(riverbend.board)

    def submit_secret_draft():
        draft = drafts.draft_create(
            incident=incident, by=riverbend.comms, audience="board", channel="email"
        )
        drafts.draft_edit(
            draft=draft, by=riverbend.comms, body="UNAPPROVED BOARD TEXT", expected_revision=1
        )

    async def scenario():
        comms, board = connect_district(comms_headers), connect_district(board_headers)
        await comms.connect()
        await board.connect()
        hellos = [await comms.receive_json_from(2), await board.receive_json_from(2)]
        await database_sync_to_async(submit_secret_draft)()
        to_comms = await comms.receive_json_from(2)
        to_board = await board.receive_json_from(2)
        await comms.disconnect()
        await board.disconnect()
        return hellos, to_comms, to_board

    hellos, to_comms, to_board = async_to_sync(scenario)()

    assert without_pass(hellos[0]) == {"type": "hello", "sequences": {str(incident.pk): 0}}
    assert to_comms["type"] == "push" and to_comms["incident"] == incident.pk
    assert f'id="comms-incident-{incident.pk}"' in to_comms["html"]
    assert "Board · Email" in to_comms["html"]
    # A draft does not change the board's briefing: the board's page gets an empty push that
    # moves its sequence on, and never the unapproved text.
    assert (to_board["type"], to_board["html"]) == ("push", "")
    assert to_board["sequence"] == to_comms["sequence"]


def test_principals_get_a_refresh_notice_not_fragments(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.principal)

    async def scenario():
        socket = connect_district(headers)
        await socket.connect()
        await socket.receive_json_from(2)
        await database_sync_to_async(assign_legal)(incident, riverbend)
        message = await socket.receive_json_from(2)
        await socket.disconnect()
        return message

    message = async_to_sync(scenario)()

    assert (message["type"], message["incident"], message["html"]) == ("refresh", incident.pk, "")


def test_another_district_hears_nothing(riverbend, lakeshore):
    incident = IncidentFactory(owner=riverbend.cio)
    headers = session_headers(lakeshore.comms)

    async def scenario():
        socket = connect_district(headers)
        await socket.connect()
        hello = await socket.receive_json_from(2)
        await database_sync_to_async(assign_legal)(incident, riverbend)
        quiet = await socket.receive_nothing(0.5)
        await socket.disconnect()
        return hello, quiet

    hello, quiet = async_to_sync(scenario)()

    assert without_pass(hello) == {"type": "hello", "sequences": {}}
    assert quiet


def test_district_socket_refuses_the_anonymous(db):
    async def scenario():
        socket = connect_district([(b"origin", b"http://localhost")])
        await socket.connect()
        closing = await socket.receive_output(2)
        await socket.disconnect()
        return closing

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4401}


def test_district_heartbeat_lists_open_incidents(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.academics)

    async def scenario():
        socket = connect_district(headers)
        await socket.connect()
        await socket.receive_json_from(2)
        await database_sync_to_async(live_heartbeat)()
        beat = await socket.receive_json_from(2)
        await socket.disconnect()
        return beat

    assert async_to_sync(scenario)() == {
        "type": "heartbeat",
        "sequences": {str(incident.pk): 0},
    }


def test_a_socket_idle_longer_than_the_layer_block_still_receives(riverbend):
    """With channels-redis, the layer blocks 5 s at a time waiting for messages; a read
    timeout no longer than that would drop an idle consumer."""
    incident = IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.comms)

    async def scenario():
        socket = connect(incident.pk, headers)
        await socket.connect()
        await socket.receive_json_from(2)
        idle = await socket.receive_nothing(timeout=6.5, interval=0.5)
        await database_sync_to_async(assign_legal)(incident, riverbend)
        push = await socket.receive_json_from(3)
        await socket.disconnect()
        return idle, push

    idle, push = async_to_sync(scenario)()

    assert idle
    assert push["type"] == "push" and push["sequence"] == 1


@pytest.mark.parametrize(("path", "expected"), [("incident", 4), ("district", 3)])
def test_a_connect_makes_one_database_call_of_few_queries(riverbend, calls, path, expected):
    """A socket without an admission pass (a page's first connect) costs one database call:
    the session, the person with their roles, then the incident and whether they draft for it,
    or on a dashboard the district's open incidents. With a pass it is less
    (test_admission)."""
    incident = IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.comms)

    async def scenario():
        socket = connect(incident.pk, headers) if path == "incident" else connect_district(headers)
        connected, _ = await socket.connect()
        hello = await socket.receive_json_from(2)
        await socket.disconnect()
        return connected, hello

    connected, hello = async_to_sync(scenario)()

    assert connected and hello["type"] == "hello"
    assert calls == [("_admit", expected)]


def test_signing_out_on_one_device_leaves_the_other_devices_live(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    laptop, phone = Client(), Client()
    laptop_headers = session_headers(riverbend.cio, laptop)
    phone_headers = session_headers(riverbend.cio, phone)

    async def scenario():
        on_laptop, on_phone = (
            connect(incident.pk, laptop_headers),
            connect(incident.pk, phone_headers),
        )
        await on_laptop.connect()
        await on_phone.connect()
        await on_laptop.receive_json_from(2)
        await on_phone.receive_json_from(2)
        await database_sync_to_async(laptop.post)("/accounts/logout/")
        laptop_closed = await on_laptop.receive_output(timeout=2)
        phone_quiet = await on_phone.receive_nothing(timeout=0.5)
        await on_laptop.disconnect()
        await on_phone.disconnect()
        return laptop_closed, phone_quiet

    laptop_closed, phone_quiet = async_to_sync(scenario)()

    assert laptop_closed == {"type": "websocket.close", "code": 4401}
    assert phone_quiet, "the phone's socket was closed by the laptop's sign-out"
    assert phone.get("/incidents/").status_code == 200


def test_signing_out_everywhere_ends_every_session_and_socket(riverbend):
    incident = IncidentFactory(owner=riverbend.cio)
    laptop, phone = Client(), Client()
    session_headers(riverbend.cio, laptop)  # signs the laptop in
    phone_headers = session_headers(riverbend.cio, phone)

    async def scenario():
        on_phone = connect(incident.pk, phone_headers)
        await on_phone.connect()
        await on_phone.receive_json_from(2)
        await database_sync_to_async(laptop.post)("/accounts/logout/", {"everywhere": "1"})
        closed = await on_phone.receive_output(timeout=2)
        await on_phone.disconnect()
        again = connect(incident.pk, phone_headers)
        await again.connect()
        refused = await again.receive_output(timeout=2)
        await again.disconnect()
        return closed, refused

    closed, refused = async_to_sync(scenario)()

    assert closed["type"] == "websocket.close"
    assert refused == {"type": "websocket.close", "code": 4401}
    response = phone.get("/incidents/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    from signin.models import SecurityEvent

    assert SecurityEvent.objects.filter(
        user=riverbend.cio, kind=SecurityEvent.Kind.SIGNED_OUT_EVERYWHERE
    ).exists()
