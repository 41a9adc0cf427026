"""Websocket consumer for an incident's open pages."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from console import admission, live, page
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


def granted(user, groups: list[str]) -> admission.Admission:
    """What a socket admitted the long way may join, for its pass."""
    return admission.Admission(user_id=user.pk, person=admission.person_digest(user), groups=groups)


class LiveConsumer(AsyncWebsocketConsumer):
    """What both live sockets share: admitting or refusing at connect, joining the groups,
    leaving, and closing when the person signs out or their access changes."""

    joined: list[str]
    # The socket's path, and what its pass admits to there (console.admission).
    target: str
    granted: admission.Admission
    renewal: admission.Renewal

    @property
    def session_key(self) -> str | None:
        return getattr(self.scope.get("session"), "session_key", None)

    def presented(self) -> admission.Admission | None:
        """What the pass the page sent admits to, if it holds for this path and session."""
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        return admission.read(
            (query.get("pass") or [None])[0], session_key=self.session_key, target=self.target
        )

    async def admitted(
        self, user_id: int | None, granted: admission.Admission | None, hello: dict
    ) -> None:
        """Accept, then refuse with a code the page understands, or join and say hello.

        Accept before refusing: a close before the handshake reaches the browser as a bare
        403 and code 1006, and the page could not tell "sign in again" from a network drop.
        """
        await self.accept()
        if user_id is None or granted is None:
            await self.close(code=CLOSE_UNAUTHENTICATED if user_id is None else CLOSE_FORBIDDEN)
            return
        self.granted = granted
        self.joined = [*granted.groups, live.user_group(user_id)]
        if self.session_key:
            self.joined.append(live.session_group(self.session_key))
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.renewal = admission.Renewal()
        await self.send(text_data=json.dumps({"type": "hello", **hello, **self.fresh_pass()}))

    def fresh_pass(self) -> dict:
        """A new pass for the page, in a message's ``pass`` field (none without a session)."""
        if not self.session_key:
            return {}
        value = admission.issue(
            admitted=self.granted, session_key=self.session_key, target=self.target
        )
        return {"pass": value}

    def renewed_pass(self) -> dict:
        """A fresh pass when the page's is due for one, for a heartbeat to carry."""
        return self.fresh_pass() if self.renewal.due() else {}

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
        self.target = f"incident.{incident_id}"
        held = self.presented()
        if held is not None:
            sequence = await self._resume(held, incident_id)
            if sequence is not None:
                await self.admitted(held.user_id, held, {"sequence": sequence})
                return
        user, found = await self._admit(incident_id)
        granted, sequence = found or (None, None)
        await self.admitted(user.pk, granted, {"sequence": sequence})

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
        await self.send(
            text_data=json.dumps(
                {"type": "heartbeat", "sequence": event["sequence"], **self.renewed_pass()}
            )
        )

    @database_sync_to_async
    def _resume(self, held: admission.Admission, incident_id: int) -> int | None:
        """The incident's sequence, if the session of a valid pass is still signed in."""
        if not admission.still_signed_in(held, self.session_key):
            return None
        return Incident.objects.filter(pk=incident_id).values_list("sequence", flat=True).first()

    @database_sync_to_async
    def _admit(self, incident_id: int):
        """The person, and what they may join (their audience of the incident) and its
        sequence if they may watch."""
        user = signed_in(self.scope)
        if not user.is_authenticated:
            return user, None
        incident = Incident.objects.filter(pk=incident_id).first()
        if incident is None or not can_view_incident(user, incident):
            return user, None
        is_drafter = incident.drafters.filter(user=user).exists()
        audience = page.audience_of(user, incident, is_drafter=is_drafter)
        if not audience:
            return user, None
        groups = [live.incident_group(incident_id, audience)]
        return user, (granted(user, groups), incident.sequence)


class DistrictConsumer(LiveConsumer):
    """Forwards dashboard updates of the person's district: rendered blocks for the
    dashboards their roles open, and refresh notices for the rest. Groups are chosen once, at
    connect, from the roles the person holds; no database work per message."""

    async def connect(self) -> None:
        self.target = "district"
        held = self.presented()
        if held is not None:
            sequences = await self._resume(held)
            if sequences is not None:
                await self.admitted(held.user_id, held, {"sequences": sequences})
                return
        user, found = await self._admit()
        granted, sequences = found or (None, {})
        await self.admitted(user.pk, granted, {"sequences": sequences})

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
            text_data=json.dumps(
                {"type": "heartbeat", "sequences": event["sequences"], **self.renewed_pass()}
            )
        )

    @database_sync_to_async
    def _resume(self, held: admission.Admission) -> dict[str, int] | None:
        """The open incidents' sequences of the pass's district, if its session is still
        signed in."""
        if not admission.still_signed_in(held, self.session_key):
            return None
        return self._sequences(live.district_of_group(held.groups[0]))

    @database_sync_to_async
    def _admit(self):
        """The person, and what they may join (their district's dashboard audiences) and the
        open incidents' sequences if they hold a dashboard role."""
        user = signed_in(self.scope)
        if not user.is_authenticated or user.district_id is None:
            return user, None
        audiences = [
            a for a in live.DASHBOARD_AUDIENCES if a != live.DASHBOARD_TEAM and user.has_role(a)
        ]
        if user.has_role(*RESPONSE_TEAM_ROLES):
            audiences.append(live.DASHBOARD_TEAM)
        if not audiences:
            return user, None
        groups = [live.district_group(user.district_id, a) for a in audiences]
        return user, (granted(user, groups), self._sequences(user.district_id))

    @staticmethod
    def _sequences(district_id: int) -> dict[str, int]:
        """Each open incident's sequence, for the dashboards to catch up from."""
        return {
            str(pk): seq
            for pk, seq in Incident.objects.filter(district_id=district_id)
            .exclude(status=Incident.Status.CLOSED)
            .values_list("pk", "sequence")
        }
