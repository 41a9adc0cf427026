"""The public status as feeds: Atom per district and per school, and a versioned JSON
document for the district's website, from reviewed public words only."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

from django.utils import timezone

from comms.models import PublishedUpdate
from tests.comms.test_status_page import declare, public_update

ATOM = "{http://www.w3.org/2005/Atom}"


def entries(response) -> list[dict]:
    root = ET.fromstring(response.content)
    return [
        {
            "title": e.find(f"{ATOM}title").text,
            "summary": (e.find(f"{ATOM}summary").text or ""),
            "link": e.find(f"{ATOM}link").get("href"),
        }
        for e in root.findall(f"{ATOM}entry")
    ]


def test_the_district_feed_carries_public_updates_by_their_public_title(client, riverbend):
    incident = declare(riverbend)
    public_update(incident, riverbend.comms, "The portal is down.")
    PublishedUpdate.objects.create(
        incident=incident,
        audience="staff",
        channel="email",
        summary="Internal staff note",
        published_by=riverbend.comms,
        promised_next_at=timezone.now() + timedelta(minutes=30),
    )

    response = client.get(f"/status/{riverbend.district.slug}/feed.atom")

    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert entries(response) == [
        {
            "title": "Service disruption",
            "summary": "The portal is down.",
            "link": f"http://testserver/status/{riverbend.district.slug}/incidents/{incident.pk}/",
        }
    ]
    assert b"Internal" not in response.content


def test_a_school_feed_carries_only_what_affects_that_school(client, riverbend):
    first, second = riverbend.schools[:2]
    everywhere = declare(riverbend)
    public_update(everywhere, riverbend.comms, "Email is down everywhere.")
    elsewhere = declare(riverbend, all_schools=False, schools=[second])
    public_update(elsewhere, riverbend.comms, "Phones are down at the other school.")

    response = client.get(f"/status/{riverbend.district.slug}/schools/{first.pk}/feed.atom")

    assert [e["summary"] for e in entries(response)] == ["Email is down everywhere."]


def test_a_school_of_another_district_has_no_feed(client, riverbend, lakeshore):
    response = client.get(
        f"/status/{riverbend.district.slug}/schools/{lakeshore.schools[0].pk}/feed.atom"
    )

    assert response.status_code == 404


def test_the_json_status_is_versioned_and_says_what_is_affected(client, riverbend):
    incident = declare(riverbend, systems=riverbend.systems[:1])
    public_update(incident, riverbend.comms, "The portal is down.")

    response = client.get(f"/status/{riverbend.district.slug}/status.json")
    document = json.loads(response.content)

    assert response["Content-Type"] == "application/json"
    assert document["version"] == 1 and document["status"] == "disrupted"
    (shown,) = document["incidents"]
    assert shown["title"] == "Service disruption"
    assert shown["services"] == [riverbend.systems[0].get_category_display()]
    assert shown["schools"] == ["All schools"]
    assert shown["latest_update"]["text"] == "The portal is down."
    assert shown["next_update_at"] is not None and shown["resolved_at"] is None
    assert "Internal" not in response.content.decode()


def test_a_quiet_district_is_normal_in_json(client, riverbend):
    document = json.loads(client.get(f"/status/{riverbend.district.slug}/status.json").content)

    assert (document["status"], document["incidents"]) == ("normal", [])


def test_feeds_answer_a_conditional_get_and_are_public(client, riverbend):
    url = f"/status/{riverbend.district.slug}/feed.atom"
    first = client.get(url)

    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert "public" in first["Cache-Control"] and not first.cookies
    assert first["ETag"] != client.get(f"/status/{riverbend.district.slug}/")["ETag"]
