"""What a browser may keep of a signed-in page, which browser features the console turns off,
and how long a session lasts without a request."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/incidents/", "/comms/", "/incidents/settings/"])
def test_signed_in_pages_are_never_stored(client, riverbend, path):
    client.force_login(riverbend.cio)

    response = client.get(path)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_signed_in_fragment_is_never_stored(client, riverbend):
    from tests.factories import IncidentFactory

    incident = IncidentFactory(owner=riverbend.cio)
    client.force_login(riverbend.cio)

    response = client.get(f"/incidents/{incident.pk}/timeline.csv")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_the_public_status_page_may_be_cached(client, riverbend):
    response = client.get(f"/status/{riverbend.district.slug}/")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_features_the_console_never_uses_are_turned_off(client):
    policy = client.get("/accounts/login/")["Permissions-Policy"]

    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def _expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_session_ends_after_twelve_idle_hours_and_moves_forward_while_used(client, riverbend):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(riverbend.cio)
        client.get("/incidents/")
        first = _expiry(client)
        assert first - timezone.now() <= timedelta(hours=12)

        clock.shift(timedelta(hours=2))
        assert client.get("/incidents/").status_code == 200
        assert _expiry(client) >= first + timedelta(hours=2)

        clock.shift(timedelta(hours=12, minutes=1))
        response = client.get("/incidents/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
