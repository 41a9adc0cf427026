"""Break-glass sign-in: a password, then the code from an authenticator app."""

from __future__ import annotations

import pytest

from console.management.commands.seed_demo import DEMO_PASSWORD
from signin.demo import current_code
from signin.forms import PASSWORD_REFUSED
from signin.models import SecurityEvent
from tests.factories import PASSWORD


def sign_in_password(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"login": username, "password": password})


def test_password_then_code_signs_in_and_is_recorded(client, break_glass_cio):
    first = sign_in_password(client, break_glass_cio.username)
    assert first.status_code == 302
    assert first["Location"] == "/accounts/login/code/"
    assert "_auth_user_id" not in client.session

    second = client.post("/accounts/login/code/", {"code": current_code()})

    assert second.status_code == 302
    assert client.session["_auth_user_id"] == str(break_glass_cio.pk)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SIGNED_IN)
    assert (event.user, event.method, event.address) == (break_glass_cio, "password", "127.0.0.1")


def test_the_code_page_asks_for_the_code_with_a_label(client, break_glass_cio):
    sign_in_password(client, break_glass_cio.username)

    page = client.get("/accounts/login/code/")

    assert page.status_code == 200
    assert b'<label for="id_code">Code from your authenticator app</label>' in page.content
    assert b'autocomplete="one-time-code"' in page.content


def test_a_wrong_code_is_refused_with_a_clear_message_and_recorded(client, break_glass_cio):
    sign_in_password(client, break_glass_cio.username)

    response = client.post("/accounts/login/code/", {"code": "000000"})

    assert response.status_code == 422
    assert b"That code did not match" in response.content
    assert b'aria-describedby="id_code_error"' in response.content
    assert "_auth_user_id" not in client.session
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.CODE_FAILED, user=break_glass_cio
    ).exists()


def test_a_code_works_only_once(client, break_glass_cio):
    code = current_code()
    sign_in_password(client, break_glass_cio.username)
    client.post("/accounts/login/code/", {"code": code})
    client.post("/accounts/logout/")
    sign_in_password(client, break_glass_cio.username)

    response = client.post("/accounts/login/code/", {"code": code})

    assert response.status_code == 422
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_is_refused_and_recorded(client, break_glass_cio):
    response = sign_in_password(client, break_glass_cio.username, "not-the-password")

    assert response.status_code == 422
    assert PASSWORD_REFUSED.encode() in response.content.replace(b"&#x27;", b"'")
    assert b'aria-describedby="id_login_error"' in response.content
    event = SecurityEvent.objects.get()
    assert (event.kind, event.identifier) == (SecurityEvent.Kind.PASSWORD_FAILED, "riverbend-cio")


def test_a_right_password_without_an_authenticator_gets_the_same_refusal(client, riverbend):
    response = sign_in_password(client, riverbend.comms.username)

    assert response.status_code == 422
    assert PASSWORD_REFUSED.encode() in response.content.replace(b"&#x27;", b"'")
    assert "account_login" not in client.session
    assert client.get("/accounts/login/code/")["Location"] == "/accounts/login/"
    event = SecurityEvent.objects.get()
    assert (event.kind, event.user) == (SecurityEvent.Kind.REFUSED, riverbend.comms)


def test_the_code_step_without_a_password_sends_back_to_sign_in(client, break_glass_cio):
    response = client.post("/accounts/login/code/", {"code": current_code()})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_a_switched_off_account_cannot_sign_in(client, break_glass_cio):
    break_glass_cio.is_active = False
    break_glass_cio.save(update_fields=["is_active"])

    response = sign_in_password(client, break_glass_cio.username)

    assert response.status_code == 422
    assert "_auth_user_id" not in client.session


def test_the_admin_signs_in_through_the_console_sign_in(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_the_sign_in_page_labels_every_field(client):
    page = client.get("/accounts/login/")

    assert page.status_code == 200
    for label in (
        b'<label for="id_email">Work email address</label>',
        b'<label for="id_login">User name</label>',
        b'<label for="id_password">Password</label>',
    ):
        assert label in page.content
    assert b"<script>" not in page.content and b"style=" not in page.content


@pytest.mark.django_db
def test_a_demo_user_signs_in_with_the_demo_password_and_code(client, settings):
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo")

    sign_in_password(client, "rb-comms", DEMO_PASSWORD)
    response = client.post("/accounts/login/code/", {"code": current_code()})

    assert response.status_code == 302
    assert client.get("/").url == "/comms/"
