"""The offline demo, end to end: the platform serves its demo outlets, polls them through
the real fetcher and shows a deduplicated archive matching the manifest's own answers."""

import json
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from intersection.mediawatch import services
from intersection.mediawatch.demo import load_demo_sources
from intersection.mediawatch.models import Article, ArticleVersion
from intersection.mediawatch.views import DEMO_SOURCES

MANIFEST = json.loads((DEMO_SOURCES / "manifest.json").read_text(encoding="utf-8"))


def _article_of(path: str) -> int:
    """The stored article whose version points at this demo page (tracking parameters aside)."""
    for version in ArticleVersion.objects.all():
        if urlsplit(version.url).path.endswith("/demo-sources/" + path):
            return version.article_id
    raise AssertionError(f"no version for {path}")


@pytest.mark.django_db(transaction=True)
def test_the_demo_archive_is_complete_and_deduplicated(
    live_server: LiveServer, settings: object
) -> None:
    settings.SITE_URL = live_server.url  # type: ignore[attr-defined]
    sources = load_demo_sources()
    assert len(sources) == len(MANIFEST["outlets"])
    with services.fetcher_for_settings() as fetcher:
        reports = [
            services.poll_source(source=s, fetcher=fetcher, now=timezone.now()) for s in sources
        ]
    assert all(r.status == "ok" and not r.errors for r in reports), reports
    pages = sum(len(outlet["articles"]) for outlet in MANIFEST["outlets"])
    assert ArticleVersion.objects.count() == pages
    for group in MANIFEST["duplicates"]:
        assert len({_article_of(path) for path in group}) == 1, group
    for pair in MANIFEST["similar_not_duplicates"] + MANIFEST["translations_not_duplicates"]:
        assert len({_article_of(path) for path in pair}) == 2, pair
    merged = sum(len(group) - 1 for group in MANIFEST["duplicates"])
    assert Article.objects.count() == pages - merged
    # Full text for the outlet whose feed only summarises: fetched from the article pages.
    summarised = next(o for o in MANIFEST["outlets"] if not o["full_text_in_feed"])
    article = Article.objects.get(pk=_article_of(summarised["articles"][0]))
    assert len(article.text) > 400
    assert {a.language for a in Article.objects.all()} == {"fr", "nl", "en"}
    # A second run adds nothing.
    with services.fetcher_for_settings() as fetcher:
        for source in sources:
            source.refresh_from_db()
            services.poll_source(source=source, fetcher=fetcher, now=timezone.now())
    assert ArticleVersion.objects.count() == pages
