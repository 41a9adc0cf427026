"""The families' status page at a glance: what is affected now, each incident's updates,
and the last 90 days, from reviewed public words only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from comms.models import PublishedUpdate
from incidents import services as incident_services
from incidents.models import Incident


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def declare(riverbend, **extra):
    values = {"title": "Internal name", "kind": "sis", "severity": 2, "all_schools": True}
    return incident_services.incident_open(by=riverbend.cio, **{**values, **extra})


def public_update(incident, person, summary, *, minutes=30, audience="families"):
    return PublishedUpdate.objects.create(
        incident=incident,
        audience=audience,
        channel="web",
        summary=summary,
        published_by=person,
        promised_next_at=timezone.now() + timedelta(minutes=minutes),
    )


def test_a_quiet_day_says_everything_is_normal(client, riverbend):
    declare(riverbend)  # declared, but nothing told to the public yet

    page = text(client.get(f"/status/{riverbend.district.slug}/"))

    assert "All school services are running normally." in page
    assert "Internal name" not in page


def test_each_active_incident_is_one_line_with_services_schools_and_next_update(client, riverbend):
    incident = declare(
        riverbend, all_schools=False, schools=riverbend.schools[:1], systems=riverbend.systems[:1]
    )
    public_update(incident, riverbend.comms, "The student portal is down.", minutes=45)
    promised = incident.updates.get().promised_next_at
    local = timezone.localtime(promised, riverbend.district.zone)

    page = text(client.get(f"/status/{riverbend.district.slug}/"))

    assert "All school services are running normally." not in page
    assert f"Schools: {riverbend.schools[0].name}." in page
    assert f"Affected: {riverbend.systems[0].get_category_display()}." in page
    assert f"Next update by {local:%a %-d %b, %-I:%M %p %Z}" in page
    assert f"Times are in {riverbend.district.zone_label}." in page


def test_an_incident_page_shows_its_updates_newest_first(client, riverbend):
    incident = declare(riverbend)
    with time_machine.travel(timezone.now() - timedelta(hours=1)):
        public_update(incident, riverbend.comms, "First: the portal is down.")
    public_update(incident, riverbend.comms, "Second: still down, school is open.")

    page = text(client.get(f"/status/{riverbend.district.slug}/incidents/{incident.pk}/"))

    assert page.index("Second: still down") < page.index("First: the portal is down")
    assert "Next update by" in page and "Internal name" not in page


@pytest.mark.parametrize("which", ["unknown", "untold", "exercise", "other district"])
def test_an_incident_the_public_was_not_told_about_is_not_found(
    client, riverbend, lakeshore, which
):
    incident = {
        "unknown": None,
        "untold": lambda: declare(riverbend),
        "exercise": lambda: declare(riverbend, is_exercise=True, time_scale=60),
        "other district": lambda: incident_services.incident_open(
            by=lakeshore.cio, title="X", kind="sis", severity=2, all_schools=True
        ),
    }[which]
    pk = 999_999
    if incident is not None:
        made = incident()
        if which != "untold":
            public_update(made, made.owner, "Told to the public.")
        pk = made.pk

    response = client.get(f"/status/{riverbend.district.slug}/incidents/{pk}/")

    assert response.status_code == 404


def test_resolved_incidents_of_the_last_90_days_show_their_final_update(client, riverbend):
    recent, old = declare(riverbend, title="Recent"), declare(riverbend, title="Old")
    for incident, days in ((recent, 10), (old, 100)):
        public_update(incident, riverbend.comms, f"Final word on the {incident.title.lower()}.")
        Incident.objects.filter(pk=incident.pk).update(
            status=Incident.Status.CLOSED, closed_at=timezone.now() - timedelta(days=days)
        )

    page = text(client.get(f"/status/{riverbend.district.slug}/"))

    assert "Resolved in the last 90 days" in page
    assert "Final word on the recent." in page
    assert "Final word on the old." not in page
    assert "All school services are running normally." in page


def test_the_page_stays_small_for_a_slow_phone(client, riverbend):
    incident = declare(riverbend)
    for n in range(40):
        public_update(incident, riverbend.comms, f"Update {n}: " + "The portal is down. " * 20)

    response = client.get(f"/status/{riverbend.district.slug}/")

    assert len(response.content) < 50_000
    assert response.content.decode().count("Posted ") == 20


def test_closing_moves_an_incident_from_now_to_history(client, riverbend):
    incident = declare(riverbend)
    public_update(incident, riverbend.comms, "Everything is back to normal.")
    incident_services.incident_enter_recovery(incident=incident, by=riverbend.cio)
    incident_services.incident_close(incident=incident, by=riverbend.cio)

    page = text(client.get(f"/status/{riverbend.district.slug}/"))

    assert page.index("All school services are running normally.") < page.index(
        "Resolved in the last 90 days"
    )


# --- Served once per change ------------------------------------------------------------------


def test_a_conditional_get_is_answered_not_modified(client, riverbend):
    incident = declare(riverbend)
    public_update(incident, riverbend.comms, "The portal is down.")
    url = f"/status/{riverbend.district.slug}/"

    first = client.get(url)
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert (again.status_code, again.content) == (304, b"")
    assert since.status_code == 304


def test_a_publication_changes_the_page_and_its_etag(client, riverbend):
    incident = declare(riverbend)
    public_update(incident, riverbend.comms, "The portal is down.")
    url = f"/status/{riverbend.district.slug}/"
    before = client.get(url)

    from incidents.timeline import timeline_append

    public_update(incident, riverbend.comms, "The portal is back.")
    timeline_append(incident=incident, kind="note", summary="Published")
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert "The portal is back." in after.content.decode()


def test_a_page_is_rendered_once_per_change_not_per_request(client, riverbend):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    incident = declare(riverbend)
    public_update(incident, riverbend.comms, "The portal is down.")
    url = f"/status/{riverbend.district.slug}/"
    client.get(url)

    with CaptureQueriesContext(connection) as kept:
        response = client.get(url)

    # The district and the fingerprint of what the page shows; nothing rendered again.
    assert response.status_code == 200 and len(kept) == 2


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_page_is_public_to_every_cache_and_carries_no_cookie(client, riverbend, signed_in):
    if signed_in:
        client.force_login(riverbend.comms)

    response = client.get(f"/status/{riverbend.district.slug}/")

    control = response["Cache-Control"]
    assert "public" in control and "max-age=30" in control
    assert "stale-while-revalidate=60" in control
    assert "private" not in control and "no-store" not in control
    assert "cookie" not in response.get("Vary", "").lower()
    assert not response.cookies
