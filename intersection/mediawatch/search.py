"""One search interface over two engines: SQLite FTS5 (default) and PostgreSQL full text.

Both index `Article.search_terms` (stems, see pipeline/stemming.py) and answer the same
query language: words (all required), "exact phrases", and filters on the queryset.
"""

import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Article
from .pipeline.stemming import STOPWORDS, fold, query_alternatives, stem, words

PHRASE = re.compile(r'"([^"]+)"')


@dataclass(frozen=True)
class ParsedQuery:
    words: list[str]
    phrases: list[list[str]]

    @property
    def empty(self) -> bool:
        return not self.words and not self.phrases


def parse_query(query: str) -> ParsedQuery:
    phrases = [words(p) for p in PHRASE.findall(query)]
    rest = [w for w in words(PHRASE.sub(" ", query)) if w not in STOPWORDS]
    return ParsedQuery(rest[:20], [p for p in phrases if p][:5])


def _fts5_expression(parsed: ParsedQuery, language: str) -> str:
    parts = []
    for word in parsed.words:
        options = " OR ".join(f'"{alt}"' for alt in query_alternatives(word))
        parts.append(f"({options})")
    for phrase in parsed.phrases:
        stems = " ".join(stem(w, language) for w in phrase)
        parts.append(f'"{stems}"')
    return " AND ".join(parts)


TSVECTOR = "to_tsvector('simple', mediawatch_article.search_terms)"


def _postgres_filter(
    queryset: QuerySet[Article], parsed: ParsedQuery, language: str
) -> QuerySet[Article]:
    clauses, params = [], []
    for word in parsed.words:
        clauses.append(f"{TSVECTOR} @@ to_tsquery('simple', %s)")
        params.append(" | ".join(query_alternatives(word)))
    for phrase in parsed.phrases:
        clauses.append(f"{TSVECTOR} @@ phraseto_tsquery('simple', %s)")
        params.append(" ".join(stem(w, language) for w in phrase))
    return queryset.extra(where=clauses, params=params)  # noqa: S610 - parameters bound


def search(queryset: QuerySet[Article], query: str, language: str = "fr") -> QuerySet[Article]:
    """Articles of `queryset` matching `query`; unchanged when the query is empty."""
    parsed = parse_query(query)
    if parsed.empty:
        return queryset
    if connection.vendor == "postgresql":
        return _postgres_filter(queryset, parsed, language)
    expression = _fts5_expression(parsed, language)
    return queryset.extra(  # noqa: S610 - parameters bound
        where=[
            "mediawatch_article.id IN (SELECT rowid FROM mediawatch_article_fts"
            " WHERE mediawatch_article_fts MATCH %s)"
        ],
        params=[expression],
    )


def snippet(text: str, query: str, width: int = 240) -> SafeString:
    """A window of the text around the first match, matches wrapped in <mark>."""
    parsed = parse_query(query)
    wanted = {alt for word in parsed.words for alt in query_alternatives(word)}
    wanted |= {alt for phrase in parsed.phrases for w in phrase for alt in query_alternatives(w)}
    tokens = re.split(r"(\w+)", text)
    hits = [
        i for i, token in enumerate(tokens)
        if token and (set(query_alternatives(token)) & wanted or fold(token) in wanted)
    ]  # fmt: skip
    if not hits:
        return mark_safe(escape(text[:width]) + ("…" if len(text) > width else ""))  # noqa: S308
    start_char = sum(len(t) for t in tokens[: hits[0]])
    begin = max(0, start_char - width // 3)
    out, position = [], 0
    for i, token in enumerate(tokens):
        end = position + len(token)
        if end >= begin and position <= begin + width:
            out.append(f"<mark>{escape(token)}</mark>" if i in hits else escape(token))
        position = end
    prefix = "…" if begin > 0 else ""
    suffix = "…" if begin + width < len(text) else ""
    return mark_safe(prefix + "".join(out).strip() + suffix)  # noqa: S308 - escaped above
