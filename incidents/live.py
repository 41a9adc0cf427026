"""Group names and the after-commit broadcast of incident changes."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

# The audiences a change can be pushed to. Each open page joins the groups of the audiences
# its user may see; a fragment is sent to a group only if that audience may read it.
TEAM = "team"


def incident_group(incident_id: int, audience: str) -> str:
    """The channel-layer group of one audience of one incident."""
    return f"incident.{incident_id}.{audience}"


def broadcast_on_commit(*, incident_id: int, sequence: int, kind: str) -> None:
    """Tell the open pages of an incident that it changed, once the change is committed."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(
                incident_group(incident_id, TEAM),
                {"type": "incident.changed", "sequence": sequence, "kind": kind},
            )
        except Exception:
            # The change is committed and pages re-fetch on their next heartbeat or
            # reconnect; a broken push must not turn a saved change into an error page.
            log.exception("live push failed for incident %s", incident_id)

    transaction.on_commit(send)
