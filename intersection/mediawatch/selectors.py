"""Reads of the media watch: the archive with its filters, an article, sources."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import search
from .models import Article, ArticleVersion, SavedSearch, Source

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


def filtered_archive(filters: dict[str, Any], reader_language: str = "fr") -> QuerySet[Article]:
    """`archive` from the cleaned data of an ArchiveFilterForm."""
    return archive(
        query=filters.get("q", ""),
        language=filters.get("language", ""),
        country=filters.get("country", ""),
        source=filters.get("source"),
        since=filters.get("since"),
        until=filters.get("until"),
        reader_language=reader_language,
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


NEW_LIMIT = 99  # "99+ new": counting further would cost a search for nothing


@dataclass(frozen=True)
class SavedSearchRow:
    saved: SavedSearch
    filters: list[tuple[str, str]]  # (label, value) of each filter, in words
    new: int | None  # matches first seen since the last visit (None: never opened)
    more: bool  # more than NEW_LIMIT


def describe_filters(query_string: str) -> list[tuple[str, str]]:
    """What a saved search filters, in the reader's language: [("Search", "police"), …]."""
    from django.http import QueryDict
    from django.utils.formats import date_format

    from .forms import ArchiveFilterForm

    form = ArchiveFilterForm(QueryDict(query_string))
    if not form.is_valid():
        return [("", str(_("Some filters are no longer valid.")))]
    described = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if not value:
            continue
        if isinstance(value, date):
            shown = date_format(value, "DATE_FORMAT")
        elif hasattr(field, "choices") and not isinstance(value, models.Model):
            shown = str(dict(field.choices).get(value, value))
        else:
            shown = str(value)
        described.append((str(field.label), shown))
    return described


def _new_since(saved: SavedSearch) -> tuple[int | None, bool]:
    from django.http import QueryDict

    from .forms import ArchiveFilterForm

    if saved.last_viewed_at is None:
        return None, False
    form = ArchiveFilterForm(QueryDict(saved.query_string))
    if not form.is_valid():
        return None, False
    matches = filtered_archive(form.cleaned_data).filter(first_seen_at__gt=saved.last_viewed_at)
    found = search.capped_count(matches, NEW_LIMIT)
    return min(found, NEW_LIMIT), found > NEW_LIMIT


def saved_searches(user: Any) -> list[SavedSearchRow]:
    """The user's saved searches, each with its filters in words and what is new."""
    rows = []
    for saved in SavedSearch.objects.filter(user_id=getattr(user, "pk", None) or 0):
        new, more = _new_since(saved)
        rows.append(SavedSearchRow(saved, describe_filters(saved.query_string), new, more))
    return rows
