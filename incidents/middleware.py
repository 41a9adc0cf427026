"""Request-wide concerns: each district's time zone, what a signed-in page may be kept as,
how long a session lasts idle, and the Content-Security-Policy."""

import time

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.utils import timezone
from django.utils.cache import patch_cache_control

SEEN_KEY = "seen_at"


class PublicPageMiddleware:
    """Keeps a public page public: the same bytes for everyone, so no cookie goes out with it
    and it does not vary by cookie (the session middleware adds that when a signed-in reader's
    session was read). Views mark such a response with ``public_page``. Outermost, so it sees
    the response last."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, "public_page", False):
            response.cookies.clear()
            # A page in the language the reader chose before does vary by that cookie.
            if response.has_header("Vary") and not getattr(response, "varies_by_language", False):
                kept = [v for v in response["Vary"].split(",") if v.strip().lower() != "cookie"]
                response["Vary"] = ", ".join(v.strip() for v in kept)
        return response


class SignedInMiddleware:
    """For a signed-in person: no page, fragment or export is stored by the browser or a
    proxy (they name people and incidents), and the session's idle end moves forward."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, "public_page", False):
            return response
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        patch_cache_control(response, private=True, no_store=True)
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if now - session.get(SEEN_KEY, 0) >= settings.SESSION_REFRESH_SECONDS:
                # Saving the session sets its expiry SESSION_COOKIE_AGE from now.
                session[SEEN_KEY] = now
        return response


class DistrictTimezoneMiddleware:
    """Show every time in the signed-in person's district time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        district = getattr(user, "district", None) if user and user.is_authenticated else None
        if district is not None:
            timezone.activate(district.zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy from settings, with this host's websocket origin in connect-src.

    CSP Level 3 lets 'self' match ws:// and wss:// on the page's own host, but not every
    browser in districts' hands implements that yet, and a page whose socket is refused only
    falls back to polling: the origin is named explicitly so live updates work everywhere.
    """

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        try:
            host = request.get_host()
        except DisallowedHost:
            # The refusal of an unknown host is itself a response; it names no socket.
            return parts
        origin = f"{'wss' if request.is_secure() else 'ws'}://{host}"
        update = dict(parts.update or {})
        update["connect-src"] = [*update.get("connect-src", []), origin]
        # ``update`` appends to the directive configured in settings; it never replaces it.
        parts.update = update
        return parts
