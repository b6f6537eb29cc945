"""News sitemaps and listing pages as sources."""

from datetime import UTC, datetime

import pytest

from intersection.mediawatch.pipeline.feeds import FeedError
from intersection.mediawatch.pipeline.listings import article_links, parse_news_sitemap

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://news.example.be/police/agents-de-quartier</loc>
    <news:news><news:publication><news:name>Ex</news:name><news:language>fr</news:language></news:publication>
      <news:publication_date>2026-11-29T08:00:00+01:00</news:publication_date>
      <news:title>Les agents de quartier &amp; les habitants</news:title></news:news></url>
  <url><loc>https://news.example.be/later</loc>
    <news:news><news:publication_date>2099-01-01T00:00:00Z</news:publication_date>
      <news:title>Plus tard</news:title></news:news></url>
</urlset>"""


def test_it_reads_a_news_sitemap() -> None:
    first, later = parse_news_sitemap(SITEMAP, base_url="https://news.example.be/", now=NOW).items
    assert first.title == "Les agents de quartier & les habitants" and first.language == "fr"
    assert first.published == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    assert later.published == NOW and "future_date" in later.flags


@pytest.mark.parametrize(
    "body",
    [b"<html></html>", b"<urlset", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><urlset/>'],
)
def test_it_refuses_what_is_not_a_sitemap(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse_news_sitemap(body, base_url="https://news.example.be/")


PAGE = b"""<html><body><nav><a href="/">Accueil</a><a href="/sport">Sport</a></nav>
<main>
<a href="/2026/11/29/agents-de-quartier-reprennent-leurs-tournees">Les agents de quartier reprennent leurs tourn\xc3\xa9es</a>
<a href="https://news.example.be/articles/velos-graves-a-ath#comments">Des v\xc3\xa9los grav\xc3\xa9s gratuitement \xc3\xa0 Ath</a>
<a href="https://other.example.org/2026/11/29/ailleurs-un-article-externe">Un article sur un autre site</a>
<a href="/tag/police">police</a>
</main></body></html>"""


def test_it_follows_the_article_links_of_a_listing_page() -> None:
    items = article_links(PAGE, base_url="https://news.example.be/actualites").items
    assert [i.url for i in items] == [
        "https://news.example.be/2026/11/29/agents-de-quartier-reprennent-leurs-tournees",
        "https://news.example.be/articles/velos-graves-a-ath",
    ]
    assert items[1].title == "Des vélos gravés gratuitement à Ath"


def test_it_explains_a_page_without_article_links() -> None:
    with pytest.raises(FeedError, match="no article links"):
        article_links(
            b"<html><body><a href='/'>Accueil</a></body></html>", base_url="https://x.be/"
        )
