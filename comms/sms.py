"""Text messages through Twilio's Messages API, and its status callbacks.

Set ``SMS_PROVIDER=comms.sms.TwilioSmsProvider`` with ``TWILIO_ACCOUNT_SID``,
``TWILIO_AUTH_TOKEN`` and ``TWILIO_FROM``. Each message asks Twilio to report its fate to
``PUBLIC_URL`` + ``/hooks/twilio/status/``; a report counts only when its
``X-Twilio-Signature`` verifies with the account's auth token. Twilio's own library makes the
calls and checks the signatures; ``TWILIO_API_BASE`` points it at another server speaking
the same protocol (the tests run one).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

TIMEOUT_SECONDS = 10
# Twilio's error codes for a number that will never take the message: not a mobile number,
# not a valid number, or one that replied STOP. Sending again cannot help.
UNREACHABLE = {21211, 21214, 21610, 21612, 21614}
OPTED_OUT = 21610


class Undeliverable(Exception):
    """The provider refused the number for good: the outbox does not try again."""

    def __init__(self, message: str, *, opted_out: bool = False) -> None:
        super().__init__(message)
        self.opted_out = opted_out


def status_callback_url() -> str:
    return settings.PUBLIC_URL + reverse("twilio-status")


class TwilioSmsProvider:
    def __init__(self) -> None:
        if not (
            settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and settings.TWILIO_FROM
        ):
            raise RuntimeError(
                "Twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM to be set."
            )
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS),
        )
        self.client.api.base_url = settings.TWILIO_API_BASE

    def send(self, *, to: str, body: str, idempotency_key: str) -> str:
        sender = settings.TWILIO_FROM
        via = {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
        try:
            message = self.client.messages.create(
                to=to, body=body, status_callback=status_callback_url(), **via
            )
        except TwilioRestException as error:
            if error.code in UNREACHABLE:
                raise Undeliverable(
                    f"Twilio refused {to}: {error.code} {error.msg}",
                    opted_out=error.code == OPTED_OUT,
                ) from error
            raise
        return message.sid


def signature_valid(url: str, params: dict[str, str], signature: str) -> bool:
    """Whether a status callback was signed with the account's auth token."""
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, params, signature)
