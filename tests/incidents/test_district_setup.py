import pytest

from comms.models import CadenceDefault
from incidents.models import DutyTemplate, Role

URL = "/incidents/settings/"


def duty_post(rows, extra=None):
    data = {"form": "duties", "form-TOTAL_FORMS": str(len(rows)), "form-INITIAL_FORMS": "0"}
    for i, (title, minutes, trigger) in enumerate(rows):
        data.update(
            {
                f"form-{i}-title": title,
                f"form-{i}-due_minutes": str(minutes),
                f"form-{i}-trigger": trigger,
            }
        )
    data.update(extra or {})
    return data


def cadence_post(value="60"):
    data = {"form": "cadence"}
    for audience in ["staff", "families", "board", "media"]:
        for phase in ["control", "trust", "recovery"]:
            data[f"{audience}__{phase}"] = value
    return data


def test_cio_sees_the_default_checklist(client, riverbend):
    client.force_login(riverbend.cio)

    response = client.get(URL)

    assert response.status_code == 200
    assert b"First update to staff" in response.content


def test_cio_replaces_the_checklist(client, riverbend):
    client.force_login(riverbend.cio)

    response = client.post(URL, duty_post([("Call the superintendent", 15, "manual")]))

    assert response.status_code == 302
    assert list(DutyTemplate.objects.values_list("title", "due_minutes")) == [
        ("Call the superintendent", 15)
    ]


def test_new_incidents_copy_the_edited_checklist(client, riverbend):
    from incidents.services import incident_open

    client.force_login(riverbend.cio)
    client.post(URL, duty_post([("Call the superintendent", 15, "manual")]))

    incident = incident_open(by=riverbend.cio, title="x", kind="sis", severity=2, all_schools=True)

    assert list(incident.duties.values_list("title", flat=True)) == ["Call the superintendent"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("", 15, "manual")], b"This field is required"),
        ([("x" * 201, 15, "manual")], b"at most 200 characters"),
        ([("Call", 0, "manual")], b"greater than or equal to 1"),
        ([("Call", 50000, "manual")], b"less than or equal to 43200"),
    ],
)
def test_bad_duty_rows_are_refused_and_nothing_changes(client, riverbend, rows, message):
    client.force_login(riverbend.cio)
    client.get(URL)  # seeds the default checklist
    before = list(DutyTemplate.objects.values_list("title", flat=True))

    response = client.post(URL, duty_post(rows))

    assert response.status_code == 422
    assert message in response.content
    assert list(DutyTemplate.objects.values_list("title", flat=True)) == before


def test_removing_every_duty_is_refused(client, riverbend):
    client.force_login(riverbend.cio)
    client.get(URL)

    response = client.post(URL, duty_post([("Call", 15, "manual")], {"form-0-DELETE": "on"}))

    assert response.status_code == 422
    assert b"Keep at least one duty" in response.content
    assert DutyTemplate.objects.count() == 7


def test_cio_sets_the_default_cadence(client, riverbend):
    client.force_login(riverbend.cio)

    response = client.post(URL, cadence_post("45"))

    assert response.status_code == 302
    assert (
        CadenceDefault.objects.filter(district=riverbend.district, interval_minutes=45).count()
        == 12
    )


@pytest.mark.parametrize(
    ("value", "message"), [("4", b"At least 5 minutes"), ("10081", b"At most 7 days")]
)
def test_cadence_outside_the_range_is_refused(client, riverbend, value, message):
    client.force_login(riverbend.cio)

    response = client.post(URL, cadence_post(value))

    assert response.status_code == 422
    assert message in response.content
    assert not CadenceDefault.objects.exists()


@pytest.mark.parametrize("role", [r for r in Role if r != Role.CIO])
def test_only_the_cio_sees_district_setup(client, riverbend, role):
    client.force_login(riverbend.by_role(role))

    assert client.get(URL).status_code == 403
    assert client.post(URL, cadence_post("45")).status_code == 403
    assert not CadenceDefault.objects.exists()


def test_district_setup_is_per_district(client, riverbend, lakeshore):
    client.force_login(lakeshore.cio)

    client.post(URL, cadence_post("45"))

    assert not CadenceDefault.objects.filter(district=riverbend.district).exists()


def policy_post(**overrides):
    data = {
        "form": "policy",
        "legal_audiences": ["media"],
        "student_data_needs_legal": "on",
        "student_data_audiences": ["families", "media"],
        "student_data_channels": ["email", "web"],
        "notice_days": "30, 10",
        "email_staff": "allstaff@example.org",
        "sms_board": "+15555550101, +15555550102",
    }
    data.update(overrides)
    return data


def test_cio_sets_the_communications_policy(client, riverbend):
    from comms.models import CommsPolicy

    client.force_login(riverbend.cio)

    response = client.post(URL, policy_post())

    assert response.status_code == 302
    policy = CommsPolicy.objects.get(district=riverbend.district)
    assert policy.legal_audiences == ["media"]
    assert policy.student_data_audiences == ["families", "media"]
    assert policy.student_data_channels == ["email", "web"]
    assert policy.notice_days == [10, 30]
    assert policy.email_lists == {"staff": "allstaff@example.org"}
    assert policy.sms_lists == {"board": ["+15555550101", "+15555550102"]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("notice_days", "ten", b"not a number of days"),
        ("notice_days", "400", b"not a number of days"),
        ("sms_board", "555-0101", b"international format"),
        ("email_staff", "not-an-address", b"valid email"),
        ("student_data_audiences", [], b"Choose at least one audience for legal to review"),
        ("student_data_channels", [], b"Choose at least one channel for legal to review"),
    ],
)
def test_bad_policy_input_is_refused(client, riverbend, field, value, message):
    from comms.models import CommsPolicy

    client.force_login(riverbend.cio)

    response = client.post(URL, policy_post(**{field: value}))

    assert response.status_code == 422
    assert message in response.content
    assert not CommsPolicy.objects.filter(
        district=riverbend.district, notice_days=[10, 30]
    ).exists()
