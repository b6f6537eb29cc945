from django import forms
from django.utils.translation import gettext_lazy as _

from intersection.network.models import Country

from .models import Source

LANGUAGES = [("", _("Any language")), ("fr", _("French")), ("nl", _("Dutch")),
             ("en", _("English")), ("de", _("German"))]  # fmt: skip


class ArchiveFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        help_text=_('Words, or an "exact phrase".'),
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=LANGUAGES)
    country = forms.ChoiceField(
        label=_("Country"), required=False, choices=[("", _("All countries")), *Country.choices]
    )
    source = forms.ModelChoiceField(
        label=_("Source"),
        required=False,
        queryset=Source.objects.all(),
        empty_label=_("All sources"),
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data
