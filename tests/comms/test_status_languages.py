"""The public status pages in the reader's language: chosen, remembered or negotiated, each
text marked with its language and direction, English with a note where no translation was
approved; subscribers receive their language."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comms import translations
from comms.models import CommsPolicy, Subscriber
from incidents import services as incident_services
from tests.comms.publishing import NEXT, published, written

SPANISH = "Las boletas de calificaciones se retrasan hasta el lunes."
ARABIC = "تأخرت بطاقات التقارير حتى يوم الاثنين."

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def district(riverbend):
    CommsPolicy.objects.update_or_create(
        district=riverbend.district, defaults={"languages": ["es", "ar", "vi"]}
    )
    riverbend.incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    return riverbend


def translated(district, draft, language, body):
    translation = translations.translation_request(
        draft=draft, by=district.comms, language=language, translator=district.translator
    )
    translations.translation_write(
        translation=translation, by=district.translator, body=body, expected_revision=0
    )
    translations.translation_approve(
        translation=translation, by=district.comms, expected_revision=1
    )


@pytest.fixture
def update(district):
    draft = written(district.incident, district.comms, "Report cards are delayed until Monday.")
    translated(district, draft, "es", SPANISH)
    translated(district, draft, "ar", ARABIC)
    # Vietnamese is not ready: published without it, with the reason.
    from comms import drafts
    from tests.comms.publishing import approved

    draft = approved(draft, district.comms)
    from datetime import timedelta

    return drafts.draft_publish(
        draft=draft,
        by=district.comms,
        expected_revision=draft.revision,
        promised_next_at=timezone.now() + timedelta(minutes=30),
        override_reason="Staff heard at the meeting.",
        missing_languages_reason="The Vietnamese translator starts at nine.",
    )


def status(district) -> str:
    return reverse("status-page", args=[district.district.slug])


def test_the_page_in_spanish_has_spanish_words_and_the_approved_text(client, district, update):
    page = client.get(status(district) + "?lang=es").content.decode()

    assert '<html lang="es" dir="ltr">' in page
    assert "Estado de los servicios" in page
    assert f'lang="es" dir="ltr"><p>{SPANISH}' in page
    assert "Report cards are delayed" not in page


def test_arabic_text_is_marked_right_to_left_in_an_english_page(client, district, update):
    page = client.get(status(district) + "?lang=ar").content.decode()

    assert '<html lang="en" dir="ltr">' in page, "the console's own words have no Arabic yet"
    assert f'lang="ar" dir="rtl"><p>{ARABIC}' in page


def test_a_language_without_a_translation_falls_back_to_english_with_a_note(
    client, district, update
):
    page = client.get(status(district) + "?lang=vi").content.decode()

    assert "A translation of this update is coming" in page
    assert 'lang="en" dir="ltr"><p>Report cards are delayed until Monday.' in page


def test_the_browser_language_is_negotiated_and_the_answer_varies_by_it(client, district, update):
    spanish = client.get(status(district), HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    english = client.get(status(district), HTTP_ACCEPT_LANGUAGE="fr-FR,en;q=0.5")

    assert SPANISH in spanish.content.decode()
    assert spanish["Content-Language"] == "es"
    assert "Accept-Language" in spanish["Vary"] and "Cookie" in spanish["Vary"]
    assert "Report cards are delayed" in english.content.decode()
    assert "public" in spanish["Cache-Control"]


def test_the_choice_is_remembered_and_the_switcher_goes_back_to_the_page(district, update):
    family = Client()
    switch = reverse("status-language", args=[district.district.slug])

    chosen = family.get(switch, {"lang": "es", "next": status(district)})
    again = family.get(status(district), HTTP_ACCEPT_LANGUAGE="en")

    assert chosen.status_code == 302
    assert chosen["Location"] == status(district) + "?lang=es"
    assert SPANISH in again.content.decode()


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/comms/"])
def test_the_switcher_goes_only_to_the_districts_status_pages(client, district, target):
    switch = reverse("status-language", args=[district.district.slug])

    answer = client.get(switch, {"lang": "es", "next": target})

    assert answer["Location"] == status(district) + "?lang=es"


def test_a_language_the_district_does_not_publish_changes_nothing(client, district):
    switch = reverse("status-language", args=[district.district.slug])

    answer = client.get(switch, {"lang": "fr"})

    assert answer["Location"] == status(district)
    assert "status_lang" not in answer.cookies


def test_subscribers_receive_their_language(district, update):
    incident = district.incident
    for address, language in (("es@example.org", "es"), ("en@example.org", "en")):
        Subscriber.objects.create(
            district=district.district,
            channel="email",
            address=address,
            language=language,
            confirmed_at=timezone.now(),
        )
    mail.outbox.clear()
    draft = written(incident, district.comms, "Report cards are out.")
    translated(district, draft, "es", "Las boletas ya están disponibles." + NEXT)
    CommsPolicy.objects.filter(district=district.district).update(languages=["es"])
    published(draft, district.comms)

    by_address = {m.to[0]: m.body for m in mail.outbox}
    assert by_address["es@example.org"].startswith("Las boletas ya están disponibles.")
    assert "?lang=es" in by_address["es@example.org"]
    assert by_address["en@example.org"].startswith("Report cards are out.")


def test_the_subscription_page_and_its_errors_and_confirmation_speak_spanish(district):
    family = Client(enforce_csrf_checks=True)
    url = reverse("status-subscribe", args=[district.district.slug]) + "?lang=es"

    page = family.get(url)
    token = page.cookies["csrftoken"].value
    wrong = family.post(url, {"channel": "email", "email": "no", "csrfmiddlewaretoken": token})
    mail.outbox.clear()
    done = family.post(
        url,
        {
            "channel": "email",
            "email": "madre@example.org",
            "language": "es",
            "csrfmiddlewaretoken": token,
        },
    )

    assert page["Content-Language"] == "es"
    assert "Correo electrónico" in page.content.decode()
    assert "Escriba una dirección de correo completa" in wrong.content.decode()
    assert "Revise su correo" in done.content.decode()
    (confirmation,) = mail.outbox
    assert confirmation.subject.startswith("Confirme:")
    assert "?lang=es" in confirmation.body and "pulse Confirmar" in confirmation.body
