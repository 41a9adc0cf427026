"""District sign-in through Google Workspace and Entra ID: only the roster gets in.

No network: the provider start is checked by its redirect, the roster rules by calling the
adapter with a constructed SocialLogin, and the callback with the token exchange replaced.
"""

from __future__ import annotations

from unittest import mock

import pytest
from allauth.core import context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.exceptions import ValidationError

from incidents.models import User
from signin.adapters import AccountAdapter, SocialAccountAdapter
from signin.models import DistrictIdentityProvider, SecurityEvent
from signin.selectors import SESSION_KEY
from tests.signin.conftest import query_of

GOOGLE_CLAIMS = {
    "sub": "google-uid-1",
    "email": "dana@riverbend.k12.us",
    "email_verified": True,
    "hd": "riverbend.k12.us",
    "given_name": "Dana",
}
ENTRA_PROFILE = {
    "id": "entra-uid-1",
    "userPrincipalName": "Kenneth@lakeshore.edu",
    "mail": "kenneth@lakeshore.edu",
}


def test_start_sends_the_person_to_google_with_the_district_client(client, google_idp):
    response = client.post("/accounts/login/district/", {"email": "dana@riverbend.k12.us"})

    assert response.status_code == 302
    assert response["Location"].startswith("https://accounts.google.com/o/oauth2/")
    query = query_of(response["Location"])
    assert query["client_id"] == "riverbend-google-client"
    assert query["login_hint"] == "dana@riverbend.k12.us"
    assert query["hd"] == "riverbend.k12.us"
    assert query["redirect_uri"] == "http://testserver/accounts/google/login/callback/"
    assert client.session[SESSION_KEY] == google_idp.pk


def test_start_sends_the_person_to_the_district_entra_tenant(client, entra_idp):
    response = client.post("/accounts/login/district/", {"email": "kenneth@lakeshore.edu"})

    assert response.status_code == 302
    assert response["Location"].startswith(
        f"https://login.microsoftonline.com/{entra_idp.tenant}/oauth2/v2.0/authorize"
    )
    assert query_of(response["Location"])["client_id"] == "lakeshore-entra-client"


def test_start_refuses_a_domain_no_district_uses(client, google_idp):
    response = client.post("/accounts/login/district/", {"email": "someone@gmail.com"})

    assert response.status_code == 422
    assert b"No district signs in with @gmail.com addresses" in response.content
    assert b'aria-describedby="id_email_error"' in response.content
    assert SESSION_KEY not in client.session
    assert SecurityEvent.objects.get().kind == SecurityEvent.Kind.REFUSED


def test_start_refuses_a_malformed_email(client, google_idp):
    response = client.post("/accounts/login/district/", {"email": "not an email"})

    assert response.status_code == 422
    assert b"Enter an email address in the form" in response.content


def test_start_refuses_an_email_with_a_nul_character_and_records_it(client, google_idp):
    response = client.post("/accounts/login/district/", {"email": "dana\x00@riverbend.k12.us"})

    assert response.status_code == 422
    assert SecurityEvent.objects.get().identifier == "dana@riverbend.k12.us"


def test_start_skips_a_disabled_provider(client, google_idp):
    google_idp.enabled = False
    google_idp.save(update_fields=["enabled"])

    response = client.post("/accounts/login/district/", {"email": "dana@riverbend.k12.us"})

    assert response.status_code == 422


def test_start_only_answers_a_form_post(client, google_idp):
    assert client.get("/accounts/login/district/").status_code == 405


# --- The adapter's roster rules ------------------------------------------------------------


def callback_request(rf, idp: DistrictIdentityProvider | None):
    request = rf.get("/accounts/google/login/callback/")
    SessionMiddleware(lambda r: None).process_request(request)
    if idp is not None:
        request.session[SESSION_KEY] = idp.pk
    request.user = AnonymousUser()
    return request


def social_login(provider: str, data: dict) -> SocialLogin:
    account = SocialAccount(provider=provider, uid=str(data.get("sub") or data["id"]))
    account.extra_data = data
    return SocialLogin(account=account, user=User())


def pre_social_login(request, sociallogin) -> None:
    with context.request_context(request):
        SocialAccountAdapter(request).pre_social_login(request, sociallogin)


def refusal(request, sociallogin) -> tuple[int, str]:
    with pytest.raises(ImmediateHttpResponse) as refused:
        pre_social_login(request, sociallogin)
    return refused.value.response.status_code, refused.value.response.content.decode()


def test_a_roster_member_is_matched_by_verified_email_and_linked(rf, google_idp, riverbend):
    sociallogin = social_login("google", GOOGLE_CLAIMS)

    pre_social_login(callback_request(rf, google_idp), sociallogin)

    assert sociallogin.user == riverbend.cio
    assert SocialAccount.objects.get(uid="google-uid-1").user == riverbend.cio


