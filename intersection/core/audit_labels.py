"""Audit actions in words: `source.delete` reads "Deleted: news source" in the reader's
language. The code itself stays on the page for administrators (technical detail)."""

from django.apps import apps
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy

SPECIFIC = {
    "access.denied": gettext_lazy("Access refused"),
    "agreement.download": gettext_lazy("Signed agreement downloaded"),
    "register.export": gettext_lazy("Member register exported"),
    "mediawatch.export": gettext_lazy("Media-watch search exported"),
    "savedsearch.rotate_key": gettext_lazy("New feed address for a saved search"),
    "source.poll_now": gettext_lazy("News source polled now from the operations page"),
    "token.create": gettext_lazy("API token created"),
    "token.revoke": gettext_lazy("API token revoked"),
    "user.logout_everywhere": gettext_lazy("Signed out everywhere"),
    "user.password_set_by_admin": gettext_lazy("Password set by an administrator"),
}
VERBS = {
    "create": gettext_lazy("Created: %(kind)s"),
    "change": gettext_lazy("Changed: %(kind)s"),
    "delete": gettext_lazy("Deleted: %(kind)s"),
}
# Models edited in the back office through AuditedAdminMixin (their verbs are generic).
AUDITED_APPS = ("accounts", "network", "mediawatch")


def _model_label(model_name: str) -> str | None:
    for app in AUDITED_APPS:
        try:
            model = apps.get_model(app, model_name)
        except LookupError:
            continue
        return str(model._meta.verbose_name)
    return None


def action_label(action: str) -> str:
    """A readable label for an audit action code; the code itself when it is unknown."""
    if action in SPECIFIC:
        return str(SPECIFIC[action])
    model_name, _dot, verb = action.partition(".")
    kind = _model_label(model_name)
    if kind is not None and verb in VERBS:
        return capfirst(str(VERBS[verb]) % {"kind": kind})
    return action


def known_actions() -> list[tuple[str, str]]:
    """(code, label) of every action worth filtering on, sorted by label: the specific ones
    and the back office's writes on the models it audits."""
    from django.contrib import admin

    from .admin import AuditedAdminMixin

    codes = list(SPECIFIC)
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, AuditedAdminMixin):
            codes.extend(f"{model._meta.model_name}.{verb}" for verb in VERBS)
    labelled = [(code, action_label(code)) for code in codes]
    return sorted(labelled, key=lambda pair: pair[1].casefold())
