import csv
import io
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intersection.core import audit
from intersection.core.http import private_response
from intersection.network import policy
from intersection.network.models import Resource
from intersection.network.policy import requires

from . import labels, search, selectors, services
from .forms import ArchiveFilterForm
from .models import Article, SavedSearch

PAGE_SIZE = 20
MORE_FILTERS = ("language", "country", "source", "since", "until")


class ArchivePaginator(Paginator):
    """Counts matches up to search.COUNT_LIMIT; beyond, the page says "more than 1,000"."""

    object_list: QuerySet[Article]

    @cached_property
    def found(self) -> int:
        # Counting first also picks the query plan (search.counted): the page is then read
        # from the re-planned object list.
        self.object_list, found = search.counted(self.object_list)
        return found

    @cached_property
    def count(self) -> int:
        return min(self.found, search.COUNT_LIMIT)

    @property
    def more(self) -> bool:
        return self.found > search.COUNT_LIMIT

    def page(self, number: Any) -> Page:
        """Django's page, read from the first matches it needs (`search.first_rows`)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = search.first_rows(self.object_list, top)
        return Page(rows[bottom:top], number, self)


def _archive(params: QueryDict) -> tuple[ArchiveFilterForm, QuerySet[Article] | None, str]:
    """The archive filtered by these query parameters; None when a filter is invalid (the
    page then shows the error with the form, and no list that would ignore the filter)."""
    form = ArchiveFilterForm(params or None)
    if form.is_bound and not form.is_valid():
        return form, None, ""
    filters = form.cleaned_data if form.is_bound else {}
    articles = selectors.filtered_archive(filters, (get_language() or "fr")[:2])
    return form, articles, filters.get("q", "")


def archive_query(params: QueryDict) -> str:
    """The archive's own parameters (filters and page) out of a query string, re-encoded:
    what an article's page keeps to lead back to the same results."""
    kept = QueryDict(mutable=True)
    for name in (*ArchiveFilterForm.base_fields, "page"):
        value = params.get(name, "")[:200]
        if value:
            kept[name] = value
    return kept.urlencode()


@requires(Resource.MEDIA_WATCH)
def index(request: HttpRequest) -> HttpResponse:
    """The archive: search with filters, newest first, one line per story."""
    form, articles, query = _archive(request.GET)
    filters = request.GET.copy()
    filters.pop("page", None)
    context: dict[str, Any] = {
        "form": form,
        "query": query,
        "filters": filters.urlencode(),
        "more_filters_open": any(request.GET.get(name) for name in MORE_FILTERS),
        "saved": selectors.saved_searches(request.user),
    }
    if articles is not None:
        page = ArchivePaginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
        outlets = selectors.outlet_counts(list(page))
        context["page"] = page
        context["here"] = archive_query(request.GET)
        context["rows"] = [
            (
                article,
                search.snippet(article.text or article.summary, query),
                outlets.get(article.pk, 1),
            )
            for article in page
        ]
    return render(
        request, "mediawatch/index.html", context, status=200 if articles is not None else 400
    )


@requires(Resource.MEDIA_WATCH)
@require_POST
def save_search(request: HttpRequest) -> HttpResponse:
    name = request.POST.get("name", "").strip()[:100]
    query_string = request.POST.get("filters", "")[:1000]
    if not name:
        messages.error(request, _("Give the search a name to save it."))
    else:
        services.saved_search_create(user=request.user, name=name, query_string=query_string)
        messages.success(request, _("Search saved. Its Atom feed is listed below the results."))
    return redirect(f"{reverse('mediawatch:index')}?{query_string}")


def _own_saved_search(request: HttpRequest, pk: int) -> SavedSearch:
    return get_object_or_404(SavedSearch, pk=pk, user_id=request.user.pk)


