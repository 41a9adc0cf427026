"""Celery tasks for the response side."""

from celery import shared_task

from console import live, page
from incidents.models import District, Incident


@shared_task(ignore_result=True)
def live_heartbeat() -> int:
    """Tell every open incident page the latest sequence number, so a page that missed a push
    notices and re-fetches, and a page that hears nothing knows its socket is dead. Safe to
    run twice: a heartbeat only repeats what is true."""
    open_incidents = list(
        Incident.objects.exclude(status=Incident.Status.CLOSED).values_list(
            "pk", "district_id", "sequence"
        )
    )
    # Every district gets a heartbeat, even with nothing open, so idle dashboards stay up.
    by_district: dict[int, dict[str, int]] = {
        pk: {} for pk in District.objects.values_list("pk", flat=True)
    }
    messages = []
    for incident_id, district_id, sequence in open_incidents:
        by_district.setdefault(district_id, {})[str(incident_id)] = sequence
        messages += [
            (
                live.incident_group(incident_id, audience),
                {"type": "incident.heartbeat", "sequence": sequence},
            )
            for audience in page.AUDIENCES
        ]
    for district_id, sequences in by_district.items():
        messages += [
            (
                live.district_group(district_id, audience),
                {"type": "district.heartbeat", "sequences": sequences},
            )
            for audience in live.DASHBOARD_AUDIENCES
        ]
    live.send_all(messages)
    return len(open_incidents)


@shared_task(ignore_result=True)
def live_publish(incident_id: int, from_sequence: int) -> None:
    """Render and send an incident's pages after a change was committed (``live.hand_off``).
    Safe to run twice or out of order: a push renders what the database holds, and a page
    ignores what it already shows and re-fetches on a gap."""
    live.publish(incident_id, from_sequence=from_sequence)
