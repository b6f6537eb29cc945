"""Only http(s) URLs become an article's or a version's link: `javascript:`, `data:` and the
like are dropped where they enter (feeds, sitemaps, listing pages, extracted pages) with a
recorded warning, and the API never returns one, even for rows stored earlier."""

import json
import logging
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import timezone

from intersection.accounts.models import Role
from intersection.mediawatch import services
from intersection.mediawatch.models import Article, ArticleVersion, Source, SourceKind
from intersection.mediawatch.pipeline.extract import extract_page
from intersection.mediawatch.pipeline.feeds import parse_feed
from intersection.mediawatch.pipeline.fetch import Fetcher
from intersection.mediawatch.pipeline.listings import article_links, parse_news_sitemap

from ..conftest import login, make_user
from .conftest import LocalServer, reply
from .test_ingest import OTHER

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
UNSAFE = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)",
    " \tjavascript:alert(1)",
    "java&#9;script:alert(1)",  # a tab, once the entity is decoded
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
]
TEXT = "Les agents de quartier rencontrent les habitants chaque semaine au marché."


def test_feed_items_never_get_a_link_that_is_not_http() -> None:
    rss_items = "".join(
        f"<item><guid>urn:rss:{n}</guid><title>Titre {n}</title><link>{link}</link>"
        f"<description>{TEXT}</description></item>"
        for n, link in enumerate(UNSAFE)
    )
    rss = f'<rss version="2.0"><channel><title>T</title>{rss_items}</channel></rss>'
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        '<entry><id>urn:atom:1</id><title>Atome</title><link href="javascript:alert(1)"/>'
        f"<summary>{TEXT}</summary><updated>2026-11-29T10:00:00Z</updated></entry></feed>"
    )
    json_feed = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "J",
            "items": [
                {"id": "urn:json:1", "url": "data:text/html,<b>x</b>", "content_text": TEXT},
                {"url": "javascript:alert(2)", "content_text": TEXT},  # no id: known by it
            ],
        }
    )
    feeds = [
        parse_feed(rss.encode(), base_url="https://news.example.be/rss", now=NOW),
        parse_feed(atom.encode(), base_url="https://news.example.be/atom", now=NOW),
        parse_feed(json_feed.encode(), base_url="https://news.example.be/feed.json", now=NOW),
    ]
    items = [item for feed in feeds for item in feed.items]
    assert [item.url for item in items] == [""] * (len(UNSAFE) + 3)
    assert [item.guid for item in items][-1] == "javascript:alert(2)"  # its id, as before
    assert [item.guid for item in items][: len(UNSAFE)] == [
        f"urn:rss:{n}" for n in range(len(UNSAFE))
    ]
    assert all(TEXT in (item.summary or item.content) for item in items)  # the text stays
    assert [feed.unsafe_links for feed in feeds] == [len(UNSAFE), 1, 2]
    assert all("unsafe link dropped" in w for w in feeds[1].warnings)


def test_sitemaps_and_listing_pages_give_only_http_links() -> None:
    sitemap = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>javascript:alert(1)</loc><news:news><news:title>Piege</news:title></news:news></url>
<url><loc>https://news.example.be/2026/11/agents</loc>
<news:news><news:title>Agents</news:title></news:news></url></urlset>"""
    feed = parse_news_sitemap(sitemap, base_url="https://news.example.be/sitemap.xml", now=NOW)
    assert [(item.title, item.url) for item in feed.items] == [
        ("Piege", ""),
        ("Agents", "https://news.example.be/2026/11/agents"),
    ]
    assert feed.unsafe_links == 1
    page = b"""<html><body><a href="javascript:void(0)">Les agents de quartier reviennent</a>
