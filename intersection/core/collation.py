"""Sorting names the way readers of a language expect: accents and case do not decide the
order ("Écaussinnes" sorts with the E's, not after "Zele"), and each language's rules apply
where the database knows them.

PostgreSQL sorts with its ICU collations (fr-x-icu, nl-x-icu, en-x-icu). SQLite has no
language collation: `sqlite_collation` is registered on every SQLite connection and sorts
by the text without accents and case, then by the text itself.
"""

import unicodedata
from typing import Any

from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Collate, NullIf

from .i18n import CONTENT_LANGUAGES

SQLITE_COLLATION = "intersection_text"
ICU = {"fr": "fr-x-icu", "nl": "nl-x-icu", "en": "en-x-icu"}


def sort_key(text: str) -> tuple[str, str]:
    """Text without accents, case-folded; then the text itself to break ties."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return folded.casefold(), text


def sqlite_collation(left: str, right: str) -> int:
    a, b = sort_key(left), sort_key(right)
    return (a > b) - (a < b)


def register_sqlite_collation(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: give SQLite connections the collation."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(SQLITE_COLLATION, sqlite_collation)


def collated(expression: Any, language: str) -> Any:
    """`expression` sorted with the collation of `language` on the current database."""
    if connection.vendor == "postgresql":
        return Collate(expression, ICU.get(language[:2], "und-x-icu"))
    if connection.vendor == "sqlite":
        return Collate(expression, SQLITE_COLLATION)
    return expression


def displayed(base: str, language: str) -> Any:
    """The translatable field `base` as readers of `language` see it: their language, else
    the first filled one in CONTENT_LANGUAGES order (as core.i18n.localized does)."""
    order = [language[:2], *[lang for lang in CONTENT_LANGUAGES if lang != language[:2]]]
    return Coalesce(*[NullIf(F(f"{base}_{lang}"), Value("")) for lang in order], Value(""))