def test_entra_matches_the_user_principal_name(rf, entra_idp, lakeshore):
    sociallogin = social_login("microsoft", ENTRA_PROFILE)

    pre_social_login(callback_request(rf, entra_idp), sociallogin)

    assert sociallogin.user == lakeshore.cio


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"email_verified": False}, "has not verified this email address"),
        ({"hd": None}, "not an account of the district"),
        ({"email": "dana@gmail.com", "hd": "gmail.com"}, "is not an address of"),
        ({"email": "nobody@riverbend.k12.us"}, "is not on Riverbend District"),
        ({"email": ""}, "did not share an email address"),
    ],
    ids=["unverified", "personal-google-account", "other-domain", "not-on-roster", "no-email"],
)
def test_google_refusals_are_clear_and_recorded(rf, google_idp, claims, reason):
    sociallogin = social_login("google", {**GOOGLE_CLAIMS, **claims})

    status, body = refusal(callback_request(rf, google_idp), sociallogin)

    assert status == 403
    assert reason in body.replace("&#x27;", "'")
    assert SecurityEvent.objects.get().kind == SecurityEvent.Kind.REFUSED
    assert not SocialAccount.objects.exists()


def test_a_switched_off_account_is_refused(rf, google_idp, riverbend):
    riverbend.cio.is_active = False
    riverbend.cio.save(update_fields=["is_active"])

    status, body = refusal(callback_request(rf, google_idp), social_login("google", GOOGLE_CLAIMS))

    assert status == 403
    assert "is not on Riverbend District" in body.replace("&#x27;", "'")


def test_the_same_email_in_another_district_does_not_match(rf, google_idp, riverbend, lakeshore):
    riverbend.cio.email = ""
    riverbend.cio.save(update_fields=["email"])
    lakeshore.cio.email = "dana@riverbend.k12.us"
    lakeshore.cio.save(update_fields=["email"])

    status, _ = refusal(callback_request(rf, google_idp), social_login("google", GOOGLE_CLAIMS))

    assert status == 403


def test_a_provider_account_linked_to_someone_else_is_refused(rf, google_idp, riverbend):
    SocialAccount.objects.create(user=riverbend.comms, provider="google", uid="google-uid-1")
    sociallogin = social_login("google", GOOGLE_CLAIMS)
    sociallogin.lookup()

    status, body = refusal(callback_request(rf, google_idp), sociallogin)

    assert status == 403
    assert "linked to another person" in body


def test_a_callback_without_a_started_sign_in_is_refused(rf, google_idp):
    status, body = refusal(callback_request(rf, None), social_login("google", GOOGLE_CLAIMS))

    assert status == 403
    assert "not started from the console" in body.replace("&#x27;", "'")


def test_nobody_signs_up(rf):
    request = callback_request(rf, None)

    sociallogin = social_login("google", {"sub": "x"})

    assert AccountAdapter(request).is_open_for_signup(request) is False
    assert SocialAccountAdapter(request).is_open_for_signup(request, sociallogin) is False


# --- The whole callback, with the token exchange replaced ----------------------------------


def start_google(client, **extra) -> str:
    start = client.post("/accounts/login/district/", {"email": "dana@riverbend.k12.us"}, **extra)
    return query_of(start["Location"])["state"]


def return_from_google(client, state, claims, **extra):
    with (
        mock.patch(
            "allauth.socialaccount.providers.oauth2.client.OAuth2Client.get_access_token",
            return_value={"access_token": "token", "id_token": "id-token"},
        ),
        mock.patch(
            "allauth.socialaccount.providers.google.views.GoogleOAuth2Adapter._decode_id_token",
            return_value=claims,
        ),
    ):
        return client.get(
            "/accounts/google/login/callback/",
            {"code": "provider-code", "state": state},
            **extra,
        )


def finish_google(client, claims, **extra):
    return return_from_google(client, start_google(client, **extra), claims, **extra)


def test_a_roster_member_signs_in_through_google(client, google_idp, riverbend):
    response = finish_google(client, GOOGLE_CLAIMS)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(riverbend.cio.pk)
    assert SESSION_KEY not in client.session
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SIGNED_IN)
    assert (event.user, event.method) == (riverbend.cio, "provider")


def test_someone_off_the_roster_is_refused_at_the_callback(client, google_idp):
    response = finish_google(client, {**GOOGLE_CLAIMS, "email": "stranger@riverbend.k12.us"})

    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_the_callback_refuses_a_browser_that_did_not_start_here(client, google_idp):
    response = client.get("/accounts/google/login/callback/", {"code": "x", "state": "y"})

    assert response.status_code == 400
    assert b"not started from the console" in response.content.replace(b"&#x27;", b"'")


# --- The admin's provider form ------------------------------------------------------------


def test_entra_needs_the_district_own_tenant(riverbend):
    idp = DistrictIdentityProvider(
        district=riverbend.district,
        provider="microsoft",
        client_id="c",
        secret="s",
        tenant="common",
        allowed_domains="riverbend.k12.us",
    )

    with pytest.raises(ValidationError) as invalid:
        idp.full_clean()

    assert "use the district's own tenant ID" in str(invalid.value)


def test_a_domain_belongs_to_one_district(google_idp, lakeshore):
    idp = DistrictIdentityProvider(
        district=lakeshore.district,
        provider="google",
        client_id="c",
        secret="s",
        allowed_domains="lakeshore.edu, @Riverbend.k12.us",
    )

    with pytest.raises(ValidationError) as invalid:
        idp.full_clean()

    assert "riverbend.k12.us already signs in through Riverbend District" in str(invalid.value)
