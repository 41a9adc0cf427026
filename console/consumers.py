"""Websocket consumer for an incident's open pages."""

from __future__ import annotations

import json

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from console import live, page
from incidents.access import can_view_incident
from incidents.models import RESPONSE_TEAM_ROLES, Incident

# Close codes in the private range, so the page can tell "sign in again" from "no access".
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_ACCESS_CHANGED = 4409


def signed_in(scope: dict):
    """The person signed in on the socket's session (or AnonymousUser), kept in the scope.

    Channels' AuthMiddleware would look the person up in a database call of its own; the
    consumers do it inside their one connect-time call, so that a reconnecting page costs
    one database connection, not two.
    """
    scope["user"] = user = get_user.func(scope)
    return user


class LiveConsumer(AsyncWebsocketConsumer):
    """What both live sockets share: admitting or refusing at connect, joining the groups,
    leaving, and closing when the person signs out or their access changes."""

    joined: list[str]

    async def admitted(self, user, groups: list[str] | None, hello: dict) -> None:
        """Accept, then refuse with a code the page understands, or join and say hello.

        Accept before refusing: a close before the handshake reaches the browser as a bare
        403 and code 1006, and the page could not tell "sign in again" from a network drop.
        """
        await self.accept()
        if groups is None:
            code = CLOSE_FORBIDDEN if user.is_authenticated else CLOSE_UNAUTHENTICATED
            await self.close(code=code)
            return
        self.joined = [*groups, live.user_group(user.pk)]
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            self.joined.append(live.session_group(session_key))
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.send(text_data=json.dumps({"type": "hello", **hello}))

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def session_end(self, event: dict) -> None:
        code = (
            CLOSE_UNAUTHENTICATED if event.get("reason") == "signed_out" else CLOSE_ACCESS_CHANGED
        )
        await self.close(code=code)


class IncidentConsumer(LiveConsumer):
    """Forwards one audience's rendered fragments of an incident to a signed-in member of its
    response team.

    Access and the audience are decided once, at connect; after that each message is
    forwarded as it comes, with no database work per message.
    """

    async def connect(self) -> None:
        incident_id = self.scope["url_route"]["kwargs"]["incident_id"]
        user, found = await self._admit(incident_id)
        audience, sequence = found or (None, None)
        groups = None if found is None else [live.incident_group(incident_id, audience)]
        await self.admitted(user, groups, {"sequence": sequence})

    async def incident_push(self, event: dict) -> None:
        await self.send(
            text_data=json.dumps(
                {
                    "type": "push",
                    "sequence": event["sequence"],
                    "from": event["from"],
                    "html": event["html"],
                }
            )
        )

    async def incident_heartbeat(self, event: dict) -> None:
        await self.send(text_data=json.dumps({"type": "heartbeat", "sequence": event["sequence"]}))

    @database_sync_to_async
    def _admit(self, incident_id: int):
        """The person, and their audience and the incident's sequence if they may watch."""
        user = signed_in(self.scope)
        if not user.is_authenticated:
            return user, None
        incident = Incident.objects.filter(pk=incident_id).first()
        if incident is None or not can_view_incident(user, incident):
            return user, None
        is_drafter = incident.drafters.filter(user=user).exists()
        audience = page.audience_of(user, incident, is_drafter=is_drafter)
        return user, ((audience, incident.sequence) if audience else None)


class DistrictConsumer(LiveConsumer):
    """Forwards dashboard updates of the person's district: rendered blocks for the
    dashboards their roles open, and refresh notices for the rest. Groups are chosen once, at
    connect, from the roles the person holds; no database work per message."""

    async def connect(self) -> None:
        user, found = await self._admit()
        district_id, audiences, sequences = found or (None, [], {})
        groups = None if found is None else [live.district_group(district_id, a) for a in audiences]
        await self.admitted(user, groups, {"sequences": sequences})

    async def district_message(self, event: dict) -> None:
        await self.send(
            text_data=json.dumps(
                {
                    "type": event["kind"],
                    "incident": event["incident"],
                    "sequence": event["sequence"],
                    "from": event["from"],
                    "html": event["html"],
                }
            )
        )

    async def district_heartbeat(self, event: dict) -> None:
        await self.send(
            text_data=json.dumps({"type": "heartbeat", "sequences": event["sequences"]})
        )

    @database_sync_to_async
    def _admit(self):
        """The person, and their district, dashboard audiences and open incidents' sequences
        if they hold a dashboard role."""
        user = signed_in(self.scope)
        if not user.is_authenticated:
            return user, None
        return user, self._district(user)

    @staticmethod
    def _district(user) -> tuple[int, list[str], dict[str, int]] | None:
        if user.district_id is None:
            return None
        audiences = [
            a for a in live.DASHBOARD_AUDIENCES if a != live.DASHBOARD_TEAM and user.has_role(a)
        ]
        if user.has_role(*RESPONSE_TEAM_ROLES):
            audiences.append(live.DASHBOARD_TEAM)
        if not audiences:
            return None
        sequences = {
            str(pk): seq
            for pk, seq in Incident.objects.filter(district_id=user.district_id)
            .exclude(status=Incident.Status.CLOSED)
            .values_list("pk", "sequence")
        }
        return user.district_id, audiences, sequences
