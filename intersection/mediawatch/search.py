"""One search interface over two engines: SQLite FTS5 (default) and PostgreSQL full text.

Both index `Article.search_terms` (stems, see pipeline/stemming.py) and answer the same
query language: words (all required), "exact phrases", and filters on the queryset. Results
come newest first (`Article.listed_at`, then id).

On SQLite the FTS5 index is keyed by the listing order: its rowid is
`listing_key(listed_at, id)` (seconds since 2000 in the high bits, the article id in the low
31), so FTS5 walks a word's matches newest first and stops after one page, instead of
handing every match to a sort: a frequent word over a million articles is hundreds of
thousands of matches. Date filters become a rowid range. Counts stop at COUNT_LIMIT.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from django.db import connection
from django.db.models import DateTimeField, ExpressionWrapper, F, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Article
from .pipeline.stemming import STOPWORDS, query_alternatives, stem, words

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


TSVECTOR = "mediawatch_article.search_vector"  # stored, PostgreSQL only (migration 0005)


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


COUNT_LIMIT = 1_000  # above this, "more than 1,000 articles"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
ID_BITS = 31
ID_MASK = (1 << ID_BITS) - 1
FTS = "mediawatch_article_fts"


def listing_key(listed_at: datetime, article_id: int) -> int:
    """The FTS5 rowid of an article: ordered like (listed_at, id). The same formula as the
    SQLite triggers of migration 0004 (tested to agree)."""
    seconds = (listed_at - EPOCH) // timedelta(seconds=1)
    seconds = max(-(1 << ID_BITS), min(ID_MASK, seconds))
    return (seconds << ID_BITS) | (article_id & ID_MASK)


# The queryset `search` returned → the FTS5-only count (expression and rowid range), when
# nothing outside the index filters it: counting then never reads an article row.
_FTS_COUNTS: "WeakKeyDictionary[QuerySet[Article], tuple[str, list[Any]]]" = WeakKeyDictionary()
LANGUAGE_CODE = re.compile(r"^[a-z]{2,8}$")


def search(
    queryset: QuerySet[Article],
    query: str,
    reader_language: str = "fr",
    *,
    language: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Article]:
    """Articles of `queryset` matching `query` (all of them when the query is empty), in
    `language` when given, listed between `since` and `until` inclusive, newest first.
    `reader_language` stems the words of phrases."""
    parsed = parse_query(query)
    if language and not LANGUAGE_CODE.match(language):
        return queryset.none()
    if parsed.empty or connection.vendor != "sqlite":
        if language:
            queryset = queryset.filter(language=language)
        if since is not None:
            queryset = queryset.filter(listed_at__gte=since)
        if until is not None:
            queryset = queryset.filter(listed_at__lte=until)
        if not parsed.empty:
            queryset = _postgres_filter(queryset, parsed, reader_language)
        return queryset.order_by("-listed_at", "-id")
    expression = _fts5_expression(parsed, reader_language)
    if language:  # the index's second column: no article row is read to filter
        expression = f'language : "{language}" AND ({expression})'
    conditions: list[str] = [f"{FTS} MATCH %s"]
    params: list[Any] = [expression]
    if since is not None or until is not None:
        conditions.append(f"{FTS}.rowid BETWEEN %s AND %s")
        params += [
            listing_key(since, 0) if since else -(1 << 62),
            listing_key(until, ID_MASK) if until else (1 << 62),
        ]
    unfiltered = not queryset.query.has_filters()
    found = queryset.extra(  # noqa: S610 - parameters bound
        tables=[FTS],
        where=[*conditions, f"mediawatch_article.id = ({FTS}.rowid & {ID_MASK})"],
        params=params,
        order_by=[f"-{FTS}.rowid"],
    )
    if unfiltered:
        _FTS_COUNTS[found] = (" AND ".join(conditions), list(params))
    return found


def capped_count(queryset: QuerySet[Article], limit: int = COUNT_LIMIT) -> int:
    """How many articles match, counted up to `limit + 1`: exact counts of frequent words
    over a large archive cost more than the page itself. More than `limit` means "more"."""
    fts_only = _FTS_COUNTS.get(queryset)
    if fts_only is None:
        return queryset.order_by()[: limit + 1].count()
    conditions, params = fts_only
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {FTS} WHERE {conditions} LIMIT %s)",  # noqa: S608
            [*params, limit + 1],
        )
        return int(cursor.fetchone()[0])


def counted(queryset: QuerySet[Article], limit: int = COUNT_LIMIT) -> tuple[QuerySet[Article], int]:
    """The matches in the plan that suits their number, and their count (`capped_count`).

    PostgreSQL's planner walks the date index backwards, testing each article, even for a
    rare word (it cannot tell from its statistics how rare): seconds over a million
    articles. Once the count says there are at most `limit` matches, sorting them is cheap:
    the order is then given by an expression no index provides, so the planner collects the
    matches through the full-text index and sorts them. Frequent words keep the walk, which
    finds a page of them within a few hundred rows."""
    found = capped_count(queryset, limit)
    if connection.vendor == "postgresql" and found <= limit and queryset.query.has_filters():
        unindexed = ExpressionWrapper(F("listed_at") + timedelta(0), output_field=DateTimeField())
        queryset = queryset.order_by(unindexed.desc(), "-id")
    return queryset, found


@lru_cache(maxsize=65_536)
def _forms(token: str) -> frozenset[str]:
    """Every form a word of the text matches a query by (folded, stems): article texts
    repeat their words, so each is stemmed once per process."""
    return frozenset(query_alternatives(token))


def snippet(text: str, query: str, width: int = 240) -> SafeString:
    """A window of the text around the first match, matches wrapped in <mark>."""
    parsed = parse_query(query)
    asked = [*parsed.words, *(word for phrase in parsed.phrases for word in phrase)]
    wanted = set().union(*map(_forms, asked))
    tokens = re.split(r"(\w+)", text)  # words at the odd positions

    def hit(i: int) -> bool:
        return i % 2 == 1 and not _forms(tokens[i]).isdisjoint(wanted)

    first = next((i for i in range(1, len(tokens), 2) if hit(i)), None)
    if first is None:
        return mark_safe(escape(text[:width]) + ("…" if len(text) > width else ""))  # noqa: S308
    begin = max(0, sum(len(t) for t in tokens[:first]) - width // 3)
    out, position = [], 0
    for i, token in enumerate(tokens):
        end = position + len(token)
        if position > begin + width:
            break
        if end >= begin:
            out.append(f"<mark>{escape(token)}</mark>" if hit(i) else escape(token))
        position = end
    prefix = "…" if begin > 0 else ""
    suffix = "…" if begin + width < len(text) else ""
    return mark_safe(prefix + "".join(out).strip() + suffix)  # noqa: S308 - escaped above
