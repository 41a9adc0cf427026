"""Writes of the sign-in domain: the security record, failure counts, break-glass accounts."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest

from incidents import events
from incidents.models import District, User
from signin import throttle
from signin.models import SecurityEvent

# Set on the request when an attempt failed, so the throttle can answer this very attempt.
FAILED_ATTR = "_sign_in_verdict"


def security_event_record(
    *,
    request: HttpRequest | None,
    kind: str,
    identifier: str = "",
    user: User | None = None,
    district: District | None = None,
    method: str = "",
    detail: str = "",
) -> SecurityEvent:
    """Append one row to the sign-in record."""
    if district is None and user is not None:
        district = user.district
    return SecurityEvent.objects.create(
        kind=kind,
        identifier=(identifier or (user.username if user else ""))[:254],
        user=user,
        district=district,
        method=method,
        address=(throttle.client_address(request) or None) if request else None,
        detail=detail[:300],
    )


@transaction.atomic
def sessions_end_everywhere(*, user: User) -> None:
    """End every session the person has, on every device: each stops verifying at its next
    request or socket, and their open sockets close now."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    events.access_changed_on_commit(user.pk)


def sign_in_failed(
    *,
    request: HttpRequest,
    kind: str,
    identifier: str,
    method: str,
    user: User | None = None,
    district: District | None = None,
    detail: str = "",
) -> throttle.Verdict:
    """Record a failed or refused attempt and count it against the account and the address."""
    security_event_record(
        request=request,
        kind=kind,
        identifier=identifier,
        user=user,
        district=district,
        method=method,
        detail=detail,
    )
    verdict = throttle.record_failure(address=throttle.client_address(request), account=identifier)
    setattr(request, FAILED_ATTR, verdict)
    return verdict


def sign_in_succeeded(*, request: HttpRequest, user: User, method: str) -> None:
    """Record a completed sign-in and forget the account's earlier failures."""
    security_event_record(
        request=request, kind=SecurityEvent.Kind.SIGNED_IN, user=user, method=method
    )
    throttle.clear_account(user.username)
    if user.email:
        throttle.clear_account(user.email)


@transaction.atomic
def break_glass_issue(
    *, username: str, district: District | None, roles: list[str], password: str, secret: str
) -> tuple[User, bool]:
    """Create or reactivate a local account that signs in with a password and a TOTP code.

    Any authenticator the account had is replaced, so an old phone stops working.
    """
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    from incidents.models import RoleGrant

    user = User.objects.filter(username=username).first()
    created = user is None
    if created:
        user = User(username=username, district=district)
    elif district is not None and user.district_id != district.pk:
        raise ValueError(f"{username} belongs to {user.district}, not {district}.")
    user.is_active = True
    user.set_password(password)
    user.save()
    for role in roles:
        RoleGrant.objects.get_or_create(user=user, role=role)
    Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
    TOTP.activate(user, secret)
    security_event_record(
        request=None,
        kind=SecurityEvent.Kind.BREAK_GLASS,
        user=user,
        method="password",
        detail="created" if created else "reactivated, authenticator replaced",
    )
    return user, created


def totp_ensure(*, user: User, secret: str) -> bool:
    """Give ``user`` a TOTP authenticator with ``secret`` unless one exists. True if added."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    if Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        return False
    TOTP.activate(user, secret)
    return True
