"""One search interface over two engines: SQLite FTS5 (default) and PostgreSQL full text.

Both index `Article.search_terms` (stems, see pipeline/stemming.py) and answer the same
query language: words (all required), "exact phrases", and filters on the queryset. Results
come newest first (`Article.listed_at`, then id).

On SQLite the FTS5 index is keyed by the listing order: its rowid is
`listing_key(listed_at, id)` (seconds since 2000 in the high bits, the article id in the low
31), so FTS5 walks a word's matches newest first and stops after one page, instead of
handing every match to a sort: a frequent word over a million articles is hundreds of
thousands of matches. Date filters become a rowid range. Counts stop at COUNT_LIMIT.

On PostgreSQL a GIN index over a stored vector has no order and no positions; the vector
also holds keys (migrations 0006 and 0008): runs of two and three adjacent terms, so that a
phrase is one key, the language, and the article's 30-day period, so that counts ask for
the newest periods first and the index intersects a word's long posting list with a short
one (decisions 0007 and 0009).
"""

import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Max, Min, QuerySet
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


# PostgreSQL only: the stored vector of the terms, with the keys of migrations 0006 and 0008
# (runs of two and three adjacent terms, language, 30-day period).
TSVECTOR = "mediawatch_article.search_vector"


def _lexeme(text: str) -> str:
    """A tsquery operand taken as written (quoted: a pair holds a space)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


KEY_TERMS = 3  # migration 0008: every run of 2 and of 3 adjacent terms is a key


def _phrase_query(stems: list[str]) -> str:
    """The keys an article holding the phrase `stems` (two terms or more) has: the phrase
    itself up to KEY_TERMS terms; each run of KEY_TERMS adjacent terms of a longer one."""
    runs = max(1, len(stems) - KEY_TERMS + 1)
    return " & ".join(_lexeme(" ".join(stems[i : i + KEY_TERMS])) for i in range(runs))


def _postgres_filter(
    queryset: QuerySet[Article], parsed: ParsedQuery, language: str
) -> QuerySet[Article]:
    clauses, params = [], []
    for word in parsed.words:
        clauses.append(f"{TSVECTOR} @@ to_tsquery('simple', %s)")
        params.append(" | ".join(query_alternatives(word)))
    for phrase in parsed.phrases:
        stems = [stem(w, language) for w in phrase]
        if len(stems) > 1:
            # A phrase of two or three terms is one key: the index answers it alone. A longer
            # one is looked up by its runs of three terms.
            clauses.append(f"{TSVECTOR} @@ %s::tsquery")
            params.append(_phrase_query(stems))
        if len(stems) == 1 or len(stems) > KEY_TERMS:
            # The positions in the stored vectors of the few articles holding every run then
            # confirm that the runs follow each other.
            clauses.append(f"{TSVECTOR} @@ phraseto_tsquery('simple', %s)")
            params.append(" ".join(stems))
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


PERIOD_SECONDS = 30 * 24 * 3600  # the periods of the "§p:" keys (PostgreSQL, migration 0006)
# Counting by period, newest first: a window is at most this many times the last one (1,
# 4, 16… periods for a rare word), and half as large again as the matches still missing
# need at the last window's rate.
WINDOW_GROWTH = 4
WINDOW_MARGIN = 1.5


def period(moment: datetime) -> int:
    """The number of the 30-day period holding `moment`, from 0 on 2000-01-01 UTC: an
    article's "§p:" key on PostgreSQL (migration 0006 computes the same; tested to agree)."""
    return ((moment - EPOCH) // timedelta(seconds=1)) // PERIOD_SECONDS


@dataclass(frozen=True)
class _Span:
    """What a PostgreSQL search was restricted to, for counting it by period."""

    language: str
    since: datetime | None
    until: datetime | None
    phrases: bool = False  # the planner cannot estimate how many articles hold a phrase


# The queryset `search` returned on PostgreSQL → its filters that the index's keys answer.
_POSTGRES_SEARCHES: "WeakKeyDictionary[QuerySet[Article], _Span]" = WeakKeyDictionary()


def _next_size(last: range, matches: int, missing: int) -> int:
    """How many periods the next window counts, after `last` held `matches` and `missing`
    matches are still wanted: as many as should hold them at `last`'s rate, and half again,
    at most WINDOW_GROWTH times `last` (a word counted 960 times in the newest period, with
    41 to go, is counted in one more period, not four)."""
    grown = len(last) * WINDOW_GROWTH
    if not matches:
        return grown
    return max(1, min(grown, math.ceil(WINDOW_MARGIN * missing * len(last) / matches)))


def _window(newest: int, oldest: int, size: int) -> range:
    """`size` periods from `newest` back, not past `oldest`."""
    return range(newest, max(oldest, newest - size + 1) - 1, -1)


def _periods_query(periods: Iterable[int], language: str) -> str:
    keys = " | ".join(_lexeme(f"§p:{number}") for number in periods)
    return f"({keys})" + (f" & {_lexeme(f'§l:{language}')}" if language else "")


@contextmanager
def _from_the_index() -> Iterator[None]:
    """Within the block, PostgreSQL's planner answers from the full-text index (a bitmap
    scan), not by reading articles one by one: its estimate for a period key ignores that a
    word is spread evenly over time, and reading a million articles' vectors costs seconds.
    The settings are restored afterwards, also inside an enclosing transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')"
        )
        seqscan, indexscan = cursor.fetchone()
        cursor.execute(
            "SELECT set_config('enable_seqscan', 'off', true),"
            " set_config('enable_indexscan', 'off', true)"
        )
        try:
            yield
        finally:
            cursor.execute(
                "SELECT set_config('enable_seqscan', %s, true),"
                " set_config('enable_indexscan', %s, true)",
                [seqscan, indexscan],
            )


@dataclass(frozen=True)
class _PeriodCount:
    found: int  # up to limit + 1
    windows: list[tuple[range, int]]  # the windows counted, newest first, with their matches
    # Every match of the windows counted whole (all but a last one cut at the limit), as
    # (listed_at, id): they are newer than any match of a later window.
    newest: list[tuple[datetime, int]]

    @property
    def periods(self) -> list[int]:
        """The periods counted, newest first."""
        return [number for window, _ in self.windows for number in window]


def _in_periods(
    queryset: QuerySet[Article], periods: Iterable[int], language: str
) -> QuerySet[Article]:
    return queryset.extra(  # noqa: S610 - parameters bound
        where=[f"{TSVECTOR} @@ %s::tsquery"], params=[_periods_query(periods, language)]
    )


def _count_by_period(queryset: QuerySet[Article], span: _Span, limit: int) -> _PeriodCount:
    """`capped_count` of a PostgreSQL search, newest periods first.

    Counting a frequent word's first 1,001 matches in one query builds the list of all its
    matches in the index (hundreds of thousands) or reads articles one by one until it has
    found them. Asked for the matches of a few periods, GIN intersects the word's posting
    list with the periods' keys by skipping, so the work follows the shorter of the two:
    a frequent word is counted within the newest period or two, and a rare word costs
    little in each window."""
    bounds = Article.objects.aggregate(first=Min("listed_at"), last=Max("listed_at"))
    if bounds["first"] is None:
        return _PeriodCount(0, [], [])
    newest = period(min(bounds["last"], span.until) if span.until else bounds["last"])
    oldest = period(max(bounds["first"], span.since) if span.since else bounds["first"])
    found, windows, whole = 0, list[tuple[range, int]](), list[tuple[datetime, int]]()
    window = _window(newest, oldest, 1)
    with _from_the_index():
        while window:
            part = _in_periods(queryset, window, span.language).order_by()
            # The matches' keys rather than their number: reading them costs the same rows,
            # and the first page is then read by id instead of searching that window again.
            matches = list(part.values_list("listed_at", "id")[: limit + 1 - found])
            found += len(matches)
            windows.append((window, len(matches)))
            if found > limit:
                break
            whole += matches
            size = _next_size(window, len(matches), limit + 1 - found)
            window = _window(window[-1] - 1, oldest, size)
    return _PeriodCount(found, windows, whole)


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
        if parsed.empty:
            return queryset.order_by("-listed_at", "-id")
        found = _postgres_filter(queryset, parsed, reader_language).order_by("-listed_at", "-id")
        _POSTGRES_SEARCHES[found] = _Span(language, since, until, bool(parsed.phrases))
        return found
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
    span = _POSTGRES_SEARCHES.get(queryset)
    if span is not None:
        return _count_by_period(queryset, span, limit).found
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
    The queryset returned lists at least the first `limit` matches right; past them, use
    the one given (the API pages further).

    PostgreSQL's planner walks the date index backwards, testing each article, even for a
    rare word or phrase (it cannot tell from its statistics how rare): seconds over a
    million articles. The count tells: when it needed more than the newest period, the
    matches are read from the periods it counted, in an order no index provides, so the
    planner collects them through the full-text index and sorts them. A word frequent
    enough to be counted within one period keeps the walk, which finds a page of it within
    a few hundred rows. A phrase does not: the planner, which cannot tell how many articles
    hold it, would collect and sort its matches over the whole archive (2.8 s for one
    found 74,000 times in a million articles, 57 ms from the newest period)."""
    span = _POSTGRES_SEARCHES.get(queryset)
    if span is None:
        found = capped_count(queryset, limit)
        sort = connection.vendor == "postgresql" and found <= limit
        return (_sorted(queryset) if sort and queryset.query.has_filters() else queryset), found
    count = _count_by_period(queryset, span, limit)
    if len(count.windows) == 1 and count.found > limit and not span.phrases:
        return queryset, count.found
    page = queryset
    if count.found > limit:  # the periods counted hold the first `limit` matches
        page = _in_periods(queryset, count.periods, span.language)
    page = _sorted(page)
    _COUNTED[page] = (queryset, count)
    return page, count.found


# The queryset `counted` returned on PostgreSQL when it reads periods → the search (whose
# span `_POSTGRES_SEARCHES` holds) and its count by window: what `first_rows` needs.
_COUNTED: "WeakKeyDictionary[QuerySet[Article], tuple[QuerySet[Article], _PeriodCount]]" = (
    WeakKeyDictionary()
)


def first_rows(queryset: QuerySet[Article], rows: int) -> QuerySet[Article]:
    """`counted`'s queryset, made to list its first `rows` matches right with the least
    work. On PostgreSQL: by id when the windows the count read whole hold that many
    matches (the count read their ids); else from the newest windows of periods that hold
    that many matches (a page of a word found 600 times in the newest period reads that
    period, not the 2,500 matches of the five periods counted). Any other queryset comes
    back as is."""
    known = _COUNTED.get(queryset)
    if known is None:
        return queryset
    searched, count = known
    if len(count.newest) >= rows or len(count.newest) == count.found:
        # The count read them: the newest `rows` of the windows it read whole, by id.
        ids = [key for _, key in sorted(count.newest, reverse=True)[:rows]]
        return _sorted(searched.filter(pk__in=ids))
    periods: list[int] = []
    matches = 0
    for window, in_window in count.windows:
        periods += window
        matches += in_window
        if matches >= rows:
            break
    if len(periods) == len(count.periods):
        return queryset
    return _sorted(_in_periods(searched, periods, _POSTGRES_SEARCHES[searched].language))


def _sorted(queryset: QuerySet[Article]) -> QuerySet[Article]:
    """Newest first, by an expression no index provides: PostgreSQL then collects the
    matches through the full-text index and sorts them."""
    unindexed = ExpressionWrapper(F("listed_at") + timedelta(0), output_field=DateTimeField())
    return queryset.order_by(unindexed.desc(), "-id")


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
