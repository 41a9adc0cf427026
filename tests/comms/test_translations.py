"""Translations as revision chains: sent to a translator, written, out of date when the English
changes, approved as a pair, and published together with the English."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from comms import drafts, translations
from comms.models import CommsPolicy, PublishedTranslation
from incidents import services as incident_services
from incidents.errors import Conflict, Invalid, Refused
from incidents.models import Role, RoleGrant
from tests.comms.publishing import NEXT, approved, published, written
from tests.factories import UserFactory

SPANISH = "Las boletas de calificaciones se retrasan." + NEXT


@pytest.fixture
def district(riverbend):
    CommsPolicy.objects.update_or_create(
        district=riverbend.district, defaults={"languages": ["es", "vi"]}
    )
    riverbend.incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    return riverbend


@pytest.fixture
def draft(district):
    return written(district.incident, district.comms, "Report cards are delayed.")


def sent(district, draft, language="es"):
    return translations.translation_request(
        draft=draft, by=district.comms, language=language, translator=district.translator
    )


def states(draft):
    draft.refresh_from_db()
    return {s.code: s.state for s in translations.languages_of(draft)}


def test_a_translation_is_written_approved_and_published_with_the_english(district, draft):
    translation = sent(district, draft)
    assert states(draft) == {"es": "waiting", "vi": "not_sent"}

    translations.translation_write(
        translation=translation, by=district.translator, body=SPANISH, expected_revision=0
    )
    assert states(draft) == {"es": "to_approve", "vi": "not_sent"}
    translation.refresh_from_db()
    translations.translation_approve(
        translation=translation, by=district.comms, expected_revision=1
    )
    assert states(draft)["es"] == "approved"

    draft = approved(draft, district.comms)
    update = drafts.draft_publish(
        draft=draft,
        by=district.comms,
        expected_revision=draft.revision,
        promised_next_at=timezone.now() + timedelta(minutes=30),
        override_reason="Staff heard at the meeting.",
        missing_languages_reason="No Vietnamese translator today.",
    )

    (spanish,) = PublishedTranslation.objects.filter(update=update)
    assert (spanish.language, spanish.body) == ("es", SPANISH)
    assert (update.missing_languages, update.missing_reason) == (
        ["vi"],
        "No Vietnamese translator today.",
    )


def test_an_edit_of_the_english_puts_the_translation_out_of_date(district, draft):
    translation = sent(district, draft)
    translations.translation_write(
        translation=translation, by=district.translator, body=SPANISH, expected_revision=0
    )
    translations.translation_approve(
        translation=translation, by=district.comms, expected_revision=1
    )

    drafts.draft_edit(
        draft=draft,
        by=district.comms,
        body="Report cards are delayed until Monday." + NEXT,
        expected_revision=draft.revision,
    )

    assert states(draft)["es"] == "out_of_date"
    translation.refresh_from_db()
    changes = translations.source_changes(translation)
    assert ("removed", "delayed.") in changes
    assert ("added", "delayed until Monday.") in changes
    with pytest.raises(Invalid, match="English changed"):
        translations.translation_approve(
            translation=translation, by=district.comms, expected_revision=1
        )


def test_publishing_without_every_language_needs_a_reason_and_names_them(district, draft):
    sent(district, draft)
    draft = approved(draft, district.comms)

    with pytest.raises(Invalid, match="Not approved for this revision: Spanish, Vietnamese"):
        drafts.draft_publish(
            draft=draft,
            by=district.comms,
            expected_revision=draft.revision,
            promised_next_at=timezone.now() + timedelta(minutes=30),
            override_reason="Staff heard at the meeting.",
        )

    draft.refresh_from_db()
    assert draft.state == "approved", "nothing was published"


def test_staff_updates_and_districts_without_languages_need_no_translation(district):
    staff = written(
        district.incident, district.comms, "Use paper rosters.", audience="staff", channel="email"
    )
    assert translations.languages_of(staff) == []
    with pytest.raises(Invalid, match="families and the public"):
        sent(district, staff)

    CommsPolicy.objects.filter(district=district.district).update(languages=[])
    families = published(written(district.incident, district.comms, "Open."), district.comms)
    assert families.state == "published"


def test_only_the_translator_it_was_sent_to_or_the_lead_writes_it(district, draft):
    translation = sent(district, draft)
    other = UserFactory(district=district.district, username="translator-2")
    RoleGrant.objects.create(user=other, role=Role.TRANSLATOR)

    with pytest.raises(Refused):
        translations.translation_write(
            translation=translation, by=other, body=SPANISH, expected_revision=0
        )
    with pytest.raises(Refused):
        translations.translation_write(
            translation=translation, by=district.legal, body=SPANISH, expected_revision=0
        )
    translations.translation_write(
        translation=translation, by=district.comms, body=SPANISH, expected_revision=0
    )
    with pytest.raises(Refused, match="Only the communications lead approves"):
        translations.translation_approve(
            translation=translation, by=district.translator, expected_revision=1
        )


def test_a_stale_edit_of_a_translation_is_refused(district, draft):
    translation = sent(district, draft)
    translations.translation_write(
        translation=translation, by=district.translator, body=SPANISH, expected_revision=0
    )

    with pytest.raises(Conflict):
        translations.translation_write(
            translation=translation, by=district.comms, body="Otro.", expected_revision=0
        )


def test_a_machine_draft_needs_a_readers_check_to_be_approved(district, draft):
    translation = sent(district, draft)
    translations.translation_write(
        translation=translation,
        by=district.comms,
        body=SPANISH,
        expected_revision=0,
        machine=True,
    )

    with pytest.raises(Invalid, match="machine draft"):
        translations.translation_approve(
            translation=translation, by=district.comms, expected_revision=1
        )
    translations.translation_approve(
        translation=translation, by=district.comms, expected_revision=1, reader_checked=True
    )
    assert states(draft)["es"] == "approved"


def test_only_a_district_language_is_sent(district, draft):
    with pytest.raises(Invalid, match="not one of the district's languages"):
        sent(district, draft, language="fr")


@pytest.mark.parametrize(
    ("code", "name", "direction"),
    [("es", "español", "ltr"), ("ar", "العربية", "rtl"), ("vi", "Tiếng Việt", "ltr")],
)
def test_languages_are_named_in_their_own_words_with_their_direction(code, name, direction):
    assert translations.name_of(code) == name
    assert translations.direction_of(code) == direction


def test_an_unknown_language_code_says_what_to_use():
    with pytest.raises(ValueError, match="BCP 47"):
        translations.locale("xx-Nowhere")
