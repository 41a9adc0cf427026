"""Hand-offs to a broker that is down: logged, dropped, and not retried row by row."""

from __future__ import annotations

import pytest

from incident_console import broker


def test_a_hand_off_that_fails_is_dropped_and_the_next_ones_skipped(caplog):
    calls = []

    def down():
        calls.append("down")
        raise ConnectionRefusedError("Error 111 connecting to redis")

    assert broker.hand_off(down, "the first notification") is False
    # The next hand-offs do not wait on the broker again: the requeue task will send them.
    assert broker.hand_off(down, "the second notification") is False
    assert broker.hand_off(lambda: calls.append("up"), "a live push") is False
    assert calls == ["down"]
    assert "could not queue the first notification" in caplog.text


def test_hand_offs_resume_after_the_pause(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(broker.time, "monotonic", lambda: now[0])
    calls = []

    def down():
        raise ConnectionRefusedError("Error 111 connecting to redis")

    broker.hand_off(down, "a notification")
    now[0] += broker.PAUSE_SECONDS + 0.1

    assert broker.hand_off(lambda: calls.append("sent"), "a notification") is True
    assert calls == ["sent"]


@pytest.mark.parametrize("outcome", [None, "queued"])
def test_a_hand_off_that_works_says_so(outcome):
    assert broker.hand_off(lambda: outcome, "a live push") is True
