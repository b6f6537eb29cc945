"""Feed parsing: RSS 0.9x/1.0/2.0 and Atom, JSON Feed by hand.

A well-formed UTF-8 feed goes through feedparser-rs (Rust, with feedparser's interface, about
25 times faster); anything else (another or a wrong charset, a DTD, broken XML, any error)
through feedparser, the most tolerant parser, which repairs what can be repaired. Both get
bytes (and the headers' content type), never a URL. Every item comes out cleaned: plain-text
titles, absolute links, the id as the feed writes it, a date that is never in the future
(clamped and flagged), and duplicate ids dropped.
"""

import calendar
import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import feedparser
import feedparser_rs

TAG = re.compile(r"<[^>]+>")
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']""")
CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
UTF8 = frozenset({"utf-8", "utf8"})
SPACES = re.compile(r"\s+")
FUTURE_TOLERANCE = timedelta(hours=1)


class FeedError(Exception):
    """The bytes are not a feed we can read (HTML page, empty body, broken beyond repair)."""


@dataclass(frozen=True)
class FeedItem:
    guid: str
    url: str
    title: str
    summary: str
    content: str
    published: datetime | None
    language: str
    flags: frozenset[str] = frozenset()  # "future_date", "missing_date"


@dataclass
class ParsedFeed:
    title: str
    language: str
    items: list[FeedItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def plain_text(value: str) -> str:
    """Text without tags, entities decoded, control characters removed, spaces collapsed."""
    text = html.unescape(TAG.sub(" ", value or ""))
    if not _spaced(text).isprintable():  # a control or format character somewhere
        text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in "\t\n ")
    return SPACES.sub(" ", text).strip()


def _spaced(text: str) -> str:
    """The text with the usual non-printable spaces made plain, so that `isprintable` (in C)
    is false only when a character of category C (control, format, …) or a rare separator is
    present: then the slower character-by-character filter runs."""
    return text.replace("\n", " ").replace("\t", " ").replace("\xa0", " ").replace("\u202f", " ")


BLOCK_END = re.compile(r"</(p|div|h[1-6]|li|blockquote|section|article)\s*>|<br\s*/?>", re.I)


def html_to_text(value: str) -> str:
    """Readable text from an HTML fragment: one paragraph per line."""
    marked = BLOCK_END.sub("\n", value or "")
    lines = (plain_text(line) for line in marked.split("\n"))
    return "\n".join(line for line in lines if line)


def _date(parsed: Any, now: datetime, flags: set[str]) -> datetime | None:
    if not parsed:
        flags.add("missing_date")
        return None
    try:
        moment = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        flags.add("missing_date")
        return None
    if moment > now + FUTURE_TOLERANCE:
        flags.add("future_date")
        return now
    return moment


def _item(
    guid: str, link: str, title: str, summary: str, content: str, published: Any,
    language: str, base: str, now: datetime,
) -> FeedItem | None:  # fmt: skip
    url = urljoin(base, link.strip()) if link else ""
    if not url and not guid:
        return None
    flags: set[str] = set()
    return FeedItem(
        guid=(guid or url).strip()[:500],
        url=url,
        title=plain_text(title)[:500],
        summary=plain_text(summary),
        content=html_to_text(content),
        published=_date(published, now, flags),
        language=(language or "").split("-")[0].lower()[:8],
        flags=frozenset(flags),
    )


def _parse_json_feed(body: bytes, base: str, now: datetime) -> ParsedFeed:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FeedError(f"invalid JSON feed: {error}") from None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise FeedError("JSON that is not a JSON Feed")
    feed = ParsedFeed(
        title=plain_text(str(data.get("title", ""))), language=str(data.get("language", ""))
    )
    for entry in data.get("items") or []:
        if not isinstance(entry, dict):
            continue
        published = None
        if entry.get("date_published"):
            try:
                stamp = datetime.fromisoformat(str(entry["date_published"]).replace("Z", "+00:00"))
                published = stamp.astimezone(UTC).utctimetuple()
            except ValueError:
                published = None
        content = str(entry.get("content_html") or entry.get("content_text") or "")
        item = _item(
            str(entry.get("id", "")), str(entry.get("url", "")), str(entry.get("title", "")),
            str(entry.get("summary", "")), content,
            published, str(entry.get("language") or feed.language), base, now,
        )  # fmt: skip
        if item:
            feed.items.append(item)
    return feed


