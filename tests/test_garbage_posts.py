"""Garbage posted to every POST URL of the console, by a person allowed to use them all.

The URLs come from the URL configuration itself, so a new action is covered the day it is
added. Whatever is posted, the answer is never a server error; a refusal (4xx) leaves every
saved row as it was; and a body whose every value is unusable (a NUL byte, which PostgreSQL
refuses in text, or far too long) changes nothing, whatever status it gets.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.views.incidents import TRANSITIONS
from incidents.models import Role
from tests.factories import UserFactory
from tests.test_form_properties import FORMS, TEXT
from tests.world import build_world, saved_state

pytestmark = pytest.mark.django_db

DRAFT_STEPS = [
    "submit", "flag", "unflag", "clear", "approve", "return", "withdraw", "acknowledge",
    "publish",
]  # fmt: skip
# Actions that take no input: any body at all is a valid request for them, so they are
# checked for server errors but not for "nothing changed".
NO_INPUT = {"incidents:guidance-nudge", "incidents:duty-done", "incidents:transition", "logout"}
# A quarter of the profile's count per route: some 25 routes take a POST.
EXAMPLES = max(5, settings.default.max_examples // 4)
# Path parameters, by name: the world's own objects, ids of nothing, and ids past any column.
HUGE = [0, 2**31, 2**63, 10**30]
ID_OF = {
    "incident_id": ["incident", "recovering"],
    "duty_id": ["duty"],
    "question_id": ["question"],
    "draft_id": ["draft"],
    "notice_id": ["notice"],
}


def walk(resolvers, prefix="", namespace="", every_method=False):
    """(route with <converter:name> placeholders, URL name) for every pattern that takes a
    POST (or every pattern)."""
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's own admin, for staff only; not the console's forms
            yield from walk(
                entry.url_patterns,
                prefix + str(entry.pattern),
                f"{entry.namespace}:" if entry.namespace else namespace,
                every_method,
            )
        elif isinstance(entry, URLPattern) and (every_method or accepts_post(entry.callback)):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}"


def accepts_post(view) -> bool:
    """Whether the view takes a POST, read from its method decorators (require_POST,
    require_http_methods, require_GET ...) or its class; a view with neither takes any."""
    if hasattr(view, "view_class"):
        return "post" in view.view_class.http_method_names and hasattr(view.view_class, "post")
    while view is not None:
        for cell in view.__closure__ or ():
            methods = cell.cell_contents
            if (
                isinstance(methods, list | tuple)
                and methods
                and all(isinstance(m, str) and m.isupper() for m in methods)
            ):
                return "POST" in methods
        view = getattr(view, "__wrapped__", None)
    return True


def probe_post_routes(client, world, person) -> set[str]:
    """The names of the routes that answer a POST with anything but 405, tried for real.

    Signed in afresh before each try: a post to a sign-in page ends the session it came with,
    and a signed-out GET-only page answers with the sign-in redirect, not 405."""
    found = set()
    for route, name in walk(get_resolver().url_patterns, every_method=True):
        if name == "logout":
            found.add(name)  # takes POST; trying it would sign out
            continue
        client.force_login(person)
        probe = fill_route(route, {n: ids[0] for n, ids in ID_OF.items()}, world, "none")
        if client.post("/" + probe, HTTP_HX_REQUEST="true").status_code != 405:
            found.add(name)
    return found


def fill_route(route: str, chosen: dict, world, action: str) -> str:
    def value(match: re.Match) -> str:
        converter, name = match.group(1), match.group(2)
        if name in ID_OF:
            picked = chosen[name]
            return str(world.ids[picked] if isinstance(picked, str) else picked)
        if name == "action":
            return action
        if converter == "slug":
            return "riverbend"
        if converter == "int":
            return "1"  # an id of something posts never reach (a school's feed)
        return "csv"

    return re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


FIELD_NAMES = sorted(
    {name for form in FORMS for name in form.base_fields}
    | {"form", "school", "user", "remove", "template", "owner", "action", "text", "due_on",
       "for_guidance", "form-TOTAL_FORMS", "form-INITIAL_FORMS", "form-0-title",
       "staff__control", "username", "password", "junk"}
)  # fmt: skip
FORM_SWITCH = st.sampled_from(
    ["duties", "policy", "cadence", "template", "review", "action", "done"]
)


def body(values):
    """Any subset of the fields the console's forms read, plus unknown ones; each present
    field once or twice, so every route's own fields are usually in the body."""
    fields = st.fixed_dictionaries(
        {}, optional={name: st.lists(values, min_size=1, max_size=2) for name in FIELD_NAMES}
    )
    return st.one_of(fields, st.tuples(fields, FORM_SWITCH).map(lambda t: {**t[0], "form": t[1]}))


