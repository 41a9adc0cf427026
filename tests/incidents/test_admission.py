"""Admission passes (console.admission): a socket that reconnects with the pass its page was
given gets back in with one database call of two queries; a pass for another path or
session, altered or expired takes the long way; a signed-out session is refused whatever
its pass says: signed out, signed out everywhere, or no longer active."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from console import admission
from console.tasks import live_heartbeat
from incident_console.asgi import application
from incidents.models import User
from signin.services import sessions_end_everywhere
from tests.factories import IncidentFactory
from tests.incidents.test_consumers import (
    assign_legal,
    fresh_channel_layer,  # noqa: F401 (autouse fixture)
    session_headers,
)

pytestmark = pytest.mark.django_db(transaction=True)


def path_of(kind: str, incident) -> str:
    return f"/ws/incidents/{incident.pk}/" if kind == "incident" else "/ws/district/"


def with_pass(path: str, value: str | None) -> str:
    return f"{path}?pass={quote(value)}" if value else path


def first_pass(path: str, headers) -> dict:
    """The hello of a socket admitted the long way, with its pass."""

    async def scenario():
        socket = WebsocketCommunicator(application, path, headers=headers)
        await socket.connect()
        hello = await socket.receive_json_from(2)
        await socket.disconnect()
        return hello

    return async_to_sync(scenario)()


def reconnect(path: str, headers) -> dict:
    """What a socket on ``path`` gets first: its hello, or the close."""

    async def scenario():
        socket = WebsocketCommunicator(application, path, headers=headers)
        await socket.connect()
        first = await socket.receive_output(timeout=2)
        await socket.disconnect()
        return first

    return async_to_sync(scenario)()


@pytest.mark.parametrize("kind", ["incident", "district"])
def test_a_reconnect_with_its_pass_is_one_call_of_two_queries(riverbend, calls, kind):
    incident = IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.comms)
    path = path_of(kind, incident)
    given = first_pass(path, headers)["pass"]
    calls.clear()

    async def scenario():
        socket = WebsocketCommunicator(application, with_pass(path, given), headers=headers)
        await socket.connect()
        hello = await socket.receive_json_from(2)
        await database_sync_to_async(assign_legal)(incident, riverbend)
        pushed = await socket.receive_json_from(3)
        await socket.disconnect()
        return hello, pushed

    hello, pushed = async_to_sync(scenario)()

    assert calls[0] == ("_resume", 2)
    assert hello["type"] == "hello" and isinstance(hello["pass"], str)
    if kind == "incident":
        assert hello["sequence"] == 0
    else:
        assert hello["sequences"] == {str(incident.pk): 0}
    # Back in the same groups: the next change reaches it.
    assert pushed["type"] == "push" and pushed["sequence"] == 1


@pytest.mark.parametrize("wrong", ["other incident", "other session", "altered", "expired"])
def test_a_pass_that_does_not_hold_takes_the_long_way(riverbend, calls, monkeypatch, wrong):
    incident, other = IncidentFactory(owner=riverbend.cio), IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.comms)
    given = first_pass(path_of("incident", incident), headers)["pass"]
    path, sent_headers = path_of("incident", incident), headers
    if wrong == "other incident":
        path = path_of("incident", other)
    elif wrong == "other session":
        sent_headers = session_headers(riverbend.comms, Client())
    elif wrong == "altered":
        given = given.replace(given[5], "A" if given[5] != "A" else "B", 1)
    else:
        monkeypatch.setattr(admission, "MAX_AGE", -1)
    calls.clear()

    hello = reconnect(with_pass(path, given), sent_headers)

    assert [name for name, _ in calls] == ["_admit"]
    assert hello["type"] == "websocket.send"


@pytest.mark.parametrize("ended", ["signed out", "signed out everywhere", "deactivated"])
def test_a_session_that_ended_is_refused_whatever_its_pass(riverbend, calls, ended):
    incident = IncidentFactory(owner=riverbend.cio)
    browser = Client()
    headers = session_headers(riverbend.comms, browser)
    path = path_of("incident", incident)
    given = first_pass(path, headers)["pass"]
    if ended == "signed out":
        browser.post("/accounts/logout/")
    elif ended == "signed out everywhere":
        sessions_end_everywhere(user=riverbend.comms)
    else:
        User.objects.filter(pk=riverbend.comms.pk).update(is_active=False)
    calls.clear()

    closing = reconnect(with_pass(path, given), headers)

    assert [name for name, _ in calls] == ["_resume", "_admit"]
    assert closing == {"type": "websocket.close", "code": 4401}


@pytest.mark.parametrize(("refresh_after", "renewed"), [(0, True), (3600, False)])
def test_a_heartbeat_renews_a_pass_once_it_is_old(riverbend, monkeypatch, refresh_after, renewed):
    IncidentFactory(owner=riverbend.cio)
    headers = session_headers(riverbend.comms)
    monkeypatch.setattr(admission, "REFRESH_AFTER", refresh_after)

    async def scenario():
        socket = WebsocketCommunicator(application, "/ws/district/", headers=headers)
        await socket.connect()
        await socket.receive_json_from(2)
        await database_sync_to_async(live_heartbeat)()
        beat = await socket.receive_json_from(2)
        await socket.disconnect()
        return beat

    beat = async_to_sync(scenario)()

    assert beat["type"] == "heartbeat"
    assert ("pass" in beat) is renewed
