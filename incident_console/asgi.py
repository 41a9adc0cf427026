"""ASGI entry point: HTTP goes to Django on a pool of threads (``serving.py``), websockets
to the authenticated consumers."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_console.settings")

# Django must be set up before the routing imports consumers and models.
django.setup(set_prefix=False)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402

from incident_console.routing import websocket_urlpatterns  # noqa: E402
from incident_console.serving import http_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": http_application(),
        # The consumers look up the signed-in person themselves (console.consumers.signed_in),
        # in the same database call that decides what they may see.
        "websocket": AllowedHostsOriginValidator(
            SessionMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
