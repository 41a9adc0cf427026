"""Sign-in fixtures: district identity providers and roster emails."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from signin.demo import DEMO_TOTP_SECRET
from signin.models import DistrictIdentityProvider
from signin.services import totp_ensure


@pytest.fixture
def google_idp(riverbend) -> DistrictIdentityProvider:
    """Riverbend signs in with Google Workspace; its CIO is dana@riverbend.k12.us."""
    riverbend.cio.email = "dana@riverbend.k12.us"
    riverbend.cio.save(update_fields=["email"])
    return DistrictIdentityProvider.objects.create(
        district=riverbend.district,
        provider="google",
        client_id="riverbend-google-client",
        secret="riverbend-google-secret",
        allowed_domains="riverbend.k12.us",
    )


@pytest.fixture
def entra_idp(lakeshore) -> DistrictIdentityProvider:
    """Lakeshore signs in with Entra ID; its CIO is kenneth@lakeshore.edu."""
    lakeshore.cio.email = "kenneth@lakeshore.edu"
    lakeshore.cio.save(update_fields=["email"])
    return DistrictIdentityProvider.objects.create(
        district=lakeshore.district,
        provider="microsoft",
        client_id="lakeshore-entra-client",
        secret="lakeshore-entra-secret",
        tenant="5f0c7c1e-1111-4a5b-9c2d-lakeshore00",
        allowed_domains="lakeshore.edu",
    )


@pytest.fixture
def break_glass_cio(riverbend):
    """Riverbend's CIO with an authenticator app, so the password path is open to them."""
    totp_ensure(user=riverbend.cio, secret=DEMO_TOTP_SECRET)
    return riverbend.cio


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
