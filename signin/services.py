"""Writes of the sign-in domain: the security record, failure counts, break-glass accounts."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest

from incidents import events
from incidents.models import District, Role, User
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
    # What was posted is recorded as posted, less NUL characters, which PostgreSQL's text
    # cannot hold: a garbage post must still leave its trace, not a server error.
    identifier = (identifier or (user.username if user else "")).replace("\x00", "")
    return SecurityEvent.objects.create(
        kind=kind,
        identifier=identifier[:254],
        user=user,
        district=district,
        method=method,
        address=(throttle.client_address(request) or None) if request else None,
        detail=detail.replace("\x00", "")[:300],
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
    if verdict.alert:
        _alert_administrators(request=request, identifier=identifier, user=user)
    setattr(request, FAILED_ATTR, verdict)
    return verdict


def _alert_administrators(*, request: HttpRequest, identifier: str, user: User | None) -> None:
    """Many failures for one account, from anywhere: recorded, and the district's CIOs (or,
    for an account of no district, the console's administrators) are told by email."""
    if user is None:
        user = (
            User.objects.filter(username__iexact=identifier).first()
            or User.objects.filter(email__iexact=identifier).first()
        )
    district = user.district if user is not None else None
    security_event_record(
        request=request,
        kind=SecurityEvent.Kind.ACCOUNT_ATTACKED,
        identifier=identifier,
        user=user,
        district=district,
        detail=f"{settings.SIGN_IN_SLOWDOWN_AFTER} failed sign-ins within the window; "
        "further attempts are slowed down.",
    )
    if district is not None:
        recipients = [
            person.email
            for person in district.people.filter(role_grants__role=Role.CIO, is_active=True)
            if person.email
        ]
    else:
        recipients = [email for _, email in settings.ADMINS]
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                f"Many failed sign-ins for the account {identifier}",
                f"The console counted {settings.SIGN_IN_SLOWDOWN_AFTER} failed "
                f"sign-ins for {identifier} from several addresses within "
                f"{settings.SIGN_IN_WINDOW_SECONDS // 60} minutes. Further attempts are slowed "
                "down, not locked, so the account's holder can still sign in. If it is not "
                "them, look at the sign-in record in the admin.",
                None,
                recipients,
                fail_silently=True,
            )
        )


def sign_in_succeeded(*, request: HttpRequest, user: User, method: str) -> None:
    """Record a completed sign-in and forget the account's earlier failures."""
    security_event_record(
        request=request, kind=SecurityEvent.Kind.SIGNED_IN, user=user, method=method
    )
    address = throttle.client_address(request)
    throttle.clear_account(user.username, address)
    if user.email:
        throttle.clear_account(user.email, address)


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
