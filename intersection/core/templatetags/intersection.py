from datetime import timedelta
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from intersection.core.i18n import localized

register = template.Library()

BADGE_VARIANTS = {"success", "warning", "danger", "info", "neutral"}


@register.simple_tag
def tr(obj: Any, base: str) -> str:
    """Translated content in the reader's language. A fallback is marked with its `lang`, and
    a small tag says which language it is in, so readers and editors see what is missing."""
    text = localized(obj, base)
    if text.is_fallback:
        return format_html(
            '<span lang="{}">{}</span><span class="tag untranslated" title="{}">'
            '<span aria-hidden="true">{}</span><span class="visually-hidden"> ({})</span></span>',
            text.language,
            text.text,
            _("Not translated yet"),
            text.language.upper(),
            _("in %(language)s, not translated yet")
            % {"language": get_language_info(text.language)["name_translated"]},
        )
    return format_html("{}", text.text)


@register.simple_tag
def badge(text: Any, variant: str = "neutral") -> str:
    """A status badge: the text says it, colour and shape repeat it (see docs/design.md)."""
    return format_html(
        '<span class="badge badge-{}">{}</span>',
        variant if variant in BADGE_VARIANTS else "neutral",
        text,
    )


@register.filter
def timedelta_minutes(value: timedelta) -> int:
    return max(1, round(value.total_seconds() / 60))


@register.filter
def split(value: str) -> list[str]:
    """Words of a string: `{% for token in "a b c"|split %}`."""
    return str(value).split()
