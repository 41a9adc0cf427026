"""The notifications outbox: messages to people of the response team, saved before they are sent.

A notification is a row first, keyed so that the same message to the same person on the same
channel is queued once however often it is asked for. In-app messages are delivered by being
saved; email and text messages are handed to a delivery task after commit, and the requeue task
picks up any whose hand-off was lost.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from comms.models import Deadline, Notification
from incident_console import broker
from incidents.models import Incident, User


def notify(
    *,
    incident: Incident,
    deadline: Deadline | None,
    recipients: list[User],
    subject: str,
    body: str,
) -> list[Notification]:
    """Queue a message to each recipient on every channel they have, once per key.

    In-app messages are delivered by being saved. Email and text messages wait for a
    delivery task, handed over after commit; for an exercise they are kept but never sent.
    """
    source = f"d{deadline.pk}" if deadline else f"t{incident.sequence}"
    rows = []
    for user in {u.pk: u for u in recipients}.values():
        channels = [Notification.Channel.IN_APP]
        if user.email:
            channels.append(Notification.Channel.EMAIL)
        if user.phone:
            channels.append(Notification.Channel.SMS)
        for channel in channels:
            status = Notification.Status.PENDING
            if channel == Notification.Channel.IN_APP:
                status = Notification.Status.SENT
            elif incident.is_exercise:
                status = Notification.Status.SUPPRESSED
            rows.append(
                Notification(
                    key=f"{source}:u{user.pk}:{channel}",
                    incident=incident,
                    deadline=deadline,
                    recipient=user,
                    channel=channel,
                    subject=subject[:200],
                    body=body[:2000],
                    status=status,
                    sent_at=timezone.now() if status == Notification.Status.SENT else None,
                )
            )
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    queued = list(
        Notification.objects.filter(
            key__in=[r.key for r in rows], status=Notification.Status.PENDING
        ).values_list("pk", flat=True)
    )
    if queued:
        from comms.tasks import deliver_notification

        # With the broker down the firing still stands, and the requeue task sends these rows
        # once it is back, instead of the failure stopping the whole sweep.
        transaction.on_commit(
            lambda: broker.hand_off(
                lambda: [deliver_notification.delay(pk) for pk in queued], "notifications"
            )
        )
    return rows
