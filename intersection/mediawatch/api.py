"""JSON API of the media watch: sources, articles, search (unlocked by agreements).

Every URL it returns is http(s) (else ""), the articles' without tracking parameters, even
for rows stored before links were checked at ingestion."""

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_noop
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from intersection.accounts.api_auth import TOKEN_OR_SESSION
from intersection.core.api_pagination import Pagination
from intersection.network import policy
from intersection.network.models import Resource

from . import search, selectors
from .models import Article, ArticleVersion, Source
from .pipeline.urls import web_url

router = Router(tags=["media watch"], auth=TOKEN_OR_SESSION)


class SourceOut(Schema):
    id: int
    name: str
    kind: str
    url: str
    language_hint: str
    country: str
    active: bool
    last_success_at: datetime | None
    last_error_kind: str
    consecutive_failures: int
    items_seen: int
    duplicates_seen: int

    @staticmethod
    def resolve_url(obj: Source) -> str:
        return web_url(obj.url)


class VersionOut(Schema):
    source: str
    url: str = Field(description="The outlet's address of the story: http(s), or empty.")
    title: str
    published_at: datetime | None
    similarity: float

    @classmethod
    def of(cls, version: ArticleVersion) -> "VersionOut":
        return cls(
            source=version.source.name, url=version.link, title=version.title,
            published_at=version.published_at, similarity=version.similarity,
        )  # fmt: skip


class ArticleOut(Schema):
    id: int
    url: str = Field(description="The article's address: http(s), or empty.")
    title: str
    summary: str
    language: str
    published_at: datetime | None
    source: str

    @staticmethod
    def resolve_source(obj: Article) -> str:
        return obj.source.name

    @staticmethod
    def resolve_url(obj: Article) -> str:
        return obj.link


class ArticleDetailOut(ArticleOut):
    text: str
    versions: list[VersionOut]

    @staticmethod
    def resolve_versions(obj: Article) -> list[VersionOut]:
        return [VersionOut.of(version) for version in obj.versions.all()]


class ArchiveFilters(Schema):
    q: str = Field("", max_length=200, description=gettext_noop('Words, or an "exact phrase".'))
    language: str = Field(
        "", max_length=8, description=gettext_noop("Language of the articles, e.g. fr.")
    )
    country: str = Field(
        "", max_length=2, description=gettext_noop("Country of the outlets, e.g. BE.")
    )
    source: int | None = Field(None, description=gettext_noop("Id of a news source."))
    since: date | None = Field(None, description=gettext_noop("From this day (YYYY-MM-DD)."))
    until: date | None = Field(None, description=gettext_noop("Until this day (YYYY-MM-DD)."))


@router.get(
    "/sources",
    response=list[SourceOut],
    summary=gettext_noop("News sources and their health"),
    description=gettext_noop("Where the media watch collects news; http(s) addresses only."),
)
@paginate(Pagination)
def list_sources(request: HttpRequest) -> object:
    policy.require(request, Resource.MEDIA_WATCH)
    return selectors.sources()


class ArchivePagination(Pagination):
    """Limit/offset, with a count that stops at 1,000 (`more` tells there are more)."""

    class Output(Schema):
        items: list[Any]
        count: int = Field(description="Matches, counted up to 1,000.")
        more: bool = Field(description="True when more than `count` articles match.")

    def paginate_queryset(
        self, queryset: QuerySet[Article], pagination: Any, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        first, found = search.counted(queryset)
        offset, limit = pagination.offset, min(pagination.limit, self.max_limit)
        # `first` lists the first COUNT_LIMIT matches right; further pages read the search.
        chosen = queryset
        if offset + limit <= search.COUNT_LIMIT:
            chosen = search.first_rows(first, offset + limit)
        return {
            "items": chosen[offset : offset + limit],
            "count": min(found, search.COUNT_LIMIT),
            "more": found > search.COUNT_LIMIT,
        }


@router.get(
    "/articles",
    response=list[ArticleOut],
    summary=gettext_noop("Archive search, newest first"),
    description=gettext_noop("One line per story, with the same filters as the archive page."),
)
@paginate(ArchivePagination)
def list_articles(request: HttpRequest, filters: Query[ArchiveFilters]) -> object:
    policy.require(request, Resource.MEDIA_WATCH)
    source = Source.objects.filter(pk=filters.source).first() if filters.source else None
    if filters.source and source is None:
        raise Http404
    return selectors.archive(
        query=filters.q, language=filters.language, country=filters.country, source=source,
        since=filters.since, until=filters.until,
    )  # fmt: skip


@router.get(
    "/articles/{article_id}",
    response=ArticleDetailOut,
    summary=gettext_noop("One article"),
    description=gettext_noop("Its text and every outlet that carried it."),
)
def get_article(request: HttpRequest, article_id: int) -> Article:
    policy.require(request, Resource.MEDIA_WATCH)
    article = selectors.article_detail(article_id)
    if article is None:
        raise Http404
    return article
