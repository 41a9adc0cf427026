"""Print the authenticator code that signs in any demo user right now."""

from __future__ import annotations

import time

from allauth.mfa import app_settings
from django.core.management.base import BaseCommand

from signin.demo import current_code


class Command(BaseCommand):
    help = "Print the current authenticator code of the demo users (see seed_demo)."

    def handle(self, *args, **options):
        period = app_settings.TOTP_PERIOD
        left = period - int(time.time()) % period
        self.stdout.write(current_code())
        self.stderr.write(f"Valid for about {left} more seconds; each code works once per user.")
