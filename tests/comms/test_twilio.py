"""The Twilio adapter, against a local server that speaks Twilio's Messages API: the send,
the provider's refusals, and status callbacks accepted only with a valid signature."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from comms import sms
from comms.delivery import deliver_dispatch
from comms.models import Dispatch, Subscriber
from incidents import services as incident_services
from tests.comms.publishing import published, written

SID = "AC" + "0" * 32
TOKEN = "local-twilio-auth-token"


class LocalTwilio(ThreadingHTTPServer):
    """Twilio's Messages API as far as the console uses it: create a message with HTTP Basic
    authentication, answer 201 with its sid, or Twilio's error document."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.messages: list[dict] = []
        self.opted_out: set[str] = set()
        self.failing = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def callback(self, message: dict, status: str, error_code: str = "") -> tuple[dict, str]:
        """The status callback Twilio would post for a message: its form and signature."""
        params = {
            "AccountSid": SID,
            "MessageSid": message["sid"],
            "MessageStatus": status,
            "To": message["To"],
        }
        if error_code:
            params["ErrorCode"] = error_code
        signature = RequestValidator(TOKEN).compute_signature(message["StatusCallback"], params)
        return params, signature


class Handler(BaseHTTPRequestHandler):
    def answer(self, status: int, document: dict) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        form = dict(parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
        if self.headers.get("Authorization") != expected:
            return self.answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if self.path != f"/2010-04-01/Accounts/{SID}/Messages.json":
            return self.answer(404, {"code": 20404, "message": "Not found", "status": 404})
        if self.server.failing:
            return self.answer(500, {"code": 20500, "message": "Internal error", "status": 500})
        if form["To"] in self.server.opted_out:
            return self.answer(
                400,
                {
                    "code": 21610,
                    "message": "Attempt to send to unsubscribed recipient",
                    "status": 400,
                },
            )
        message = {**form, "sid": "SM" + secrets.token_hex(16)}
        self.server.messages.append(message)
        return self.answer(
            201,
            {
                "sid": message["sid"],
                "account_sid": SID,
                "to": form["To"],
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": form["Body"],
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "date_created": "Sat, 05 Dec 2026 17:00:00 +0000",
                "uri": f"/2010-04-01/Accounts/{SID}/Messages/{message['sid']}.json",
            },
        )

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def twilio(settings):
    server = LocalTwilio()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SMS_PROVIDER = "comms.sms.TwilioSmsProvider"
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM = "+16175550100"
    settings.TWILIO_API_BASE = server.url
    settings.PUBLIC_URL = "https://status.example.org"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def texted(riverbend, monkeypatch):
    """A confirmed text subscriber and a public update queued for them, not yet sent."""
    monkeypatch.setattr("comms.subscriptions.hand_off", lambda ids: None)
    subscriber = Subscriber.objects.create(
        district=riverbend.district,
        channel="sms",
        address="+16175550123",
        confirmed_at=timezone.now(),
    )
    incident = incident_services.incident_open(
        by=riverbend.cio, title="Internal", kind="sis", severity=2, all_schools=True
    )
    draft = written(incident, riverbend.comms, "Report cards are delayed.")
    published(draft, riverbend.comms)
    return Dispatch.objects.get(subscriber=subscriber)


def post_callback(params: dict, signature: str):
    return Client().post(
        reverse("twilio-status"), params, headers={"X-Twilio-Signature": signature}
    )


def test_a_text_is_sent_through_the_messages_api(twilio, texted):
    assert deliver_dispatch(dispatch_id=texted.pk) == "sent"

    (message,) = twilio.messages
    assert message["To"] == "+16175550123"
    assert message["From"] == "+16175550100"
    assert "Report cards are delayed." in message["Body"]
    assert "Reply STOP" in message["Body"]
    assert message["StatusCallback"] == "https://status.example.org/hooks/twilio/status/"
    texted.refresh_from_db()
    assert (texted.status, texted.provider_id) == ("sent", message["sid"])


def test_a_messaging_service_sends_in_place_of_a_number(twilio, texted, settings):
    settings.TWILIO_FROM = "MG" + "1" * 32

    deliver_dispatch(dispatch_id=texted.pk)

    (message,) = twilio.messages
    assert message["MessagingServiceSid"] == settings.TWILIO_FROM
    assert "From" not in message


def test_a_signed_status_callback_is_recorded(twilio, texted):
    deliver_dispatch(dispatch_id=texted.pk)
    params, signature = twilio.callback(twilio.messages[0], "delivered")

    answer = post_callback(params, signature)

    assert answer.status_code == 204
    texted.refresh_from_db()
    assert texted.provider_status == "delivered"


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_an_unsigned_or_forged_status_callback_is_refused(twilio, texted, signature):
    deliver_dispatch(dispatch_id=texted.pk)
    params, _ = twilio.callback(twilio.messages[0], "undelivered", "21610")

    answer = post_callback(params, signature)

    assert answer.status_code == 403
    texted.refresh_from_db()
    assert texted.provider_status == ""
    assert Subscriber.objects.filter(address="+16175550123").exists()


def test_a_callback_signed_for_other_parameters_is_refused(twilio, texted):
    deliver_dispatch(dispatch_id=texted.pk)
    params, signature = twilio.callback(twilio.messages[0], "delivered")

    answer = post_callback({**params, "MessageStatus": "failed"}, signature)

    assert answer.status_code == 403


def test_a_phone_that_replied_stop_is_unsubscribed_by_the_callback(twilio, texted):
    deliver_dispatch(dispatch_id=texted.pk)
    params, signature = twilio.callback(twilio.messages[0], "failed", "21610")

    assert post_callback(params, signature).status_code == 204

    assert not Subscriber.objects.filter(address="+16175550123").exists()


def test_a_refused_number_is_not_tried_again_and_is_unsubscribed(twilio, texted):
    twilio.opted_out.add("+16175550123")

    assert deliver_dispatch(dispatch_id=texted.pk) == "failed"

    assert twilio.messages == []
    assert not Subscriber.objects.filter(address="+16175550123").exists()


def test_a_provider_error_is_tried_again(twilio, texted):
    twilio.failing = True

    assert deliver_dispatch(dispatch_id=texted.pk) == "retry"

    texted.refresh_from_db()
    assert texted.status == "retry"
    assert "20500" in texted.last_error or "500" in texted.last_error


def test_twilio_without_an_account_refuses_to_start(settings):
    settings.TWILIO_ACCOUNT_SID = ""

    with pytest.raises(RuntimeError, match="TWILIO_ACCOUNT_SID"):
        sms.TwilioSmsProvider()
