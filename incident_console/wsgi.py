"""WSGI entry point, for tools that need one; the console itself is served over ASGI."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_console.settings")

application = get_wsgi_application()
