"""Celery tasks. Each takes primary keys, calls one service, and is safe to run twice."""

from celery import shared_task

from comms import delivery


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
    for pk in dispatches:
        deliver_dispatch.delay(pk)
    return len(ids) + len(dispatches)
