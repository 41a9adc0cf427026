"""Each public update posted, signed, to the district's webhook through the outbox, checked by
a local receiver that verifies the signature as a district's website would."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone

from comms import drafts
from comms.delivery import deliver_dispatch
from comms.models import CommsPolicy, Dispatch
from incidents import services as incident_services
from tests.comms.publishing import NEXT, published, written
from tests.factories import open_exercise


class Receiver(ThreadingHTTPServer):
    """A district's endpoint: checks each post's signature and timestamp, answers 204, or 500
    while ``failing``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.secret = ""
        self.failing = False
        self.received: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/incident-hook"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
        body = self.rfile.read(int(self.headers["Content-Length"]))
        stamp = int(self.headers["X-Console-Timestamp"])
        mac = hmac.new(self.server.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        signed = hmac.compare_digest(f"v1={mac.hexdigest()}", self.headers["X-Console-Signature"])
        self.server.received.append(
            {
                "signed": signed and abs(time.time() - stamp) < 300,
                "body": json.loads(body),
                "key": self.headers["Idempotency-Key"],
            }
        )
        self.send_response(500 if self.server.failing else 204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver(riverbend):
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    policy, _ = CommsPolicy.objects.update_or_create(
        district=riverbend.district,
        defaults={"webhook_url": server.url, "webhook_secret": "s3cret-for-the-district"},
    )
    server.secret = policy.webhook_secret
    yield server
    server.shutdown()
    server.server_close()


def publish(
    incident, lead, *, audience="families", channel="web", body="Schools are open.", minutes=30
):
    draft = written(incident, lead, body, audience=audience, channel=channel)
    return published(draft, lead, minutes=minutes)


def deliver_webhooks() -> list[str]:
    return [
        deliver_dispatch(dispatch_id=d.pk)
        for d in Dispatch.objects.filter(channel=Dispatch.WEBHOOK).order_by("pk")
    ]


@pytest.fixture
def incident(riverbend):
    return incident_services.incident_open(
        by=riverbend.cio, title="Internal name", kind="sis", severity=2, all_schools=True
    )


def test_a_public_update_is_posted_signed(incident, riverbend, receiver):
    publish(incident, riverbend.comms)

    assert deliver_webhooks() == ["sent"]

    (post,) = receiver.received
    assert post["signed"]
    assert post["body"]["event"] == "update.published"
    assert post["body"]["incident"]["title"] == "Service disruption"
    assert post["body"]["update"]["text"] == "Schools are open." + NEXT
    assert "Internal name" not in json.dumps(post["body"])


def test_the_receiver_can_tell_a_wrong_secret(incident, riverbend, receiver):
    receiver.secret = "not-the-district-secret"
    publish(incident, riverbend.comms)

    deliver_webhooks()

    assert [post["signed"] for post in receiver.received] == [False]


def test_a_failed_post_is_tried_again_and_delivered_once(incident, riverbend, receiver):
    publish(incident, riverbend.comms)
    receiver.failing = True

    first = deliver_webhooks()
    receiver.failing = False
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        second = deliver_webhooks()
        third = deliver_webhooks()

    assert (first, second, third) == (["retry"], ["sent"], ["skipped"])
    assert len({post["key"] for post in receiver.received}) == 1


def test_a_correction_is_posted_as_one(incident, riverbend, receiver):
    original = publish(incident, riverbend.comms)
    correction = drafts.draft_correct(draft=original, by=riverbend.comms, note="Wrong word.")
    correction = drafts.draft_edit(
        draft=correction,
        by=riverbend.comms,
        body="Schools are open today." + NEXT,
        expected_revision=1,
    )
    published(correction, riverbend.comms)

    deliver_webhooks()

    events = [post["body"]["event"] for post in receiver.received]
    assert events == ["update.published", "update.corrected"]
    assert receiver.received[1]["body"]["update"]["correction_note"] == "Wrong word."


def test_internal_updates_and_exercises_are_not_posted(riverbend, receiver):
    real = incident_services.incident_open(
        by=riverbend.cio, title="Real", kind="sis", severity=2, all_schools=True
    )
    publish(real, riverbend.comms, audience="staff", channel="email")
    drill = open_exercise(riverbend)
    publish(drill, riverbend.comms, minutes=1)  # an hour on the drill's clock

    deliver_webhooks()

    assert receiver.received == []
    assert list(
        Dispatch.objects.filter(channel=Dispatch.WEBHOOK).values_list("status", flat=True)
    ) == ["suppressed"]


def test_setting_the_webhook_makes_its_secret_and_shows_it_to_the_cio(client, riverbend):
    client.force_login(riverbend.cio)

    response = client.post(
        "/incidents/settings/",
        {
            "form": "policy",
            "student_data_needs_legal": "on",
            "student_data_audiences": ["families"],
            "student_data_channels": ["email"],
            "webhook_url": "https://www.riverbend.example.org/incident-hook",
        },
    )
    policy = CommsPolicy.objects.get(district=riverbend.district)
    page = client.get("/incidents/settings/").content.decode()

    assert response.status_code == 302
    assert len(policy.webhook_secret) == 64
    assert policy.webhook_secret in page
