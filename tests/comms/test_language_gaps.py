"""A language published without is a silence of its own: shown on the communications
dashboard and the CIO's scorecard with how long, and measured by the trust scorecard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from comms import drafts, translations
from comms.models import CommsPolicy
from incidents import scorecard
from incidents import services as incident_services
from tests.comms.publishing import NEXT, approved, written

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def event(minutes, languages, missing):
    return scorecard.Event(
        at=T0 + timedelta(minutes=minutes),
        kind=scorecard.UPDATE_LANGUAGES,
        payload={"languages": languages, "missing": missing},
    )


def test_the_scorecard_measures_when_every_language_heard_and_the_longest_gap():
    score = scorecard.compute(
        declared_at=T0,
        events=[event(10, ["es"], ["vi"]), event(40, ["es"], ["vi"]), event(70, ["es", "vi"], [])],
        now=T0 + timedelta(minutes=90),
    )

    assert score.languages_all_heard_after == timedelta(minutes=70)
    assert score.longest_language_gap == timedelta(minutes=60)
    assert score.languages_unheard == ()


def test_an_open_gap_counts_until_now_and_is_listed():
    score = scorecard.compute(
        declared_at=T0, events=[event(10, [], ["es"])], now=T0 + timedelta(minutes=50)
    )

    assert score.languages_all_heard_after is None
    assert score.longest_language_gap == timedelta(minutes=40)
    assert score.languages_unheard == (("es", timedelta(minutes=40)),)


def test_an_exercise_reports_gaps_on_its_clock():
    score = scorecard.compute(
        declared_at=T0,
        events=[event(1, [], ["es"])],
        now=T0 + timedelta(minutes=3),
        time_scale=60,
    )

    assert score.longest_language_gap == timedelta(hours=2)


@pytest.fixture
def gap(riverbend, clock):
    CommsPolicy.objects.update_or_create(
        district=riverbend.district, defaults={"languages": ["es"]}
    )
    incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    draft = approved(
        written(incident, riverbend.comms, "Report cards are delayed."), riverbend.comms
    )
    drafts.draft_publish(
        draft=draft,
        by=riverbend.comms,
        expected_revision=draft.revision,
        promised_next_at=datetime.now(UTC) + timedelta(minutes=30),
        override_reason="Staff heard at the meeting.",
        missing_languages_reason="The Spanish translator starts at nine.",
    )
    clock.shift(timedelta(minutes=25))
    return riverbend, incident


def test_the_dashboard_and_the_cio_see_who_has_not_heard(client, gap):
    setup, incident = gap
    client.force_login(setup.comms)
    dashboard = client.get(reverse("comms:dashboard")).content.decode()
    client.force_login(setup.cio)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()

    assert (
        "Spanish-speaking families have not heard</strong> the latest update, for 25 min"
        in dashboard
    )
    assert "Spanish-speaking families have not heard</strong> the latest update for 25 min" in page


def test_the_gap_closes_when_the_language_is_published(client, gap, clock):
    setup, incident = gap
    draft = written(incident, setup.comms, "Report cards are out.")
    translation = translations.translation_request(
        draft=draft, by=setup.comms, language="es", translator=setup.translator
    )
    translations.translation_write(
        translation=translation, by=setup.translator, body="Ya están." + NEXT, expected_revision=0
    )
    translations.translation_approve(translation=translation, by=setup.comms, expected_revision=1)
    draft = approved(draft, setup.comms)
    drafts.draft_publish(
        draft=draft,
        by=setup.comms,
        expected_revision=draft.revision,
        promised_next_at=datetime.now(UTC) + timedelta(minutes=30),
        override_reason="Staff heard at the meeting.",
    )
    client.force_login(setup.comms)

    dashboard = client.get(reverse("comms:dashboard")).content.decode()

    assert "have not heard" not in dashboard
