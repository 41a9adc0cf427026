"""The console's answers to what the incident core announces (``incidents.events``)."""

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from console import live
from incidents import events
from incidents.middleware import SEEN_KEY


@receiver(events.changes_committed, dispatch_uid="console.push_changes")
def push_changes(sender, *, changed: dict[int, int], **kwargs) -> None:
    live.hand_off(changed)


@receiver(events.access_changed, dispatch_uid="console.recheck_sockets")
def recheck_sockets(sender, *, user_id: int, **kwargs) -> None:
    """The person's open pages reconnect and are checked again, so a removed role stops
    receiving within seconds."""
    live.close_sockets(live.user_group(user_id), reason="access_changed")


@receiver(user_logged_in, dispatch_uid="console.session_seen_at_sign_in")
def session_seen_at_sign_in(sender, *, request, **kwargs) -> None:
    """Signing in saves the session: its idle end starts now, without another write on the
    first page."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SEEN_KEY] = int(time.time())


@receiver(user_logged_out, dispatch_uid="console.close_sockets_on_sign_out")
def close_sockets_on_sign_out(sender, *, request, user, **kwargs) -> None:
    """Signing out closes the live sockets of that browser's session; the person's other
    devices stay signed in and live ("Sign out everywhere" ends those too)."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        live.close_sockets(live.session_group(session_key), reason="signed_out")
