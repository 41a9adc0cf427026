"""The worker comes back to the broker within a second of its return."""

import socket
from types import SimpleNamespace

import pytest
from kombu import Connection
from kombu.exceptions import OperationalError

from incident_console.celery import PromptReconnectConsumer, app


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_worker_uses_the_prompt_consumer():
    assert app.conf.worker_consumer == "incident_console.celery:PromptReconnectConsumer"


def test_broker_retries_start_at_once_and_never_wait_more_than_a_second(monkeypatch):
    import kombu.utils.functional as retrying

    waits = []
    real_sleep = retrying.sleep

    def recorded_sleep(seconds):
        waits.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(retrying, "sleep", recorded_sleep)
    consumer = object.__new__(PromptReconnectConsumer)
    consumer.app = SimpleNamespace(
        conf=SimpleNamespace(
            broker_connection_retry_on_startup=True,
            broker_connection_retry=True,
            broker_connection_max_retries=4,
        )
    )
    consumer.first_connection_attempt = False
    consumer.broker_connection_retry_attempt = 0
    conn = Connection(f"redis://127.0.0.1:{closed_port()}/0", connect_timeout=0.2)

    with pytest.raises(OperationalError):
        consumer.ensure_connected(conn)

    # kombu sleeps whole seconds and then the remainder: 0.5 s, then 1 s, then 1 s.
    assert [w for w in waits if w] == [0.5, 1.0, 1.0]


def test_a_page_notices_lost_groups_within_twenty_seconds():
    """A page that hears no heartbeat takes its socket for dead and reconnects: the beat sends
    one every few seconds, and the page's watchdog (in console.js) waits no more than 20."""
    import re
    from pathlib import Path

    from incident_console import celery

    script = (Path(__file__).resolve().parent.parent / "static/js/console.js").read_text()
    waits = [int(ms) for ms in re.findall(r"socket\.close\(\); \}, (\d+)\)", script)]
    schedule = celery.app.conf.beat_schedule["live-heartbeat"]["schedule"]

    assert waits == [celery.HEARTBEAT_WATCHDOG_SECONDS * 1000]
    assert celery.HEARTBEAT_WATCHDOG_SECONDS <= 20
    assert schedule == celery.HEARTBEAT_SECONDS
    assert 3 * schedule <= celery.HEARTBEAT_WATCHDOG_SECONDS, "a late beat must not drop sockets"