@requires(Resource.MEDIA_WATCH)
def open_saved_search(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a saved search from the list: its "new since your last visit" starts again."""
    saved = _own_saved_search(request, pk)
    services.saved_search_viewed(saved=saved)
    return redirect(f"{reverse('mediawatch:index')}?{saved.query_string}")


@requires(Resource.MEDIA_WATCH)
def delete_saved_search(request: HttpRequest, pk: int) -> HttpResponse:
    """Asks first (GET shows what will be deleted); POST deletes."""
    saved = _own_saved_search(request, pk)
    if request.method != "POST":
        return render(
            request,
            "mediawatch/saved_search_delete.html",
            {"saved": saved, "filters": selectors.describe_filters(saved.query_string)},
        )
    saved.delete()
    messages.success(request, _("The saved search “%(name)s” is deleted.") % {"name": saved.name})
    return redirect("mediawatch:index")


@requires(Resource.MEDIA_WATCH)
@require_POST
def rotate_feed_key(request: HttpRequest, pk: int) -> HttpResponse:
    """A new private address for the saved search's feed; the old one stops working."""
    saved = _own_saved_search(request, pk)
    services.saved_search_rotate_key(saved=saved, request=request)
    messages.success(
        request,
        _("The feed of “%(name)s” has a new address: update it in your feed reader.")
        % {"name": saved.name},
    )
    return redirect(f"{reverse('mediawatch:index')}#saved-searches")


@private_response
def saved_search_feed(request: HttpRequest, key: str) -> HttpResponse:
    """Atom feed of a saved search, at a private address for feed readers. The owner's
    access is checked on every request: when their agreement ends, so does the feed."""
    saved = SavedSearch.objects.select_related("user").filter(feed_key=key).first()
    if saved is None or not policy.allows(saved.user, Resource.MEDIA_WATCH):
        raise Http404
    _form, articles, _query = _archive(QueryDict(saved.query_string))
    feed = Atom1Feed(
        title=f"Intersection — {saved.name}",
        link=request.build_absolute_uri(f"{reverse('mediawatch:index')}?{saved.query_string}"),
        description=saved.name,
        language=get_language() or "fr",
    )
    found = [] if articles is None else search.first_rows(search.counted(articles)[0], 50)[:50]
    for article in found:
        feed.add_item(
            title=article.title,
            link=request.build_absolute_uri(reverse("mediawatch:article", args=[article.pk])),
            description=article.summary or article.text[:500],
            pubdate=article.published_at or article.first_seen_at,
            unique_id=f"intersection:article:{article.pk}",
        )
    return HttpResponse(
        feed.writeString("utf-8"), content_type="application/atom+xml; charset=utf-8"
    )


EXPORT_LIMIT = 5000
EXPORT_FIELDS = ["id", "title", "url", "language", "published_at", "source", "outlets", "summary"]


@requires(Resource.MEDIA_WATCH)
@private_response
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The current search as CSV or JSON (at most EXPORT_LIMIT articles), audited."""
    if fmt not in ("csv", "json"):
        raise Http404
    _form, articles, _query = _archive(request.GET)
    if articles is None:
        return HttpResponse(
            _("A filter is not valid: correct it on the archive page, then export."),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    counted, _found = search.counted(articles, EXPORT_LIMIT)
    chosen = list(search.first_rows(counted, EXPORT_LIMIT)[:EXPORT_LIMIT])
    outlets = selectors.outlet_counts(chosen)
    rows = [
        {
            "id": a.pk,
            "title": a.title,
            "url": a.link,
            "language": a.language,
            "published_at": a.published_at.isoformat() if a.published_at else "",
            "source": a.source.name,
            "outlets": outlets.get(a.pk, 1),
            "summary": a.summary,
        }
        for a in chosen
    ]
    audit.record(
        action="mediawatch.export", request=request, object_repr=f"{fmt} {len(rows)} articles"
    )
    if fmt == "json":
        response = HttpResponse(
            json.dumps(rows, ensure_ascii=False), content_type="application/json; charset=utf-8"
        )
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)
        response = HttpResponse(
            "\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="media-watch.{fmt}"'
    return response


def spreadsheet_safe(value: object) -> object:
    """A leading = + - @ would run as a formula in a spreadsheet: quote it."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@requires(Resource.MEDIA_WATCH)
def article(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.article_detail(pk)
    if found is None:
        raise Http404
    versions = [
        (version, labels.match_reason(version.match_reason)) for version in found.versions.all()
    ]
    back = archive_query(request.GET)
    return render(
        request,
        "mediawatch/article.html",
        {"article": found, "versions": versions, "back": back},
    )


@requires(Resource.MEDIA_WATCH)
def sources(request: HttpRequest) -> HttpResponse:
    rows = [(source, labels.health(source)) for source in selectors.sources()]
    return render(request, "mediawatch/sources.html", {"rows": rows})


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
