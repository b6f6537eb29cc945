"""Writes of the media watch: poll a source and store what it brings, once.

Idempotent by construction: an outlet's item is stored at most once (unique source + guid),
each item in its own transaction, and the feed's hash is remembered only after every item
is stored — so a run killed half-way is simply completed by the next one.
"""

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from .models import (
    Article,
    ArticleBand,
    ArticleVersion,
    FetchRun,
    SavedSearch,
    Source,
    SourceKind,
)
from .pipeline import dedup
from .pipeline.extract import ExtractedPage, extract_page
from .pipeline.feeds import FeedError, FeedItem, ParsedFeed, parse_feed
from .pipeline.fetch import Fetcher, FetchError, FetchErrorKind, FetchLimits, Validators
from .pipeline.language import detect_language
from .pipeline.listings import article_links, parse_news_sitemap
from .pipeline.robots import RobotsRules
from .pipeline.stemming import index_terms
from .pipeline.urls import canonical_url, comparable_url

logger = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9,"
    " application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
SHORT_TEXT = 400  # characters: below this, the feed only summarises and the page is fetched
DUPLICATE_WINDOW = timedelta(days=14)


@dataclass
class PollReport:
    source: str
    status: str = "ok"
    items: int = 0
    new: int = 0
    duplicates: int = 0
    already_seen: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def count_error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


@dataclass(frozen=True)
class Candidate:
    guid: str
    url: str
    canonical: str
    title: str
    text: str
    summary: str
    published: datetime | None
    language: str
    language_confidence: float
    author: str
    image_url: str
    flags: frozenset[str]


def _retry_delay(source: Source, error: FetchError | None) -> timedelta:
    """Linear backoff with jitter after failures; Retry-After wins when longer."""
    base = timedelta(minutes=source.poll_minutes)
    if error is None:
        return base
    backoff = base * min(source.consecutive_failures, 12)
    jitter = timedelta(seconds=random.uniform(0, 60))  # noqa: S311 - spreading load
    if error.retry_after:
        backoff = max(backoff, timedelta(seconds=error.retry_after))
    return backoff + jitter


def _record_failure(
    source: Source, kind: str, message: str, now: datetime, error: FetchError | None
) -> None:
    source.consecutive_failures += 1
    source.last_error_at = now
    source.last_error_kind = kind
    source.last_error = message[:2000]
    if source.consecutive_failures >= settings.MEDIAWATCH_MAX_FAILURES:
        source.active = False
        source.disabled_reason = (
            f"{source.consecutive_failures} failures in a row; last: {kind}: {message}"[:300]
        )
    source.next_poll_at = now + _retry_delay(source, error)
    source.save()


def _record_success(source: Source, now: datetime, *, new_items: int) -> None:
    source.consecutive_failures = 0
    source.last_success_at = now
    # Adaptive polling: a source that brings nothing new is polled less often (up to 4×).
    factor = 1 if new_items else min(4, 1 + (source.items_seen > 0))
    source.next_poll_at = now + timedelta(minutes=source.poll_minutes * factor)
    source.save()


def _fetch_page(url: str, fetcher: Fetcher, report: PollReport) -> ExtractedPage | None:
    try:
        fetched = fetcher.fetch(url, accept="text/html,application/xhtml+xml")
    except FetchError as error:
        report.count_error(f"page_{error.kind}")
        return None
    return extract_page(fetched.body, fetched.url)


def _candidate(
    source: Source, item: FeedItem, fetcher: Fetcher, report: PollReport, robots: RobotsRules
) -> Candidate:
    text = dedup_text = item.content or item.summary
    page: ExtractedPage | None = None
    if len(dedup.features(text).normalised) < SHORT_TEXT and item.url:
        if not robots.allows(item.url):
            report.count_error("page_disallowed_by_robots")  # the feed's summary stays
        else:
            page = _fetch_page(item.url, fetcher, report)
        if page is not None:
            text = page.text
    dedup_text = text or item.title
    language = detect_language(
        dedup_text,
        (page.declared_language if page else "") or item.language or source.language_hint,
    )
    url = (page.canonical_url if page and page.canonical_url else "") or item.url
    return Candidate(
        guid=item.guid,
        url=item.url or url,
        canonical=comparable_url(canonical_url(url)) if url else f"guid:{source.pk}:{item.guid}",
        title=item.title or (page.title if page else ""),
        text=dedup_text,
        summary=item.summary[:2000],
        published=item.published or (page.published if page else None),
        language=language.code,
        language_confidence=language.confidence,
        author=page.author if page else "",
        image_url=page.image_url if page else "",
        flags=item.flags,
    )


