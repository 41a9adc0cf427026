"""A families update in English, Spanish and Arabic, in chromium: the communications lead
writes it and sends it to the translator; the translator, in a browser of their own, writes
the Spanish; the lead changes the English, and the Spanish is shown out of date and refused at
publish; the translator revises; the lead approves the pairs and publishes. A Spanish
subscriber receives Spanish, an English one English; the status page in Spanish passes axe,
and the Arabic text runs right to left."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from comms.models import CommsPolicy, Draft, Subscriber
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import (
    _outside_the_event_loop,
    give_authenticator,
    sign_in_with_password_and_code,
)
from tests.conftest import DistrictSetup

pytestmark = pytest.mark.browser

NEXT = " We will update you again within the hour."
SPANISH = (
    "Las boletas de calificaciones se retrasan hasta el lunes."
    + " Le daremos otra noticia dentro de una hora."
)
ARABIC = "تأخرت بطاقات التقارير حتى يوم الاثنين. سنرسل تحديثا آخر خلال ساعة."


def prepare(district: DistrictSetup) -> None:
    CommsPolicy.objects.update_or_create(
        district=district.district, defaults={"languages": ["es", "ar"]}
    )
    for address, language in (("es@example.org", "es"), ("en@example.org", "en")):
        Subscriber.objects.create(
            district=district.district,
            channel="email",
            address=address,
            language=language,
            confirmed_at=timezone.now(),
        )


def translate(page: Page, name: str, text: str, revision: int) -> None:
    page.goto("/comms/translations/")
    page.get_by_role("link", name=re.compile(f"^{name}: Families update")).click()
    page.get_by_label(f"{name} text").fill(text)
    page.get_by_role("button", name=f"Save as revision {revision}").click()
    expect(page.get_by_text("Translation saved.")).to_be_visible()


def test_a_families_update_goes_out_in_every_language_once_each_is_approved(
    page: Page, browser: Browser, live_server, sign_in, district: DistrictSetup, open_incident
) -> None:
    _outside_the_event_loop(prepare, district=district)

    # The lead starts the families update on the web and writes it.
    sign_in(district.comms)
    page.goto(f"/incidents/{open_incident.pk}/")
    messages_panel = page.get_by_role("region", name="Messages")
    messages_panel.get_by_label("Audience").select_option(label="Families")
    messages_panel.get_by_label("Channel").select_option(label="Web and status page")
    page.get_by_role("button", name="Start a draft").click()
    page.get_by_label("Message", exact=True).fill("Report cards are delayed until Monday." + NEXT)
    page.get_by_role("button", name="Save as revision 2").click()
    draft = Draft.objects.get(audience="families")
    languages = page.locator("#translations")
    expect(languages.locator("[data-language='es']")).to_contain_text("Not sent for translation")
    assert_no_axe_violations(page, "the draft with its translations")
    page.get_by_label("Translator for Spanish").select_option(label=str(district.translator))
    languages.locator("[data-language='es']").get_by_role("button").click()
    page.get_by_label("Translator for Arabic").select_option(label=str(district.translator))
    languages.locator("[data-language='ar']").get_by_role("button").click()
    expect(languages.locator("[data-language='es']")).to_contain_text("Waiting for the translator")

    # The translator, in a browser of their own, sees only what was sent to them.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    translator = context.new_page()
    _outside_the_event_loop(give_authenticator, user=district.translator)
    sign_in_with_password_and_code(translator, district.translator)
    expect(translator.get_by_role("heading", level=1)).to_have_text("Translations")
    assert_no_axe_violations(translator, "the translator's list")
    translate(translator, "Spanish", SPANISH, 1)
    assert_no_axe_violations(translator, "the translation page")
    translate(translator, "Arabic", ARABIC, 1)
    assert translator.goto(f"/incidents/{open_incident.pk}/").status == 403

    # The lead changes the English: the Spanish is out of date.
    page.goto(f"/comms/drafts/{draft.pk}/")
    expect(languages.locator("[data-language='es']")).to_contain_text("Ready for approval")
    page.get_by_label("Message", exact=True).fill("Report cards are delayed until Tuesday." + NEXT)
    page.get_by_role("button", name="Save as revision 3").click()
    expect(languages.locator("[data-language='es']")).to_contain_text("Out of date")
    page.get_by_role("button", name=re.compile("^Send revision 3 for")).click()
    page.get_by_role("button", name="Approve revision 3").click()
    page.get_by_label("Reason to publish before staff have heard").fill("Staff were told at 8 am.")
    page.get_by_label("Next update promised in (minutes)").fill("60")
    page.get_by_role("button", name="Publish revision 3").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Not approved for this revision: Spanish, Arabic"
    )

    # The translator sees what changed and revises both.
    translator.goto("/comms/translations/")
    translator.get_by_role("link", name=re.compile("^Spanish: Families update")).click()
    expect(translator.get_by_role("heading", name="What changed in the English")).to_be_visible()
    expect(translator.locator("ins")).to_contain_text("Tuesday.")
    context_spanish = SPANISH.replace("lunes", "martes")
    translate(translator, "Spanish", context_spanish, 2)
    translate(translator, "Arabic", ARABIC.replace("الاثنين", "الثلاثاء"), 2)
    context.close()

    # The lead approves each pair and publishes all three at once.
    page.goto(f"/comms/drafts/{draft.pk}/")
    page.get_by_role("button", name="Approve Spanish revision 2").click()
    page.get_by_role("button", name="Approve Arabic revision 2").click()
    expect(languages.locator("[data-language='ar']")).to_contain_text("Approved")
    page.get_by_label("Reason to publish before staff have heard").fill("Staff were told at 8 am.")
    page.get_by_label("Next update promised in (minutes)").fill("60")
    page.get_by_role("button", name="Publish revision 3").click()
    expect(page.locator(".badge--draft-published")).to_have_text("Published")

    received = {m.to[0]: m.body for m in mail.outbox if m.to[0].endswith("@example.org")}
    assert received["es@example.org"].startswith(context_spanish)
    assert received["en@example.org"].startswith("Report cards are delayed until Tuesday.")

    # The status page in Spanish, and the Arabic text right to left.
    page.context.clear_cookies()
    page.goto(f"/status/{district.district.slug}/?lang=es")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Estado de los servicios")
    expect(page.locator(".message-text[lang='es']").first).to_contain_text("martes")
    assert_no_axe_violations(page, "the status page in Spanish")
    page.get_by_role("navigation", name="Idioma").get_by_role("link", name="العربية").click()
    arabic = page.locator(".message-text[lang='ar']").first
    expect(arabic).to_have_attribute("dir", "rtl")
    assert arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert_no_axe_violations(page, "the status page with Arabic text")
