"""Families' subscriptions to the public status page, by email or by text message.

A sign-up is confirmed before anything is sent to it: an email address by a link valid for
48 hours, a phone number by a six-digit code sent to it and typed on the page. The sign-up
answers the same whether or not the address was subscribed already, so the page never tells
anyone who is on the list; the confirmation decides, and sets the schools asked for.

What is stored is only what delivery needs: the address, the schools, and the confirmation's
state and times. The secret of a pending confirmation is stored as a keyed hash, and the link
and the code form carry the rest signed. Unsubscribing deletes the row.

Each public update (families or media and public, on the web channel) becomes one outbox row
per confirmed subscriber it concerns, inserted with the publication in one statement, and is
delivered in batches on the families' own queue (``settings.FAMILIES_QUEUE``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from comms.models import PUBLIC_AUDIENCES, Channel, Dispatch, PublishedUpdate, Subscriber
from incident_console import broker
from incidents.models import District, Incident, School

LINK_VALID = timedelta(hours=48)
CODE_VALID = timedelta(minutes=30)
CODE_TRIES = 5
BATCH = 200

_CONFIRM_SALT = "comms.subscriptions.confirm"
_CODE_SALT = "comms.subscriptions.code"
_UNSUBSCRIBE_SALT = "comms.subscriptions.unsubscribe"


class Refused(Exception):
    """A confirmation or unsubscribe link, or a code, that cannot be used; the message says
    what to do instead."""


@dataclass(frozen=True)
class SignUp:
    """What the page needs after a sign-up: for a phone number, the signed ticket the code
    form sends back with the code."""

    channel: str
    ticket: str = ""


def normalised(channel: str, raw: str) -> str:
    """The address as stored: an email address in lower case, a phone number in E.164.
    Raises ``ValidationError`` saying what to fix."""
    raw = raw.strip()
    if channel == Subscriber.Via.EMAIL:
        if not raw:
            raise ValidationError(_("Enter the email address to send updates to."))
        try:
            validate_email(raw)
        except ValidationError:
            raise ValidationError(
                _("Enter a whole email address, like name@example.com.")
            ) from None
        return raw.lower()
    if not raw:
        raise ValidationError(_("Enter the mobile number to text updates to."))
    try:
        number = phonenumbers.parse(raw, settings.PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _(
                "Enter a mobile number with its area code, like (617) 555-0123, or, for a "
                "number outside the country, a plus sign and the country code first."
            )
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _digest(subscriber_id: int, secret: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{subscriber_id}:{secret}".encode(), hashlib.sha256).hexdigest()


def _matches(subscriber: Subscriber, secret: str) -> bool:
    return bool(subscriber.confirm_secret) and hmac.compare_digest(
        subscriber.confirm_secret, _digest(subscriber.pk, secret)
    )


@transaction.atomic
def sign_up(
    *,
    district: District,
    channel: str,
    address: str,
    schools: list[School],
    language: str = "en",
    send: bool = True,
) -> SignUp:
    """Start a confirmation for the address: a link by email, a code by text message.

    The same happens whether or not the address is subscribed already (a confirmed
    subscription stays as it is until the new confirmation arrives). With ``send`` false (the
    address has asked too often) nothing is sent, and the answer is still the same."""
    subscriber, _ = Subscriber.objects.select_for_update().get_or_create(
        district=district, channel=channel, address=address
    )
    school_ids = sorted(s.pk for s in schools)
    if channel == Subscriber.Via.EMAIL:
        secret = secrets.token_urlsafe(16)
        token = signing.dumps(
            {"s": subscriber.pk, "n": secret, "k": school_ids}, salt=_CONFIRM_SALT
        )
        ticket = ""
    else:
        secret = f"{secrets.randbelow(10**6):06d}"
        token = ""
        ticket = signing.dumps(
            {"s": subscriber.pk, "k": school_ids, "l": language}, salt=_CODE_SALT
        )
    if send:
        subscriber.confirm_secret = _digest(subscriber.pk, secret)
        subscriber.confirm_sent_at = timezone.now()
        subscriber.confirm_attempts = 0
        subscriber.save(update_fields=["confirm_secret", "confirm_sent_at", "confirm_attempts"])
        from comms.tasks import send_confirmation

        transaction.on_commit(
            lambda: broker.hand_off(
                lambda: send_confirmation.delay(subscriber.pk, token or secret, language),
                "confirmation",
            )
        )
    return SignUp(channel=channel, ticket=ticket)


def _confirmed(subscriber: Subscriber, data: dict) -> Subscriber:
    school_ids = list(data.get("k", []))
    subscriber.confirmed_at = subscriber.confirmed_at or timezone.now()
    subscriber.confirm_secret = ""
    subscriber.confirm_attempts = 0
    subscriber.language = str(data.get("l") or "en")[:20]
    subscriber.save(
        update_fields=["confirmed_at", "confirm_secret", "confirm_attempts", "language"]
    )
    subscriber.schools.set(School.objects.filter(district=subscriber.district, pk__in=school_ids))
    return subscriber


def _loads(token: str, salt: str, max_age: timedelta | None, expired: str) -> dict:
    try:
        return signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise Refused(expired) from None
    except signing.BadSignature:
        raise Refused(
            _("This link is not complete. Open it from the message again, or sign up again.")
        ) from None


@transaction.atomic
def confirm_link(*, district: District, token: str) -> Subscriber:
    """Confirm an email subscription from its link. Confirming twice is harmless."""
    data = _loads(
        token,
        _CONFIRM_SALT,
        LINK_VALID,
        _("This confirmation link is more than 48 hours old. Sign up again for a new one."),
    )
    subscriber = (
        Subscriber.objects.select_for_update()
        .filter(pk=data.get("s"), district=district, channel=Subscriber.Via.EMAIL)
        .first()
    )
    if subscriber is None:
        raise Refused(_("This subscription was removed. Sign up again to receive updates."))
    if not _matches(subscriber, str(data.get("n", ""))):
        if subscriber.confirmed and not subscriber.confirm_secret:
            return subscriber
        raise Refused(
            _(
                "A newer confirmation link was sent to this address. Use the newest email, "
                "or sign up again."
            )
        )
    return _confirmed(subscriber, data)


def confirm_code(*, district: District, ticket: str, code: str) -> Subscriber:
    """Confirm a text-message subscription with the code sent to the phone. Each wrong code
    counts; after ``CODE_TRIES`` of them the sign-up must start again."""
    data = _loads(
        ticket,
        _CODE_SALT,
        CODE_VALID,
        _("The code has expired: codes last 30 minutes. Sign up again for a new one."),
    )
    code = "".join(ch for ch in code if ch.isdigit())
    with transaction.atomic():
        subscriber = (
            Subscriber.objects.select_for_update()
            .filter(pk=data.get("s"), district=district, channel=Subscriber.Via.SMS)
            .first()
        )
        if subscriber is None or not subscriber.confirm_secret:
            raise Refused(_("This sign-up is no longer waiting for a code. Sign up again."))
        if subscriber.confirm_attempts < CODE_TRIES and _matches(subscriber, code):
            return _confirmed(subscriber, data)
        subscriber.confirm_attempts += 1
        spent = subscriber.confirm_attempts >= CODE_TRIES
        if spent:
            subscriber.confirm_secret = ""
        subscriber.save(update_fields=["confirm_attempts", "confirm_secret"])
    if spent:
        raise Refused(_("That code did not match, five times. Sign up again for a new code."))
    left = CODE_TRIES - subscriber.confirm_attempts
    raise Refused(
        ngettext(
            "That code does not match the one we texted. Check it and type it again "
            "(%(left)d try left).",
            "That code does not match the one we texted. Check it and type it again "
            "(%(left)d tries left).",
            left,
        )
        % {"left": left}
    )


def unsubscribe_token(subscriber: Subscriber) -> str:
    return signing.dumps({"s": subscriber.pk, "a": subscriber.address}, salt=_UNSUBSCRIBE_SALT)


def unsubscribe_url(subscriber: Subscriber) -> str:
    path = reverse(
        "status-unsubscribe", args=[subscriber.district.slug, unsubscribe_token(subscriber)]
    )
    return settings.PUBLIC_URL + path


def unsubscribe_token_valid(token: str) -> None:
    """Raises ``Refused`` unless the unsubscribe link is whole."""
    _loads(token, _UNSUBSCRIBE_SALT, None, "")


def unsubscribe(*, district: District, token: str) -> bool:
    """Delete the subscription the link names, with every message still waiting for it.
    Returns whether there was one to delete."""
    data = _loads(token, _UNSUBSCRIBE_SALT, None, "")
    deleted, _ = Subscriber.objects.filter(
        pk=data.get("s"), address=data.get("a"), district=district
    ).delete()
    return bool(deleted)


def forget(*, channel: str, address: str) -> int:
    """Delete every subscription of an address, as when the provider reports that the phone
    asked for no more messages."""
    deleted, _ = Subscriber.objects.filter(channel=channel, address=address).delete()
    return deleted


def purge_unconfirmed() -> int:
    """Delete sign-ups that were never confirmed, once their last link has expired."""
    deleted, _ = Subscriber.objects.filter(
        confirmed_at__isnull=True, created_at__lt=timezone.now() - LINK_VALID
    ).delete()
    return deleted


def is_for_subscribers(update: PublishedUpdate) -> bool:
    return update.channel == Channel.WEB and update.audience in PUBLIC_AUDIENCES


def queue_for(update: PublishedUpdate) -> int:
    """Queue the public update for every confirmed subscriber it concerns (those of the whole
    district, and those of a school the incident affects), in the publication's transaction.

    One INSERT ... SELECT: a district's thousands of rows are written by the database in
    milliseconds, instead of being built and sent over one by one. The keys make it
    idempotent. Exercises never deliver. The batches are handed to the families' queue after
    commit; the requeue task sends any whose hand-off was lost.
    """
    incident: Incident = update.incident
    if incident.is_exercise or not is_for_subscribers(update):
        return 0
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    subscriber = Subscriber._meta.db_table
    chosen = Subscriber.schools.through._meta.db_table
    affected = Incident.schools.through._meta.db_table
    with connection.cursor() as cursor:
        # The names are the models' own tables; every value is a parameter.
        cursor.execute(
            f"""
            INSERT INTO {Dispatch._meta.db_table} (
                key, status, attempts, next_attempt_at, last_error, provider_id,
                provider_status, created_at, update_id, channel, destination, subscriber_id
            )
            SELECT %s || s.id, %s, 0, %s, '', '', '', %s, %s, s.channel, s.address, s.id
            FROM {subscriber} s
            WHERE s.district_id = %s AND s.confirmed_at IS NOT NULL AND (
                %s
                OR NOT EXISTS (SELECT 1 FROM {chosen} c WHERE c.subscriber_id = s.id)
                OR EXISTS (
                    SELECT 1 FROM {chosen} c JOIN {affected} a ON a.school_id = c.school_id
                    WHERE c.subscriber_id = s.id AND a.incident_id = %s
                )
            )
            ON CONFLICT (key) DO NOTHING
            """,  # noqa: S608
            [
                f"p{update.pk}:s",
                Dispatch.Status.PENDING,
                now,
                now,
                update.pk,
                incident.district_id,
                incident.all_schools,
                incident.pk,
            ],
        )
        queued = cursor.rowcount
    if queued:
        transaction.on_commit(lambda: hand_off(_waiting(update)))
    return queued


def _waiting(update: PublishedUpdate) -> list[int]:
    return list(
        Dispatch.objects.filter(
            update=update, subscriber__isnull=False, status=Dispatch.Status.PENDING
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def hand_off(ids: list[int]) -> None:
    """Queue deliveries to subscribers on the families' queue, ``BATCH`` rows a task."""
    from comms.tasks import deliver_to_subscribers

    batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
    broker.hand_off(
        lambda: [deliver_to_subscribers.delay(batch) for batch in batches], "subscriber batches"
    )
