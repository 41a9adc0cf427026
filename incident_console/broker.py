"""Handing work to the Celery broker without waiting on one that is down.

Every hand-off to the broker (a delivery, a live push) follows a change already committed to
PostgreSQL, and each has a way back that does not need the hand-off: the requeue task finds
outbox rows nobody took, and open pages catch up at their next heartbeat. So a failed
hand-off is logged and dropped. With Redis down each attempt costs about 0.6 s of connection
retries; after one fails, the next ones in this process are skipped for a few seconds, so a
burst of firings in the timer loop, or a request that saves several changes, does not wait
on the broker once per item.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

# After a failed hand-off, hand-offs from this process are skipped for this long.
PAUSE_SECONDS = 5.0

_down_until = 0.0


def hand_off(send: Callable[[], object], what: str) -> bool:
    """Call ``send``, which queues work on the broker. Returns whether it was queued."""
    global _down_until
    if time.monotonic() < _down_until:
        log.info("not queueing %s: the broker was unreachable moments ago", what)
        return False
    try:
        send()
    except Exception:
        _down_until = time.monotonic() + PAUSE_SECONDS
        log.warning("could not queue %s; the broker is unreachable", what, exc_info=True)
        return False
    return True


def reset() -> None:
    """Forget a past failure (for tests)."""
    global _down_until
    _down_until = 0.0
