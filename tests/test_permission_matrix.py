"""Every page and action against every role and a user of another district.

Each row names a URL and the roles that may use it; every other role must be refused with
403, and another district's CIO with 403 or 404 (404 where the object's existence would
otherwise be disclosed). An allowed role may still get 422 for the empty form posted here:
what matters is that the permission boundary holds.
"""

from __future__ import annotations

import pytest

from comms import drafts, workflow
from incidents import guidance
from incidents import services as incident_services
from incidents.models import Role

C, M, A, L, T, B, P, TR = (
    Role.CIO,
    Role.COMMUNICATIONS,
    Role.ACADEMICS,
    Role.LEGAL,
    Role.TECHNICAL,
    Role.BOARD_LIAISON,
    Role.PRINCIPAL,
    Role.TRANSLATOR,
)
TEAM = {C, M, A, L, T}
EVERYONE = set(Role)

# (method, url template, roles allowed)
MATRIX = [
    ("get", "/incidents/", TEAM),
    ("get", "/incidents/new/", {C}),
    ("post", "/incidents/new/", {C}),
    ("get", "/incidents/settings/", {C}),
    ("get", "/incidents/academics/", {A, C}),
    ("get", "/incidents/guidance/", {P}),
    ("get", "/incidents/briefing/", {B, C}),
    ("get", "/incidents/{incident}/", TEAM),
    ("post", "/incidents/{incident}/roles/", {C}),
    ("post", "/incidents/{incident}/duties/{duty}/done/", {C}),
    ("post", "/incidents/{incident}/status/restored/", {C}),
    ("post", "/incidents/{incident}/decisions/", {C}),
    ("get", "/incidents/{incident}/guidance/edit/", {A}),
    ("post", "/incidents/{incident}/guidance/edit/", {A}),
    ("post", "/incidents/{incident}/guidance/nudge/", {A}),
    ("post", "/incidents/{incident}/guidance/acknowledge/", {P}),
    ("post", "/incidents/{incident}/questions/", {P}),
    ("post", "/incidents/questions/{question}/answer/", {A}),
    ("get", "/incidents/{incident}/review/", TEAM),
    ("get", "/comms/", {M, C}),
    ("get", "/comms/legal/", {L, C}),
    ("get", "/comms/inbox/", EVERYONE),
    ("get", "/comms/templates/", {C, M, L}),
    ("post", "/comms/incidents/{incident}/cadence/", {C, M}),
    ("get", "/comms/incidents/{incident}/facts/", TEAM),
    ("post", "/comms/incidents/{incident}/facts/", {C, M}),
    ("post", "/comms/incidents/{incident}/drafts/new/", {C, M}),
    ("post", "/comms/incidents/{incident}/heading/new/", {C, M}),
    ("post", "/comms/incidents/{incident}/drafters/", {M}),
    ("get", "/comms/drafts/{draft}/", {C, M, L}),
    ("post", "/comms/drafts/{draft}/check/", {C, M, L}),
    ("get", "/comms/translations/", {M, TR}),
    ("post", "/comms/drafts/{draft}/translations/", {M}),
]

# The draft workflow's steps, read from its one table: a step is open to the roles that take
# it in some state (in another state they get 409, never 403). The incident's owner is the
# CIO here, so the writers are the CIO and the communications lead.
WHO_IS = {workflow.WRITER: {C, M}, workflow.LEGAL: {L}, workflow.LEAD: {M}}
MATRIX += [
    (
        "post",
        "/comms/drafts/{draft}/" if step == "edit" else f"/comms/drafts/{{draft}}/{step}/",
        set().union(*(WHO_IS[who] for who in rows.values())),
    )
    for step, rows in workflow.STEPS.items()
]

# Actions that load the object first and then ask the service: a wrong role that may read
# the page is refused by the service (403) only when the form is valid, so they post one.
VALID_POSTS = {
    "/incidents/{incident}/roles/": lambda s: {"function": "legal", "user": s.legal.pk},
    "/incidents/{incident}/duties/{duty}/done/": lambda s: {},
    "/incidents/{incident}/status/restored/": lambda s: {},
    "/incidents/{incident}/decisions/": lambda s: {
        "text": "x",
        "decided_by": "y",
        "rationale": "z",
        "visibility": "team",
    },
    "/incidents/{incident}/guidance/edit/": lambda s: {"today": "Teach as planned."},
    "/incidents/{incident}/guidance/nudge/": lambda s: {},
    "/incidents/{incident}/guidance/acknowledge/": lambda s: {"school": s.schools[0].pk},
    "/incidents/{incident}/questions/": lambda s: {"school": s.schools[0].pk, "text": "Why?"},
    "/incidents/questions/{question}/answer/": lambda s: {"answer": "Because."},
    "/comms/incidents/{incident}/cadence/": lambda s: {
        "audience": "staff",
        "interval": "30",
        "reason": "test",
    },
    "/comms/incidents/{incident}/facts/": lambda s: {"known": "x", "expected_number": "0"},
    "/comms/incidents/{incident}/drafts/new/": lambda s: {"audience": "staff", "channel": "email"},
    "/comms/incidents/{incident}/drafters/": lambda s: {"user": s.technical.pk},
    "/comms/incidents/{incident}/heading/new/": lambda s: {"purpose": "heading"},
    "/comms/drafts/{draft}/": lambda s: {"body": "New words.", "expected_revision": "1"},
    **{
        f"/comms/drafts/{{draft}}/{step}/": lambda s: {"expected_revision": "1"}
        for step in ("flag", "unflag", "submit", "clear", "approve")
    },
    "/comms/drafts/{draft}/publish/": lambda s: {"expected_revision": "1", "next_update_in": "30"},
    "/comms/drafts/{draft}/return/": lambda s: {"expected_revision": "1", "note": "Shorter."},
    "/comms/drafts/{draft}/withdraw/": lambda s: {"expected_revision": "1", "note": "Superseded."},
    "/comms/drafts/{draft}/correct/": lambda s: {"note": "Wrong day."},
    "/comms/drafts/{draft}/acknowledge/": lambda s: {
        "expected_revision": "1",
        "code": "no_next_update",
        "note": "Said in person.",
    },
}


