"""The communications app's answers to what the incident core announces
(``incidents.events``). They run in the sender's transaction."""

from django.dispatch import receiver

from comms import outbox, policy, services
from comms.models import CommsPolicy
from incidents import events


@receiver(events.district_created, dispatch_uid="comms.district_created")
def create_policy(sender, *, district, **kwargs) -> None:
    """A new district starts with the default communications policy."""
    CommsPolicy.objects.get_or_create(district=district)


@receiver(events.incident_opened, dispatch_uid="comms.incident_opened")
def start_clocks(sender, *, incident, duties, **kwargs) -> dict:
    """A declared incident starts every audience's update clock, its duty and phase deadlines,
    and, for student data, the district's statutory notice clocks. The clocks' first promises
    go on the declaration's timeline row, for the scorecard."""
    promises = services.incident_timers_start(incident=incident, duties=duties)
    policy.notice_clocks_sync(incident=incident)
    return {"first_promises": promises}


@receiver(events.people_told, dispatch_uid="comms.people_told")
def queue_messages(sender, *, incident, recipients, subject, body, **kwargs) -> None:
    outbox.notify(
        incident=incident, deadline=None, recipients=recipients, subject=subject, body=body
    )
