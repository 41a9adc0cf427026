"""Delivery of outbox rows through channel adapters, each send claimed exactly once.

Email goes through Django's email backend. Text messages go through one SMS adapter, chosen
by the ``SMS_PROVIDER`` setting; the recording fake stands in for a real provider in tests
and demos. The outbox row's key is the provider's idempotency key, so a send repeated after a
crash cannot reach a phone twice.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from email.utils import make_msgid
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import InterfaceError, OperationalError, connection
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from comms import discipline, public, sms, subscriptions, translations, webhook
from comms.models import Channel, Dispatch, Notification, PublishedUpdate

log = logging.getLogger(__name__)

# A text to a family carries the whole update when it fits in this many parts (GSM-7 or, for
# Vietnamese, Arabic or Chinese, UCS-2); a longer one carries the link to it.
SMS_WHOLE_SEGMENTS = 3


class SmsProvider(Protocol):
    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        """Send one text message; return the provider's message id."""


class RecordingSmsProvider:
    """A fake SMS provider that records every call and, like real providers, sends once
    per idempotency key. With ``SMS_RECORD_FILE`` set it also appends each call to that file
    as a JSON line, so tests can count sends made by worker processes."""

    calls: list[dict] = []
    _lock = threading.Lock()

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        call = {"to": to, "body": body, "key": idempotency_key}
        with self._lock:
            type(self).calls.append(call)
            path = getattr(settings, "SMS_RECORD_FILE", "")
            if path:
                with open(path, "a", encoding="utf-8") as out:
                    out.write(json.dumps(call) + "\n")
        return f"fake-{idempotency_key}"

    @classmethod
    def delivered_keys(cls) -> list[str]:
        return [c["key"] for c in cls.calls]

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.calls.clear()


def sms_provider() -> SmsProvider:
    return import_string(settings.SMS_PROVIDER)()


def _send_email(
    *, to: str, subject: str, body: str, key: str, headers: dict[str, str] | None = None
) -> str:
    message = EmailMessage(
        subject=subject,
        body=body,
        to=[to],
        headers={"Message-ID": make_msgid(idstring=key.replace(":", ".")), **(headers or {})},
    )
    message.send()
    return ""


def _send_notification(notification: Notification) -> str:
    recipient = notification.recipient
    if notification.channel == Notification.Channel.EMAIL:
        return _send_email(
            to=recipient.email,
            subject=notification.subject,
            body=notification.body,
            key=notification.key,
        )
    if notification.channel == Notification.Channel.SMS:
        return sms_provider().send(
            to=recipient.phone,
            body=f"{notification.subject}. {notification.body}"[:600],
            idempotency_key=notification.key,
        )
    raise ValueError(f"no adapter for channel {notification.channel}")


def _subject(update: PublishedUpdate) -> str:
    # Only reviewed words leave the district: the approved public title, else the neutral one.
    subject = f"{update.incident.district}: {public.public_title(update.incident)}"
    return f"Correction: {subject}" if update.corrects_id else subject