def _well_formed_utf8(body: bytes, content_type: str) -> bool:
    """UTF-8 bytes that say so (or say nothing) and declare no DTD: feedparser-rs's ground."""
    header = CHARSET.search(content_type or "")
    declared = XML_ENCODING.match(body.lstrip(b"\xef\xbb\xbf")[:200])
    if (header and header.group(1).lower() not in UTF8) or (
        declared and declared.group(1).decode("ascii", "replace").lower() not in UTF8
    ):
        return False
    if b"<!DOCTYPE" in body[:2000] or b"<!ENTITY" in body[:2000]:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _fast_parse(body: bytes, content_type: str) -> Any:
    """feedparser-rs's result for a clean feed, else None (feedparser then repairs)."""
    if not _well_formed_utf8(body, content_type):
        return None
    try:
        parsed = feedparser_rs.parse(body)  # bytes: it never fetches (a str URL would)
    except Exception:  # noqa: BLE001 - any failure: the tolerant parser decides
        return None
    if not parsed.version or not parsed.entries or parsed.bozo:
        return None
    # It blanks links to loopback and private addresses (the offline demo's, the tests'):
    # the fetcher's address policy decides about those, so feedparser reads such a feed.
    if not all(entry.get("link") for entry in parsed.entries):
        return None
    return parsed


def _published(entry: Any) -> Any:
    if isinstance(entry, dict):  # feedparser: plain dict reads, its own fallback warns
        return dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    return entry.get("published_parsed") or entry.get("updated_parsed")


def _parse_xml_feed(body: bytes, base: str, content_type: str, now: datetime) -> ParsedFeed:
    parsed = _fast_parse(body, content_type) or feedparser.parse(
        body, response_headers={"content-type": content_type or "application/xml"}
    )
    if not parsed.entries and (parsed.bozo or not parsed.version):
        reason = parsed.get("bozo_exception") or "no feed found"
        raise FeedError(f"not a feed: {reason}")
    info = parsed.feed
    feed = ParsedFeed(
        title=plain_text(info.get("title") or ""), language=info.get("language") or ""
    )
    if parsed.bozo:
        feed.warnings.append(f"repaired: {parsed.get('bozo_exception')}")
    for entry in parsed.entries:
        content = ""
        if entry.get("content"):
            content = max((c.get("value") or "" for c in entry["content"]), key=len)
        item = _item(
            entry.get("id") or "", entry.get("link") or "", entry.get("title") or "",
            entry.get("summary") or "", content, _published(entry),
            entry.get("language") or feed.language, base, now,
        )  # fmt: skip
        if item:
            feed.items.append(item)
    return feed


def parse_feed(
    body: bytes, *, base_url: str, content_type: str = "", now: datetime | None = None
) -> ParsedFeed:
    """Parse a feed's bytes; raises FeedError when they hold no feed."""
    moment = now or datetime.now(tz=UTC)
    if not body.strip():
        raise FeedError("empty body")
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{") or "json" in content_type.lower():
        feed = _parse_json_feed(stripped, base_url, moment)
    else:
        feed = _parse_xml_feed(body, base_url, content_type, moment)
    seen: set[str] = set()
    unique = []
    for item in feed.items:
        if item.guid in seen:
            feed.warnings.append(f"duplicate id dropped: {item.guid}")
            continue
        seen.add(item.guid)
        unique.append(item)
    feed.items = unique
    return feed
