"""Session cookies in production, and signing out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from signin.demo import current_code
from signin.models import SecurityEvent
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def test_production_session_cookies_are_secure_httponly_and_lax():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(
        DEBUG="false",
        SECRET_KEY="k" * 50,
        ALLOWED_HOSTS="console.example.org",
        DJANGO_SETTINGS_MODULE="incident_console.settings",
    )
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY, "
        "settings.SESSION_COOKIE_SAMESITE, settings.CSRF_COOKIE_SECURE]))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, True, "Lax", True]


def test_the_session_cookie_of_a_sign_in_carries_the_production_flags(
    client, settings, break_glass_cio
):
    settings.SESSION_COOKIE_SECURE = True
    client.post("/accounts/login/", {"login": break_glass_cio.username, "password": PASSWORD})

    response = client.post("/accounts/login/code/", {"code": current_code()})

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert (cookie["secure"], cookie["httponly"], cookie["samesite"]) == (True, True, "Lax")


def test_signing_out_ends_the_session_and_is_recorded(client, riverbend):
    client.force_login(riverbend.comms)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session
    assert client.get("/comms/").status_code == 302
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user) == (SecurityEvent.Kind.SIGNED_OUT, riverbend.comms)


def test_sign_out_by_link_asks_first_and_changes_nothing(client, riverbend):
    client.force_login(riverbend.comms)

    response = client.get("/accounts/logout/")

    assert response.status_code == 200
    assert b"Sign out now" in response.content
    assert client.session["_auth_user_id"] == str(riverbend.comms.pk)
