"""Template helpers for showing times: absolute in the district's zone, and relative."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html

from comms import translations
from incidents.phases import format_duration

register = template.Library()


@register.simple_tag
def local_time(value: datetime | None) -> str:
    """An absolute time in the active (district) zone, machine-readable in UTC."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}">{}</time>',
        value.isoformat(),
        local.strftime("%a %-d %b, %-I:%M %p %Z"),
    )


EXERCISE_CLOCK = " on the exercise clock"


def _exercise_scale(incident) -> int | None:
    """The clock speed of an exercise incident, or None for a real one (or none at all)."""
    if incident is None or not getattr(incident, "is_exercise", False):
        return None
    return incident.time_scale


def _on_clock(value: datetime, now: datetime, incident) -> tuple[timedelta, str, str]:
    """For a moment on an exercise's clock: the span from ``now`` to it on that clock, the
    moment the page ticks from at the clock's speed, and whether the page must not tick
    (the facilitator paused the clock)."""
    own = incident.own_clock
    delta = own.reading(value, now=now) - own.elapsed_at(now)
    anchor = own.ticking_anchor(value, now=now)
    return delta, anchor.isoformat(), "true" if own.paused else ""


@register.simple_tag
def relative_time(value: datetime | None, now: datetime, incident=None) -> str:
    """'in 3 h 05 min' or '12 min ago', kept current in the page by console.js. With an
    exercise ``incident`` the span is on its own clock and says so."""
    if value is None:
        return ""
    scale = _exercise_scale(incident)
    if scale is None:
        delta = value - now
        text = _relative_text(delta)
        return format_html(
            '<span class="relative" data-relative="{}">{}</span>', value.isoformat(), text
        )
    delta, anchor, frozen = _on_clock(value, now, incident)
    return format_html(
        '<span class="relative" data-relative="{}" data-scale="{}" data-suffix="{}"'
        ' data-frozen="{}">{}{}</span>',
        anchor,
        scale,
        EXERCISE_CLOCK,
        frozen,
        _relative_text(delta),
        EXERCISE_CLOCK,
    )


def _relative_text(delta: timedelta) -> str:
    if delta > timedelta(0):
        return f"in {format_duration(delta)}"
    return f"{format_duration(delta)} ago"


def _ticking_since(since: datetime, now: datetime, incident, suffix: str = "") -> str:
    if _exercise_scale(incident) is None:
        elapsed, anchor, scale, frozen = max(now - since, timedelta(0)), since.isoformat(), 1, ""
    else:
        delta, anchor, frozen = _on_clock(since, now, incident)
        elapsed, scale = max(-delta, timedelta(0)), incident.time_scale
    return format_html(
        '<span class="elapsed" data-since="{}" data-scale="{}" data-suffix="{}"'
        ' data-frozen="{}">{}{}</span>',
        anchor,
        scale,
        suffix,
        frozen,
        format_duration(elapsed),
        suffix,
    )


@register.simple_tag
def elapsed_time(since: datetime, now: datetime, incident=None) -> str:
    """Time on an incident's own clock since ``since``, ticking in the page at its speed."""
    return _ticking_since(since, now, incident)


@register.simple_tag
def clock_since(since: datetime, now: datetime, incident) -> str:
    """The time since ``since`` (a promise that passed, a draft sent to legal) on
    ``incident``'s clock, labelled when that is an exercise's, ticking in the page."""
    suffix = EXERCISE_CLOCK if _exercise_scale(incident) else ""
    return _ticking_since(since, now, incident, suffix)


@register.simple_tag
def ticking_from(value: datetime, now: datetime, incident) -> str:
    """The moment a page's clock ticks from for ``value`` on ``incident``'s clock."""
    if _exercise_scale(incident) is None:
        return value.isoformat()
    return _on_clock(value, now, incident)[1]


@register.filter
def duration(value: timedelta) -> str:
    return format_duration(value)


@register.filter
def on_clock(value: timedelta, incident) -> str:
    """A span already on ``incident``'s clock, labelled when that clock is an exercise's."""
    text = format_duration(value)
    return text + EXERCISE_CLOCK if _exercise_scale(incident) is not None else text


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key)


@register.filter
def span(value: timedelta | None) -> str:
    from incidents.scorecard import format_span

    return format_span(value)


@register.filter
def audience_label(value: str) -> str:
    from comms.models import Audience

    return Audience(value).label if value in Audience.values else value


@register.simple_tag(takes_context=True)
def form_token(context) -> str:
    """The CSRF field for a page rendered for one person; nothing in a fragment rendered for
    a whole audience, where the page's script adds the reader's own token on submit."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


class RenderedOnceNode(template.Node):
    def __init__(self, name: str, nodelist) -> None:
        self.name, self.nodelist = name, nodelist

    def render(self, context) -> str:
        store = context.get("rendered_once")
        if store is None:
            return self.nodelist.render(context)
        if self.name not in store:
            store[self.name] = self.nodelist.render(context)
        return store[self.name]


def _quoted_name(parser, token, example: str) -> tuple[str, template.NodeList]:
    """The one quoted name of a block tag, and its body up to the end tag."""
    bits = token.split_contents()
    tag = bits[0]
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError(f"{tag} takes one quoted name: {example}")
    nodelist = parser.parse((f"end{tag}",))
    parser.delete_first_token()
    return bits[1][1:-1], nodelist


@register.tag
def rendered_once(parser, token):
    """``{% rendered_once "name" %}...{% endrendered_once %}``: a part of a panel that is the
    same for every viewer. A push renders a panel once per set of viewer permissions; with a
    ``rendered_once`` dict in the context (one per push) this part is rendered the first time
    and reused for the others. Without one (a page request) it renders as usual."""
    return RenderedOnceNode(*_quoted_name(parser, token, '{% rendered_once "rows" %}'))


class CachedPanelNode(template.Node):
    def __init__(self, name: str, nodelist) -> None:
        self.name, self.nodelist = name, nodelist

    def render(self, context) -> str:
        panels = context.get("panel_cache")
        if panels is None:
            return self.nodelist.render(context)
        return panels.panel(self.name, context, self.nodelist.render)


@register.tag
def cached_panel(parser, token):
    """``{% cached_panel "clock" %}...{% endcached_panel %}``: one panel of the incident page.
    With a ``panel_cache`` in the context (``console.page.PanelCache``: a page request) the
    panel is taken from, or kept in, the cache of panels rendered for the same incident state
    and the same viewer permissions; without one (a push, a panel answering a change) it
    renders as usual."""
    return CachedPanelNode(*_quoted_name(parser, token, '{% cached_panel "clock" %}'))


@register.filter
def text_direction(language: str) -> str:
    """ "rtl" for a right-to-left language (Arabic, Hebrew, Urdu ...), else "ltr"."""
    try:
        return translations.direction_of(language)
    except ValueError:
        return "ltr"


@register.filter
def language_name(code: str) -> str:
    """A language's English name, from its BCP 47 code: "es" -> "Spanish"."""
    try:
        return translations.english_name_of(code)
    except ValueError:
        return code
