"""Checks of a translation against its English, and machine drafts that a person must check
before they are approved."""

from __future__ import annotations

import importlib.util

import pytest
from django.urls import reverse

from comms import machine, translations
from comms.models import CommsPolicy, TranslationRevision
from incidents import services as incident_services
from incidents.errors import Invalid
from tests.comms.publishing import written

SOURCE = "The portal is back at 3:00 PM on Monday, December 7. Next update by 5 PM."


def test_a_time_that_differs_from_the_english_is_named():
    checks = translations.checks_for(
        SOURCE,
        "El portal vuelve a las 4:00 PM del lunes 7 de diciembre. Próxima a las 5 PM.",
        "es",
        "web",
    )

    (differs,) = [c for c in checks if c.code == "numbers_differ"]
    assert differs.reason.startswith("The English has 3:00, the translation does not")
    assert "the translation has 4:00" in differs.reason


def test_matching_numbers_raise_nothing_but_the_note_of_what_is_not_checked():
    checks = translations.checks_for(
        SOURCE,
        "El portal vuelve a las 3:00 PM del lunes 7 de diciembre. Próxima a las 5 PM.",
        "es",
        "web",
    )

    assert [c.code for c in checks] == ["not_covered"]
    assert "speculation" in checks[0].reason


def test_vietnamese_texts_count_unicode_parts_and_say_reading_level_is_not_measured():
    text = "Cổng thông tin sẽ hoạt động trở lại lúc 3:00 PM thứ Hai, ngày 7 tháng 12. " * 2
    checks = {c.code: c for c in translations.checks_for(SOURCE, text + " 5", "vi", "sms")}

    assert "UCS-2" in checks["sms_segments"].reason
    assert "reading level" in checks["not_covered"].reason


def test_hard_spanish_is_flagged_with_its_reading_ease():
    hard = (
        "La administración distrital, considerando exhaustivamente las circunstancias "
        "extraordinariamente complejas relacionadas con la infraestructura tecnológica "
        "institucional, determinó provisionalmente suspender indefinidamente la "
        "disponibilidad electrónica correspondiente de las calificaciones académicas "
        "trimestrales, comunicándolo oportunamente a las familias interesadas."
    )

    codes = [c.code for c in translations.checks_for(hard, hard, "es", "web")]

    assert "reading_grade" in codes


@pytest.fixture
def translation(riverbend):
    CommsPolicy.objects.update_or_create(
        district=riverbend.district, defaults={"languages": ["es"]}
    )
    incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    draft = written(incident, riverbend.comms, "Report cards are delayed.")
    return translations.translation_request(
        draft=draft, by=riverbend.comms, language="es", translator=riverbend.translator
    )


def test_without_a_provider_no_machine_draft_is_offered(client, riverbend, translation):
    client.force_login(riverbend.translator)

    page = client.get(reverse("comms:translation", args=[translation.pk]))
    asked = client.post(
        reverse("comms:translation-machine", args=[translation.pk]), {"expected_revision": "0"}
    )

    assert b"Start from a machine draft" not in page.content
    assert asked.status_code == 302
    assert not TranslationRevision.objects.exists()


def test_a_machine_draft_is_marked_and_needs_a_readers_check(
    client, riverbend, translation, settings
):
    settings.TRANSLATION_PROVIDER = "comms.machine.RecordingTranslation"
    machine.RecordingTranslation.calls.clear()
    client.force_login(riverbend.translator)

    client.post(
        reverse("comms:translation-machine", args=[translation.pk]), {"expected_revision": "0"}
    )

    (call,) = machine.RecordingTranslation.calls
    assert (call["source"], call["target"]) == ("en", "es")
    revision = TranslationRevision.objects.get()
    assert revision.machine and revision.body.startswith("[es] Report cards are delayed.")
    page = client.get(reverse("comms:translation", args=[translation.pk]))
    assert b"Machine draft, needs review." in page.content
    with pytest.raises(Invalid, match="machine draft"):
        translations.translation_approve(
            translation=translation, by=riverbend.comms, expected_revision=1
        )
    edited = client.post(
        reverse("comms:translation", args=[translation.pk]),
        {"body": "Las boletas se retrasan.", "expected_revision": "1"},
    )
    assert edited.status_code == 302
    translations.translation_approve(
        translation=translation, by=riverbend.comms, expected_revision=2
    )


@pytest.mark.skipif(
    importlib.util.find_spec("argostranslate") is None,
    reason="Argos Translate is not installed (pip install argostranslate, then install an "
    "English-Spanish model with argospm); the offline provider is tested where it is",
)
def test_the_offline_provider_translates_with_an_installed_model():  # pragma: no cover
    try:
        text = machine.ArgosTranslation().translate("Schools are open.", source="en", target="es")
    except machine.Unavailable as missing:
        pytest.skip(f"no English-Spanish Argos model is installed: {missing}")
    assert text and text != "Schools are open."


def test_the_offline_provider_says_what_is_missing():
    if importlib.util.find_spec("argostranslate") is not None:
        pytest.skip("Argos Translate is installed here; the test above covers it")
    with pytest.raises(machine.Unavailable, match="pip install argostranslate"):
        machine.ArgosTranslation().translate("Hi.", source="en", target="es")
