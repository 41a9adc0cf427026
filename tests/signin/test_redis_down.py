"""Break-glass sign-in exists for the day the identity provider is down; it must also work on
the day Redis is. With nothing listening where Redis should be: password and code sign in, a
code cannot be used twice, failures still count, and signing out answers 302."""

from __future__ import annotations

import socket

import pytest
from channels.layers import channel_layers
from django.test import override_settings

from signin import throttle
from signin.demo import current_code
from tests.factories import PASSWORD


def _dead_redis() -> str:
    """An address where no Redis answers: connections are refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.fixture
def redis_down():
    url = _dead_redis()
    layers = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [url]},
        }
    }
    channel_layers.backends.clear()
    with override_settings(CHANNEL_LAYERS=layers, CELERY_BROKER_URL=url):
        yield
    channel_layers.backends.clear()


def _password(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"login": username, "password": password})


def test_the_console_keeps_its_cache_in_the_database():
    from django.conf import settings

    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"


@pytest.mark.django_db
def test_sign_in_and_sign_out_work_with_redis_down(client, break_glass_cio, redis_down):
    assert _password(client, break_glass_cio.username).status_code == 302

    signed_in = client.post("/accounts/login/code/", {"code": current_code()})

    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(break_glass_cio.pk)
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_code_cannot_be_used_twice_with_redis_down(client, break_glass_cio, redis_down):
    code = current_code()
    _password(client, break_glass_cio.username)
    client.post("/accounts/login/code/", {"code": code})
    client.post("/accounts/logout/")
    _password(client, break_glass_cio.username)

    again = client.post("/accounts/login/code/", {"code": code})

    assert again.status_code == 422
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_failures_still_count_with_redis_down(client, break_glass_cio, redis_down, settings):
    for _ in range(settings.SIGN_IN_FAILURES_PER_ACCOUNT):
        _password(client, break_glass_cio.username, "not-the-password")

    assert throttle.check(address="127.0.0.1", account=break_glass_cio.username).refused
    assert _password(client, break_glass_cio.username).status_code == 429