def _near(when: datetime | None, prefix: str = "") -> Q:
    """Listed (published, else first seen) within the duplicate window around `when`."""
    around = when or timezone.now()
    return Q(
        **{f"{prefix}listed_at__range": (around - DUPLICATE_WINDOW, around + DUPLICATE_WINDOW)}
    )


def _best_match(
    candidate: Candidate, articles: Iterable[Article]
) -> tuple[Article, float, str] | None:
    incoming = dedup.Document(candidate.title, candidate.text, candidate.url)
    best: tuple[Article, float, str] | None = None
    for article in articles:
        decision = dedup.compare(incoming, dedup.Document(article.title, article.text, article.url))
        if decision.duplicate and (best is None or decision.similarity > best[1]):
            best = (article, decision.similarity, decision.reason)
    return best


def _find_original(
    candidate: Candidate, keys: list[int], newer_than: int = 0
) -> tuple[Article, float, str] | None:
    """The stored story this candidate repeats, if any: same URL, same title, or near text;
    among the articles with an id above `newer_than` when given."""
    compared = Article.objects.only("id", "title", "text", "url")  # what compare reads
    bands = ArticleBand.objects.all()
    if newer_than:
        compared = compared.filter(pk__gt=newer_than)
        bands = bands.filter(article_id__gt=newer_than)
    same_url = compared.filter(canonical_url=candidate.canonical).first()
    if same_url is not None:
        return same_url, 1.0, "url"
    title = dedup.normalise_title(candidate.title)
    if title:
        same_title = compared.filter(_near(candidate.published), normalised_title=title)
        found = _best_match(candidate, same_title[:5])
        if found:
            return found
    ids = (
        bands.filter(_near(candidate.published, "article__"), key__in=keys)
        .values_list("article_id", flat=True)
        .distinct()[:200]
    )
    return _best_match(candidate, compared.filter(pk__in=list(ids)))


# PostgreSQL: one store at a time decides "new story or version" (SQLite's IMMEDIATE
# transactions already write one at a time). Any constant works: only stores take it.
STORE_LOCK = 0x6D77_7374  # "mwst"


def _serialise_stores() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STORE_LOCK])


def _store(source: Source, candidate: Candidate) -> bool:
    """Store one item; True when it is a new story, False when a version of a known one.

    The duplicate search reads outside the write transaction, so parallel workers hold the
    write lock only briefly; inside it, under the store lock, only the articles stored
    meanwhile (ids above the last one seen before the search) are searched again, so two
    workers storing copies of one wire story at the same moment still make one story."""
    signature = dedup.text_signature(candidate.text)
    keys = dedup.candidate_keys(candidate.text)
    seen = Article.objects.aggregate(last=Max("id"))["last"] or 0
    original = _find_original(candidate, keys)
    terms = (
        "" if original else index_terms(f"{candidate.title} {candidate.text}", candidate.language)
    )
    with transaction.atomic():
        _serialise_stores()
        if original is not None and not Article.objects.filter(pk=original[0].pk).exists():
            original = _find_original(candidate, keys)  # deleted meanwhile: search again
        elif original is None and Article.objects.filter(pk__gt=seen).exists():
            original = _find_original(candidate, keys, newer_than=seen)
        if original is None:
            article = Article.objects.create(
                canonical_url=candidate.canonical,
                url=candidate.url,
                title=candidate.title[:500],
                normalised_title=dedup.normalise_title(candidate.title)[:500],
                summary=candidate.summary,
                text=candidate.text,
                author=candidate.author[:300],
                image_url=candidate.image_url[:1000],
                language=candidate.language,
                language_confidence=candidate.language_confidence,
                published_at=candidate.published,
                listed_at=(candidate.published or timezone.now()).replace(microsecond=0),
                signature=dedup.to_signed(signature),
                flags=",".join(sorted(candidate.flags)),
                search_terms=terms
                or index_terms(f"{candidate.title} {candidate.text}", candidate.language),
                source=source,
            )
            ArticleBand.objects.bulk_create(
                ArticleBand(article=article, key=key) for key in set(keys)
            )
            similarity, reason, is_new = 1.0, "", True
        else:
            article, similarity, reason = original
            is_new = False
        ArticleVersion.objects.create(
            article=article,
            source=source,
            guid=candidate.guid,
            url=candidate.url,
            title=candidate.title[:500],
            published_at=candidate.published,
            similarity=similarity,
            match_reason=reason,
        )
    return is_new


def _parse(source: Source, body: bytes, url: str, content_type: str) -> ParsedFeed:
    if source.kind == SourceKind.NEWS_SITEMAP:
        return parse_news_sitemap(body, base_url=url)
    if source.kind == SourceKind.WEB_PAGE:
        return article_links(body, base_url=url)
    return parse_feed(body, base_url=url, content_type=content_type)


