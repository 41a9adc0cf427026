"""Forms for recording updates and changing the cadence."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from comms.models import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES, Audience
from incidents.models import Incident


class UpdateRecordForm(forms.Form):
    audience = forms.ChoiceField(choices=Audience.choices)
    summary = forms.CharField(
        label="What the update said",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A sentence or two, for the timeline. Up to 2,000 characters.",
    )
    next_update_in = forms.IntegerField(
        label="Next update promised in (minutes)",
        min_value=1,
        max_value=MAX_INTERVAL_MINUTES,
        required=False,
        help_text="Minutes on this incident's clock. No later than the audience's cadence.",
    )
    next_update_at = forms.DateTimeField(
        label="…or at (local time)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident = incident

    def clean(self):
        data = super().clean()
        minutes, at = data.get("next_update_in"), data.get("next_update_at")
        if self.errors:
            return data
        if (minutes is None) == (at is None):
            raise forms.ValidationError(
                "Give the promised next update either in minutes from now or as a time, not both."
                if minutes is not None
                else "Promise the next update: give minutes from now or a time."
            )
        return data

    def promised_next_at(self, now: datetime | None = None) -> datetime:
        now = now or timezone.now()
        minutes = self.cleaned_data.get("next_update_in")
        if minutes is not None:
            return now + self.incident.wall_span(timedelta(minutes=minutes))
        # The time field was read in the district's zone (activated by the middleware).
        return self.cleaned_data["next_update_at"]


class CadenceChangeForm(forms.Form):
    audience = forms.ChoiceField(choices=Audience.choices)
    interval = forms.IntegerField(
        label="Minutes between updates",
        min_value=MIN_INTERVAL_MINUTES,
        max_value=MAX_INTERVAL_MINUTES,
        help_text="From 5 minutes to 7 days (10,080 minutes), on this incident's clock.",
        error_messages={
            "min_value": "The interval must be at least 5 minutes.",
            "max_value": "The interval must be at most 7 days (10,080 minutes).",
        },
    )
    reason = forms.CharField(
        max_length=500, help_text="Why this audience needs a different rhythm. On the timeline."
    )
