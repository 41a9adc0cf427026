"""How a view answers after calling a service: one way to turn a domain refusal into what a
person reads, for every view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from incidents.access import refusal_message
from incidents.errors import DomainError


@dataclass(frozen=True)
class Attempt:
    """What one service call came to: its value, or the refusal to show and its status."""

    value: Any = None
    error: str | None = None
    status: int = 200
    refusal: DomainError | None = None


def attempt(call: Callable[[], Any]) -> Attempt:
    """Run one service call. A rule of the domain saying no becomes ``error``, shown to the
    person with ``status`` (422, or 409 for a conflict); a refusal of role is a 403 page."""
    try:
        return Attempt(value=call())
    except DomainError as exc:
        return Attempt(error=refusal_message(exc), status=exc.status_code, refusal=exc)


def back_to(request: HttpRequest, error: str | None, done: str, to: str, **kwargs) -> HttpResponse:
    """Redirect to ``to`` with what happened as a message: the refusal, or ``done``."""
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(to, **kwargs)