def poll_source(
    *, source: Source, fetcher: Fetcher, now: datetime,
    on_item: Callable[[], None] | None = None,
) -> PollReport:  # fmt: skip
    """Fetch one source and store its new items; every failure is recorded on the source."""
    report = PollReport(source=source.name)
    run = FetchRun.objects.create(source=source, status="error")
    validators = Validators(source.etag or None, source.last_modified or None)
    try:
        fetched = fetcher.fetch(source.fetch_url, validators, accept=FEED_ACCEPT)
    except FetchError as error:
        _record_failure(source, str(error.kind), str(error), now, error)
        report.status = "error"
        report.count_error(str(error.kind))
        FetchRun.objects.filter(pk=run.pk).update(finished_at=now, error_kind=error.kind)
        return report
    if fetched.not_modified or fetched.sha256 == source.body_sha256:
        report.status = "not_modified" if fetched.not_modified else "unchanged"
        _record_success(source, now, new_items=0)
        FetchRun.objects.filter(pk=run.pk).update(finished_at=now, status=report.status)
        return report
    try:
        feed = _parse(source, fetched.body, fetched.url, fetched.content_type)
    except FeedError as error:
        _record_failure(source, "not_a_feed", str(error), now, None)
        report.status = "error"
        report.count_error("not_a_feed")
        FetchRun.objects.filter(pk=run.pk).update(finished_at=now, error_kind="not_a_feed")
        return report
    robots = RobotsRules(fetcher, settings.MEDIAWATCH_USER_AGENT)
    known = set(
        ArticleVersion.objects.filter(
            source=source, guid__in=[i.guid for i in feed.items]
        ).values_list("guid", flat=True)
    )
    for item in feed.items:
        report.items += 1
        if item.guid in known:
            report.already_seen += 1
            continue
        try:
            is_new = _store(source, _candidate(source, item, fetcher, report, robots))
        except IntegrityError:  # stored meanwhile by another worker: nothing to do
            report.already_seen += 1
            continue
        if is_new:
            report.new += 1
        else:
            report.duplicates += 1
        if on_item:
            on_item()
    source.items_seen += report.new + report.duplicates
    source.duplicates_seen += report.duplicates
    source.etag = fetched.validators.etag or ""
    source.last_modified = fetched.validators.last_modified or ""
    source.body_sha256 = fetched.sha256
    _record_success(source, now, new_items=report.new)
    FetchRun.objects.filter(pk=run.pk).update(
        finished_at=now, status="ok", items=report.items, new_articles=report.new,
        duplicates=report.duplicates,
    )  # fmt: skip
    return report


def fetcher_for_settings() -> Fetcher:
    from .pipeline.netguard import AddressPolicy

    return Fetcher(
        user_agent=settings.MEDIAWATCH_USER_AGENT,
        policy=AddressPolicy(frozenset(settings.MEDIAWATCH_ALLOWED_ADDRESSES)),
        limits=FetchLimits(host_spacing=settings.MEDIAWATCH_HOST_SPACING_SECONDS),
    )


__all__ = ["FetchErrorKind", "PollReport", "fetcher_for_settings", "poll_source"]


def due_sources(now: datetime) -> list[Source]:
    return list(
        Source.objects.filter(active=True)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .order_by("next_poll_at", "pk")
    )


CLAIM = timedelta(minutes=15)  # a claimed source is handed out again after this (a crash)


def claim_due_sources(*, now: datetime, limit: int = 500) -> list[list[int]]:
    """The due sources, claimed and grouped by host.

    Claiming moves `next_poll_at` CLAIM ahead with a conditional UPDATE, so a source is
    handed to one worker only, even when two dispatchers run; the poll then sets the real
    next time. Each group (one host's sources) is polled by one worker, one source after
    the other: a host never gets two requests from us at once, and the workers share the
    hosts between them."""
    groups: dict[str, list[int]] = {}
    for source in due_sources(now)[:limit]:
        claimed = Source.objects.filter(
            pk=source.pk, active=True, next_poll_at=source.next_poll_at
        ).update(next_poll_at=now + CLAIM)
        if claimed:
            host = (urlsplit(source.fetch_url).hostname or "").lower()
            groups.setdefault(host, []).append(source.pk)
    return list(groups.values())


def poll_sources(source_ids: list[int]) -> list[PollReport]:
    """Poll these sources one after the other with one polite client."""
    reports = []
    with fetcher_for_settings() as fetcher:
        for source in Source.objects.filter(pk__in=source_ids, active=True).order_by("pk"):
            reports.append(poll_source(source=source, fetcher=fetcher, now=timezone.now()))
    return reports


def saved_search_create(*, user: Any, name: str, query_string: str) -> SavedSearch:
    return SavedSearch.objects.create(user=user, name=name, query_string=query_string)
