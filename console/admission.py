"""Admission passes: a page's socket gets back in after a server restart without the whole
lookup of who the person is and what they may see.

A socket admitted the long way (its session, the person, their roles, the incident, whether
they are a named drafter) is given a pass: signed, naming the person, the groups it joined
and what it was for, bound to a digest of its session key, and good for ``MAX_AGE`` seconds.
The page keeps the newest one (each hello gives one, and a heartbeat a fresh one once it is
``REFRESH_AFTER`` seconds old) and sends it when it reconnects. A pass that is valid, unexpired,
for the same path and the same session is checked with one query, that the session is still
signed in; anything else takes the long way. When access changes, the socket is closed with a
code that makes the page drop its pass.

A thousand pages reconnecting at once after a restart then cost a query each, not five.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.sessions.models import Session
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "console.admission"
# How long a pass admits: longer than a restart and the pages' reconnect, short enough that
# access removed while a page was away from the server is not carried past it.
MAX_AGE = 60
REFRESH_AFTER = 20


@dataclass(frozen=True)
class Admission:
    user_id: int
    groups: list[str]


def _session_digest(session_key: str) -> str:
    return salted_hmac(SALT, session_key).hexdigest()[:32]


def issue(*, user_id: int, session_key: str, target: str, groups: list[str]) -> str:
    """A pass for ``user_id``'s socket on ``target`` (the socket's path), in this session."""
    return signing.dumps(
        {"u": user_id, "s": _session_digest(session_key), "t": target, "g": groups}, salt=SALT
    )


def read(value: str | None, *, session_key: str | None, target: str) -> Admission | None:
    """What ``value`` admits to on ``target`` in this session, or None if it is missing,
    altered, expired, or for another path or session."""
    if not value or not session_key:
        return None
    try:
        data = signing.loads(value, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("t") != target or not constant_time_compare(
        data.get("s", ""), _session_digest(session_key)
    ):
        return None
    return Admission(user_id=data["u"], groups=list(data["g"]))


def signed_in(session_key: str) -> bool:
    """Whether the session is still signed in: one query."""
    return Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now()).exists()


class Renewal:
    """When a socket's page should be given a fresh pass."""

    def __init__(self) -> None:
        self.issued_at = time.monotonic()

    def due(self) -> bool:
        if time.monotonic() - self.issued_at < REFRESH_AFTER:
            return False
        self.issued_at = time.monotonic()
        return True
