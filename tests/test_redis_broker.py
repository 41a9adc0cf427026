"""The worker's Redis transport: a channel whose connection was already detached (as
Celery leaves it after Redis went away) fails with a connection error that Celery recovers
from, where kombu's own fails with an ``AttributeError`` that stops the worker."""

from __future__ import annotations

import os

import pytest
from kombu import Connection
from kombu.transport import redis as kombu_redis

from incident_console.redis_broker import Transport

pytestmark = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs Redis: REDIS_URL is set by .ci/run"
)


@pytest.fixture
def detached_channel_holding_a_task():
    """A channel holding an unacknowledged task, after its connection was collected."""
    channels = []

    def make(transport):
        connection = Connection(os.environ["REDIS_URL"], transport=transport)
        channel = connection.default_channel
        channel.qos._delivered["held-task"] = None
        connection._do_close_transport()
        channels.append(channel)
        return connection, channel

    yield make
    for channel in channels:
        # Nothing is left for kombu to hand back when the interpreter exits.
        channel.qos._delivered.clear()
        channel.qos._delivered.restored = True


def test_kombus_own_transport_fails_in_a_way_celery_cannot_recover_from(
    detached_channel_holding_a_task,
):
    connection, channel = detached_channel_holding_a_task(kombu_redis.Transport)

    with pytest.raises(AttributeError):
        connection.maybe_close_channel(channel)


def test_closing_it_hands_the_failure_to_the_reconnect_path(detached_channel_holding_a_task):
    connection, channel = detached_channel_holding_a_task(Transport)

    connection.maybe_close_channel(channel)  # a connection error, which it ignores

    assert channel.closed


def test_a_late_acknowledgement_on_it_is_a_connection_error(detached_channel_holding_a_task):
    connection, channel = detached_channel_holding_a_task(Transport)

    with pytest.raises(connection.connection_errors):
        channel.basic_ack("held-task")
