"""Oversized and malformed input: a clear refusal with the right status, and nothing saved.

Each text field of every form is posted one character longer than its column holds, by a
person allowed to post it; the form must come back with the field's error and every saved
row must be as it was. Files, too many fields and too large a body are refused before any
view runs. The Content-Security-Policy header is checked here too; the browser tests check
that pages obey it.
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents.models import Role
from tests.world import build_world, saved_state

pytestmark = pytest.mark.django_db

# (role, url, form data, field that is too long, its limit). A form's other fields are valid,
# so the only thing wrong is the length.
TOO_LONG = [
    (
        Role.CIO,
        "/incidents/new/",
        {"kind": "sis", "severity": "2", "scope": "all", "mode": "real"},
        "title",
        200,
    ),
    (
        Role.CIO,
        "/incidents/{incident}/decisions/",
        {"decided_by": "Board", "rationale": "Why", "visibility": "team"},
        "text",
        1000,
    ),
    (
        Role.CIO,
        "/incidents/{incident}/decisions/",
        {"text": "Close", "rationale": "Why", "visibility": "team"},
        "decided_by",
        200,
    ),
    (Role.PRINCIPAL, "/incidents/{incident}/questions/", {"school": "{school}"}, "text", 2000),
    (Role.ACADEMICS, "/incidents/questions/{question}/answer/", {}, "answer", 4000),
    (Role.ACADEMICS, "/incidents/{incident}/guidance/edit/", {}, "today", 4000),
    (Role.ACADEMICS, "/incidents/{incident}/guidance/edit/", {"today": "Teach."}, "ask", 500),
    (Role.CIO, "/incidents/{recovering}/review/", {}, "what_happened", 8000),
    (
        Role.CIO,
        "/incidents/{recovering}/review/",
        {"form": "action", "owner": "{user}"},
        "text",
        500,
    ),
    (
        Role.CIO,
        "/incidents/settings/",
        {
            "form": "duties",
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "0",
            "form-0-due_minutes": "60",
            "form-0-trigger": "manual",
        },
        "form-0-title",
        200,
    ),
    (Role.CIO, "/incidents/settings/", {"form": "policy"}, "sms_staff", 2000),
    (
        Role.COMMUNICATIONS,
        "/comms/incidents/{incident}/facts/",
        {"expected_number": "0"},
        "known",
        4000,
    ),
    (
        Role.COMMUNICATIONS,
        "/comms/incidents/{incident}/facts/",
        {"expected_number": "0"},
        "next_update",
        300,
    ),
    (Role.COMMUNICATIONS, "/comms/drafts/{draft}/", {"expected_revision": "1"}, "body", 10000),
    (Role.COMMUNICATIONS, "/comms/drafts/{draft}/withdraw/", {}, "note", 500),
    (
        Role.COMMUNICATIONS,
        "/comms/drafts/{draft}/acknowledge/",
        {"code": "jargon", "expected_revision": "1"},
        "note",
        500,
    ),
    (
        Role.COMMUNICATIONS,
        "/comms/drafts/{draft}/publish/",
        {"expected_revision": "1", "next_update_in": "30"},
        "override_reason",
        500,
    ),
    (
        Role.COMMUNICATIONS,
        "/comms/templates/",
        {"form": "template", "kind": "any", "audience": "staff"},
        "body",
        5000,
    ),
    (Role.LEGAL, "/comms/notices/{notice}/given/", {}, "note", 500),
]

# htmx forms on the incident page: their refusal is the panel, with 422.
TOO_LONG_HTMX = [
    (
        Role.CIO,
        "/comms/incidents/{incident}/cadence/",
        {"audience": "staff", "interval": "30"},
        "reason",
        500,
    ),
]


def fill(template: str, ids: dict[str, int]) -> str:
    return template.format(**ids)


@pytest.fixture
def world(riverbend):
    return build_world(riverbend)


@pytest.mark.parametrize(
    ("role", "url", "data", "field", "limit"),
    TOO_LONG,
    ids=[f"{case[1]}:{case[3]}" for case in TOO_LONG],
)
def test_a_field_one_character_too_long_is_refused_and_nothing_saved(
    client, world, role, url, data, field, limit
):
    client.force_login(world.setup.by_role(role))
    before = saved_state()
    posted = {name: fill(value, world.ids) for name, value in data.items()}
    posted[field] = "x" * (limit + 1)

    response = client.post(fill(url, world.ids), posted)

    assert response.status_code == 422
    assert f"at most {limit:,} characters".replace(",", "") in response.content.decode().replace(
        ",", ""
    )
    assert saved_state() == before


@pytest.mark.parametrize(("role", "url", "data", "field", "limit"), TOO_LONG_HTMX)
def test_a_too_long_field_in_an_htmx_form_returns_the_panel_with_422(
    client, world, role, url, data, field, limit
):
    client.force_login(world.setup.by_role(role))
    before = saved_state()

    response = client.post(
        fill(url, world.ids), {**data, field: "x" * (limit + 1)}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "at most 500 characters" in response.content.decode()
    assert saved_state() == before


def test_a_nul_byte_in_text_is_refused_with_a_clear_error(client, world):
    client.force_login(world.setup.cio)
    before = saved_state()

    response = client.post(
        fill("/incidents/{incident}/decisions/", world.ids),
        {
            "text": "Close\x00 schools",
            "decided_by": "Board",
            "rationale": "Why",
            "visibility": "team",
        },
    )

    assert response.status_code == 422
    assert "Null characters are not allowed." in response.content.decode()
    assert saved_state() == before


@pytest.mark.parametrize("debug", [True, False])
def test_a_file_upload_is_refused_with_400(client, world, settings, debug):
    settings.DEBUG = debug
    client.force_login(world.setup.comms)
    before = saved_state()

    response = client.post(
        fill("/comms/incidents/{incident}/facts/", world.ids),
        {
            "known": "Phones are down",
            "expected_number": "0",
            "attachment": SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain"),
        },
    )

    assert response.status_code == 400
    if not debug:
        assert "The console accepts no file uploads." in response.content.decode()
    assert saved_state() == before


def test_multipart_form_without_files_is_still_accepted(client, world):
    """Only files are refused: a browser may send an ordinary form as multipart."""
    client.force_login(world.setup.comms)

    response = client.post(
        fill("/comms/incidents/{incident}/facts/", world.ids),
        {"known": "Phones are down", "expected_number": "0"},  # the test client's multipart
    )

    assert response.status_code == 302


def test_too_many_fields_are_refused_with_400(client, world, settings):
    settings.DEBUG = False
    client.force_login(world.setup.comms)
    before = saved_state()
    data = {f"f{i}": "x" for i in range(401)}

    response = client.post(
        fill("/comms/incidents/{incident}/facts/", world.ids),
        "&".join(f"{k}={v}" for k, v in data.items()),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert "far more fields" in response.content.decode()
    assert saved_state() == before


def test_a_body_over_one_megabyte_is_refused_with_400(client, world, settings):
    settings.DEBUG = False
    client.force_login(world.setup.comms)
    before = saved_state()

    response = client.post(
        fill("/comms/drafts/{draft}/", world.ids),
        "expected_revision=1&body=" + "x" * (1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert "more than the console accepts" in response.content.decode()
    assert saved_state() == before


def test_every_page_carries_the_strict_policy(client, world):
    client.force_login(world.setup.cio)

    response = client.get(fill("/incidents/{incident}/", world.ids))

    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2]
        for part in response["Content-Security-Policy"].split(";")
    )
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["connect-src"] == "'self' ws://testserver"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert directives["form-action"] == (
        "'self' https://accounts.google.com https://login.microsoftonline.com"
    )
    assert "unsafe" not in response["Content-Security-Policy"]


def test_a_secure_request_names_the_wss_origin(client, world):
    client.force_login(world.setup.cio)

    response = client.get("/incidents/", secure=True)

    assert "connect-src 'self' wss://testserver;" in response["Content-Security-Policy"] + ";"


def test_the_public_status_page_carries_the_policy(client, world):
    response = client.get("/status/riverbend/")

    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "school", ["10000000000000000000", "-10000000000000000000", "0", "x", "9" * 5000]
)
def test_an_id_out_of_range_in_a_choice_of_several_is_a_form_error(client, world, school):
    client.force_login(world.setup.cio)
    before = saved_state()

    response = client.post(
        "/incidents/new/",
        {"title": "SIS down", "kind": "sis", "severity": "2", "scope": "some", "mode": "real",
         "schools": [str(world.ids["school"]), school]},
    )  # fmt: skip

    assert response.status_code == 422
    assert "is not a valid value" in response.content.decode() or "Select a valid choice" in (
        response.content.decode()
    )
    assert saved_state() == before
