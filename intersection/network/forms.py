from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Country, Organisation, OrganisationKind
from .status import AgreementStatus

LANGUAGE_CHOICES = [
    ("", _("Any language")),
    ("fr", _("French")),
    ("nl", _("Dutch")),
    ("en", _("English")),
]

STATUS_LABELS = {
    AgreementStatus.DRAFT: _("Draft or not yet in force"),
    AgreementStatus.ACTIVE: _("Active"),
    AgreementStatus.EXPIRING: _("Expiring soon"),
    AgreementStatus.EXPIRED: _("Expired"),
    AgreementStatus.TERMINATED: _("Terminated"),
}


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *OrganisationKind.choices]
    )
    country = forms.ChoiceField(
        label=_("Country"), required=False, choices=[("", _("All countries")), *Country.choices]
    )
    parent = forms.ModelChoiceField(
        label=_("Network"),
        required=False,
        queryset=Organisation.objects.filter(children__isnull=False).distinct(),
        empty_label=_("All networks"),
        to_field_name="slug",
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=LANGUAGE_CHOICES)


class AgreementFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("All statuses")),
            *[(s.value, label) for s, label in STATUS_LABELS.items()],
        ],
    )
