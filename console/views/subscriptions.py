"""Families' subscriptions on the public status page: sign up, confirm, unsubscribe, and the
text provider's status callbacks. No page here needs a sign-in.

Every answer to a sign-up is the same whether or not the address was subscribed already.
Sign-ups are throttled per client address (answered 429) and per email address or phone
number (quietly: the page answers as usual and sends nothing more), with django-ratelimit.
"""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from comms import delivery, sms, subscriptions, translations
from comms.forms import ConfirmCodeForm, SubscribeForm
from comms.models import Subscriber
from console.views.comms import language_context, page_language
from incidents.models import District
from signin.throttle import client_address

log = logging.getLogger(__name__)


def _district(slug: str) -> District:
    return get_object_or_404(District.objects.select_related("policy"), slug=slug)


def in_reader_language(view):
    """Run the view in the reader's language (chosen, remembered or negotiated, as the
    status pages are): its pages, form labels and errors in that language where the
    console has its words, else in English."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
        district = _district(slug)
        language, _ = page_language(request, district)
        request.reader_language = language
        words = translations.words_language(language)
        with translation.override(words):
            response = view(request, district, *args, **kwargs)
        response.headers.setdefault("Content-Language", words)
        return response

    return wrapper


def _client_limited(request: HttpRequest) -> bool:
    """Counts this request against the client address's sign-ups; true past the limit."""
    try:
        return is_ratelimited(
            request,
            group="subscribe-client",
            key=lambda group, req: client_address(req) or "unknown",
            rate=settings.SUBSCRIBE_RATE_CLIENT,
            increment=True,
        )
    except Exception:
        # With the counts' store away, families can still sign up: each confirmation is
        # still bound to the address it was sent to.
        log.warning("the sign-up throttle is unavailable; letting the request through")
        return False


def _address_limited(request: HttpRequest, channel: str, address: str) -> bool:
    try:
        return is_ratelimited(
            request,
            group="subscribe-address",
            key=lambda group, req: f"{channel}:{address}",
            rate=settings.SUBSCRIBE_RATE_ADDRESS,
            increment=True,
        )
    except Exception:
        log.warning("the sign-up throttle is unavailable; letting the request through")
        return False


def _page(request, template: str, district: District, status: int = 200, **context):
    language = getattr(request, "reader_language", "en")
    context = {
        "district": district,
        **language_context(request, district, language, request.path),
        **context,
    }
    return render(request, template, context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@in_reader_language
def subscribe(request: HttpRequest, district: District) -> HttpResponse:
    """Sign up for updates by email or text message, for the whole district or some schools."""
    if request.method == "GET":
        form = SubscribeForm(district=district, initial={"language": request.reader_language})
        return _page(request, "comms/subscribe.html", district, form=form)
    if _client_limited(request):
        return _page(request, "comms/subscribe_throttled.html", district, status=429)
    form = SubscribeForm(request.POST, district=district)
    if not form.is_valid():
        return _page(request, "comms/subscribe.html", district, status=422, form=form)
    channel, address = form.cleaned_data["channel"], form.cleaned_data["address"]
    signed_up = subscriptions.sign_up(
        district=district,
        channel=channel,
        address=address,
        schools=list(form.cleaned_data["schools"]),
        language=form.cleaned_data.get("language") or "en",
        send=not _address_limited(request, channel, address),
    )
    if channel == Subscriber.Via.EMAIL:
        return _page(request, "comms/subscribe_sent.html", district, address=address)
    code_form = ConfirmCodeForm(initial={"ticket": signed_up.ticket})
    return _page(request, "comms/subscribe_code.html", district, form=code_form, address=address)


@never_cache
@require_POST
@in_reader_language
def confirm_code(request: HttpRequest, district: District) -> HttpResponse:
    """Confirm a text-message sign-up with the code sent to the phone."""
    if _client_limited(request):
        return _page(request, "comms/subscribe_throttled.html", district, status=429)
    form = ConfirmCodeForm(request.POST)
    if not form.is_valid():
        return _page(request, "comms/subscribe_code.html", district, status=422, form=form)
    try:
        subscriber = subscriptions.confirm_code(
            district=district,
            ticket=form.cleaned_data["ticket"],
            code=form.cleaned_data["code"],
        )
    except subscriptions.Refused as refused:
        form.add_error("code", str(refused))
        return _page(request, "comms/subscribe_code.html", district, status=422, form=form)
    return _page(request, "comms/subscribed.html", district, subscriber=subscriber)


@never_cache
@require_http_methods(["GET", "POST"])
@in_reader_language
def confirm_link(request: HttpRequest, district: District, token: str) -> HttpResponse:
    """The link from the confirmation email. Opening it asks for a press of Confirm: mail
    scanners that open every link must not subscribe anyone."""
    if request.method == "GET":
        return _page(request, "comms/subscribe_confirm.html", district, token=token)
    try:
        subscriber = subscriptions.confirm_link(district=district, token=token)
    except subscriptions.Refused as refused:
        return _page(
            request, "comms/subscribe_refused.html", district, status=410, reason=str(refused)
        )
    return _page(request, "comms/subscribed.html", district, subscriber=subscriber)


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
@in_reader_language
def unsubscribe(request: HttpRequest, district: District, token: str) -> HttpResponse:
    """Stop the updates and delete the subscription, with no sign-in.

    A POST unsubscribes at once: the page's button, and the one-click unsubscribe that mail
    programs send (RFC 8058: ``List-Unsubscribe=One-Click`` to the ``List-Unsubscribe``
    address, with no cookies, hence no CSRF check; the signed token is the authority).
    A GET only shows the button, since mail scanners open links."""
    try:
        subscriptions.unsubscribe_token_valid(token)
    except subscriptions.Refused as refused:
        return _page(
            request, "comms/subscribe_refused.html", district, status=404, reason=str(refused)
        )
    if request.method == "GET":
        return _page(request, "comms/unsubscribe.html", district, token=token)
    subscriptions.unsubscribe(district=district, token=token)
    return _page(request, "comms/unsubscribed.html", district)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    """Twilio's report of a message's fate, accepted only with a valid signature."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not sms.signature_valid(sms.status_callback_url(), request.POST.dict(), signature):
        return HttpResponse(
            "The X-Twilio-Signature header does not match this request.",
            status=403,
            content_type="text/plain",
        )
    delivery.record_provider_status(
        provider_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)
