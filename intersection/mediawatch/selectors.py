"""Reads of the media watch: the archive with its filters, an article, sources."""

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from . import search
from .models import Article, ArticleVersion, Source

# The widest dates a filter keeps: a day inside Python's range, so that a bound in any time
# zone can be written in UTC ("since 0001-01-01" in Brussels is before year 1 in UTC).
EARLIEST = date.min + timedelta(days=1)
LATEST = date.max - timedelta(days=1)


def archive(
    *,
    query: str = "",
    language: str = "",
    country: str = "",
    source: Source | None = None,
    since: date | None = None,
    until: date | None = None,
    reader_language: str = "fr",
) -> QuerySet[Article]:
    """Articles matching the query and filters, newest first (by `listed_at`: published,
    else first seen). Count them with `search.capped_count`."""
    articles = Article.objects.select_related("source")
    carried = ArticleVersion.objects.filter(article=OuterRef("pk"))
    if country:
        articles = articles.filter(Exists(carried.filter(source__country=country)))
    if source is not None:
        articles = articles.filter(Exists(carried.filter(source=source)))
    zone = timezone.get_current_timezone()
    return search.search(
        articles,
        query,
        reader_language,
        language=language,
        since=datetime.combine(max(since, EARLIEST), time.min, zone) if since else None,
        until=datetime.combine(min(until, LATEST), time.max, zone) if until else None,
    )


def outlet_counts(articles: list[Article]) -> dict[int, int]:
    """How many outlets carried each of these articles, in one query (for a page of results,
    not for every match: counting over all matches made large searches slow)."""
    rows = (
        ArticleVersion.objects.filter(article_id__in=[a.pk for a in articles])
        .values("article_id")
        .annotate(outlets=Count("id"))
        .values_list("article_id", "outlets")
    )
    return dict(rows)


def article_detail(pk: int) -> Article | None:
    versions = ArticleVersion.objects.select_related("source").order_by("published_at", "seen_at")
    return (
        Article.objects.select_related("source")
        .prefetch_related(Prefetch("versions", queryset=versions))
        .filter(pk=pk)
        .first()
    )


def sources() -> QuerySet[Source]:
    """Sources with `items_week`: versions seen over the last seven days."""
    week = timezone.now() - timedelta(days=7)
    return (
        Source.objects.select_related("organisation")
        .annotate(items_week=Count("versions", filter=Q(versions__seen_at__gte=week)))
        .order_by("-active", "name")
    )
