"""Each public update posted as signed JSON to the district's own systems (its website, its
mass-notification system), through the outbox: claimed, keyed, retried with backoff.

The receiver checks the signature: ``X-Console-Signature: v1=<hex>``, the HMAC-SHA256 with the
district's secret of the timestamp (``X-Console-Timestamp``, Unix seconds), a full stop and the
raw body. It should refuse a timestamp more than five minutes old, and may use the
``Idempotency-Key`` header to ignore a repeated delivery. See docs/public-feeds.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.request

from comms import public
from comms.models import Dispatch, PublishedUpdate

VERSION = 1
TIMEOUT_SECONDS = 10


def new_secret() -> str:
    return secrets.token_hex(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def payload(update: PublishedUpdate) -> dict:
    """What the receiver is told: the update as the status page shows it, named by the
    incident's public title."""
    incident = update.incident
    title, summary = public.heading_of(incident, public.neutral_title(incident.district_id))
    return {
        "version": VERSION,
        "event": "update.corrected" if update.corrects_id else "update.published",
        "district": {"slug": incident.district.slug, "name": incident.district.name},
        "incident": {"id": incident.pk, "title": title, "summary": summary},
        "update": {
            "id": update.pk,
            "audience": update.audience,
            "text": update.summary,
            "published_at": update.published_at.isoformat(),
            "next_update_at": update.promised_next_at.isoformat(),
            "corrects": update.corrects_id,
            "correction_note": update.correction_note,
        },
    }


def post(dispatch: Dispatch) -> str:
    """POST one update to the district's webhook; an answer other than 2xx raises, so the
    outbox tries again later. A webhook has no message id to return."""
    update = dispatch.update
    policy = update.incident.district.policy
    if not dispatch.destination.startswith(("https://", "http://")):
        raise ValueError(f"a webhook is posted over HTTP(S), not to {dispatch.destination!r}")
    body = json.dumps(payload(update), separators=(",", ":")).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked just above
        dispatch.destination,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "incident-console-webhook/1",
            "X-Console-Timestamp": str(timestamp),
            "X-Console-Signature": signature(policy.webhook_secret, timestamp, body),
            "Idempotency-Key": dispatch.key,
        },
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS):  # noqa: S310
        return ""