def _send_to_subscriber(dispatch: Dispatch) -> str:
    """One public update to one subscribed family, with the way to stop in every message:
    a one-click unsubscribe (RFC 8058) in an email, a link and STOP in a text."""
    update, subscriber = dispatch.update, dispatch.subscriber
    district = update.incident.district
    page = settings.PUBLIC_URL + reverse(
        "status-incident", args=[district.slug, update.incident_id]
    )
    unsubscribe = subscriptions.unsubscribe_url(subscriber)
    text, coming = update.summary, False
    if subscriber.language != "en":
        translated = update.translations.filter(language=subscriber.language).first()
        if translated is not None:
            text = translated.body
        coming = translated is None
        page += f"?lang={subscriber.language}"
    with translation.override(translations.words_language(subscriber.language)):
        if coming:
            text = _(
                "A translation of this update is coming. Until then, here it is in English."
            ) + ("\n\n" + text)
        if dispatch.channel == Channel.EMAIL:
            body = _(
                "%(text)s\n\nEvery update, as it is posted: %(page)s\n\n"
                "You receive these emails because you subscribed on the status page of "
                "%(district)s.\nUnsubscribe: %(unsubscribe)s\n"
            ) % {"text": text, "page": page, "district": district, "unsubscribe": unsubscribe}
            return _send_email(
                to=dispatch.destination,
                subject=_subject(update),
                body=body,
                key=dispatch.key,
                headers={
                    "List-Unsubscribe": f"<{unsubscribe}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )
        lead = f"{district}: {public.public_title(update.incident)}."
        stop = _("Reply STOP to end these texts, or visit %(link)s") % {"link": unsubscribe}
        message = f"{lead} {text} {stop}"
        if discipline.sms_segments(message).segments > SMS_WHOLE_SEGMENTS:
            # A long update is not cut: the text points to it whole.
            message = f"{lead} " + _("A new update is posted: %(link)s") % {"link": page}
            message += f" {stop}"
    return sms_provider().send(to=dispatch.destination, body=message, idempotency_key=dispatch.key)


def _send_dispatch(dispatch: Dispatch) -> str:
    update = dispatch.update
    if dispatch.subscriber_id:
        return _send_to_subscriber(dispatch)
    if dispatch.channel == Channel.EMAIL:
        subject = _subject(update)
        return _send_email(
            to=dispatch.destination, subject=subject, body=update.summary, key=dispatch.key
        )
    if dispatch.channel == Channel.SMS:
        return sms_provider().send(
            to=dispatch.destination, body=update.summary, idempotency_key=dispatch.key
        )
    if dispatch.channel == Dispatch.WEBHOOK:
        return webhook.post(dispatch)
    raise ValueError(f"no adapter for channel {dispatch.channel}")


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** max(attempts - 1, 0)))


