"""Writes of the media watch: poll a source and store what it brings, once.

Idempotent by construction: an outlet's item is stored at most once (unique source + guid),
a batch of items in one transaction (storage.py), and the feed's hash is remembered only
after every item is stored — so a run killed half-way is simply completed by the next one.

No error of one source stops a poll of several: an unexpected one (a bug) is recorded on
the source as "internal_error" like any failure, and the next source is polled. Only the
database going away is raised: the worker gives the task back and it runs again.
"""

import atexit
import functools
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from intersection.core.workers import CONNECTION_ERRORS

from . import coordination
from .models import (
    ArticleVersion,
    FetchRun,
    PauseReason,
    SavedSearch,
    Source,
    SourceKind,
)
from .pipeline import dedup, residue
from .pipeline.extract import ExtractedPage, Extractor
from .pipeline.feeds import (
    INVALID_LINK,
    UNREADABLE_ITEM,
    UNSAFE_LINK,
    FeedError,
    FeedItem,
    ParsedFeed,
    parse_feed,
)
from .pipeline.fetch import Fetcher, FetchError, FetchErrorKind, FetchLimits, Validators
from .pipeline.language import detect_language
from .pipeline.listings import article_links, parse_news_sitemap
from .pipeline.netguard import AddressPolicy
from .pipeline.robots import RobotsRules
from .pipeline.urls import canonical_url, comparable_url, web_link
from .storage import BATCH, Candidate, store_items

logger = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9,"
    " application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
# A batch of new items is stored in one transaction when it has BATCH items, or after this
# long (items whose page is fetched come slowly): a crash loses at most this much work.
BATCH_SECONDS = 2.0
SHORT_TEXT = 400  # characters: below this, the feed only summarises and the page is fetched
# Pages fetched and handed to the extraction process ahead of the item being stored, so
# that it extracts while the poller fetches the next pages and stores a batch: at most this
# many pages, and this many bytes of them (a page may be up to FetchLimits.max_body_bytes).
# An item whose page is extracted goes on at once: the window fills only when pages come
# faster than they are extracted (with the politeness spacing between pages, it does not).
EXTRACTION_AHEAD = 64
EXTRACTION_AHEAD_BYTES = 32 * 1024 * 1024
# When the next page is still being extracted, a batch of at least this many items is stored
# meanwhile instead of waiting: the poller stores while the extraction process works, and
# little is left to store once the source's last page is extracted.
STORE_WHILE_WAITING = 10
ETAG_MAX = Source._meta.get_field("etag").max_length or 0
EXTRACTOR_RECYCLE = 500  # pages, then the extraction process is replaced
# What the parser dropped, by the start of its warning: counted in the poll's report.
DROPPED = {INVALID_LINK: "invalid_link", UNREADABLE_ITEM: "unreadable_item"}
INTERNAL_ERROR = "internal_error"  # a poll that failed on an unexpected error (a bug)
# Sources of one host per task when several workers may poll the host at once (the spacing
# is shared through the database, or the host is not spaced).
SOURCES_PER_TASK = 5


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
    source.failing_since = source.failing_since or now
    source.last_error_at = now
    source.last_error_kind = kind
    source.last_error = message[:2000]
    if source.consecutive_failures >= settings.MEDIAWATCH_MAX_FAILURES:
        source.active = False
        source.pause_reason = PauseReason.FAILURES
    source.next_poll_at = now + _retry_delay(source, error)
    source.save()


def _record_success(source: Source, now: datetime, *, new_items: int) -> None:
    source.consecutive_failures = 0
    source.failing_since = None
    source.last_success_at = now
    # Adaptive polling: a source that brings nothing new is polled less often (up to 4×).
    factor = 1 if new_items else min(4, 1 + (source.items_seen > 0))
    source.next_poll_at = now + timedelta(minutes=source.poll_minutes * factor)
    source.save()


@functools.cache
def extractor() -> Extractor:
    """This process's extraction child, started with the first page to extract."""
    found = Extractor(recycle=EXTRACTOR_RECYCLE)
    atexit.register(found.close)
    return found


@dataclass
class _Pending:
    """An item on its way: its page, when it needs one, is being extracted."""

    item: FeedItem
    page: "Future[ExtractedPage | None] | None" = None
    size: int = 0  # bytes of the page handed to the extraction process

    @property
    def waiting(self) -> bool:
        """Its page is still being extracted."""
        return self.page is not None and not self.page.done()


