"""allauth adapters: nobody signs up, and only a district's roster signs in through its provider.

The social adapter answers allauth's questions from the district identity provider chosen on
the sign-in page (kept in the session), not from allauth's own SocialApp table, so each
district's client ID, secret and tenant stay on its own ``DistrictIdentityProvider`` row.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.http import HttpRequest
from django.shortcuts import render

from incidents.models import User
from signin import selectors, services, throttle
from signin.models import DistrictIdentityProvider, SecurityEvent, email_domain


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def post_login(self, request, user, *, signal_kwargs=None, **kwargs):
        method = "provider" if (signal_kwargs or {}).get("sociallogin") else "password"
        services.sign_in_succeeded(request=request, user=user, method=method)
        request.session.pop(selectors.SESSION_KEY, None)
        return super().post_login(request, user, signal_kwargs=signal_kwargs, **kwargs)


def asserted_email(provider: str, data: dict) -> tuple[str, str]:
    """The email the provider vouches for, and why it cannot be trusted ("" when it can).

    Google: the ID token's ``email`` with ``email_verified``, and ``hd`` (the Workspace
    domain) equal to the email's domain, so a personal Google account registered with a
    district address is not taken for a district account. Entra ID: the
    ``userPrincipalName``, whose domain the district's own tenant has verified, unlike
    ``mail``, which a tenant administrator can set to anything.
    """
    if provider == DistrictIdentityProvider.Provider.GOOGLE:
        email = str(data.get("email") or "").strip().lower()
        if not email:
            return "", "Google did not share an email address."
        if data.get("email_verified", data.get("verified_email")) is not True:
            return email, "Google has not verified this email address."
        if str(data.get("hd") or "").lower() != email_domain(email):
            return email, "This is not an account of the district's Google Workspace."
        return email, ""
    email = str(data.get("userPrincipalName") or "").strip().lower()
    if not email:
        return "", "Microsoft did not share the account's user principal name."
    return email, ""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def list_apps(self, request: HttpRequest, provider=None, client_id=None) -> list[SocialApp]:
        idp = selectors.identity_provider_in_progress(request) if request else None
        if idp is None or (provider and provider != idp.provider):
            return []
        if client_id and client_id != idp.client_id:
            return []
        # Unsaved on purpose: the credentials live on the district's row; tokens are not kept.
        return [
            SocialApp(
                provider=idp.provider,
                name=str(idp),
                client_id=idp.client_id,
                secret=idp.secret,
                settings={"tenant": idp.tenant} if idp.tenant else {},
            )
        ]

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Let the person in only as the active roster member the verified email names."""
        idp = selectors.identity_provider_in_progress(request)
        if idp is None:
            self._refuse(
                request,
                None,
                "",
                "This sign-in was not started from the console's sign-in page, or took too "
                "long. Start again from the sign-in page.",
            )
        email, problem = asserted_email(idp.provider, sociallogin.account.extra_data)
        verdict = throttle.check(address=throttle.client_address(request), account=email)
        if verdict.refused:
            from signin.views import throttled_response

            raise ImmediateHttpResponse(throttled_response(request, verdict, identifier=email))
        if problem:
            self._refuse(request, idp, email, problem)
        if not idp.allows(email):
            self._refuse(
                request,
                idp,
                email,
                f"{email} is not an address of {idp.district}: its sign-in accepts "
                f"{', '.join('@' + d for d in idp.domains)} only.",
            )
        user = User.objects.filter(district=idp.district, email__iexact=email).first()
        if user is None or not user.is_active:
            self._refuse(
                request,
                idp,
                email,
                f"{email} is not on {idp.district}'s roster for the incident console. "
                "Ask your district's CIO to add you.",
            )
        if sociallogin.is_existing and sociallogin.user.pk != user.pk:
            self._refuse(
                request,
                idp,
                email,
                f"This {idp.get_provider_display()} account is linked to another person in "
                "the console. Ask your district's CIO to check the roster.",
            )
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)

    def _refuse(self, request, idp, email: str, message: str) -> None:
        verdict = services.sign_in_failed(
            request=request,
            kind=SecurityEvent.Kind.REFUSED,
            identifier=email,
            district=idp.district if idp else None,
            method=idp.provider if idp else "provider",
            detail=message,
        )
        request.session.pop(selectors.SESSION_KEY, None)
        if verdict.refused:
            from signin.views import throttled_response

            raise ImmediateHttpResponse(throttled_response(request, verdict, identifier=email))
        raise ImmediateHttpResponse(
            render(request, "signin/refused.html", {"message": message}, status=403)
        )

    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        idp = selectors.identity_provider_in_progress(request)
        detail = f"{error or 'error'}: {exception}" if exception else str(error or "error")
        services.sign_in_failed(
            request=request,
            kind=SecurityEvent.Kind.PROVIDER_FAILED,
            identifier="",
            district=idp.district if idp else None,
            method=getattr(provider, "id", "provider"),
            detail=detail,
        )
