"""Reads of the sign-in domain."""

from __future__ import annotations

from django.http import HttpRequest

from signin.models import DistrictIdentityProvider, email_domain

# The district identity provider a sign-in in progress goes through, chosen on the start page.
SESSION_KEY = "signin.identity_provider"


def identity_provider_for_email(email: str) -> DistrictIdentityProvider | None:
    """The enabled provider whose allowed domains include the email's domain."""
    domain = email_domain(email)
    if not domain:
        return None
    for candidate in DistrictIdentityProvider.objects.filter(enabled=True).select_related(
        "district"
    ):
        if domain in candidate.domains:
            return candidate
    return None


def identity_provider_in_progress(request: HttpRequest) -> DistrictIdentityProvider | None:
    pk = request.session.get(SESSION_KEY)
    if pk is None:
        return None
    return (
        DistrictIdentityProvider.objects.filter(pk=pk, enabled=True)
        .select_related("district")
        .first()
    )
