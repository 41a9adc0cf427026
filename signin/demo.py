"""The demo's shared authenticator secret: public, for demo data only."""

from __future__ import annotations

import time

# Base32; every demo user's authenticator uses it, so one code signs any of them in.
DEMO_TOTP_SECRET = "CONSOLEDEMOSECRETKEY2345"


def current_code(secret: str = DEMO_TOTP_SECRET, *, at: float | None = None) -> str:
    """The TOTP code an authenticator app shows for ``secret`` now (or at ``at``)."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time() if at is None else at) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))
