"""manage.py break_glass, manage.py demo_code, and the demo users' authenticator."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command

from incidents.models import User
from signin.demo import DEMO_TOTP_SECRET, current_code
from signin.models import SecurityEvent


def break_glass(*args) -> str:
    out = StringIO()
    call_command("break_glass", *args, stdout=out)
    return out.getvalue()


def printed(output: str, label: str) -> str:
    return re.search(rf"^{label}: (\S+)$", output, re.MULTILINE).group(1)


def test_break_glass_creates_an_account_that_signs_in_with_password_and_code(client, riverbend):
    output = break_glass("rb-breakglass", "--district", "riverbend", "--role", "cio")

    secret = printed(output, "Authenticator secret")
    assert printed(output, "Authenticator URI").startswith(
        f"otpauth://totp/Incident%20console%3Arb-breakglass?secret={secret}&"
    )
    user = User.objects.get(username="rb-breakglass")
    assert (user.district, user.roles) == (riverbend.district, frozenset({"cio"}))
    client.post(
        "/accounts/login/",
        {"login": "rb-breakglass", "password": printed(output, "Password")},
    )
    response = client.post("/accounts/login/code/", {"code": current_code(secret)})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.BREAK_GLASS, user=user).exists()


def test_break_glass_reactivates_and_replaces_the_old_authenticator(riverbend):
    first = printed(break_glass("rb-breakglass", "--district", "riverbend"), "Authenticator secret")
    User.objects.filter(username="rb-breakglass").update(is_active=False)

    second = printed(break_glass("rb-breakglass"), "Authenticator secret")

    user = User.objects.get(username="rb-breakglass")
    assert user.is_active
    assert first != second
    assert Authenticator.objects.filter(user=user).count() == 1


def test_break_glass_needs_a_district_for_a_new_account(db):
    with pytest.raises(CommandError, match="name its district with --district"):
        break_glass("nobody-yet")


def test_break_glass_refuses_an_unknown_district(db):
    with pytest.raises(CommandError, match="No district has the slug"):
        break_glass("rb-breakglass", "--district", "atlantis")


def test_break_glass_refuses_to_move_a_person_to_another_district(riverbend, lakeshore):
    with pytest.raises(CommandError, match="belongs to Riverbend District"):
        break_glass(riverbend.cio.username, "--district", "lakeshore")


def test_demo_code_prints_the_demo_authenticator_code():
    out = StringIO()

    call_command("demo_code", stdout=out, stderr=StringIO())

    assert re.fullmatch(r"\d{6}\n", out.getvalue())
    assert out.getvalue().strip() in {
        current_code(),
        current_code(at=__import__("time").time() - 30),
    }


def test_seed_demo_gives_every_demo_user_the_demo_authenticator(db, settings):
    settings.DEBUG = True

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    users = User.objects.count()
    assert Authenticator.objects.filter(type=Authenticator.Type.TOTP).count() == users == 19
    authenticator = Authenticator.objects.filter(user__username="ls-board").get()
    assert authenticator.wrap().instance.data["secret"] == DEMO_TOTP_SECRET


def test_break_glass_lets_an_administrator_without_a_district_into_the_admin(client, db):
    User.objects.create_superuser("admin", "admin@example.org", "first-password")
    output = break_glass("admin")

    client.post("/accounts/login/", {"login": "admin", "password": printed(output, "Password")})
    client.post(
        "/accounts/login/code/", {"code": current_code(printed(output, "Authenticator secret"))}
    )

    assert client.get("/admin/").status_code == 200
