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
from datetime import timedelta
from email.utils import make_msgid
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from comms.models import Notification

log = logging.getLogger(__name__)

# A pending row older than this missed its after-commit hand-off.
MISSED_HANDOFF = timedelta(seconds=30)


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


def _send(notification: Notification) -> str:
    recipient = notification.recipient
    if notification.channel == Notification.Channel.EMAIL:
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            to=[recipient.email],
            headers={"Message-ID": make_msgid(idstring=notification.key.replace(":", "."))},
        )
        message.send()
        return ""
    if notification.channel == Notification.Channel.SMS:
        return sms_provider().send(
            to=recipient.phone,
            body=f"{notification.subject}. {notification.body}"[:600],
            idempotency_key=notification.key,
        )
    raise ValueError(f"no adapter for channel {notification.channel}")


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** max(attempts - 1, 0)))


def deliver(*, notification_id: int) -> str:
    """Send one outbox row if it is still waiting. Safe to call any number of times."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id,
        status__in=[Notification.Status.PENDING, Notification.Status.RETRY],
        next_attempt_at__lte=now,
    ).update(status=Notification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return "skipped"
    notification = Notification.objects.select_related("recipient", "incident").get(
        pk=notification_id
    )
    try:
        _send(notification)
    except Exception as error:
        failed = notification.attempts >= Notification.MAX_ATTEMPTS
        Notification.objects.filter(pk=notification_id, status=Notification.Status.SENDING).update(
            status=Notification.Status.FAILED if failed else Notification.Status.RETRY,
            next_attempt_at=timezone.now() + backoff(notification.attempts),
            last_error=str(error)[:500],
        )
        log.warning("delivery of notification %s failed: %s", notification_id, error)
        return "failed" if failed else "retry"
    Notification.objects.filter(pk=notification_id, status=Notification.Status.SENDING).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def undelivered_due() -> list[int]:
    """Rows whose delivery should be (re)started: retries that are due, hand-offs that were
    missed, and sends whose worker died. A stale send is put back to retry first."""
    now = timezone.now()
    # A send claimed longer ago than this is taken to have died with its worker.
    stale_claim = timedelta(seconds=settings.NOTIFICATION_STALE_CLAIM_SECONDS)
    Notification.objects.filter(
        status=Notification.Status.SENDING, claimed_at__lt=now - stale_claim
    ).update(status=Notification.Status.RETRY, next_attempt_at=now)
    return list(
        Notification.objects.filter(
            Q(status=Notification.Status.RETRY, next_attempt_at__lte=now)
            | Q(status=Notification.Status.PENDING, created_at__lt=now - MISSED_HANDOFF)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
