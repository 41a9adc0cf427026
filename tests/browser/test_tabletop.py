"""A room plays a shipped scenario on the real server, served beyond loopback in demo mode:
the facilitator starts it, two roles on separate browsers (one reaching the server at a
second address) receive injects live, the facilitator pauses (nothing moves for the paused
wall time, on the page and in the database), resumes, jumps ahead and resets."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from comms.models import Deadline
from exercises.models import Exercise, Inject
from incidents.clock import Clock
from incidents.models import Role
from tests.browser.conftest import (
    _outside_the_event_loop,
    shared_database_url,
    start_console,
    stop_console,
)
from tests.conftest import DistrictSetup

pytestmark = pytest.mark.browser

# How long the facilitator keeps the clock paused before checking nothing moved.
PAUSE_MS = 3000


@pytest.fixture
def room_server(district):
    """The console served to the room: listening on every address, in demo mode."""
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "DEBUG": "true",
        "DEMO_MODE": "true",
        "HOST": "0.0.0.0",  # noqa: S104 (the room's laptops connect from the network)
    }
    for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL", "ALLOWED_HOSTS"):
        env.pop(name, None)
    process, base = start_console(env, subprocess.PIPE, host="0.0.0.0")  # noqa: S104
    yield base.rsplit(":", 1)[1]
    stop_console(process)


def _person(browser: Browser, host: str, port: str, user, role: str) -> Page:
    """A laptop in the room: its own browser context, signed in with the demo button."""
    tab = browser.new_context(base_url=f"http://{host}:{port}").new_page()
    tab.goto("/accounts/login/")
    tab.get_by_role("button", name=f"Sign in as {user.get_full_name()}, {Role(role).label}").click()
    expect(tab.get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    return tab


def _read(query):
    return _outside_the_event_loop(query)


def _pending(incident_id: int) -> dict[int, object]:
    return dict(
        Deadline.objects.filter(incident_id=incident_id, status="pending").values_list(
            "pk", "due_at"
        )
    )


def test_a_room_plays_a_scenario(browser: Browser, room_server: str, district: DistrictSetup):
    port = room_server
    facilitator = _person(browser, "127.0.0.1", port, district.facilitator, Role.FACILITATOR)
    # The communications lead's laptop reaches the server at another address.
    comms = _person(browser, "127.0.0.2", port, district.comms, Role.COMMUNICATIONS)
    academics = _person(browser, "127.0.0.1", port, district.academics, Role.ACADEMICS)
    for tab, path in ((comms, "/comms/"), (academics, "/incidents/academics/")):
        tab.goto(path)
        expect(tab.get_by_text("Live updates: on")).to_be_visible()
        tab.evaluate("window.notReloaded = true")

    facilitator.goto("/exercises/")
    facilitator.get_by_label("Exercise: ransomware, with student data possibly taken").check()
    facilitator.get_by_label("Clock speed (× real time)").fill("60")
    facilitator.get_by_role("button", name="Start the exercise").click()
    expect(facilitator.get_by_text("The exercise has started")).to_be_visible()

    # Inject 1, to everyone at 0:05 on the clock, arrives 5 s later on both pages, live.
    for tab in (comms, academics):
        expect(tab.get_by_text("Inject 1 from Help desk")).to_be_visible(timeout=15_000)
        assert tab.evaluate("window.notReloaded") is True

    play = _read(lambda: Exercise.objects.select_related("incident").get())
    incident_id = play.incident_id
    facilitator.get_by_role("button", name="Pause the clock").click()
    expect(facilitator.get_by_text("Paused", exact=True)).to_be_visible()
    expect(comms.get_by_text("Clock paused")).to_be_visible(timeout=10_000)
    shown = facilitator.locator(".exercise [role=timer]").inner_text()
    before = _read(lambda: _pending(incident_id))
    fired = _read(lambda: Inject.objects.filter(fired_at__isnull=False).count())
    paused_reading = _read(lambda: play.incident.__class__.objects.get(pk=incident_id).clock())

    # The point of the test is wall time passing while the clock stands still.
    facilitator.wait_for_timeout(PAUSE_MS)

    assert facilitator.locator(".exercise [role=timer]").inner_text() == shown
    incident = _read(lambda: play.incident.__class__.objects.get(pk=incident_id))
    assert incident.clock(timezone.now()).elapsed == paused_reading.elapsed
    assert _read(lambda: Inject.objects.filter(fired_at__isnull=False).count()) == fired
    assert _read(lambda: _pending(incident_id)) == before

    facilitator.get_by_role("button", name="Resume the clock").click()
    expect(facilitator.get_by_text("Running", exact=True)).to_be_visible()
    incident = _read(lambda: play.incident.__class__.objects.get(pk=incident_id))
    own = Clock.from_json(incident.clock_segments)
    pause = own.segments[-1].wall - own.segments[-2].wall
    assert pause >= timedelta(milliseconds=PAUSE_MS)
    after = _read(lambda: _pending(incident_id))
    moved = {pk: after[pk] - due for pk, due in before.items() if pk in after}
    assert moved and set(moved.values()) == {pause}

    # Jump to the reporter's call, inject 3, which goes to the communications lead.
    facilitator.get_by_role("button", name="Jump to inject 2").click()
    facilitator.get_by_role("button", name="Jump to inject 3").click()
    expect(comms.get_by_text("Inject 3 from Channel 7 newsroom")).to_be_visible(timeout=10_000)
    assert comms.evaluate("window.notReloaded") is True

    # Jumping to inject 4, at 1:00, passes the staff's first promised update unanswered:
    # the silence reaches the communications lead's page.
    facilitator.get_by_role("button", name="Jump to inject 4").click()
    expect(comms.locator("#silence-banner")).to_contain_text("silent to staff", timeout=10_000)

    facilitator.get_by_role("button", name="Reset to the beginning").click()
    expect(facilitator.get_by_text("Ready: the clock starts when you press Start")).to_be_visible()
    expect(facilitator.get_by_role("heading", name="Ended exercises")).to_be_visible()
    assert _read(lambda: Exercise.objects.filter(ended_at__isnull=True).count()) == 1

    # The report of the play that ended names the silence it committed, and nothing else.
    facilitator.get_by_role("link", name="After-action report").click()
    patterns = facilitator.locator(".pattern")
    expect(patterns).to_have_count(6)
    expect(patterns.filter(has_text="Happened")).to_have_count(1)
    expect(patterns.filter(has_text="Happened")).to_contain_text("Silence longer than the cadence")
    expect(patterns.filter(has_text="Did not happen")).to_have_count(5)
    for tab in (facilitator, comms, academics):
        tab.context.close()
