"""District identity providers and the record of sign-in events."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from incidents.models import District, User

# Entra ID tenants that accept any organisation's accounts: a district must name its own.
SHARED_TENANTS = frozenset({"common", "organizations", "consumers"})


def parse_domains(value: str) -> list[str]:
    """The domains of a comma- or space-separated list, lower case, without a leading @."""
    parts = value.replace(",", " ").split()
    return sorted({part.strip().lstrip("@").lower() for part in parts if part.strip("@ ")})


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower()


class DistrictIdentityProvider(models.Model):
    """How one district's people sign in: Google Workspace or Microsoft Entra ID."""

    class Provider(models.TextChoices):
        GOOGLE = "google", "Google Workspace"
        MICROSOFT = "microsoft", "Microsoft Entra ID"

    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="identity_providers"
    )
    provider = models.CharField(max_length=20, choices=Provider.choices)
    client_id = models.CharField(
        "client ID", max_length=255, help_text="From the OAuth client registered for the console."
    )
    secret = models.CharField("client secret", max_length=255)
    tenant = models.CharField(
        "tenant ID",
        max_length=100,
        blank=True,
        help_text="Entra ID only: the district's directory (tenant) ID or primary domain.",
    )
    allowed_domains = models.CharField(
        max_length=500,
        help_text="Email domains of the district's staff, comma-separated, e.g. riverbend.k12.us. "
        "A domain belongs to one district's provider only.",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["district__name", "provider"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "provider"], name="identityprovider_one_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.district} – {self.get_provider_display()}"

    @property
    def domains(self) -> list[str]:
        return parse_domains(self.allowed_domains)

    def allows(self, email: str) -> bool:
        return email_domain(email) in self.domains

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.domains:
            errors["allowed_domains"] = "List at least one email domain, e.g. riverbend.k12.us."
        if self.provider == self.Provider.MICROSOFT:
            if not self.tenant:
                errors["tenant"] = "Entra ID needs the district's tenant ID."
            elif self.tenant.lower() in SHARED_TENANTS:
                errors["tenant"] = (
                    f"“{self.tenant}” lets any organisation's accounts in; "
                    "use the district's own tenant ID."
                )
        elif self.tenant:
            errors["tenant"] = "Only Entra ID uses a tenant ID; leave it empty for Google."
        if self.domains and self.enabled:
            taken = [
                other
                for other in DistrictIdentityProvider.objects.filter(enabled=True).exclude(
                    pk=self.pk
                )
                if set(other.domains) & set(self.domains)
            ]
            if taken:
                shared = ", ".join(sorted(set(taken[0].domains) & set(self.domains)))
                errors["allowed_domains"] = f"{shared} already signs in through {taken[0]}."
        if errors:
            raise ValidationError(errors)


class SecurityEvent(models.Model):
    """One sign-in success, failure, refusal or throttle, kept for the district's audit."""

    class Kind(models.TextChoices):
        SIGNED_IN = "signed_in", "Signed in"
        SIGNED_OUT = "signed_out", "Signed out"
        SIGNED_OUT_EVERYWHERE = "signed_out_all", "Signed out everywhere"
        PASSWORD_FAILED = "password_failed", "Password did not match"
        CODE_FAILED = "code_failed", "Authenticator code did not match"
        PROVIDER_FAILED = "provider_failed", "Identity provider sign-in failed"
        REFUSED = "refused", "Refused"
        THROTTLED = "throttled", "Too many failures"
        BREAK_GLASS = "break_glass", "Break-glass account issued"
        ACCOUNT_ATTACKED = "account_attacked", "Many failures for one account"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="security_events"
    )
    # What the person typed or the provider asserted, kept even when it matches nobody.
    identifier = models.CharField(max_length=254, blank=True)
    district = models.ForeignKey(District, on_delete=models.SET_NULL, null=True, blank=True)
    method = models.CharField(max_length=20, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.identifier or self.user}"
