"""Forms: they check what a person typed; the services check the rules."""

from __future__ import annotations

from django import forms

from incidents.models import Incident, Role, User


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
    systems = forms.ModelMultipleChoiceField(
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
    schools = forms.ModelMultipleChoiceField(
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
