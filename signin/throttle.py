"""Failure counts per account and per client address, kept in Django's cache.

Each key counts failures in a fixed window that starts with its first failure. When a count
reaches its limit, that attempt and every later one until the window ends is answered 429.
A full sign-in clears the account's count, never the address's, so an attacker cannot reset
the address count by signing in to an account of their own.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the entry our own proxies added to X-Forwarded-For.

    Only the last TRUSTED_PROXY_COUNT entries were written by proxies we run; anything to
    their left came from the client and may be forged.
    """
    count = settings.TRUSTED_PROXY_COUNT
    remote = _valid(request.META.get("REMOTE_ADDR", ""))
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote
    return _valid(forwarded[-count]) or remote


def _valid(address: str) -> str:
    """The address if it is an IP address, else "": the record stores it as one."""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return ""


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"signin:{kind}:{digest}"


@dataclass(frozen=True)
class Verdict:
    """Whether an attempt may go ahead, and if not, for how many seconds it may not."""

    retry_after: int = 0

    @property
    def refused(self) -> bool:
        return self.retry_after > 0


def _retry_after(key: str, limit: int) -> int:
    entry = cache.get(key)
    if not entry or entry[0] < limit:
        return 0
    # The window is judged by the stored start, not by the cache's expiry, which Redis keeps
    # on its own clock.
    remaining = entry[1] + settings.SIGN_IN_WINDOW_SECONDS - time.time()
    return math.ceil(remaining) if remaining > 0 else 0


def check(*, address: str, account: str = "") -> Verdict:
    """Refuse when the address or the account has used up its failures in this window."""
    waits = [_retry_after(_key("address", address), settings.SIGN_IN_FAILURES_PER_ADDRESS)]
    if account:
        waits.append(_retry_after(_key("account", account), settings.SIGN_IN_FAILURES_PER_ACCOUNT))
    return Verdict(retry_after=max(waits))


def _count(key: str) -> None:
    window = settings.SIGN_IN_WINDOW_SECONDS
    now = time.time()
    # Read-modify-write: two concurrent failures may count once. The limit is a brake on
    # guessing, not an exact budget, and an atomic counter would need a second key per entry.
    entry = cache.get(key)
    if entry and now - entry[1] < window:
        count, started = entry[0] + 1, entry[1]
    else:
        count, started = 1, now
    cache.set(key, (count, started), timeout=max(1, math.ceil(started + window - now)))


def record_failure(*, address: str, account: str = "") -> Verdict:
    """Count one failure and say whether the attempt that failed is now over a limit."""
    _count(_key("address", address))
    if account:
        _count(_key("account", account))
    return check(address=address, account=account)


def clear_account(account: str) -> None:
    cache.delete(_key("account", account))
