"""Sign-in forms: district email, break-glass password, authenticator code."""

from __future__ import annotations

from allauth.account.forms import LoginForm
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.models import Authenticator
from django import forms
from django.core.exceptions import ValidationError

from signin import services
from signin.models import SecurityEvent

# One message for a wrong password and for an account that may not use passwords at all, so
# the answer never tells an attacker that a guessed password was right.
PASSWORD_REFUSED = (
    "The user name and password did not match an account that signs in with a password. "
    "Only break-glass and demo accounts, which also need an authenticator app, sign in here; "
    "everyone else signs in with their district account."
)


class DistrictEmailForm(forms.Form):
    """The work email address that tells which district's identity provider to use."""

    email = forms.EmailField(
        label="Work email address",
        max_length=254,
        error_messages={
            "required": "Enter your work email address, e.g. name@yourdistrict.org.",
            "invalid": "Enter an email address in the form name@yourdistrict.org.",
        },
    )


class PasswordSignInForm(LoginForm):
    """allauth's password form, for accounts that also have an authenticator app."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "User name"
        self.fields["login"].error_messages["required"] = "Enter your user name."
        self.fields["password"].help_text = ""
        self.fields["password"].error_messages["required"] = "Enter your password."

    def clean(self):
        username = (self.data.get("login") or "").strip()
        try:
            cleaned = super().clean()
        except ValidationError:
            services.sign_in_failed(
                request=self.request,
                kind=SecurityEvent.Kind.PASSWORD_FAILED,
                identifier=username,
                method="password",
            )
            raise ValidationError(PASSWORD_REFUSED, code="password_refused") from None
        reason = ""
        if self.user is not None and not self.user.is_active:
            reason = "Password sign-in refused: the account is switched off."
        elif (
            self.user is not None
            and not Authenticator.objects.filter(
                user=self.user, type=Authenticator.Type.TOTP
            ).exists()
        ):
            reason = "Password sign-in refused: the account has no authenticator app."
        if reason:
            services.sign_in_failed(
                request=self.request,
                kind=SecurityEvent.Kind.REFUSED,
                identifier=username,
                user=self.user,
                method="password",
                detail=reason,
            )
            raise ValidationError(PASSWORD_REFUSED, code="password_refused")
        return cleaned


class CodeForm(AuthenticateForm):
    """allauth's TOTP step, with every wrong code recorded and counted."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        field.label = "Code from your authenticator app"
        field.error_messages["required"] = "Enter the 6-digit code your authenticator app shows."
        field.widget.attrs.pop("placeholder", None)

    def clean_code(self) -> str:
        from allauth.core import context

        try:
            return super().clean_code()
        except ValidationError:
            services.sign_in_failed(
                request=context.request,
                kind=SecurityEvent.Kind.CODE_FAILED,
                identifier=self.user.username,
                user=self.user,
                method="password",
            )
            raise ValidationError(
                "That code did not match. Enter the 6-digit code your authenticator app "
                "shows now; each code works once.",
                code="incorrect_code",
            ) from None
