"""Celery tasks. Each takes primary keys, calls one service, and is safe to run twice."""

from celery import shared_task

from comms import delivery, subscriptions
from comms.models import Dispatch


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def deliver_notification(notification_id: int) -> str:
    """Deliver one outbox row. The row is claimed by a conditional UPDATE, so a redelivered
    or duplicated task finds it already claimed and does nothing."""
    return delivery.deliver(notification_id=notification_id)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def deliver_dispatch(dispatch_id: int) -> str:
    """Deliver one published update to one destination, claimed like a notification."""
    return delivery.deliver_dispatch(dispatch_id=dispatch_id)


@shared_task(ignore_result=True)
def requeue_notifications() -> int:
    """Hand undelivered outbox rows back to the workers: due retries, missed hand-offs after
    a crash between commit and enqueue, and sends whose worker was killed."""
    ids = delivery.undelivered_due()
    for pk in ids:
        deliver_notification.delay(pk)
    dispatches = delivery.undelivered_dispatches()
    to_families = set(
        Dispatch.objects.filter(pk__in=dispatches, subscriber__isnull=False).values_list(
            "pk", flat=True
        )
    )
    for pk in dispatches:
        if pk not in to_families:
            deliver_dispatch.delay(pk)
    subscriptions.hand_off(sorted(to_families))
    return len(ids) + len(dispatches)


@shared_task(ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def deliver_to_subscribers(dispatch_ids: list[int]) -> int:
    """Deliver one batch of a public update to subscribed families, on the families' own
    queue. Each row is claimed on its own, so a batch taken again after its worker died
    sends only what was not sent."""
    return sum(delivery.deliver_dispatch(dispatch_id=pk) == "sent" for pk in dispatch_ids)


@shared_task(ignore_result=True)
def send_confirmation(subscriber_id: int, secret: str, language: str = "en") -> str:
    """Send a sign-up its confirmation: the link by email, the code by text message."""
    return delivery.send_confirmation(subscriber_id=subscriber_id, secret=secret, language=language)


@shared_task(ignore_result=True)
def purge_unconfirmed_subscribers() -> int:
    """Forget the sign-ups whose confirmation expired unused."""
    return subscriptions.purge_unconfirmed()