POISON = st.one_of(
    TEXT.map(lambda t: t[:50] + "\x00"),
    st.integers(10_001, 10_100).map(lambda n: "9" * n),
)


def unusable_body():
    """Every field any form reads, each with an unusable value, so no form can be valid
    however few of its fields it requires."""
    everything = st.fixed_dictionaries({name: POISON for name in FIELD_NAMES})
    return st.one_of(
        everything, st.tuples(everything, FORM_SWITCH).map(lambda t: {**t[0], "form": t[1]})
    )


@pytest.fixture
def everyone(riverbend):
    """The world, with every action done by one person who holds every role, leads every
    school and owns every incident: nothing they post is refused for want of a role."""
    person = UserFactory(
        username="riverbend-everyone",
        district=riverbend.district,
        roles=list(Role),
        schools=riverbend.schools,
    )
    setup = replace(
        riverbend, cio=person, comms=person, academics=person, legal=person,
        technical=riverbend.technical, board=person, principal=person,
    )  # fmt: skip
    return build_world(setup), person


def paths(routes, world):
    """A URL for one of ``routes``, with real, missing or out-of-range ids and any action."""
    route_names = st.sampled_from(routes)
    chosen = st.fixed_dictionaries(
        {n: st.one_of(st.sampled_from(keys), st.sampled_from(HUGE)) for n, keys in ID_OF.items()}
    )
    actions = st.one_of(
        st.sampled_from(DRAFT_STEPS + sorted(TRANSITIONS)),
        st.from_regex(r"[a-z_-]{1,12}", fullmatch=True),
    )
    return st.tuples(route_names, chosen, actions).map(
        lambda t: ("/" + fill_route(t[0][0], t[1], world, t[2]), t[0][1], t[2])
    )


def post(client, url, data, htmx):
    return client.post(url, data, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))


ROUTES = sorted(set(walk(get_resolver().url_patterns)))


def test_discovery_finds_every_post_action(client, everyone):
    """The routes read from the decorators are exactly those that take a POST when tried,
    and they include every form of the console."""
    world, person = everyone
    client.force_login(person)

    names = {name for _, name in ROUTES}

    assert names == probe_post_routes(client, world, person)
    assert {
        "login", "logout", "incidents:new", "incidents:settings", "incidents:assign-role",
        "incidents:duty-done", "incidents:guidance-edit", "incidents:guidance-nudge",
        "incidents:guidance-ack", "incidents:question-ask", "incidents:question-answer",
        "incidents:decisions", "incidents:review", "incidents:transition",
        "comms:cadence-change", "comms:facts", "comms:draft-new", "comms:drafters",
        "comms:draft", "comms:draft-check", "comms:draft-action", "comms:templates",
        "comms:notice-given",
    } <= names  # fmt: skip


@pytest.mark.parametrize(("route", "name"), ROUTES, ids=[name for _, name in ROUTES])
def test_garbage_posted_to_each_route(client, everyone, route, name):
    """Any body: never a server error, and a refusal changes nothing. An unusable body (every
    field NUL or far too long) changes nothing whatever the answer, except on the few actions
    that read no input at all."""
    world, person = everyone

    @settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
    @given(
        target=paths([(route, name)], world),
        case=st.one_of(
            body(TEXT).map(lambda data: (data, False)),
            unusable_body().map(lambda data: (data, name not in NO_INPUT)),
        ),
        htmx=st.booleans(),
    )
    def check(target, case, htmx):
        url, _, _ = target
        data, must_not_change = case
        client.force_login(person)  # again: the example before may have signed out
        before = saved_state()

        response = post(client, url, data, htmx)

        assert response.status_code < 500, f"{response.status_code} for {url} {data!r}"
        if must_not_change or response.status_code >= 400:
            assert saved_state() == before, (
                f"{url} answered {response.status_code} to {data!r} and changed saved rows"
            )

    check()