def _start(item: FeedItem, fetcher: Fetcher, report: PollReport, robots: RobotsRules) -> _Pending:
    """Fetch the page of an item whose feed only summarises, and hand it to the extractor."""
    if len(dedup.features(item.content or item.summary).normalised) >= SHORT_TEXT:
        return _Pending(item)
    if not item.url:
        return _Pending(item)
    if not robots.allows(item.url):
        report.count_error("page_disallowed_by_robots")  # the feed's summary stays
        return _Pending(item)
    try:
        fetched = fetcher.fetch(item.url, accept="text/html,application/xhtml+xml")
    except FetchError as error:
        report.count_error(f"page_{error.kind}")
        return _Pending(item)
    return _Pending(item, extractor().submit(fetched.body, fetched.url), len(fetched.body))


def _extracted(pending: _Pending, report: PollReport) -> ExtractedPage | None:
    """The extracted page (waiting for it), or None: the feed's summary stays."""
    if pending.page is None:
        return None
    try:
        return pending.page.result()
    except BrokenProcessPool:  # the extraction process died (memory, a crash in lxml)
        report.count_error("page_extraction_crashed")
        extractor().close()  # the next page starts a new one
    except Exception:  # a page trafilatura cannot read is recorded, not fatal
        logger.exception("extraction failed: %s", pending.item.url)
        report.count_error("page_extraction_failed")
    return None


def _record_unsafe_links(source: Source, report: PollReport, links: list[str]) -> None:
    """Links that were not http(s) (`javascript:`, `data:`), dropped by the pipeline: counted
    in the poll's report (the fetch command prints it) and logged for the operator."""
    for link in links:
        report.count_error("unsafe_link")
        logger.warning("source %s (%s): unsafe link dropped: %s", source.pk, source.name, link)


def _feed_warnings(source: Source, feed: ParsedFeed, report: PollReport) -> None:
    """What the parser repaired or dropped: logged; what it dropped (unsafe or invalid links,
    unreadable items) also counted."""
    unsafe = [w for w in feed.warnings if w.startswith(UNSAFE_LINK)]
    _record_unsafe_links(source, report, [w.split(": ", 1)[-1] for w in unsafe])
    for warning in feed.warnings:
        if warning.startswith(UNSAFE_LINK):
            continue
        dropped = [kind for prefix, kind in DROPPED.items() if warning.startswith(prefix)]
        if dropped:
            report.count_error(dropped[0])
            logger.warning("source %s (%s): %s", source.pk, source.name, warning)
        else:
            logger.info("source %s (%s): %s", source.pk, source.name, warning)


def _candidate(
    source: Source, pending: _Pending, report: PollReport, feed_title: str = ""
) -> Candidate:
    item = pending.item
    page = _extracted(pending, report)
    if page is not None and page.unsafe_links:
        _record_unsafe_links(source, report, list(page.unsafe_links))
    # The outlet's residue goes before anything reads the title or the text.
    written = item.title or (page.title if page else "")
    title = residue.clean_title(written, residue.outlet_names(source.name, feed_title))
    text = page.text if page is not None else item.content or item.summary
    text = residue.clean_text(text, (written, title, page.title if page else ""))
    dedup_text = text or title
    language = detect_language(
        dedup_text,
        (page.declared_language if page else "") or item.language or source.language_hint,
    )
    url = web_link((page.canonical_url if page else "") or item.url)
    return Candidate(
        guid=item.guid,
        url=web_link(item.url) or url,
        canonical=comparable_url(canonical_url(url)) if url else f"guid:{source.pk}:{item.guid}",
        title=title,
        text=dedup_text,
        summary=item.summary[:2000],
        published=item.published or (page.published if page else None),
        language=language.code,
        language_confidence=language.confidence,
        author=page.author if page else "",
        image_url=page.image_url if page else "",
        flags=item.flags,
    )


