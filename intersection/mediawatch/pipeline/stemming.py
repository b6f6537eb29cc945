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
# The words indexed: a longer run of letters and digits is encoded data or a code pasted in
# a page, not something searched for, and PostgreSQL refuses a term over 2,047 bytes (a run
# of three such words, migration 0008, stays under: 3 x 64 characters x 4 bytes).
MAX_TERM_CHARS = 64
# The index holds an article's terms up to this size (about 12,000 words): PostgreSQL
# refuses a search vector over 1 MiB, and each term's bytes appear in it up to six times
# (the word, two pairs, three triples) with about 13 bytes of bookkeeping per term, at most
# 12.5 bytes per byte of terms.
MAX_TERMS_BYTES = 80_000


# Words too common to search for on their own (accents folded); phrases keep them.
STOPWORDS = frozenset(
    """a au aux avec ce ces dans de des du elle en et il ils je la le les leur mais ne nous
    on ou par pas pour qu que qui sa se ses son sur un une vous l d s n c j
    aan als bij dat de den der des die dit een en er het hij in is met na naar niet of om op
    te tot uit van voor we wij ze zij zijn
    an and are as at be by for from has have in is it its of on or that the to was were
    will with""".split()  # noqa: SIM905 - a word list is easier to read as text
)


NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _drop_combining(match: re.Match[str]) -> str:
    return "" if unicodedata.combining(match.group()) else match.group()


def strip_accents(text: str) -> str:
    """The text decomposed (NFKD) without its combining marks; only non-ASCII characters are
    looked at one by one (a few percent of a French text)."""
    return NON_ASCII.sub(_drop_combining, unicodedata.normalize("NFKD", text))


def fold(text: str) -> str:
    """Lower case without accents."""
    return strip_accents(text.lower())


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


class _Stems(dict[str, str]):
    """One language's stems of the words seen so far (a language's common words come back in
    every article); emptied when it reaches LIMIT words."""

    LIMIT = 65_536

    def __init__(self, language: str) -> None:
        super().__init__()
        name = STEMMERS.get(language)
        self.stemmer: Any = snowballstemmer.stemmer(name) if name else None

    def __missing__(self, word: str) -> str:
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[word] = str(self.stemmer.stemWord(word)) if self.stemmer else word
        return value


@lru_cache(maxsize=8)
def _stems(language: str) -> _Stems:
    return _Stems(language)


def stem(word: str, language: str) -> str:
    """Snowball stem in the language (the word itself in a language without a stemmer)."""
    return _stems(language)[word]


def index_terms(text: str, language: str) -> str:
    """The text as stems, for the full-text index: its words of up to MAX_TERM_CHARS
    characters, as far as MAX_TERMS_BYTES."""
    found = words(text)
    if found and max(map(len, found)) > MAX_TERM_CHARS:
        found = [word for word in found if len(word) <= MAX_TERM_CHARS]
    terms = " ".join(map(_stems(language).__getitem__, found))
    if len(terms) > MAX_TERMS_BYTES // 4 and len(encoded := terms.encode()) > MAX_TERMS_BYTES:
        kept = encoded[: MAX_TERMS_BYTES + 1].decode(errors="ignore")
        terms = kept.rsplit(" ", 1)[0]  # the last whole term
    return terms


def query_alternatives(word: str, languages: tuple[str, ...] = ("fr", "nl", "en")) -> list[str]:
    """Every stem a query word may have been indexed as (plus the folded word itself)."""
    folded = fold(word)
    return sorted({folded, *(stem(folded, language) for language in languages)})
