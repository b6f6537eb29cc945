"""Sources that are not feeds: news sitemaps, and web pages whose article links are followed.

Both produce the same `ParsedFeed` as feeds.py, so the rest of the pipeline does not care.
A sitemap is decoded first (UTF-16 and UTF-32 too), then read by defusedxml, which refuses
any DTD, entity declaration or external reference in the parser itself, whatever the
encoding. Only http(s) links become items' links.
"""

import contextlib
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .feeds import FeedError, FeedItem, ParsedFeed, absolute_url, decode_xml, plain_text
from .urls import web_url

NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ARTICLE_PATH = re.compile(r"/[^/]*[a-z]{3,}[^/]*-[^/]+|/\d{4}/\d{2}/|/articles?/", re.IGNORECASE)
MAX_LINKS = 100


def _iso(value: str | None, now: datetime) -> tuple[datetime | None, frozenset[str]]:
    if not value:
        return None, frozenset({"missing_date"})
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None, frozenset({"missing_date"})
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment > now:
        return now, frozenset({"future_date"})
    return moment.astimezone(UTC), frozenset()


def parse_news_sitemap(body: bytes, *, base_url: str, now: datetime | None = None) -> ParsedFeed:
    """A Google-News-style sitemap: one item per <url> with its news title and date."""
    moment = now or datetime.now(tz=UTC)
    text, warnings = decode_xml(body)
    try:
        # A str: the parser reads the decoded text, whatever encoding its declaration names.
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise FeedError("documents with a DTD or entities are refused") from None
    except ParseError as error:
        raise FeedError(f"not a sitemap: {error}") from None
    if not root.tag.endswith("urlset"):
        raise FeedError("not a sitemap: the root element is not <urlset>")
    feed = ParsedFeed(title="", language="", warnings=warnings)
    for entry in root.iter(f"{SITEMAP}url"):
        location = (entry.findtext(f"{SITEMAP}loc") or "").strip()
        if not location:
            continue
        news = entry.find(f"{NEWS}news")
        title = news.findtext(f"{NEWS}title", "") if news is not None else ""
        language = (
            news.findtext(f"{NEWS}publication/{NEWS}language", "") if news is not None else ""
        )
        date_text = news.findtext(f"{NEWS}publication_date") if news is not None else None
        published, flags = _iso(date_text or entry.findtext(f"{SITEMAP}lastmod"), moment)
        written = absolute_url(base_url, location)
        if written is None:
            continue  # no URL: nothing else tells the entry
        url = web_url(written)
        if not url:
            feed.drop_unsafe_link(written)  # the entry stays, known by what it said
        feed.items.append(
            FeedItem(
                written[:500], url, plain_text(title)[:500], "", "", published, language[:2],
                flags,
            )
        )  # fmt: skip
    return feed


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text)))
            self._href = None


def article_links(body: bytes, *, base_url: str) -> ParsedFeed:
    """Links of a news listing page that look like articles, on the same site."""
    parser = _Links()
    # The standard library's HTML parser asserts on some broken declarations (`<![<`,
    # `<![DOCTYPE `): the links read before them are kept.
    with contextlib.suppress(AssertionError, ValueError):
        parser.feed(body.decode("utf-8", "replace"))
    host = urlsplit(base_url).netloc
    feed = ParsedFeed(title="", language="")
    seen: set[str] = set()
    for href, text in parser.links:
        # Menus are full of `javascript:` links: not articles, skipped without a warning.
        url = web_url(absolute_url(base_url, href) or "").split("#", 1)[0]
        parts = urlsplit(url)
        title = plain_text(text)
        if not url or parts.netloc != host or url in seen:
            continue
        if not ARTICLE_PATH.search(parts.path) or len(title) < 15:
            continue  # navigation, tags, short links: not articles
        seen.add(url)
        feed.items.append(
            FeedItem(url, url, title[:500], "", "", None, "", frozenset({"missing_date"}))
        )
        if len(feed.items) >= MAX_LINKS:
            break
    if not feed.items:
        raise FeedError("no article links found on the page")
    return feed
