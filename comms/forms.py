"""Forms for recording updates, changing the cadence, and families' subscriptions."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from comms import subscriptions, translations
from comms.models import (
    MAX_INTERVAL_MINUTES,
    MIN_INTERVAL_MINUTES,
    ApprovedParagraph,
    Audience,
    AudienceClock,
    CadencePhase,
    Channel,
    Draft,
    DraftRevision,
    FactSheetRevision,
    MessageTemplate,
    NoticeClock,
    PublishedUpdate,
    Subscriber,
    WarningAcknowledgement,
)
from incidents.models import District, Incident, School, User
from incidents.text import limit


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
        max_length=limit(AudienceClock, "override_reason"),
        help_text="Why this audience needs a different rhythm. On the timeline.",
    )


class PromiseMixin(forms.Form):
    """The promised next update, in minutes from now or as a local time."""

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

    def __init__(self, *args, incident: Incident, heading: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.incident = incident
        # A public title and summary is published without promising an update.
        self.heading = heading

    def clean(self):
        data = super().clean()
        if self.errors or self.heading:
            return data
        minutes, at = data.get("next_update_in"), data.get("next_update_at")
        if minutes is not None and at is not None:
            raise forms.ValidationError(
                "Give the promised next update either in minutes from now or as a time, not both."
            )
        if minutes is None and at is None:
            raise forms.ValidationError("Promise the next update: give minutes from now or a time.")
        return data

    def promised_next_at(self, now: datetime | None = None) -> datetime:
        now = now or timezone.now()
        minutes = self.cleaned_data.get("next_update_in")
        if minutes is not None:
            return now + self.incident.wall_span(timedelta(minutes=minutes))
        return self.cleaned_data["next_update_at"]


class PublishForm(PromiseMixin):
    expected_revision = forms.IntegerField(widget=forms.HiddenInput)
    override_reason = forms.CharField(
        label="Reason to publish before staff have heard (only if staff have not)",
        max_length=limit(PublishedUpdate, "staff_first_override"),
        required=False,
    )
    keep_promised_time = forms.BooleanField(
        label="Publish anyway: readers see the promised time, not the one in the text",
        required=False,
    )
    missing_languages_reason = forms.CharField(
        label="Reason to publish without every language (only if one is not approved)",
        max_length=limit(PublishedUpdate, "missing_reason"),
        required=False,
    )


class FactSheetForm(forms.Form):
    known = forms.CharField(
        label="What we know",
        max_length=limit(FactSheetRevision, "known"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Impact first: who is affected and how. "
        f"Up to {limit(FactSheetRevision, 'known'):,} characters.",
    )
    unknown = forms.CharField(
        label="What we do not know yet",
        max_length=limit(FactSheetRevision, "unknown"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    doing = forms.CharField(
        label="What we are doing",
        max_length=limit(FactSheetRevision, "doing"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    should_do = forms.CharField(
        label="What people should do",
        max_length=limit(FactSheetRevision, "should_do"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    next_update = forms.CharField(
        label="When the next update comes",
        max_length=limit(FactSheetRevision, "next_update"),
        required=False,
        help_text="As people should read it, e.g. “by 2 pm today”.",
    )
    expected_number = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class DraftNewForm(forms.Form):
    audience = forms.ChoiceField(choices=Audience.choices)
    channel = forms.ChoiceField(choices=Channel.choices)


class HeadingNewForm(forms.Form):
    """Starting a public title names what it starts, so that a stray request starts nothing."""

    purpose = forms.ChoiceField(choices=[(Draft.Purpose.HEADING, Draft.Purpose.HEADING.label)])


class DraftEditForm(forms.Form):
    body = forms.CharField(
        label="Message",
        max_length=limit(DraftRevision, "body"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=f"Plain text. Up to {limit(DraftRevision, 'body'):,} characters.",
    )
    expected_revision = forms.IntegerField(widget=forms.HiddenInput)


class DraftCheckForm(forms.Form):
    """The text in the editor, checked as it is typed; nothing is saved."""

    body = forms.CharField(required=False, strip=False, max_length=limit(DraftRevision, "body"))


class NoteForm(forms.Form):
    note = forms.CharField(label="Note", max_length=limit(Draft, "return_note"))
    expected_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)


class WithdrawForm(forms.Form):
    note = forms.CharField(label="Reason", max_length=limit(Draft, "withdraw_reason"))
    expected_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ParagraphForm(forms.Form):
    text = forms.CharField(
        label="A paragraph you approve",
        max_length=limit(ApprovedParagraph, "text"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One paragraph. {next_update} may stand for the time of the next update.",
    )


class CorrectForm(forms.Form):
    note = forms.CharField(label="What was wrong", max_length=limit(Draft, "correction_note"))
    expected_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)


class AcknowledgeForm(forms.Form):
    code = forms.CharField(
        max_length=limit(WarningAcknowledgement, "code"), widget=forms.HiddenInput
    )
    note = forms.CharField(label="Why it stands", max_length=limit(WarningAcknowledgement, "note"))
    expected_revision = forms.IntegerField(widget=forms.HiddenInput)


class NoticeGivenForm(forms.Form):
    note = forms.CharField(label="How and to whom", max_length=limit(NoticeClock, "note"))


class DrafterForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=None,
        error_messages={
            "required": "Choose a person from your district.",
            "invalid_choice": "Choose a person from your district.",
        },
    )
    remove = forms.BooleanField(required=False)

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = User.objects.filter(district=district)


class TemplateReviewForm(forms.Form):
    template = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, district, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = MessageTemplate.objects.filter(district=district)


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of incident",
        choices=[(MessageTemplate.ANY_KIND, "Any kind"), *Incident.Kind.choices],
    )
    audience = forms.ChoiceField(choices=Audience.choices)
    body = forms.CharField(
        label="Text",
        max_length=limit(MessageTemplate, "body"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Placeholders filled from the fact sheet: {known} {unknown} {doing} "
        "{should_do} {next_update} {title} {district}.",
    )


PHONE = re.compile(r"^\+[1-9]\d{7,14}$")


class CommsPolicyForm(forms.Form):
    legal_audiences = forms.MultipleChoiceField(
        label="Audiences whose every message goes through legal review",
        choices=Audience.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    student_data_needs_legal = forms.BooleanField(
        label="Messages about an incident with student-data impact go through legal review",
        required=False,
    )
    student_data_audiences = forms.MultipleChoiceField(
        label="In a student-data incident, legal reviews messages to",
        choices=Audience.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave staff out so a short staff note does not wait for counsel.",
    )
    student_data_channels = forms.MultipleChoiceField(
        label="In a student-data incident, legal reviews messages sent by",
        choices=Channel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    webhook_url = forms.URLField(
        label="Webhook address",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Each public update is also posted here as signed JSON, for the district's "
        "website or mass-notification system.",
    )
    languages = forms.CharField(
        label="Languages families are written to in, besides English",
        required=False,
        max_length=200,
        help_text="Language codes separated by commas, e.g. “es, vi, ar” for Spanish, "
        "Vietnamese and Arabic. Each families or public update is then translated into each, "
        "and published in all of them together.",
    )
    notice_days = forms.CharField(
        label="Statutory notice periods (days)",
        required=False,
        max_length=100,
        help_text="For incidents with student-data impact, e.g. “10, 30, 60”.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for audience in Audience:
            self.fields[f"email_{audience.value}"] = forms.EmailField(
                label=f"Email list for {audience.label.lower()}",
                required=False,
                help_text="Approved email updates to this audience are sent here.",
            )
        for audience in (Audience.STAFF, Audience.BOARD):
            self.fields[f"sms_{audience.value}"] = forms.CharField(
                label=f"Text numbers for {audience.label.lower()}",
                required=False,
                max_length=2000,
                help_text="International format, separated by commas, e.g. +15555550123.",
            )

    def clean_languages(self) -> list[str]:
        codes: list[str] = []
        for part in filter(None, (p.strip() for p in self.cleaned_data["languages"].split(","))):
            try:
                locale = translations.locale(part)
            except ValueError as error:
                raise forms.ValidationError(str(error)) from None
            code = str(locale).replace("_", "-")
            if locale.language == "en":
                raise forms.ValidationError(
                    "English is always written; list only the other languages."
                )
            if code not in codes:
                codes.append(code)
        return codes

    def clean_notice_days(self) -> list[int]:
        raw = self.cleaned_data["notice_days"]
        days = []
        for part in filter(None, (p.strip() for p in raw.split(","))):
            if not part.isdigit() or not 1 <= int(part) <= 365:
                raise forms.ValidationError(
                    f"“{part}” is not a number of days from 1 to 365. Separate periods with commas."
                )
            days.append(int(part))
        return sorted(set(days))

    def clean(self):
        data = super().clean()
        for name in [n for n in self.fields if n.startswith("sms_")]:
            numbers = [n.strip() for n in (data.get(name) or "").split(",") if n.strip()]
            bad = [n for n in numbers if not PHONE.match(n)]
            if bad:
                self.add_error(
                    name, f"“{bad[0]}” is not a number in international format, e.g. +15555550123."
                )
            data[name] = numbers
        if data.get("student_data_needs_legal"):
            for name, what in (
                ("student_data_audiences", "audience"),
                ("student_data_channels", "channel"),
            ):
                if name in data and not data[name]:
                    self.add_error(
                        name,
                        f"Choose at least one {what} for legal to review in a student-data "
                        "incident, or turn that rule off above.",
                    )
        return data

    def policy_values(self) -> dict:
        data = self.cleaned_data
        return {
            "legal_audiences": data["legal_audiences"],
            "student_data_needs_legal": data["student_data_needs_legal"],
            "student_data_audiences": data["student_data_audiences"],
            "student_data_channels": data["student_data_channels"],
            "notice_days": data["notice_days"],
            "webhook_url": data["webhook_url"],
            "languages": data["languages"],
            "email_lists": {a: data[f"email_{a}"] for a in Audience.values if data[f"email_{a}"]},
            "sms_lists": {a: data[f"sms_{a}"] for a in ("staff", "board") if data.get(f"sms_{a}")},
        }

    @classmethod
    def initial_from(cls, policy) -> dict:
        initial = {
            "legal_audiences": policy.legal_audiences,
            "student_data_needs_legal": policy.student_data_needs_legal,
            "student_data_audiences": policy.student_data_audiences,
            "student_data_channels": policy.student_data_channels,
            "notice_days": ", ".join(str(d) for d in policy.notice_days),
            "webhook_url": policy.webhook_url,
            "languages": ", ".join(policy.languages or []),
        }
        for audience, address in policy.email_lists.items():
            initial[f"email_{audience}"] = address
        for audience, numbers in policy.sms_lists.items():
            initial[f"sms_{audience}"] = ", ".join(numbers)
        return initial


class CadenceDefaultsForm(forms.Form):
    """One number per audience and phase: minutes between updates."""

    def __init__(self, *args, initial_intervals: dict[tuple[str, str], int], **kwargs):
        super().__init__(*args, **kwargs)
        self.grid = []
        for audience in Audience:
            row = []
            for phase in CadencePhase:
                name = f"{audience.value}__{phase.value}"
                self.fields[name] = forms.IntegerField(
                    label=f"{audience.label}, {phase.label}",
                    min_value=MIN_INTERVAL_MINUTES,
                    max_value=MAX_INTERVAL_MINUTES,
                    initial=initial_intervals[(audience.value, phase.value)],
                    error_messages={
                        "min_value": "At least 5 minutes.",
                        "max_value": "At most 7 days (10,080 minutes).",
                    },
                )
                row.append(self[name])
            self.grid.append((audience.label, row))
        self.phases = [p.label for p in CadencePhase]

    def intervals(self) -> dict[tuple[str, str], int]:
        return {
            tuple(name.split("__")): value  # type: ignore[misc]
            for name, value in self.cleaned_data.items()
        }


class SubscribeForm(forms.Form):
    """A family's sign-up on the public status page: how to reach them, and for which schools."""

    channel = forms.ChoiceField(
        label=_("How should we reach you?"),
        choices=[(Subscriber.Via.EMAIL, _("Email")), (Subscriber.Via.SMS, _("Text message"))],
        initial=Subscriber.Via.EMAIL,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose email or text message.")},
    )
    email = forms.CharField(
        label=_("Email address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile number, for text messages"),
        required=False,
        max_length=40,
        help_text=_("Message and data rates may apply. Reply STOP to any text to end them."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    schools = forms.ModelMultipleChoiceField(
        label=_("Which schools?"),
        queryset=School.objects.none(),
        required=False,
        help_text=_("Leave every school unticked to hear about the whole district."),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose schools from the list.")},
    )

    language = forms.ChoiceField(
        label=_("Which language?"),
        choices=[("en", "English")],
        initial="en",
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, district: District, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = School.objects.filter(district=district)
        codes = ["en", *translations.district_languages(district)]
        self.fields["language"].choices = [(c, translations.name_of(c)) for c in codes]
        self.offers_languages = len(codes) > 1

    def clean(self):
        data = super().clean()
        channel = data.get("channel")
        if channel:
            field = "email" if channel == Subscriber.Via.EMAIL else "phone"
            try:
                data["address"] = subscriptions.normalised(channel, data.get(field) or "")
            except ValidationError as error:
                self.add_error(field, error)
        return data


class ConfirmCodeForm(forms.Form):
    """The code texted to a phone, typed on the page, with the signed ticket of its sign-up."""

    ticket = forms.CharField(widget=forms.HiddenInput, max_length=500)
    code = forms.CharField(
        label=_("The six-digit code we texted you"),
        max_length=12,
        error_messages={"required": _("Type the six-digit code from the text message.")},
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*"}
        ),
    )
