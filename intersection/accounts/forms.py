from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class EmailLoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip().lower()


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “Zone intranet import”."),
    )


class LogoutEverywhereForm(forms.Form):
    """Sign out everywhere, with the explicit choice to revoke the API tokens as well."""

    revoke_tokens = forms.BooleanField(
        required=False,
        help_text=_("Programs using a revoked token are refused until you give them a new one."),
    )

    def __init__(self, *args: Any, active_tokens: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["revoke_tokens"].label = ngettext(
            "Also revoke my API token", "Also revoke my %(count)d API tokens", active_tokens
        ) % {"count": active_tokens}
