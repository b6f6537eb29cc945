"""Reads of the media watch: the archive with its filters, an article, sources."""

from datetime import date, datetime, time, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from . import search
from .models import Article, ArticleVersion, Source


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
    articles = Article.objects.select_related("source")
    if language:
        articles = articles.filter(language=language)
    if country:
        articles = articles.filter(versions__source__country=country).distinct()
    if source is not None:
        articles = articles.filter(versions__source=source).distinct()
    zone = timezone.get_current_timezone()
    if since:
        articles = articles.filter(published_at__gte=datetime.combine(since, time.min, zone))
    if until:
        articles = articles.filter(published_at__lte=datetime.combine(until, time.max, zone))
    return search.search(articles, query, reader_language).order_by("-published_at", "-id")


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
