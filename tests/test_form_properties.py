"""Properties of every form over any input: validating never raises, and what a form accepts
fits its columns and holds no NUL byte (PostgreSQL refuses NUL in text)."""

from __future__ import annotations

import inspect

import pytest
from django import forms
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comms import forms as comms_forms
from comms.models import (
    AudienceClock,
    Draft,
    DraftRevision,
    FactSheetRevision,
    MessageTemplate,
    NoticeClock,
    PublishedUpdate,
    WarningAcknowledgement,
)
from comms.selectors import district_intervals
from console.views import comms as comms_views
from console.views import schools as school_views
from incidents import forms as incident_forms
from incidents.models import (
    Decision,
    DutyTemplate,
    FollowUp,
    GuidanceVersion,
    Incident,
    Question,
    Review,
)
from tests.world import build_world

pytestmark = pytest.mark.django_db


def all_form_classes() -> list[type[forms.Form]]:
    """Every form the views use, found in the modules that define them."""
    found = {}
    for module in (incident_forms, comms_forms, school_views, comms_views):
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
                and value is not comms_forms.PromiseMixin
            ):
                found[value.__qualname__] = value
    return [found[name] for name in sorted(found)]


FORMS = all_form_classes()

# Text as people and scripts send it: any unicode, NUL bytes, strings far past every limit,
# numbers of every size, and things that look like ids, dates and choices.
TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from("\x00a1 -:+,.@é😀"), max_size=30),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "\x00", "é", "😀", "1"]), st.integers(0, 12_000)
    ),
    st.integers().map(str),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-1",
            "1",
            "2",
            "99999999999999999999999",
            "1e5",
            "true",
            "on",
            "staff",
            "families",
            "sis",
            "team",
            "manual",
            "2026-12-01",
            "2026-12-01T10:00",
            "+15555550123",
            "a@b.example",
            "1, 2, 3",
            "NaN",
        ]
    ),
)


def field_names(form_class, **kwargs) -> list[str]:
    return list(form_class(**kwargs).fields) + ["form", "junk"]


def request_data(names: list[str]):
    """A request body: any of the form's fields (or unknown ones) missing, once or repeated
    (a list where one value is expected), each value of any kind; the wrong type for a field
    is text where a number, date, choice or id belongs. Requests carry nothing but text."""
    return st.dictionaries(st.sampled_from(names), st.lists(TEXT, min_size=1, max_size=3)).map(
        MultiValueDict
    )


@pytest.fixture
def world(riverbend):
    return build_world(riverbend)


def form_kwargs(form_class, world) -> dict:
    incident = world.setup.district.incidents.get(pk=world.ids["incident"])
    available = {
        "district": world.setup.district,
        "incident": incident,
        "initial_intervals": district_intervals(world.setup.district.pk),
    }
    parameters = inspect.signature(form_class.__init__).parameters
    return {name: value for name, value in available.items() if name in parameters}


def assert_accepted_values_fit(form: forms.Form) -> None:
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if isinstance(value, str):
            assert "\x00" not in value, f"{name} accepted a NUL byte"
            if getattr(field, "max_length", None):
                assert len(value) <= field.max_length, f"{name} accepted {len(value)} chars"


@pytest.mark.parametrize("form_class", FORMS, ids=[f.__qualname__ for f in FORMS])
def test_any_input_is_validated_without_raising(form_class, world):
    kwargs = form_kwargs(form_class, world)
    names = field_names(form_class, **kwargs)

    @settings(
        max_examples=max(10, settings.default.max_examples // 4),
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(data=request_data(names))
    def check(data):
        form = form_class(data, **kwargs)
        if form.is_valid():
            assert_accepted_values_fit(form)
        else:
            assert form.errors and all(
                str(message).strip() for errors in form.errors.values() for message in errors
            )

    check()


def test_every_form_is_covered():
    """The discovery is not vacuous: every form a POST view uses is in the list."""
    names = {f.__qualname__ for f in FORMS}

    assert {
        "IncidentOpenForm",
        "DecisionForm",
        "QuestionAskForm",
        "FollowUpForm",
        "GuidanceForm",
        "FactSheetForm",
        "DraftEditForm",
        "PublishForm",
        "CommsPolicyForm",
        "DrafterForm",
        "RevisionForm",
        "CadenceDefaultsForm",
        "DutyRowForm",
    } <= names


def test_every_text_field_has_a_max_length():
    """No text field is unbounded: each names the most its column keeps."""
    unbounded = [
        f"{form_class.__qualname__}.{name}"
        for form_class in FORMS
        for name, field in form_class.base_fields.items()
        if type(field) is forms.CharField and not field.max_length
    ]

    assert unbounded == []


# (form, field) -> (model, column) it is saved to.
COLUMNS = {
    ("IncidentOpenForm", "title"): (Incident, "title"),
    ("DutyRowForm", "title"): (DutyTemplate, "title"),
    ("DecisionForm", "text"): (Decision, "text"),
    ("DecisionForm", "decided_by"): (Decision, "decided_by"),
    ("DecisionForm", "rationale"): (Decision, "rationale"),
    ("QuestionAskForm", "text"): (Question, "text"),
    ("QuestionAnswerForm", "answer"): (Question, "answer"),
    ("ReviewForm", "what_happened"): (Review, "what_happened"),
    ("ReviewForm", "why"): (Review, "why"),
    ("FollowUpForm", "text"): (FollowUp, "text"),
    ("GuidanceForm", "today"): (GuidanceVersion, "today"),
    ("GuidanceForm", "can_wait"): (GuidanceVersion, "can_wait"),
    ("GuidanceForm", "simplify"): (GuidanceVersion, "simplify"),
    ("GuidanceForm", "ask"): (GuidanceVersion, "ask"),
    ("GuidanceForm", "questions"): (GuidanceVersion, "questions"),
    ("CadenceChangeForm", "reason"): (AudienceClock, "override_reason"),
    ("PublishForm", "override_reason"): (PublishedUpdate, "staff_first_override"),
    ("FactSheetForm", "known"): (FactSheetRevision, "known"),
    ("FactSheetForm", "unknown"): (FactSheetRevision, "unknown"),
    ("FactSheetForm", "doing"): (FactSheetRevision, "doing"),
    ("FactSheetForm", "should_do"): (FactSheetRevision, "should_do"),
    ("FactSheetForm", "next_update"): (FactSheetRevision, "next_update"),
    ("DraftEditForm", "body"): (DraftRevision, "body"),
    ("NoteForm", "note"): (Draft, "return_note"),
    ("WithdrawForm", "note"): (Draft, "withdraw_reason"),
    ("AcknowledgeForm", "code"): (WarningAcknowledgement, "code"),
    ("AcknowledgeForm", "note"): (WarningAcknowledgement, "note"),
    ("TemplateForm", "body"): (MessageTemplate, "body"),
    ("NoticeGivenForm", "note"): (NoticeClock, "note"),
}


@pytest.mark.parametrize(
    ("form_field", "column"),
    COLUMNS.items(),
    ids=[f"{form}.{field}" for form, field in COLUMNS],
)
def test_a_text_field_allows_exactly_what_its_column_keeps(form_field, column):
    form_name, field_name = form_field
    model, column_name = column
    form_class = {f.__qualname__: f for f in FORMS}[form_name]

    field = form_class.base_fields[field_name]

    assert field.max_length == model._meta.get_field(column_name).max_length
