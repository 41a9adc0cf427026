"""A principal acts only on open incidents that affect a school they lead; every other incident
number gets the answer a number that does not exist gets, so none can be told apart."""

import pytest

from incidents import services
from tests.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def _post(client, riverbend, incident_id: int, path: str):
    client.force_login(riverbend.principal)
    data = {"school": riverbend.schools[0].pk, "text": "May we print report cards?"}
    return client.post(f"/incidents/{incident_id}/{path}/", data)


def _incident(riverbend, which: str):
    if which == "another school's":
        incident = IncidentFactory(owner=riverbend.cio, all_schools=False)
        incident.schools.set([riverbend.schools[2]])
        return incident
    incident = IncidentFactory(owner=riverbend.cio)
    services.incident_enter_recovery(incident=incident, by=riverbend.cio)
    services.incident_close(incident=incident, by=riverbend.cio)
    return incident


@pytest.mark.parametrize("path", ["questions", "guidance/acknowledge"])
@pytest.mark.parametrize("which", ["another school's", "closed"])
def test_an_incident_the_principal_may_not_act_on_answers_like_one_that_does_not_exist(
    client, riverbend, which, path
):
    incident = _incident(riverbend, which)
    missing = _post(client, riverbend, incident.pk + 1000, path)

    refused = _post(client, riverbend, incident.pk, path)

    assert missing.status_code == refused.status_code == 404
    said = "No open incident affecting your schools has that number."
    assert said in missing.content.decode() and said in refused.content.decode()
    assert not incident.questions.exists()


def test_a_question_to_an_affected_open_incident_is_sent(client, riverbend):
    incident = IncidentFactory(owner=riverbend.cio)

    response = _post(client, riverbend, incident.pk, "questions")

    assert response.status_code == 302
    assert incident.questions.get().text == "May we print report cards?"


def test_the_service_refuses_a_question_for_an_unaffected_school_or_a_closed_incident(riverbend):
    from incidents import guidance
    from incidents.errors import Invalid

    elsewhere = _incident(riverbend, "another school's")
    closed = _incident(riverbend, "closed")
    for incident in (elsewhere, closed):
        with pytest.raises(Invalid):
            guidance.question_ask(
                incident=incident, school=riverbend.schools[0], by=riverbend.principal, text="?"
            )
    assert not elsewhere.questions.exists() and not closed.questions.exists()
