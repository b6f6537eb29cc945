from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from intersection.network.models import Country

from .models import PauseReason, Source
from .pipeline.netguard import Refusal, UrlCheck, check_url
from .services import address_policy

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


def address_problem(check: UrlCheck) -> str:
    """Why the fetcher would refuse this address, in a curator's words."""
    if check.refusal is Refusal.PRIVATE:
        return gettext(
            "This address points inside a private network (%(address)s):"
            " the media watch only fetches public sites."
        ) % {"address": check.address}
    if check.refusal is Refusal.PORT:
        return gettext("Port %(port)s is not allowed: use a web address (port 80 or 443).") % {
            "port": check.port
        }
    if check.refusal is Refusal.UNRESOLVABLE:
        return gettext("This host name cannot be found.")
    if check.refusal is Refusal.BAD_PORT:
        return gettext("The port of this address is not a valid number.")
    if check.refusal is Refusal.NO_HOST:
        return gettext("This address has no host name.")
    return gettext("Only http:// and https:// addresses can be fetched.")


class SourceForm(forms.ModelForm[Source]):
    """A news source as a curator saves it: its address is checked with the fetcher's own
    address policy (nothing is fetched), and pausing or resuming it keeps its reason."""

    class Meta:
        model = Source
        fields = [
            "name", "kind", "url", "query", "language_hint", "country", "organisation",
            "poll_minutes", "active", "pause_reason", "disabled_reason",
        ]  # fmt: skip

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        self._check_address(data)
        reason = self._pause_reason(data)
        self.instance.pause_reason = reason
        if "pause_reason" in self.fields:
            data["pause_reason"] = reason
        return data

    def _check_address(self, data: dict[str, object]) -> None:
        url = data.get("url")
        if not isinstance(url, str) or not url:
            return  # the field's own error says why
        address_changed = {"url", "kind", "query"} & set(self.changed_data)
        if not data.get("active", self.instance.active) and not address_changed:
            return  # pausing a source whose host is gone must stay possible
        source = Source(
            url=url, kind=str(data.get("kind") or ""), query=str(data.get("query") or "")
        )
        check = check_url(source.fetch_url, address_policy())
        if not check.ok:
            self.add_error("url", address_problem(check))

    def _pause_reason(self, data: dict[str, object]) -> str:
        """Active: no reason. Paused by the curator: theirs, unless one is already set (the
        failures that paused it, or "not enabled yet"). The failure counts stay."""
        if data.get("active", self.instance.active):
            return ""
        given = data.get("pause_reason", self.instance.pause_reason)
        return str(given) if given else PauseReason.BY_CURATOR