<a href="data:text/html,x">Les agents de quartier, un article</a>
<a href="/2026/11/agents-de-quartier">Les agents de quartier reprennent leurs tournees</a>
</body></html>"""
    listing = article_links(page, base_url="https://news.example.be/")
    assert [item.url for item in listing.items] == [
        "https://news.example.be/2026/11/agents-de-quartier"
    ]


ARTICLE = "".join(f"<p>{TEXT} Phrase {n} sur la police de proximité.</p>" for n in range(8))


def page(image: str, canonical: str = "") -> bytes:
    head = f'<meta property="og:image" content="{image}">'
    if canonical:
        head += f'<link rel="canonical" href="{canonical}">'
    return (
        f'<html lang="fr"><head><title>Agents</title>{head}</head>'
        f"<body><article><h1>Agents</h1>{ARTICLE}</article></body></html>"
    ).encode()


def test_an_extracted_page_gives_no_unsafe_image_or_canonical_link() -> None:
    found = [
        extract_page(page(image, canonical), "https://news.example.be/a")
        for image, canonical in [
            ("javascript:alert(1)", "javascript:alert(2)"),
            ("data:image/png;base64,AAAA", ""),
            ("/img/agents.png", "https://news.example.be/agents"),
        ]
    ]
    assert [(p.image_url, p.canonical_url) for p in found if p] == [
        ("", "https://news.example.be/a"),
        ("", "https://news.example.be/a"),
        ("https://news.example.be/img/agents.png", "https://news.example.be/agents"),
    ]
    assert [len(p.unsafe_links) for p in found if p] == [1, 1, 0]


@pytest.mark.django_db
def test_a_poll_stores_only_http_links_and_records_what_it_dropped(
    web: LocalServer, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    web.routes["/p/1"] = reply(page("data:image/png;base64,AAAA"))
    items = [
        ("urn:a:1", "Premier", "javascript:alert(document.cookie)", " ".join([TEXT] * 10)),
        ("urn:a:2", "Deuxième", "data:text/html,<script>alert(1)</script>", OTHER),
        ("urn:a:3", "Troisième", web.url("/p/1?utm_source=rss&amp;id=3#top"), "Court."),
    ]
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>{link}</link>"
        f"<description>{text}</description></item>"
        for guid, title, link, text in items
    )
    web.routes["/f"] = reply(
        f'<rss version="2.0"><channel><title>T</title>{entries}</channel></rss>'.encode()
    )
    source = Source.objects.create(name="Journal", kind=SourceKind.FEED, url=web.url("/f"))
    with caplog.at_level(logging.WARNING, logger="intersection.mediawatch.services"):
        report = services.poll_source(source=source, fetcher=fetcher, now=timezone.now())
    assert report.new == 3
    assert report.errors.get("unsafe_link") == 3  # two feed links, one page image
    assert sum("unsafe link dropped" in message for message in caplog.messages) == 3
    versions = {v.guid: v.url for v in ArticleVersion.objects.all()}
    assert versions == {"urn:a:1": "", "urn:a:2": "", "urn:a:3": web.url("/p/1?id=3")}
    assert sorted(Article.objects.values_list("url", flat=True)) == ["", "", web.url("/p/1?id=3")]
    assert set(Article.objects.values_list("image_url", flat=True)) == {""}
    assert Article.objects.filter(title="Premier", text__startswith=TEXT).exists()


@pytest.mark.django_db
def test_the_api_never_returns_a_link_that_is_not_http_even_for_old_rows() -> None:
    source = Source.objects.create(name="Journal", kind=SourceKind.FEED, url="https://j.be/rss")
    unsafe = Article.objects.create(
        canonical_url="guid:1:a", url="javascript:alert(1)", title="Ancien", source=source
    )
    ArticleVersion.objects.create(
        article=unsafe, source=source, guid="a", url="data:text/html,x", title="Ancien"
    )
    tracked = Article.objects.create(
        canonical_url="j.be/agents",
        url="https://www.j.be/agents?utm_source=rss&id=3&xtor=RSS-1#comments",
        title="Tracké",
        source=source,
    )
    staff = login(Client(), make_user("staff@example.org", role=Role.STAFF))
    listed = staff.get("/api/media-watch/articles").json()["items"]
    assert {item["title"]: item["url"] for item in listed} == {
        "Ancien": "",
        "Tracké": "https://www.j.be/agents?id=3",
    }
    detail = staff.get(f"/api/media-watch/articles/{unsafe.pk}").json()
    assert detail["url"] == "" and [v["url"] for v in detail["versions"]] == [""]
    # What templates and exports use: the same filtered links.
    assert (unsafe.link, unsafe.versions.get().link) == ("", "")
    assert tracked.link == "https://www.j.be/agents?id=3"
