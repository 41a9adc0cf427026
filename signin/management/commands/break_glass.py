"""Create or reactivate a break-glass account: a password and an authenticator app.

For when the district's identity provider is itself down. The password and the
authenticator secret are printed once and stored nowhere in clear text.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.core.management.base import BaseCommand, CommandError
from django.utils.http import urlencode

from incidents.models import District, Role
from signin import services


class Command(BaseCommand):
    help = (
        "Create or reactivate a break-glass account and print its password and "
        "authenticator secret once."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--district", help="Slug of the district; required when creating the account."
        )
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            choices=Role.values,
            help="District role to grant; repeat for several. Existing roles are kept.",
        )

    def handle(self, *args, username: str, district: str | None, role: list[str], **options):
        found = None
        if district:
            found = District.objects.filter(slug=district).first()
            if found is None:
                raise CommandError(f"No district has the slug “{district}”.")
        from incidents.models import User

        if found is None and not User.objects.filter(username=username).exists():
            raise CommandError(f"{username} does not exist yet: name its district with --district.")
        password = secrets.token_urlsafe(18)
        secret = generate_totp_secret()
        try:
            user, created = services.break_glass_issue(
                username=username, district=found, roles=role, password=password, secret=secret
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        issuer = app_settings.TOTP_ISSUER or "Incident console"
        label = f"{issuer}:{user.username}"
        uri = f"otpauth://totp/{quote(label, safe='')}?" + urlencode(
            {
                "secret": secret,
                "issuer": issuer,
                "digits": app_settings.TOTP_DIGITS,
                "period": app_settings.TOTP_PERIOD,
            }
        )
        self.stdout.write(
            f"{'Created' if created else 'Reactivated'} break-glass account {user.username} "
            f"({user.district}).\n"
            f"Password: {password}\n"
            f"Authenticator secret: {secret}\n"
            f"Authenticator URI: {uri}\n"
            "Shown once: put them in the district's sealed break-glass envelope or vault now."
        )
