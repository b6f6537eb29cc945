"""Search terms: accents folded, lower case, Snowball-stemmed in the text's language.

Articles are indexed as their stems; a query word matches when any of its stems in the
configured languages matches, so "policier" finds "policiers", "sécurité" finds "securite"
and "wijkagent" finds "wijkagenten", whatever the reader's language.
"""

import re
import unicodedata
from functools import lru_cache
from typing import Any

import snowballstemmer

STEMMERS = {"fr": "french", "nl": "dutch", "en": "english", "de": "german"}
WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=8)
def _stemmer(language: str) -> Any:
    name = STEMMERS.get(language)
    return snowballstemmer.stemmer(name) if name else None


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def stem(word: str, language: str) -> str:
    stemmer = _stemmer(language)
    return str(stemmer.stemWord(word)) if stemmer else word


def index_terms(text: str, language: str) -> str:
    """The text as stems, for the full-text index."""
    return " ".join(stem(word, language) for word in words(text))


def query_alternatives(word: str, languages: tuple[str, ...] = ("fr", "nl", "en")) -> list[str]:
    """Every stem a query word may have been indexed as (plus the folded word itself)."""
    folded = fold(word)
    return sorted({folded, *(stem(folded, language) for language in languages)})
