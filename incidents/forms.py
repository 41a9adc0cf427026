"""Forms: they check what a person typed; the services check the rules."""

from __future__ import annotations

from django import forms

from incidents.models import (
    Decision,
    DutyTrigger,
    FollowUp,
    GuidanceVersion,
    Incident,
    Question,
    Review,
    Role,
    School,
    User,
)
from incidents.text import limit

# The largest value an id column holds (a signed 64-bit integer).
MAX_ID = 2**63 - 1


class IdsField(forms.ModelMultipleChoiceField):
    """Several ids to choose from the queryset. An id past the column's range is an invalid
    choice here: Django's ``__in`` lookup would pass it to the database, which SQLite cannot
    even bind."""

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple) else ():
            text = str(pk).strip().removeprefix("-")
            # Length first: Python refuses to convert a string of more than 4,300 digits.
            if text.isdigit() and (len(text) > len(str(MAX_ID)) or not 0 < int(pk) <= MAX_ID):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class IncidentOpenForm(forms.Form):
    SCOPE_ALL = "all"
    SCOPE_SOME = "some"
    MODE_REAL = "real"
    MODE_EXERCISE = "exercise"

    title = forms.CharField(
        max_length=200,
        help_text="A short name everyone will recognise, e.g. “SIS unavailable at all schools”.",
    )
    kind = forms.ChoiceField(label="What failed", choices=Incident.Kind.choices)
    severity = forms.TypedChoiceField(
        choices=Incident.Severity.choices, coerce=int, initial=Incident.Severity.HIGH
    )
    systems = IdsField(
        label="Affected systems",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    scope = forms.ChoiceField(
        label="Affected schools",
        choices=[(SCOPE_ALL, "All schools"), (SCOPE_SOME, "Only the schools chosen below")],
        widget=forms.RadioSelect,
        initial=SCOPE_ALL,
    )
    schools = IdsField(
        label="Schools", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    impacts = forms.MultipleChoiceField(
        label="Impact",
        choices=Incident.Impact.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    mode = forms.ChoiceField(
        label="Real incident or exercise",
        choices=[
            (MODE_REAL, "Real incident"),
            (MODE_EXERCISE, "Exercise: rehearsal only, nothing leaves the console"),
        ],
        widget=forms.RadioSelect,
        initial=MODE_REAL,
    )
    time_scale = forms.IntegerField(
        label="Exercise clock speed",
        min_value=Incident.MIN_TIME_SCALE,
        max_value=Incident.MAX_TIME_SCALE,
        initial=60,
        required=False,
        help_text="For exercises only: 60 plays 72 hours in 72 minutes. From 1 to 3600.",
    )

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["systems"].queryset = district.systems.all()
        self.fields["schools"].queryset = district.schools.all()

    def clean(self):
        data = super().clean()
        if data.get("scope") == self.SCOPE_SOME and not data.get("schools"):
            self.add_error("schools", "Choose at least one school, or choose “All schools”.")
        if data.get("mode") == self.MODE_EXERCISE and not data.get("time_scale"):
            self.add_error("time_scale", "Give the exercise clock speed, from 1 to 3600.")
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        exercise = data["mode"] == self.MODE_EXERCISE
        return {
            "title": data["title"],
            "kind": data["kind"],
            "severity": data["severity"],
            "systems": data["systems"],
            "all_schools": data["scope"] == self.SCOPE_ALL,
            "schools": data["schools"],
            "impacts": data["impacts"],
            "is_exercise": exercise,
            "time_scale": data["time_scale"] if exercise else 1,
        }


class RoleAssignForm(forms.Form):
    function = forms.ChoiceField(choices=[(r.value, r.label) for r in Role])
    user = forms.ModelChoiceField(queryset=None, required=False, empty_label="Unassigned")

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(district=district, is_active=True)


class DutyRowForm(forms.Form):
    title = forms.CharField(max_length=200)
    due_minutes = forms.IntegerField(
        label="Due (minutes after declaration)", min_value=1, max_value=30 * 24 * 60
    )
    trigger = forms.ChoiceField(label="Marked done", choices=DutyTrigger.choices)


DutyFormSet = forms.formset_factory(
    DutyRowForm, extra=1, can_delete=True, max_num=40, validate_max=True
)


class DecisionForm(forms.Form):
    text = forms.CharField(label="Decision", max_length=limit(Decision, "text"))
    decided_by = forms.CharField(label="Who decided", max_length=limit(Decision, "decided_by"))
    rationale = forms.CharField(
        label="Why", max_length=limit(Decision, "rationale"), widget=forms.Textarea
    )
    visibility = forms.ChoiceField(choices=Decision.Visibility.choices)


class SchoolForm(forms.Form):
    """The school a principal acts for."""

    school = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(district=district)


class QuestionAskForm(SchoolForm):
    text = forms.CharField(label="Question", max_length=limit(Question, "text"))


class QuestionAnswerForm(forms.Form):
    answer = forms.CharField(label="Answer", max_length=limit(Question, "answer"))
    for_guidance = forms.BooleanField(required=False)


class ReviewForm(forms.Form):
    what_happened = forms.CharField(
        max_length=limit(Review, "what_happened"), required=False, widget=forms.Textarea
    )
    why = forms.CharField(max_length=limit(Review, "why"), required=False, widget=forms.Textarea)


class FollowUpForm(forms.Form):
    text = forms.CharField(label="Action", max_length=limit(FollowUp, "text"))
    owner = forms.ModelChoiceField(
        queryset=None,
        error_messages={
            "required": "Choose who owns the action.",
            "invalid_choice": "Choose who owns the action.",
        },
    )
    due_on = forms.DateField(
        required=False,
        error_messages={"invalid": "Give the due date as a date, e.g. 2026-12-01."},
    )

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(district=district)


class FollowUpDoneForm(forms.Form):
    action = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].queryset = FollowUp.objects.filter(review__incident=incident)


def form_error_text(form: forms.Form) -> str:
    """Every error of a form as one sentence list, for a page that shows it as a message."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = field.label or name.replace("_", " ").capitalize() if field else ""
        for error in errors:
            parts.append(f"{label}: {error}" if label else error)
    return "Nothing was saved. " + " ".join(parts)


class GuidanceForm(forms.Form):
    today = forms.CharField(
        label=GuidanceVersion.LABELS["today"],
        max_length=limit(GuidanceVersion, "today"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    can_wait = forms.CharField(
        label=GuidanceVersion.LABELS["can_wait"],
        max_length=limit(GuidanceVersion, "can_wait"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    simplify = forms.CharField(
        label=GuidanceVersion.LABELS["simplify"],
        max_length=limit(GuidanceVersion, "simplify"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    ask = forms.CharField(
        label=GuidanceVersion.LABELS["ask"],
        max_length=limit(GuidanceVersion, "ask"),
        required=False,
    )
    questions = forms.CharField(
        label=GuidanceVersion.LABELS["questions"],
        max_length=limit(GuidanceVersion, "questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Answers you marked for the guidance are added to this when you publish.",
    )
