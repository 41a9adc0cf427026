"""The guidance table against the pages and the services: for every role, the academics
dashboard and the principals' page offer exactly the guidance steps the services accept."""

from __future__ import annotations

import re

import pytest

from incidents import guidance, guidance_rules
from incidents import services as incident_services
from incidents.models import GuidanceAcknowledgement, GuidanceVersion, Question, TimelineEntry

PEOPLE = ["academics", "cio", "comms", "legal", "technical", "board", "principal"]


def world(riverbend):
    incident = incident_services.incident_open(
        by=riverbend.cio, title="SIS down", kind="sis", severity=2, all_schools=True
    )
    guidance.guidance_publish(incident=incident, by=riverbend.academics, today="Teach.")
    question = guidance.question_ask(
        incident=incident, school=riverbend.schools[0], by=riverbend.principal, text="Quiz?"
    )
    return incident, question


def shown_steps(client, incident, question) -> set[str]:
    html = ""
    for page in ("/incidents/academics/", "/incidents/guidance/"):
        response = client.get(page)
        if response.status_code == 200:
            html += response.content.decode()
    patterns = {
        "publish": rf'href="/incidents/{incident.pk}/guidance/edit/"',
        "nudge": rf'action="/incidents/{incident.pk}/guidance/nudge/"',
        "answer": rf'action="/incidents/questions/{question.pk}/answer/"',
        "acknowledge": rf'action="/incidents/{incident.pk}/guidance/acknowledge/"',
        "ask": rf'action="/incidents/{incident.pk}/questions/"',
    }
    return {step for step, pattern in patterns.items() if re.search(pattern, html)}


def took(step: str, client, riverbend, incident, question) -> bool:
    """Post the step with a valid form; whether the service made the change."""
    school = riverbend.schools[0].pk
    before = {
        "publish": lambda: GuidanceVersion.objects.filter(incident=incident).count(),
        "nudge": lambda: TimelineEntry.objects.filter(kind="guidance.nudged").count(),
        "answer": lambda: Question.objects.filter(pk=question.pk, answer="").count(),
        "acknowledge": lambda: GuidanceAcknowledgement.objects.count(),
        "ask": lambda: Question.objects.count(),
    }[step]
    url, data = {
        "publish": (f"/incidents/{incident.pk}/guidance/edit/", {"today": "Teach on paper."}),
        "nudge": (f"/incidents/{incident.pk}/guidance/nudge/", {}),
        "answer": (f"/incidents/questions/{question.pk}/answer/", {"answer": "No quiz."}),
        "acknowledge": (f"/incidents/{incident.pk}/guidance/acknowledge/", {"school": school}),
        "ask": (f"/incidents/{incident.pk}/questions/", {"school": school, "text": "Recess?"}),
    }[step]
    count = before()
    response = client.post(url, data)
    changed = before() != count
    assert response.status_code in ((302,) if changed else (403, 302)), (step, response)
    return changed


@pytest.mark.parametrize("name", PEOPLE)
def test_the_pages_offer_exactly_the_guidance_steps_the_services_accept(
    client, riverbend, name
) -> None:
    user = getattr(riverbend, name)
    client.force_login(user)
    incident, question = world(riverbend)
    shown = shown_steps(client, incident, question)

    accepted = set()
    for step in guidance_rules.STEPS:
        incident, question = world(riverbend)
        if took(step, client, riverbend, incident, question):
            accepted.add(step)

    assert shown == accepted == guidance_rules.steps_for(user), (shown, accepted)
