"""Sign-in pages: the district provider start, the break-glass password and code steps,
sign-out. Every path that takes a secret or an identity is throttled (``throttled``)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from allauth.account.internal.stagekit import unstash_login
from allauth.account.views import LoginView, LogoutView
from allauth.mfa.base.views import AuthenticateView
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from signin import selectors, services, throttle
from signin.forms import DistrictEmailForm, PasswordSignInForm
from signin.models import DistrictIdentityProvider, SecurityEvent


def throttled_response(
    request: HttpRequest, verdict: throttle.Verdict, *, identifier: str = ""
) -> HttpResponse:
    """429 with Retry-After, and a page that says how long to wait."""
    services.security_event_record(
        request=request,
        kind=SecurityEvent.Kind.THROTTLED,
        identifier=identifier,
        detail=f"Refused for {verdict.retry_after} s after too many failures.",
    )
    minutes = max(1, math.ceil(verdict.retry_after / 60))
    response = render(
        request,
        "signin/throttled.html",
        {"minutes": minutes, "retry_after": verdict.retry_after},
        status=429,
    )
    response["Retry-After"] = str(verdict.retry_after)
    return response


def throttled(account: Callable[[HttpRequest], str]) -> Callable:
    """Refuse an attempt when its address or account is over the limit, before and after.

    Before: an account or address that used up its failures gets 429 without its password,
    code or provider answer being looked at. After: the attempt whose failure reached the
    limit is itself answered 429, so the Nth failure is the one refused.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.method not in ("POST",) and not getattr(view, "throttle_get", False):
                return view(request, *args, **kwargs)
            identifier = account(request)
            verdict = throttle.check(address=throttle.client_address(request), account=identifier)
            if verdict.refused:
                return throttled_response(request, verdict, identifier=identifier)
            response = view(request, *args, **kwargs)
            failed = getattr(request, services.FAILED_ATTR, None)
            if failed is not None and failed.refused and response.status_code != 429:
                return throttled_response(request, failed, identifier=identifier)
            return response

        return wrapped

    return decorator


def posted_username(request: HttpRequest) -> str:
    return (request.POST.get("login") or "").strip()


def posted_email(request: HttpRequest) -> str:
    return (request.POST.get("email") or "").strip().lower()


def pending_username(request: HttpRequest) -> str:
    login = unstash_login(request, peek=True)
    return login.user.username if login and login.user else ""


def no_account(request: HttpRequest) -> str:
    return ""


class SignInView(LoginView):
    """The sign-in page: district account first, break-glass password below."""

    form_class = PasswordSignInForm

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context.setdefault("district_form", DistrictEmailForm())
        if settings.DEMO_MODE:
            context["demo_people"] = demo_people()
        return context

    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 422
        return response


class CodeView(AuthenticateView):
    """The second step of a password sign-in: the code from the authenticator app."""

    def form_invalid(self, form) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 422
        return response


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_POST
def provider_start(request: HttpRequest) -> HttpResponse:
    """Find the district by the work email's domain and send the person to its provider."""
    form = DistrictEmailForm(request.POST)
    idp = None
    if form.is_valid():
        idp = selectors.identity_provider_for_email(form.cleaned_data["email"])
    if form.is_valid() and idp is None:
        form.add_error(
            "email",
            f"No district signs in with @{form.cleaned_data['email'].rpartition('@')[2]} "
            "addresses. Check the address, or use the break-glass password below if your "
            "district gave you one.",
        )
    if not form.is_valid():
        services.sign_in_failed(
            request=request,
            kind=SecurityEvent.Kind.REFUSED,
            identifier=posted_email(request),
            method="provider",
            detail="; ".join(e for errors in form.errors.values() for e in errors),
        )
        return render(
            request,
            "account/login.html",
            {
                "form": PasswordSignInForm(request=request),
                "district_form": form,
                "redirect_field_value": _safe_next(request) or "",
            },
            status=422,
        )
    request.session[selectors.SESSION_KEY] = idp.pk
    provider = get_social_adapter(request).get_provider(request, idp.provider)
    email = form.cleaned_data["email"]
    auth_params = {"login_hint": email}
    if idp.provider == DistrictIdentityProvider.Provider.GOOGLE:
        # Google shows only accounts of this Workspace domain; the callback checks it again.
        auth_params["hd"] = email.rpartition("@")[2]
    return provider.redirect(
        request, process=AuthProcess.LOGIN, next_url=_safe_next(request), auth_params=auth_params
    )


def provider_callback(view):
    """The provider's return to the console: only for a sign-in started here, throttled."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if selectors.identity_provider_in_progress(request) is None:
            services.sign_in_failed(
                request=request,
                kind=SecurityEvent.Kind.REFUSED,
                identifier="",
                method="provider",
                detail="Provider callback without a sign-in started on this browser.",
            )
            return render(
                request,
                "signin/refused.html",
                {
                    "message": "This sign-in was not started from the console's sign-in page "
                    "in this browser, or it took too long. Start again from the sign-in page."
                },
                status=400,
            )
        return view(request, *args, **kwargs)

    wrapped.throttle_get = True
    return throttled(no_account)(wrapped)


class SignOutView(LogoutView):
    """Sign out of this browser (the console closes its live sockets when Django announces the
    sign-out), or, with ``everywhere``, end every session the person has; and record it."""

    def post(self, request, *args, **kwargs):
        user = request.user if request.user.is_authenticated else None
        everywhere = user is not None and request.POST.get("everywhere") == "1"
        if everywhere:
            services.sessions_end_everywhere(user=user)
        response = super().post(request, *args, **kwargs)
        if user is not None:
            kind = (
                SecurityEvent.Kind.SIGNED_OUT_EVERYWHERE
                if everywhere
                else SecurityEvent.Kind.SIGNED_OUT
            )
            services.security_event_record(request=request, kind=kind, user=user)
        return response


def demo_people() -> list[dict]:
    """In demo mode, every person on a district's roster, to sign in as with one button."""
    from incidents.models import Role, User

    order = {role: n for n, role in enumerate(Role.values)}
    people = []
    for user in (
        User.objects.filter(is_active=True, district__isnull=False)
        .select_related("district")
        .prefetch_related("role_grants")
        .order_by("district__name", "pk")
    ):
        roles = sorted((g.role for g in user.role_grants.all()), key=order.get)
        if roles:
            people.append(
                {
                    "user": user,
                    "district": user.district.name,
                    "roles": ", ".join(Role(r).label for r in roles),
                }
            )
    return people


@require_POST
def demo_sign_in(request: HttpRequest, user_id: int) -> HttpResponse:
    """Demo mode only: sign in as a demo person without a password or code."""
    from django.contrib.auth import login
    from django.shortcuts import redirect

    from incidents.models import User

    if not settings.DEMO_MODE:
        raise Http404("There is no such page.")
    user = User.objects.filter(pk=user_id, is_active=True, district__isnull=False).first()
    if user is None:
        raise Http404("There is no demo person with that number.")
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return redirect(_safe_next(request) or "home")