@pytest.fixture
def world(riverbend):
    incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    guidance.guidance_publish(incident=incident, by=riverbend.academics, today="Teach.")
    question = guidance.question_ask(
        incident=incident, school=riverbend.schools[0], by=riverbend.principal, text="Q?"
    )
    draft = drafts.draft_create(
        incident=incident, by=riverbend.comms, audience="staff", channel="email"
    )
    ids = {
        "incident": incident.pk,
        "duty": incident.duties.first().pk,
        "question": question.pk,
        "draft": draft.pk,
    }
    return riverbend, ids


CASES = [
    pytest.param(method, url, allowed, role, id=f"{method} {url} as {role}")
    for method, url, allowed in MATRIX
    for role in [*Role.values, "other_district"]
]


@pytest.mark.parametrize(("method", "url", "allowed", "who"), CASES)
def test_permission_matrix(client, world, lakeshore, method, url, allowed, who):
    setup, ids = world
    user = lakeshore.cio if who == "other_district" else setup.by_role(who)
    client.force_login(user)
    data = VALID_POSTS.get(url, lambda s: {})(setup) if method == "post" else None

    response = getattr(client, method)(url.format(**ids), data)

    if who != "other_district" and who in allowed:
        assert response.status_code not in (403, 404), response.content[:300]
    elif who == "other_district" and "{" not in url:
        # District-wide pages show the other district its own data, never this one's.
        assert response.status_code in (200, 302, 403, 422)
        assert b"SIS down" not in response.content
    else:
        assert response.status_code in ((403, 404) if who == "other_district" else (403,))


# --- Sign-in pages -------------------------------------------------------------------------
# Open to anyone, signed in or not: what a page answers does not depend on the role. allauth's
# account-management pages are not mounted (404): people are added and removed by their
# district, passwords exist only for break-glass accounts (manage.py break_glass), and
# authenticators are issued by that command, not managed by the person.
# (method, url, status for an anonymous visitor, status for any signed-in role)
SIGN_IN_MATRIX = [
    ("get", "/accounts/login/", 200, 302),  # signed in: on to the person's page
    ("post", "/accounts/login/", 422, 302),  # empty form; signed in: on to the person's page
    ("get", "/accounts/logout/", 302, 200),  # signed in: asks before signing out
    ("post", "/accounts/logout/", 302, 302),
    ("get", "/accounts/login/code/", 302, 302),  # only after a password, else back to sign-in
    ("post", "/accounts/login/code/", 302, 302),
    ("get", "/accounts/login/district/", 405, 405),  # the provider start is a form post
    ("post", "/accounts/login/district/", 422, 422),  # empty form
    ("get", "/accounts/google/login/callback/", 400, 400),  # not started in this browser
    ("get", "/accounts/microsoft/login/callback/", 400, 400),
    ("get", "/accounts/inactive/", 200, 200),
    ("get", "/accounts/provider/cancelled/", 200, 200),
    ("get", "/accounts/provider/error/", 401, 401),
    ("get", "/admin/login/", 302, 403),  # the console's sign-in; the admin is for staff only
    # Not offered: 404 for everyone.
    ("get", "/accounts/signup/", 404, 404),
    ("post", "/accounts/signup/", 404, 404),
    ("get", "/accounts/social/signup/", 404, 404),
    ("get", "/accounts/password/reset/", 404, 404),
    ("get", "/accounts/password/change/", 404, 404),
    ("get", "/accounts/password/set/", 404, 404),
    ("get", "/accounts/email/", 404, 404),
    ("get", "/accounts/2fa/", 404, 404),
    ("get", "/accounts/2fa/totp/activate/", 404, 404),
    ("get", "/accounts/2fa/totp/deactivate/", 404, 404),
    ("get", "/accounts/3rdparty/", 404, 404),
    ("get", "/accounts/google/login/", 404, 404),  # started only by the district form
    ("get", "/accounts/microsoft/login/", 404, 404),
]

SIGN_IN_CASES = [
    pytest.param(method, url, anonymous, signed_in, who, id=f"{method} {url} as {who}")
    for method, url, anonymous, signed_in in SIGN_IN_MATRIX
    for who in ["anonymous", *Role.values, "other_district"]
]


@pytest.mark.parametrize(("method", "url", "anonymous", "signed_in", "who"), SIGN_IN_CASES)
def test_sign_in_matrix(client, riverbend, lakeshore, method, url, anonymous, signed_in, who):
    if who != "anonymous":
        client.force_login(lakeshore.cio if who == "other_district" else riverbend.by_role(who))

    response = getattr(client, method)(url)

    assert response.status_code == (anonymous if who == "anonymous" else signed_in)
