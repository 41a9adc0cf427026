"""Every sign-in path refuses the Nth failure with 429 and Retry-After, per account and
per client address."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client, RequestFactory

from signin.demo import current_code
from signin.models import SecurityEvent
from signin.throttle import client_address
from tests.factories import PASSWORD
from tests.signin.test_providers import (
    GOOGLE_CLAIMS,
    finish_google,
    return_from_google,
    start_google,
)

ACCOUNT_LIMIT = 3
ADDRESS_LIMIT = 5


@pytest.fixture(autouse=True)
def limits(settings):
    settings.SIGN_IN_FAILURES_PER_ACCOUNT = ACCOUNT_LIMIT
    settings.SIGN_IN_FAILURES_PER_ADDRESS = ADDRESS_LIMIT
    settings.SIGN_IN_WINDOW_SECONDS = 600


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 600
    assert b"Too many sign-in attempts" in response.content
    assert b"Try again in 10 minutes" in response.content


def wrong_password(client, username, **extra):
    return client.post("/accounts/login/", {"login": username, "password": "wrong"}, **extra)


def test_the_nth_wrong_password_for_an_account_is_refused(client, break_glass_cio):
    statuses = [wrong_password(client, break_glass_cio.username).status_code for _ in range(2)]

    third = wrong_password(client, break_glass_cio.username)

    assert statuses == [422, 422]
    assert_throttled(third)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.THROTTLED).exists()


def test_a_locked_account_is_refused_even_with_the_right_password(client, break_glass_cio):
    for _ in range(ACCOUNT_LIMIT):
        wrong_password(client, break_glass_cio.username)

    response = client.post(
        "/accounts/login/", {"login": break_glass_cio.username, "password": PASSWORD}
    )

    assert_throttled(response)
    assert "account_login" not in client.session


def test_the_lock_ends_with_the_window(client, break_glass_cio):
    with time_machine.travel(0, tick=False) as clock:
        for _ in range(ACCOUNT_LIMIT):
            wrong_password(client, break_glass_cio.username)
        clock.shift(601)

        response = client.post(
            "/accounts/login/", {"login": break_glass_cio.username, "password": PASSWORD}
        )

    assert response.status_code == 302


def test_the_nth_failure_from_one_address_is_refused_across_accounts(client, riverbend):
    names = ["a", "b", "c", "d"]
    statuses = [wrong_password(client, name).status_code for name in names]

    fifth = wrong_password(client, "e")

    assert statuses == [422] * 4
    assert_throttled(fifth)
    # Another address is not affected.
    assert wrong_password(client, "f", REMOTE_ADDR="10.0.0.9").status_code == 422


def test_the_nth_wrong_code_is_refused(client, break_glass_cio):
    client.post("/accounts/login/", {"login": break_glass_cio.username, "password": PASSWORD})
    statuses = [
        client.post("/accounts/login/code/", {"code": "000000"}).status_code for _ in range(2)
    ]

    third = client.post("/accounts/login/code/", {"code": "000000"})
    right = client.post("/accounts/login/code/", {"code": current_code()})

    assert statuses == [422, 422]
    assert_throttled(third)
    assert_throttled(right)
    assert "_auth_user_id" not in client.session


def test_the_nth_refused_provider_start_is_refused(client, google_idp):
    statuses = [
        client.post("/accounts/login/district/", {"email": "x@gmail.com"}).status_code
        for _ in range(2)
    ]

    third = client.post("/accounts/login/district/", {"email": "x@gmail.com"})

    assert statuses == [422, 422]
    assert_throttled(third)


def test_the_nth_failed_provider_callback_is_refused(client, google_idp):
    statuses = [
        client.get("/accounts/google/login/callback/", {"code": "x", "state": "y"}).status_code
        for _ in range(ADDRESS_LIMIT - 1)
    ]

    last = client.get("/accounts/google/login/callback/", {"code": "x", "state": "y"})

    assert statuses == [400] * (ADDRESS_LIMIT - 1)
    assert_throttled(last)


def test_the_nth_refusal_of_a_provider_account_from_one_address_is_refused(client, google_idp):
    other_browser = Client()
    # A sign-in started from the same address before the lock is refused when it returns.
    state = start_google(other_browser, REMOTE_ADDR="10.0.0.1")
    unverified = {**GOOGLE_CLAIMS, "email_verified": False}
    statuses = [
        finish_google(client, unverified, REMOTE_ADDR="10.0.0.1").status_code for _ in (1, 2)
    ]

    third = finish_google(client, unverified, REMOTE_ADDR="10.0.0.1")
    returned = return_from_google(other_browser, state, GOOGLE_CLAIMS, REMOTE_ADDR="10.0.0.1")
    restarted = client.post(
        "/accounts/login/district/", {"email": "dana@riverbend.k12.us"}, REMOTE_ADDR="10.0.0.1"
    )

    assert statuses == [403, 403]
    assert_throttled(third)
    assert_throttled(returned)
    assert_throttled(restarted)
    assert "_auth_user_id" not in other_browser.session


def test_failures_from_elsewhere_never_lock_the_holder_out(client, break_glass_cio):
    """Someone guessing from other addresses cannot keep the person running the incident out."""
    for n in range(ACCOUNT_LIMIT * 2):
        wrong_password(Client(), break_glass_cio.username, REMOTE_ADDR=f"10.0.1.{n}")

    first = client.post(
        "/accounts/login/",
        {"login": break_glass_cio.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.2.1",
    )
    second = client.post("/accounts/login/code/", {"code": current_code()}, REMOTE_ADDR="10.0.2.1")

    assert (first.status_code, second.status_code) == (302, 302)
    assert client.session["_auth_user_id"] == str(break_glass_cio.pk)


def test_many_failures_from_everywhere_slow_the_account_down_and_alert_the_cio(
    client, break_glass_cio, riverbend, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SIGN_IN_SLOWDOWN_AFTER = 4
    riverbend.cio.email = "dana@riverbend.k12.us"
    riverbend.cio.save(update_fields=["email"])
    with (
        time_machine.travel(0, tick=False) as clock,
        django_capture_on_commit_callbacks(execute=True),
    ):
        statuses = [
            wrong_password(
                Client(), break_glass_cio.username, REMOTE_ADDR=f"10.0.1.{n}"
            ).status_code
            for n in range(4)
        ]
        # Past the threshold: the next attempt, from anywhere, waits 1 s, then 2 s, ...
        at_once = wrong_password(Client(), break_glass_cio.username, REMOTE_ADDR="10.0.3.1")
        clock.shift(2)
        later = wrong_password(Client(), break_glass_cio.username, REMOTE_ADDR="10.0.3.2")
        right_away = client.post(
            "/accounts/login/",
            {"login": break_glass_cio.username, "password": PASSWORD},
            REMOTE_ADDR="10.0.3.3",
        )
        clock.shift(3)
        holder = client.post(
            "/accounts/login/",
            {"login": break_glass_cio.username, "password": PASSWORD},
            REMOTE_ADDR="10.0.3.3",
        )

    # The failure that reaches the threshold is itself told to wait; so is each after it.
    assert statuses == [422, 422, 422, 429]
    assert at_once.status_code == 429 and int(at_once["Retry-After"]) == 1
    assert later.status_code == 429 and int(later["Retry-After"]) == 2
    assert right_away.status_code == 429 and int(right_away["Retry-After"]) == 2
    assert holder.status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ACCOUNT_ATTACKED).count() == 1
    assert [m.to for m in mailoutbox] == [["dana@riverbend.k12.us"]]
    assert break_glass_cio.username in mailoutbox[0].subject


def test_a_full_sign_in_forgets_the_account_failures(client, break_glass_cio):
    for _ in range(ACCOUNT_LIMIT - 1):
        wrong_password(client, break_glass_cio.username, REMOTE_ADDR="10.0.0.1")
    client.post("/accounts/login/", {"login": break_glass_cio.username, "password": PASSWORD})
    client.post("/accounts/login/code/", {"code": current_code()})
    client.post("/accounts/logout/")

    statuses = [
        wrong_password(client, break_glass_cio.username, REMOTE_ADDR="10.0.0.2").status_code
        for _ in range(ACCOUNT_LIMIT - 1)
    ]

    assert statuses == [422] * (ACCOUNT_LIMIT - 1)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "127.0.0.1"),
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),
        (2, "6.6.6.6, 1.1.1.1, 10.0.0.5", "1.1.1.1"),
        (2, "", "127.0.0.1"),
        (1, "not-an-address", "127.0.0.1"),
    ],
    ids=["header-ignored", "one-proxy", "two-proxies", "missing-header", "garbage"],
)
def test_the_client_address_trusts_only_our_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected
