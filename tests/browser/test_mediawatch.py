"""A member searches the media-watch archive in French and opens an article with its versions."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page

from intersection.mediawatch.models import Article, ArticleVersion, Source, SourceKind
from intersection.mediawatch.pipeline.stemming import index_terms

from .conftest import OFFICER_BXL, assert_accessible, log_in, visit

pytestmark = pytest.mark.browser

TEXT = (
    "Les policiers de quartier de Bruxelles-Nord reprennent leurs tournées à pied. "
    "Ils tiendront une permanence chaque semaine au commissariat de Schaerbeek."
)


@pytest.fixture
def story() -> Article:
    quotidien = Source.objects.create(
        name="Le Quotidien", kind=SourceKind.FEED, url="https://q.example/rss"
    )
    matin = Source.objects.create(
        name="Hainaut Matin", kind=SourceKind.FEED, url="https://h.example/rss"
    )
    title = "Les agents de quartier reprennent leurs tournées"
    article = Article.objects.create(
        canonical_url="q.example/agents", url="https://q.example/agents", title=title,
        normalised_title=title.lower(), text=TEXT, language="fr", source=quotidien,
        published_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        search_terms=index_terms(f"{title} {TEXT}", "fr"),
    )  # fmt: skip
    ArticleVersion.objects.create(
        article=article, source=quotidien, guid="q1", url=article.url, title=title
    )
    ArticleVersion.objects.create(
        article=article, source=matin, guid="h1", url="https://h.example/agents",
        title="VIDÉO - Les agents repartent", similarity=0.93, match_reason="near_text",
    )  # fmt: skip
    return article


def test_member_searches_in_french_and_opens_an_article_with_versions(
    page: Page, story: Article
) -> None:
    log_in(page, OFFICER_BXL)
    visit(page, "/media-watch/")
    page.fill("input[name=q]", "policier")
    with page.expect_navigation():
        page.click("form[role=search] button[type=submit]")
    assert page.locator("mark").first.inner_text().lower().startswith("policier")
    assert_accessible(page)  # the results page, with highlighted matches
    with page.expect_navigation():
        page.click(f"a[href^='/media-watch/articles/{story.pk}/']")
    assert page.locator("h1").inner_text() == story.title
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    assert "Hainaut Matin" in rows.nth(1).inner_text()
    visit(page, f"/media-watch/articles/{story.pk}/")
    visit(page, "/media-watch/sources/")