def _store(source: Source, candidates: list[Candidate]) -> list[bool | None]:
    """Store a batch; when another worker stored one of its items meanwhile (the batch is
    rolled back), store them one by one: None for each item stored already."""
    try:
        return list(store_items(source, candidates))
    except IntegrityError:
        pass
    results: list[bool | None] = []
    for candidate in candidates:
        try:
            results.extend(store_items(source, [candidate]))
        except IntegrityError:
            results.append(None)
    return results


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
    """Fetch one source and store its new items; every failure is recorded on the source, an
    unexpected one too. Raises only when the database goes away."""
    report = PollReport(source=source.name)
    # Runs of this source left open by a worker that died or lost the database mid-poll:
    # this poll takes their work over (items are stored once), so they are closed as such.
    FetchRun.objects.filter(source=source, finished_at__isnull=True).update(
        finished_at=now, error_kind="interrupted"
    )
    run = FetchRun.objects.create(source=source, status="error")
    try:
        return _poll(source, fetcher, now, on_item, report, run)
    except CONNECTION_ERRORS:
        raise  # not the source's fault: the task is given back and runs again
    except Exception as error:  # noqa: BLE001 - a bug with one source does not stop the others
        logger.exception("source %s (%s): the poll failed", source.pk, source.name)
        _record_internal_error(source, run, report, error, now)
        return report


def _record_internal_error(
    source: Source, run: FetchRun, report: PollReport, error: Exception, now: datetime
) -> None:
    report.status = "error"
    report.count_error(INTERNAL_ERROR)
    try:
        source.refresh_from_db()  # forget what the failed poll changed half-way
    except Source.DoesNotExist:
        return  # deleted meanwhile, with its runs
    _record_failure(source, INTERNAL_ERROR, f"{type(error).__name__}: {error}", now, None)
    FetchRun.objects.filter(pk=run.pk).update(finished_at=now, error_kind=INTERNAL_ERROR)


def _poll(
    source: Source, fetcher: Fetcher, now: datetime, on_item: Callable[[], None] | None,
    report: PollReport, run: FetchRun,
) -> PollReport:  # fmt: skip
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
    _feed_warnings(source, feed, report)
    robots = RobotsRules(fetcher, settings.MEDIAWATCH_USER_AGENT, coordination.robots_store())
    known = set(
        ArticleVersion.objects.filter(
            source=source, guid__in=[i.guid for i in feed.items]
        ).values_list("guid", flat=True)
    )
    report.items = len(feed.items)
    fresh = [item for item in feed.items if item.guid not in known]
    report.already_seen = report.items - len(fresh)
    batch: list[Candidate] = []
    started = time.monotonic()

    def store_batch() -> None:
        nonlocal batch, started
        for is_new in _store(source, batch):
            if is_new is None:  # stored meanwhile by another worker: nothing to do
                report.already_seen += 1
            elif is_new:
                report.new += 1
            else:
                report.duplicates += 1
            if on_item and is_new is not None:
                on_item()
        batch, started = [], time.monotonic()

    ahead: deque[_Pending] = deque()  # pages being extracted while the poller goes on
    in_flight = 0  # bytes of the pages in `ahead`
    for number, item in enumerate(fresh, 1):
        ahead.append(_start(item, fetcher, report, robots))
        in_flight += ahead[-1].size
        last = number == len(fresh)
        while ahead and (  # what is ready goes on; wait only when too much is ahead
            last
            or not ahead[0].waiting
            or len(ahead) > EXTRACTION_AHEAD
            or in_flight > EXTRACTION_AHEAD_BYTES
        ):
            if len(batch) >= STORE_WHILE_WAITING and ahead[0].waiting:
                store_batch()
            in_flight -= ahead[0].size
            batch.append(_candidate(source, ahead.popleft(), report, feed.title))
            if len(batch) >= BATCH or time.monotonic() - started >= BATCH_SECONDS:
                store_batch()
    if batch:
        store_batch()
    source.items_seen += report.new + report.duplicates
    source.duplicates_seen += report.duplicates
    etag = fetched.validators.etag or ""
    source.etag = etag if len(etag) <= ETAG_MAX else ""  # too long to keep: asked in full
    source.last_modified = fetched.validators.last_modified or ""
    source.body_sha256 = fetched.sha256
    _record_success(source, now, new_items=report.new)
    FetchRun.objects.filter(pk=run.pk).update(
        finished_at=now, status="ok", items=report.items, new_articles=report.new,
        duplicates=report.duplicates,
    )  # fmt: skip
    return report


