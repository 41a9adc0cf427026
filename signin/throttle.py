"""Failure counts per client address, per account at an address, and per account, kept in
Django's cache (a database table).

Each key counts failures in a fixed window that starts with its first failure.
- One address that reaches its limit, across all accounts, is answered 429 until the window
  ends.
- One account that reaches its limit from one address is locked for that address only:
  someone guessing at a break-glass account from elsewhere never locks out the person who holds
  it and is trying to run the incident.
- One account whose failures from all addresses pass a higher threshold is slowed down, not
  locked: each further attempt waits twice as long as the last, up to a ceiling, and the
  district's administrators are told once per window.
A full sign-in clears the account's counts (for its address), never the address's, so an
attacker cannot reset the address count by signing in to an account of their own.
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
    """Whether an attempt may go ahead, and if not, for how many seconds it may not; and
    whether this failure is the one that should alert the district's administrators."""

    retry_after: int = 0
    alert: bool = False

    @property
    def refused(self) -> bool:
        return self.retry_after > 0


def _entry(key: str) -> tuple[int, float, float] | None:
    """(failures, when the window started, when the last failure came), within the window."""
    entry = cache.get(key)
    if not entry:
        return None
    count, started, *rest = entry
    # The window is judged by the stored start, not by the cache's expiry.
    if time.time() - started >= settings.SIGN_IN_WINDOW_SECONDS:
        return None
    return count, started, rest[0] if rest else started


def _retry_after(key: str, limit: int) -> int:
    entry = _entry(key)
    if entry is None or entry[0] < limit:
        return 0
    remaining = entry[1] + settings.SIGN_IN_WINDOW_SECONDS - time.time()
    return math.ceil(remaining) if remaining > 0 else 0


def _slowed_down(key: str) -> int:
    """Seconds an account under a spread-out attack must still wait: 1, 2, 4 ... seconds
    after each failure past the threshold, up to the ceiling."""
    entry = _entry(key)
    if entry is None:
        return 0
    over = entry[0] - settings.SIGN_IN_SLOWDOWN_AFTER
    if over < 0:
        return 0
    delay = min(2**over, settings.SIGN_IN_MAX_DELAY_SECONDS)
    remaining = entry[2] + delay - time.time()
    return math.ceil(remaining) if remaining > 0 else 0


def _pair(account: str, address: str) -> str:
    return _key("account-at", f"{account.strip().lower()} {address}")


def check(*, address: str, account: str = "") -> Verdict:
    """Refuse when the address, or the account from this address, has used up its failures
    in this window, or while the account is slowed down."""
    waits = [_retry_after(_key("address", address), settings.SIGN_IN_FAILURES_PER_ADDRESS)]
    if account:
        waits.append(_retry_after(_pair(account, address), settings.SIGN_IN_FAILURES_PER_ACCOUNT))
        waits.append(_slowed_down(_key("account", account)))
    return Verdict(retry_after=max(waits))


def _count(key: str) -> int:
    window = settings.SIGN_IN_WINDOW_SECONDS
    now = time.time()
    # Read-modify-write: two concurrent failures may count once. The limit is a brake on
    # guessing, not an exact budget, and an atomic counter would need a second key per entry.
    entry = _entry(key)
    count, started = (entry[0] + 1, entry[1]) if entry else (1, now)
    cache.set(key, (count, started, now), timeout=max(1, math.ceil(started + window - now)))
    return count


def record_failure(*, address: str, account: str = "") -> Verdict:
    """Count one failure and say whether the attempt that failed is now over a limit."""
    _count(_key("address", address))
    alert = False
    if account:
        _count(_pair(account, address))
        alert = _count(_key("account", account)) == settings.SIGN_IN_SLOWDOWN_AFTER
    verdict = check(address=address, account=account)
    return Verdict(retry_after=verdict.retry_after, alert=alert)


def clear_account(account: str, address: str) -> None:
    cache.delete_many([_key("account", account), _pair(account, address)])
