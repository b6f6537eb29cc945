from datetime import timedelta
from typing import Any

from django import template
from django.utils.html import format_html

from intersection.core.i18n import localized

register = template.Library()


@register.simple_tag
def tr(obj: Any, base: str) -> str:
    """Translated content in the reader's language; a fallback is marked with its `lang`."""
    text = localized(obj, base)
    if text.is_fallback:
        return format_html('<span lang="{}">{}</span>', text.language, text.text)
    return format_html("{}", text.text)


@register.filter
def timedelta_minutes(value: timedelta) -> int:
    return max(1, round(value.total_seconds() / 60))
