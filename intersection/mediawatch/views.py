from pathlib import Path

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from intersection.network.models import Resource
from intersection.network.policy import requires

from . import search, selectors
from .forms import ArchiveFilterForm

PAGE_SIZE = 20


@requires(Resource.MEDIA_WATCH)
def index(request: HttpRequest) -> HttpResponse:
    """The archive: search with filters, newest first, one line per story."""
    form = ArchiveFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    articles = selectors.archive(
        query=filters.get("q", ""),
        language=filters.get("language", ""),
        country=filters.get("country", ""),
        source=filters.get("source"),
        since=filters.get("since"),
        until=filters.get("until"),
        reader_language=(get_language() or "fr")[:2],
    )
    page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    query = filters.get("q", "")
    rows = [(article, search.snippet(article.text or article.summary, query)) for article in page]
    return render(
        request,
        "mediawatch/index.html",
        {"form": form, "page": page, "rows": rows, "query": query},
        status=400 if form.errors else 200,
    )


@requires(Resource.MEDIA_WATCH)
def article(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.article_detail(pk)
    if found is None:
        raise Http404
    return render(request, "mediawatch/article.html", {"article": found})


@requires(Resource.MEDIA_WATCH)
def sources(request: HttpRequest) -> HttpResponse:
    return render(request, "mediawatch/sources.html", {"sources": selectors.sources()})


DEMO_SOURCES = Path(__file__).resolve().parent / "demo_sources"
DEMO_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}


def demo_base_url() -> str:
    return f"{settings.SITE_URL}/demo-sources"


def demo_source(request: HttpRequest, path: str) -> HttpResponse:
    """The offline demo's outlets (feeds and article pages shipped with the project), served
    by the platform itself outside production so `make run` needs no internet."""
    if settings.PRODUCTION:
        raise Http404
    target = (DEMO_SOURCES / path).resolve()
    if not target.is_relative_to(DEMO_SOURCES) or not target.is_file():
        raise Http404
    if target.name == "atom.xml":
        content_type = "application/atom+xml; charset=utf-8"
    else:
        content_type = DEMO_TYPES.get(target.suffix, "application/octet-stream")
    body = target.read_bytes().replace(b"{{BASE}}", demo_base_url().encode())
    return HttpResponse(body, content_type=content_type)
