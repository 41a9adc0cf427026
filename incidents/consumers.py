"""Websocket consumer for an incident's open pages."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from incidents import live
from incidents.access import can_view_incident
from incidents.models import Incident

# Close codes in the private range, so the page can tell "sign in again" from "no access".
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class IncidentConsumer(AsyncJsonWebsocketConsumer):
    """Forwards change notices of one incident to a signed-in member of its response team.

    Access is checked once, at connect; after that each message is forwarded as it comes,
    with no database work per message.
    """

    async def connect(self) -> None:
        user = self.scope["user"]
        incident_id = self.scope["url_route"]["kwargs"]["incident_id"]
        sequence = None
        if user.is_authenticated:
            sequence = await self._visible_sequence(user, incident_id)
        # Accept before refusing: a close before the handshake reaches the browser as a bare
        # 403 and code 1006, and the page could not tell "sign in again" from a network drop.
        await self.accept()
        if sequence is None:
            code = CLOSE_FORBIDDEN if user.is_authenticated else CLOSE_UNAUTHENTICATED
            await self.close(code=code)
            return
        self.joined = [live.incident_group(incident_id, live.TEAM)]
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.send_json({"type": "hello", "sequence": sequence})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def incident_changed(self, event: dict) -> None:
        await self.send_json(
            {"type": "changed", "sequence": event["sequence"], "kind": event["kind"]}
        )

    @database_sync_to_async
    def _visible_sequence(self, user, incident_id: int) -> int | None:
        incident = Incident.objects.filter(pk=incident_id).first()
        if incident is None or not can_view_incident(user, incident):
            return None
        return incident.sequence
