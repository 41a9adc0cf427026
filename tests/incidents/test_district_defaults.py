"""A district gets its checklist and communications policy when it is created; reads never write."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from comms.models import CommsPolicy
from comms.policy import policy_for
from incidents.duties import DEFAULT_DUTIES, district_duties, district_set_up
from incidents.models import District, DutyTemplate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _writes(queries) -> list[str]:
    return [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]


def test_reading_a_district_without_its_rows_writes_nothing_and_reads_the_defaults():
    district = District.objects.create(name="Bare", slug="bare", time_zone="America/Chicago")

    with CaptureQueriesContext(connection) as queries:
        duties = district_duties(district)
        policy = policy_for(district)

    assert _writes(queries) == []
    assert [(d.title, d.due_minutes, d.trigger) for d in duties] == DEFAULT_DUTIES
    assert policy.pk is None and policy.legal_audiences == []
    assert not DutyTemplate.objects.filter(district=district).exists()
    assert not CommsPolicy.objects.filter(district=district).exists()


def test_setting_up_a_district_saves_both_once():
    district = District.objects.create(name="New", slug="new", time_zone="America/Chicago")

    district_set_up(district=district)
    district_set_up(district=district)

    assert DutyTemplate.objects.filter(district=district).count() == len(DEFAULT_DUTIES)
    assert CommsPolicy.objects.filter(district=district).count() == 1


def test_a_district_added_in_the_admin_is_set_up(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)

    response = client.post(
        "/admin/incidents/district/add/",
        {
            "name": "Lakeside",
            "slug": "lakeside",
            "time_zone": "America/Chicago",
            **{
                f"{prefix}-{key}": value
                for prefix in ("schools", "systems")
                for key, value in {
                    "TOTAL_FORMS": "0",
                    "INITIAL_FORMS": "0",
                    "MIN_NUM_FORMS": "0",
                    "MAX_NUM_FORMS": "1000",
                }.items()
            },
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    district = District.objects.get(slug="lakeside")
    assert DutyTemplate.objects.filter(district=district).count() == len(DEFAULT_DUTIES)
    assert CommsPolicy.objects.filter(district=district).exists()
