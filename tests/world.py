"""A district with one of everything a POST can reach, and a snapshot of all saved rows.

Used by the input-limit and garbage-input tests: they post bad input to every action and
check, with ``saved_state``, that not one saved row changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps

from comms import drafts, facts
from comms.models import CommsPolicy
from incidents import decisions, guidance, recovery
from incidents import services as incident_services
from incidents.models import Incident
from tests.conftest import DistrictSetup


@dataclass
class World:
    setup: DistrictSetup
    ids: dict[str, int]


def build_world(setup: DistrictSetup) -> World:
    """An active student-data incident with guidance, a question, a draft, a decision and a
    statutory notice; a second incident in Recovery with a review action; one template."""
    CommsPolicy.objects.filter(district=setup.district).update(notice_days=[10])
    incident = incident_services.incident_open(
        by=setup.cio,
        title="SIS breach",
        kind=Incident.Kind.CYBER,
        severity=Incident.Severity.HIGH,
        all_schools=True,
        impacts=[Incident.Impact.STUDENT_DATA],
    )
    guidance.guidance_publish(incident=incident, by=setup.academics, today="Teach as planned.")
    question = guidance.question_ask(
        incident=incident, school=setup.schools[0], by=setup.principal, text="Grades?"
    )
    decisions.decision_record(
        incident=incident,
        by=setup.cio,
        text="Delay report cards",
        decided_by="Superintendent",
        rationale="The SIS is down.",
        visibility="team",
    )
    draft = drafts.draft_create(
        incident=incident, by=setup.comms, audience="staff", channel="email"
    )
    template = facts.template_save(
        district=setup.district, by=setup.comms, kind="any", audience="staff", body="{known}"
    )
    recovering = incident_services.incident_open(
        by=setup.cio, title="Phones down", kind=Incident.Kind.PHONES, severity=2, all_schools=True
    )
    incident_services.incident_enter_recovery(incident=recovering, by=setup.cio)
    action = recovery.followup_add(
        incident=recovering,
        by=setup.cio,
        text="Replace the PBX",
        owner=setup.technical,
        due_on=None,
    )
    return World(
        setup=setup,
        ids={
            "incident": incident.pk,
            "recovering": recovering.pk,
            "duty": incident.duties.first().pk,
            "question": question.pk,
            "draft": draft.pk,
            "template": template.pk,
            "notice": incident.notices.get().pk,
            "action": action.pk,
            "school": setup.schools[0].pk,
            "user": setup.technical.pk,
        },
    )


def saved_state() -> dict[str, list[tuple]]:
    """Every row of the console's own tables and its users, in primary-key order."""
    state = {}
    for app in ("incidents", "comms"):
        for model in apps.get_app_config(app).get_models():
            rows = model._base_manager.order_by("pk").values_list()
            state[model._meta.label] = list(rows)
    return state
