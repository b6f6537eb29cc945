"""Translatable content: one pattern for every module.

A translatable text is stored as one field per content language (`name_fr`, `name_nl`,
`name_en`). Readers get the current language, else the first filled language in
CONTENT_LANGUAGES order, and learn which language they got (so templates can mark it with a
`lang` attribute). `translation_status` tells editors which languages are missing.
"""

from dataclasses import dataclass
from typing import Any

from django.utils import translation

CONTENT_LANGUAGES: tuple[str, ...] = ("fr", "nl", "en")


@dataclass(frozen=True)
class LocalizedText:
    text: str
    language: str
    is_fallback: bool

    def __str__(self) -> str:
        return self.text


def localized(obj: Any, base: str, language: str | None = None) -> LocalizedText:
    wanted = (language or translation.get_language() or CONTENT_LANGUAGES[0])[:2]
    value = getattr(obj, f"{base}_{wanted}", "") or ""
    if value:
        return LocalizedText(value, wanted, False)
    for lang in CONTENT_LANGUAGES:
        value = getattr(obj, f"{base}_{lang}", "") or ""
        if value:
            return LocalizedText(value, lang, lang != wanted)
    return LocalizedText("", wanted, False)


def translation_status(obj: Any, bases: tuple[str, ...]) -> dict[str, str]:
    """For each content language: "complete", "partial" or "missing" over the given fields."""
    status = {}
    for lang in CONTENT_LANGUAGES:
        filled = sum(1 for base in bases if getattr(obj, f"{base}_{lang}", ""))
        status[lang] = (
            "complete" if filled == len(bases) else "missing" if filled == 0 else "partial"
        )
    return status


class Translated:
    """Descriptor: `name = Translated("name")` reads `name_<current language>` with fallback."""

    def __init__(self, base: str) -> None:
        self.base = base

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return localized(obj, self.base).text