def address_policy() -> AddressPolicy:
    """The fetcher's address policy from the settings: public addresses on the allowed ports,
    plus the allowed addresses on any port. The source form checks addresses with it."""
    return AddressPolicy(
        frozenset(settings.MEDIAWATCH_ALLOWED_ADDRESSES),
        frozenset(settings.MEDIAWATCH_ALLOWED_PORTS),
    )


def fetcher_for_settings() -> Fetcher:
    """The polling client: the address and port policy of the settings (the one the source
    form checks with), its host spacing shared by every worker on PostgreSQL."""
    return Fetcher(
        user_agent=settings.MEDIAWATCH_USER_AGENT,
        policy=address_policy(),
        limits=FetchLimits(host_spacing=settings.MEDIAWATCH_HOST_SPACING_SECONDS),
        spacing=coordination.host_spacing(),
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
    next time. Each group is polled by one worker, one source after the other. A host's
    sources make one group when only the worker itself spaces its requests (SQLite): a host
    never gets two requests from us at once. They are cut into groups of SOURCES_PER_TASK
    when the spacing holds across workers (PostgreSQL) or the host is not spaced: several
    workers then poll one host at once, still within its politeness limit."""
    by_host: dict[str, list[int]] = {}
    for source in due_sources(now)[:limit]:
        claimed = Source.objects.filter(
            pk=source.pk, active=True, next_poll_at=source.next_poll_at
        ).update(next_poll_at=now + CLAIM)
        if claimed:
            by_host.setdefault(_host(source.fetch_url), []).append(source.pk)
    return [group for host, ids in by_host.items() for group in host_groups(host, ids)]


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # not a URL: its poll records the error
        return ""


def host_groups(host: str, source_ids: list[int]) -> list[list[int]]:
    """One host's sources, in the groups handed to the workers (see claim_due_sources)."""
    spread = (
        coordination.is_shared()
        or not settings.MEDIAWATCH_HOST_SPACING_SECONDS
        or host in settings.MEDIAWATCH_UNSPACED_HOSTS
    )
    size = SOURCES_PER_TASK if spread else len(source_ids) or 1
    return [source_ids[start : start + size] for start in range(0, len(source_ids), size)]


def poll_sources(source_ids: list[int]) -> list[PollReport]:
    """Poll these sources one after the other with one polite client."""
    reports = []
    with fetcher_for_settings() as fetcher:
        for source in Source.objects.filter(pk__in=source_ids, active=True).order_by("pk"):
            reports.append(poll_source(source=source, fetcher=fetcher, now=timezone.now()))
    return reports


def source_poll_now(*, source: Source, request: Any = None) -> None:
    """Staff asked for a poll now (operations page): the source is back on if it was paused
    after failures, and a poll is enqueued for the next free worker. The source is claimed as
    the dispatch claims it, so that the every-minute dispatch does not poll it as well."""
    from intersection.core import audit

    from .tasks import poll_sources as poll_task

    def state() -> dict[str, Any]:
        when = source.next_poll_at
        return {
            "active": source.active,
            "pause_reason": source.pause_reason,
            "next_poll_at": when.isoformat() if when else None,
        }

    before = state()
    source.next_poll_at = timezone.now() + CLAIM
    if not source.active and source.pause_reason == PauseReason.FAILURES:
        source.active = True
        source.pause_reason = ""
    with transaction.atomic():
        source.save(update_fields=["active", "pause_reason", "next_poll_at"])
        poll_task.enqueue([source.pk])
        audit.record(action="source.poll_now", obj=source, before=before, after=state(),
                     request=request)  # fmt: skip


def saved_search_create(*, user: Any, name: str, query_string: str) -> SavedSearch:
    return SavedSearch.objects.create(user=user, name=name, query_string=query_string)


def saved_search_viewed(*, saved: SavedSearch) -> None:
    """Its owner opened it: what is new is counted from now."""
    saved.last_viewed_at = timezone.now()
    saved.save(update_fields=["last_viewed_at"])


def saved_search_rotate_key(*, saved: SavedSearch, request: Any = None) -> SavedSearch:
    """A new private feed address; the old one answers 404 from now on (audited)."""
    from intersection.core import audit

    from .models import new_feed_key

    saved.feed_key = new_feed_key()
    saved.save(update_fields=["feed_key"])
    audit.record(action="savedsearch.rotate_key", obj=saved, request=request)
    return saved
