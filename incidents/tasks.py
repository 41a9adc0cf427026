"""Celery tasks for the response side."""

from celery import shared_task

from incidents import live, page
from incidents.models import Incident


@shared_task(ignore_result=True)
def live_heartbeat() -> int:
    """Tell every open incident page the latest sequence number, so a page that missed a push
    notices and re-fetches, and each socket refreshes its group membership. Safe to run twice:
    a heartbeat only repeats what is true."""
    open_incidents = Incident.objects.exclude(status=Incident.Status.CLOSED).values_list(
        "pk", "sequence"
    )
    for incident_id, sequence in open_incidents:
        for audience in page.AUDIENCES:
            live.send(
                live.incident_group(incident_id, audience),
                {"type": "incident.heartbeat", "sequence": sequence},
            )
    return len(open_incidents)