def _deliver(model, pk: int, send, related: list[str]) -> str:
    """Claim one outbox row by conditional UPDATE, send it, and record the outcome."""
    now = timezone.now()
    waiting = [model.Status.PENDING, model.Status.RETRY]
    claimed = model.objects.filter(pk=pk, status__in=waiting, next_attempt_at__lte=now).update(
        status=model.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return "skipped"
    row = model.objects.select_related(*related).get(pk=pk)
    sending = model.objects.filter(pk=pk, status=model.Status.SENDING)
    try:
        provider_id = send(row) or ""
    except sms.Undeliverable as error:
        # The number will never take it: no retries. A phone that replied STOP is forgotten.
        message = str(error)[:500]
        _record(lambda: sending.update(status=model.Status.FAILED, last_error=message))
        if error.opted_out and getattr(row, "subscriber_id", None):
            subscriptions.forget(channel=row.channel, address=row.destination)
        log.warning("delivery of %s %s refused for good: %s", model.__name__, pk, error)
        return "failed"
    except Exception as error:
        failed = row.attempts >= model.MAX_ATTEMPTS
        at, message = timezone.now(), str(error)[:500]
        _record(
            lambda: sending.update(
                status=model.Status.FAILED if failed else model.Status.RETRY,
                next_attempt_at=at + backoff(row.attempts),
                last_error=message,
            )
        )
        log.warning("delivery of %s %s failed: %s", model.__name__, pk, error)
        return "failed" if failed else "retry"
    sent_at = timezone.now()
    _record(
        lambda: sending.update(
            status=model.Status.SENT, sent_at=sent_at, last_error="", provider_id=provider_id[:64]
        )
    )
    return "sent"


def _record(write: Callable[[], object]) -> None:
    """Record the outcome of a send, retrying while the database is unreachable.

    The provider has already been called. Were the row left ``sending`` because the database
    restarted at that moment, the stale-claim sweep would send it again; so the worker keeps
    trying for up to half the stale-claim time, long enough for a restart or a failover,
    and well before the sweep would take the row back.
    """
    give_up = time.monotonic() + settings.NOTIFICATION_STALE_CLAIM_SECONDS / 2
    pause = 0.25
    while True:
        try:
            write()
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() + pause > give_up:
                raise
            log.warning("could not record a send; the database is unreachable, retrying")
            connection.close()  # the next query opens a new connection
            time.sleep(pause)
            pause = min(pause * 2, 4.0)


def deliver(*, notification_id: int) -> str:
    """Send one notification if it is still waiting. Safe to call any number of times."""
    return _deliver(Notification, notification_id, _send_notification, ["recipient", "incident"])


def deliver_dispatch(*, dispatch_id: int) -> str:
    """Send one published update to one destination. Safe to call any number of times."""
    return _deliver(
        Dispatch, dispatch_id, _send_dispatch, ["update__incident__district", "subscriber"]
    )


def record_provider_status(*, provider_id: str, status: str, error_code: str = "") -> int:
    """Record what the provider reported for a message it accepted. A phone that replied
    STOP (Twilio's 21610) is unsubscribed. Returns how many outbox rows it named."""
    if not provider_id:
        return 0
    found = 0
    for model in (Dispatch, Notification):
        rows = model.objects.filter(provider_id=provider_id)
        fields = {"provider_status": status[:20]}
        if error_code:
            fields["last_error"] = f"provider reported {status} (error {error_code})"[:500]
        found += rows.update(**fields)
    if error_code == str(sms.OPTED_OUT):
        for row in Dispatch.objects.filter(provider_id=provider_id, subscriber__isnull=False):
            subscriptions.forget(channel=row.channel, address=row.destination)
    return found


def _undelivered(model) -> list[int]:
    now = timezone.now()
    # A send claimed longer ago than this is taken to have died with its worker.
    stale_claim = timedelta(seconds=settings.NOTIFICATION_STALE_CLAIM_SECONDS)
    # A pending row older than this missed its after-commit hand-off.
    missed_handoff = timedelta(seconds=settings.OUTBOX_MISSED_HANDOFF_SECONDS)
    model.objects.filter(status=model.Status.SENDING, claimed_at__lt=now - stale_claim).update(
        status=model.Status.RETRY, next_attempt_at=now
    )
    return list(
        model.objects.filter(
            Q(status=model.Status.RETRY, next_attempt_at__lte=now)
            | Q(status=model.Status.PENDING, created_at__lt=now - missed_handoff)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )


def undelivered_due() -> list[int]:
    """Notifications whose delivery should be (re)started: retries that are due, hand-offs
    that were missed, and sends whose worker died. A stale send is put back to retry first."""
    return _undelivered(Notification)


def undelivered_dispatches() -> list[int]:
    """The same, for published updates on their way to distribution lists, the district's
    webhook and subscribed families."""
    return _undelivered(Dispatch)


def send_confirmation(*, subscriber_id: int, secret: str, language: str = "en") -> str:
    """Send a sign-up its confirmation, in the language it was made in: by email the link
    (the token), by text the code. Not an outbox row: the secret is stored only as a hash,
    and a lost confirmation is asked for again from the page."""
    from comms.models import Subscriber

    subscriber = Subscriber.objects.select_related("district").filter(pk=subscriber_id).first()
    if subscriber is None:
        return "gone"
    district = subscriber.district
    key = f"confirm:{subscriber.pk}:{subscriber.confirm_sent_at:%Y%m%d%H%M%S%f}"
    with translation.override(translations.words_language(language)):
        if subscriber.channel == Subscriber.Via.EMAIL:
            link = settings.PUBLIC_URL + reverse("status-confirm", args=[district.slug, secret])
            if language != "en":
                link += f"?lang={language}"
            return _send_email(
                to=subscriber.address,
                subject=_("Confirm: %(district)s status updates by email") % {"district": district},
                body=_(
                    "Someone, we hope you, asked to receive the service status updates of "
                    "%(district)s at this address.\n\nTo start receiving them, open this link "
                    "within 48 hours and press Confirm:\n%(link)s\n\nIf you did not ask, "
                    "ignore this email: nothing more will be sent.\n"
                )
                % {"district": district, "link": link},
                key=key,
            )
        body = _(
            "%(code)s is your code for %(district)s status texts. It lasts 30 minutes. If you "
            "did not ask for it, ignore this text."
        ) % {"code": secret, "district": district}
    return sms_provider().send(to=subscriber.address, body=body, idempotency_key=key)
