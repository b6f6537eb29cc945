"""What the style guide page shows: a sample form with help texts and errors, and a page of
a paginator, so that every component appears in its real state (docs/design.md)."""

from django import forms
from django.core.paginator import Page, Paginator
from django.utils import translation
from django.utils.translation import gettext_lazy as _

KINDS = [("", _("All kinds")), ("zone", _("Police zone")), ("association", _("Association"))]


class SampleForm(forms.Form):
    name = forms.CharField(label=_("Name"), help_text=_("As it appears on official letters."))
    email = forms.EmailField(label=_("Email address"))
    kind = forms.ChoiceField(label=_("Kind"), choices=KINDS, required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notify = forms.BooleanField(
        label=_("Email me when it changes"),
        required=False,
        help_text=_("At most one email a day."),
    )


def sample_forms(languages: list[str]) -> dict[str, SampleForm]:
    """One bound, invalid sample form per language: its errors are made in that language."""
    found = {}
    for language in languages:
        with translation.override(language):
            data = {"name": "", "email": "not-an-address", "kind": "zone"}
            form = SampleForm({f"{language}-{k}": v for k, v in data.items()}, prefix=language)
            form.full_clean()
            found[language] = form
    return found


def sample_page() -> Page:
    return Paginator(range(100), 10).get_page(2)
