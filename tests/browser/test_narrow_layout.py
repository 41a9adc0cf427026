"""What squeezed at 320 px: words split inside a narrow column, a date column squeezed to a
few letters, and buttons touching what follows them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from comms import drafts
from tests.browser.conftest import _outside_the_event_loop
from tests.conftest import DistrictSetup

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}


def published(district: DistrictSetup, incident):
    draft = _outside_the_event_loop(
        drafts.draft_create, incident=incident, by=district.comms, audience="staff", channel="email"
    )
    for step in (drafts.draft_submit, drafts.draft_approve):
        draft = _outside_the_event_loop(step, draft=draft, by=district.comms, expected_revision=1)
    _outside_the_event_loop(
        drafts.draft_publish,
        draft=draft,
        by=district.comms,
        expected_revision=1,
        promised_next_at=timezone.now() + timedelta(minutes=30),
    )
    return draft


def lines_of(page: Page, selector: str, word: str) -> int:
    """On how many lines ``word`` is drawn inside the first ``selector``."""
    return page.evaluate(
        """([selector, word]) => {
          const root = document.querySelector(selector);
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const at = node.textContent.indexOf(word);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(node, at);
            range.setEnd(node, at + word.length);
            return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
          }
          return 0;
        }""",
        [selector, word],
    )


def gap_below(page: Page, name: str) -> float:
    """Pixels between the bottom of the button or link named ``name`` and the next thing."""
    return page.evaluate(
        """(name) => {
          const all = [...document.querySelectorAll("a.button, button")];
          const button = all.find((b) => b.textContent.trim() === name);
          const bottom = button.getBoundingClientRect().bottom;
          const below = [...document.querySelectorAll("main *, footer *")]
            .filter((e) => !e.contains(button) && !button.contains(e))
            .map((e) => e.getBoundingClientRect())
            .filter((r) => r.height > 0 && r.top >= bottom - 1);
          return Math.min(...below.map((r) => r.top)) - bottom;
        }""",
        name,
    )


def test_short_words_and_dates_stay_whole_at_320_px(
    page: Page, sign_in, district: DistrictSetup, open_incident
) -> None:
    draft = published(district, open_incident)
    sign_in(district.legal)
    page.set_viewport_size(PHONE)

    page.goto(f"/comms/drafts/{draft.pk}/")
    assert lines_of(page, ".revisions summary", "approved") == 1
    page.goto("/comms/legal/")
    width = page.evaluate("document.querySelector('.disclosures summary time').offsetWidth")
    assert width > 100, f"the disclosure date is squeezed to {width} px"


@pytest.mark.parametrize(
    ("person", "path", "button"),
    [
        ("comms", "/comms/", "Message templates"),
        ("board", "/incidents/briefing/", "Print this briefing"),
    ],
)
def test_buttons_keep_their_distance_at_320_px(
    page: Page, sign_in, district: DistrictSetup, open_incident, person, path, button
) -> None:
    sign_in(getattr(district, person))
    page.set_viewport_size(PHONE)
    page.goto(path)

    assert gap_below(page, button) >= 8


def test_the_sign_in_button_keeps_its_distance(page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")

    assert gap_below(page, "Continue to your district's sign-in") >= 8
