"""The translation pages: the translator sees only what was sent to them, writes it, and sees
what changed in the English; the communications lead sends, approves and publishes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from comms import drafts, translations
from comms.models import CommsPolicy, Draft, PublishedTranslation, Translation
from incidents import services as incident_services
from incidents.models import Role
from tests.comms.publishing import NEXT, approved, written
from tests.factories import UserFactory


@pytest.fixture
def world(riverbend):
    CommsPolicy.objects.update_or_create(
        district=riverbend.district, defaults={"languages": ["es", "ar"]}
    )
    incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    draft = written(incident, riverbend.comms, "Report cards are delayed.")
    translation = translations.translation_request(
        draft=draft, by=riverbend.comms, language="es", translator=riverbend.translator
    )
    return riverbend, draft, translation


def page(translation):
    return reverse("comms:translation", args=[translation.pk])


@pytest.mark.parametrize("role", [*Role.values, "other_district"])
def test_only_the_translator_it_was_sent_to_and_the_lead_open_it(client, world, lakeshore, role):
    setup, _, translation = world
    client.force_login(lakeshore.cio if role == "other_district" else setup.by_role(role))

    answer = client.get(page(translation))

    allowed = role in (Role.TRANSLATOR, Role.COMMUNICATIONS)
    assert answer.status_code == (200 if allowed else 404)


@pytest.mark.parametrize("role", [*Role.values, "other_district"])
def test_only_the_lead_approves(client, world, lakeshore, role):
    setup, _, translation = world
    translations.translation_write(
        translation=translation, by=setup.translator, body="Texto." + NEXT, expected_revision=0
    )
    client.force_login(lakeshore.cio if role == "other_district" else setup.by_role(role))

    answer = client.post(
        reverse("comms:translation-approve", args=[translation.pk]), {"expected_revision": "1"}
    )

    expected = {Role.COMMUNICATIONS: 302, Role.TRANSLATOR: 403}.get(role, 404)
    assert answer.status_code == expected
    translation.refresh_from_db()
    assert (translation.approved_revision == 1) == (role == Role.COMMUNICATIONS)


def test_another_translator_sees_nothing_of_it(client, world):
    setup, _, translation = world
    other = UserFactory(district=setup.district, username="other-translator", roles=["translator"])
    client.force_login(other)

    assert client.get(reverse("comms:translations")).content.count(b"card__title") == 0
    assert client.get(page(translation)).status_code == 404


def test_the_translator_writes_sees_the_english_change_and_revises(client, world):
    setup, draft, translation = world
    client.force_login(setup.translator)
    listed = client.get(reverse("comms:translations"))
    assert b"Spanish: Families update" in listed.content
    assert b"Waiting for the translator" in listed.content

    saved = client.post(
        page(translation), {"body": "Las boletas se retrasan.", "expected_revision": "0"}
    )
    assert saved.status_code == 302
    drafts.draft_edit(
        draft=draft,
        by=setup.comms,
        body="Report cards are delayed until Monday." + NEXT,
        expected_revision=draft.revision,
    )

    shown = client.get(page(translation))
    assert b"Out of date: the English changed" in shown.content
    assert b"What changed in the English" in shown.content
    assert (
        b'<ins><span class="visually-hidden">added: </span>delayed until Monday.</ins>'
        in shown.content
    )
    stale = client.post(page(translation), {"body": "Otra.", "expected_revision": "0"})
    assert stale.status_code == 409
    revised = client.post(
        page(translation),
        {"body": "Las boletas se retrasan hasta el lunes.", "expected_revision": "1"},
    )
    assert revised.status_code == 302
    assert translations.languages_of(Draft.objects.get(pk=draft.pk))[0].state == "to_approve"


def test_an_empty_translation_says_what_to_do(client, world):
    setup, _, translation = world
    client.force_login(setup.translator)

    answer = client.post(page(translation), {"body": "", "expected_revision": "0"})

    assert answer.status_code == 422
    assert b"Write the translation before saving it." in answer.content
    assert Translation.objects.get(pk=translation.pk).revision == 0


def test_the_lead_publishes_with_a_reason_when_a_language_is_missing(client, world):
    setup, draft, translation = world
    translations.translation_write(
        translation=translation, by=setup.translator, body="Texto." + NEXT, expected_revision=0
    )
    translations.translation_approve(translation=translation, by=setup.comms, expected_revision=1)
    draft = approved(draft, setup.comms)
    client.force_login(setup.comms)
    editor = client.get(reverse("comms:draft", args=[draft.pk]))
    assert b"Not approved for revision" in editor.content
    assert b"Arabic" in editor.content
    publish = reverse("comms:draft-action", args=[draft.pk, "publish"])
    fields = {
        "expected_revision": str(draft.revision),
        "next_update_in": "30",
        "override_reason": "Staff heard at the meeting.",
    }

    refused = client.post(publish, fields)
    done = client.post(publish, {**fields, "missing_languages_reason": "Arabic translator out."})

    assert refused.status_code == 422
    assert b"Not approved for this revision: Arabic" in refused.content
    assert done.status_code == 302
    assert list(PublishedTranslation.objects.values_list("language", "body")) == [
        ("es", "Texto." + NEXT)
    ]


def test_the_district_sets_its_languages_in_setup(client, riverbend):
    client.force_login(riverbend.cio)
    url = reverse("incidents:settings")
    form = client.get(url).context["policy"]
    fields = {k: v for k, v in form.initial.items() if v not in (None, [], "")}

    bad = client.post(url, {**fields, "form": "policy", "languages": "es, klingon"})
    good = client.post(url, {**fields, "form": "policy", "languages": "es, zh-Hans, ar, es"})

    assert bad.status_code == 422
    assert "“klingon” is not a language code" in bad.content.decode()
    assert good.status_code == 302
    assert CommsPolicy.objects.get(district=riverbend.district).languages == ["es", "zh-Hans", "ar"]
