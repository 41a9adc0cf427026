"""Admission passes: a page's socket gets back in after a server restart without the whole
lookup of who the person is and what they may see.

A socket admitted the long way (its session, the person, their roles, the incident, whether
they are a named drafter) is given a pass: signed, naming the person, the groups it joined
and what it was for, bound to digests of its session key and of the person's session hash
(which changes with their password and when they sign out everywhere), and good for
``MAX_AGE`` seconds. The page keeps the newest one (each hello gives one, and a heartbeat a
fresh one once it is ``REFRESH_AFTER`` seconds old) and sends it when it reconnects. A pass
that is valid, unexpired, for the same path and the same session is checked with one query:
the session is still signed in, and the person is active with the same session hash.
Anything else takes the long way. When access changes, the socket is closed with a code that
makes the page drop its pass.

A thousand pages reconnecting at once after a restart then cost two queries each (this one
and the page's sequence numbers), not five.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import signing
from django.db.models import Exists
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
    person: str  # digest of the person's session hash when the pass was first given
    groups: list[str]


def _digest(value: str) -> str:
    return salted_hmac(SALT, value).hexdigest()[:32]


def person_digest(user) -> str:
    """What a pass remembers of the person: a digest of their session hash."""
    return _digest(user.get_session_auth_hash())


def issue(*, admitted: Admission, session_key: str, target: str) -> str:
    """A pass for the socket ``admitted`` on ``target`` (the socket's path), in this session."""
    return signing.dumps(
        {
            "u": admitted.user_id,
            "p": admitted.person,
            "s": _digest(session_key),
            "t": target,
            "g": admitted.groups,
        },
        salt=SALT,
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
        data.get("s", ""), _digest(session_key)
    ):
        return None
    return Admission(user_id=data["u"], person=data["p"], groups=list(data["g"]))


def still_signed_in(admitted: Admission, session_key: str) -> bool:
    """Whether the session is still signed in and the person still active with the same
    session hash: one query."""
    person = (
        get_user_model()
        .objects.filter(pk=admitted.user_id, is_active=True)
        .annotate(
            session_live=Exists(
                Session.objects.filter(session_key=session_key, expire_date__gt=timezone.now())
            )
        )
        .only("password", "session_epoch")
        .first()
    )
    return (
        person is not None
        and person.session_live
        and constant_time_compare(person_digest(person), admitted.person)
    )


class Renewal:
    """When a socket's page should be given a fresh pass."""

    def __init__(self) -> None:
        self.issued_at = time.monotonic()

    def due(self) -> bool:
        if time.monotonic() - self.issued_at < REFRESH_AFTER:
            return False
        self.issued_at = time.monotonic()
        return True
