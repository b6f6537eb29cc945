"""Feed parsing: RSS 0.9x/1.0/2.0 and Atom, JSON Feed by hand.

A well-formed UTF-8 feed goes through feedparser-rs (Rust, with feedparser's interface, about
25 times faster); anything else (another or a wrong charset, a DTD, broken XML, any error)
through feedparser, the most tolerant parser, which repairs what can be repaired. Both get
bytes, never a URL.

Decoded first: whatever the encoding (UTF-16 and UTF-32 included, with or without a byte
order mark), the text is decoded here, everything before the first element (XML
declaration, DOCTYPE and its entity declarations, comments) is replaced by a plain UTF-8
declaration, and the parsers get that UTF-8 text. So no entity is ever declared, expanded
or fetched, whatever trick the bytes play (feedparser itself would expand the "safe"
entities of an internal DTD). Named HTML entities (`&eacute;` in old RSS 0.91 feeds) are
still read by feedparser's repairing parser: they do not come from the document.

Every item comes out cleaned: plain-text titles, absolute http(s) links (any other link,
`javascript:` or `data:`, or one that is no URL at all, is dropped with a warning, the item
keeps its id and text), the id as the feed writes it, a date that is never in the future
(clamped and flagged), and duplicate ids dropped. An item that cannot be read at all is
skipped with a warning: the rest of the feed is kept. Nothing but FeedError comes out.
"""

import calendar
import codecs
import functools
import html
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import feedparser
import feedparser_rs

from .urls import web_url

TAG = re.compile(r"<[^>]+>")
XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']""")
CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
UTF8 = frozenset({"utf-8", "utf8"})
SPACES = re.compile(r"\s+")
FUTURE_TOLERANCE = timedelta(hours=1)
UNSAFE_LINK = "unsafe link dropped"
INVALID_LINK = "invalid link dropped"
UNREADABLE_ITEM = "unreadable item skipped"
# Byte order marks, UTF-32 before UTF-16 (the UTF-32-LE mark starts with the UTF-16-LE one).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)  # fmt: skip
# An encoding we decode with must read these ASCII bytes as themselves (not UTF-7, EBCDIC,
# HZ, escape codecs...).
ASCII_PROBE = b"""<?xml version="1.0"?><!-- \\u003c +ADw- ~{ --> &#60;"""
NAME_START = re.compile(r"[A-Za-z0-9_]")  # after "<": feedparser's "end of the prolog", too
ENTITY_DECLARATION = re.compile(r"<!ENTITY\s+(?:%\s+)?([^\s\"'<>%&;]+)", re.IGNORECASE)
REFERENCE = re.compile(r"&([^\s\"'<>%&;#]+);")
UTF8_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# A numeric character reference, with or without its ";" (feedparser's repairing parser reads
# both); one that names no character (a surrogate, beyond U+10FFFF) is made U+FFFD.
CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+))")
NO_CHARACTER = "&#xFFFD"


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

    def drop_unsafe_link(self, link: str) -> None:
        self.warnings.append(f"{UNSAFE_LINK}: {link[:200]!r}")

    def skip_item(self, error: Exception) -> None:
        self.warnings.append(f"{UNREADABLE_ITEM}: {type(error).__name__}: {str(error)[:200]}")

    @property
    def unsafe_links(self) -> int:
        """Links dropped because they were not http(s) (`javascript:`, `data:`, ...)."""
        return sum(warning.startswith(UNSAFE_LINK) for warning in self.warnings)


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


def absolute_url(base: str, link: str) -> str | None:
    """The link made absolute against the base; None when it cannot be read as a URL (a host
    such as `example.c[o.test`, which `urljoin` refuses with ValueError)."""
    try:
        return urljoin(base, link.strip())
    except ValueError:
        return None


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
    feed: ParsedFeed, guid: str, link: str, title: str, summary: str, content: str,
    published: Any, language: str, base: str, now: datetime,
) -> FeedItem | None:  # fmt: skip
    guid, link = guid.strip(), link.strip()  # a blank id or link is none
    written = absolute_url(base, link) if link else ""
    if written is None:
        feed.warnings.append(f"{INVALID_LINK}: {link[:200]!r}")
        written = ""  # the item stays, known by its id, without a link
    if not written and not guid:
        return None
    url = web_url(written)
    if written and not url:
        feed.drop_unsafe_link(written)  # the item stays, known by its id, without a link
    flags: set[str] = set()
    return FeedItem(
        guid=(guid or written)[:500],
        url=url,
        title=plain_text(title)[:500],
        summary=plain_text(summary),
        content=html_to_text(content),
        published=_date(published, now, flags),
        language=(language or "").split("-")[0].lower()[:8],
        flags=frozenset(flags),
    )


def _json_date(value: Any) -> Any:
    """A JSON Feed date (RFC 3339) as a UTC time tuple, or None."""
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return stamp.astimezone(UTC).utctimetuple()
    except (ValueError, OverflowError):  # not a date, or out of range once in UTC
        return None


def _json_item(
    feed: ParsedFeed, entry: dict[str, Any], base: str, now: datetime
) -> FeedItem | None:
    content = str(entry.get("content_html") or entry.get("content_text") or "")
    return _item(
        feed, str(entry.get("id", "")), str(entry.get("url", "")), str(entry.get("title", "")),
        str(entry.get("summary", "")), content, _json_date(entry.get("date_published")),
        str(entry.get("language") or feed.language), base, now,
    )  # fmt: skip


def _parse_json_feed(body: bytes, base: str, now: datetime) -> ParsedFeed:
    try:
        data = json.loads(body)
    except ValueError as error:  # not JSON, not UTF-8/16/32, a number of over 4,300 digits
        raise FeedError(f"invalid JSON feed: {str(error)[:200]}") from None
    except RecursionError:
        raise FeedError("invalid JSON feed: nested too deeply") from None
    if not isinstance(data, dict) or "jsonfeed.org" not in str(data.get("version", "")):
        raise FeedError("JSON that is not a JSON Feed")
    feed = ParsedFeed(
        title=plain_text(str(data.get("title", ""))), language=str(data.get("language", ""))
    )
    entries = data.get("items")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        try:
            item = _json_item(feed, entry, base, now)
        except Exception as error:  # noqa: BLE001 - one unreadable item does not lose the feed
            feed.skip_item(error)
            continue
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


@functools.cache
def _ascii_compatible(encoding: str) -> bool:
    try:
        return ASCII_PROBE.decode(encoding) == ASCII_PROBE.decode("ascii")
    except (LookupError, UnicodeError, ValueError):
        return False


def _multibyte(body: bytes) -> tuple[bytes, str] | None:
    """UTF-8, UTF-16 or UTF-32 told by a byte order mark or, without one, by where the zero
    bytes of the first character fall (XML 1.0, appendix F): the body without its mark."""
    for bom, encoding in BOMS:
        if body.startswith(bom):
            return body[len(bom) :], encoding
    head = body[:4]
    if len(head) == 4:
        if head[:3] == b"\0\0\0" and head[3]:
            return body, "utf-32-be"
        if head[0] and head[1:] == b"\0\0\0":
            return body, "utf-32-le"
        if not head[0] and head[1] and not head[2]:
            return body, "utf-16-be"
        if head[0] and not head[1] and head[2] and not head[3]:
            return body, "utf-16-le"
    return None


def decode_xml(body: bytes, content_type: str = "") -> tuple[str, list[str]]:
    """The text of an XML document, and warnings: by its byte order mark (or the layout of
    its first bytes), else the charset of the headers, else its XML declaration, else
    UTF-8, else Windows-1252, else Latin-1 (which reads any byte). Only encodings that read
    ASCII as ASCII are used, besides UTF-16 and UTF-32."""
    found = _multibyte(body)
    if found is not None:
        rest, encoding = found
        return rest.decode(encoding, "replace"), []
    names = []
    if header := CHARSET.search(content_type or ""):
        names.append(header.group(1))
    if declared := XML_ENCODING.match(body[:200]):
        names.append(declared.group(1).decode("ascii", "replace"))
    for encoding in (*names, "utf-8", "windows-1252"):
        if not _ascii_compatible(encoding):
            continue
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            continue
        if names and encoding not in names:
            return text, [f"declared {names[0]!r}, read as {encoding}"]
        return text, []
    return body.decode("latin-1"), [f"undecodable, read as latin-1 (declared {names})"]


def _root_start(text: str) -> int:
    """Where the first element starts, past the comments and processing instructions of the
    prolog (a DOCTYPE is not parsed: a tag inside it only makes the cut earlier, and what
    follows then is no DTD to any parser). The length of the text when there is none."""
    position = 0
    while (found := text.find("<", position)) >= 0:
        for opening, closing in (("<!--", "-->"), ("<?", "?>")):
            if text.startswith(opening, found):
                end = text.find(closing, found + len(opening))
                if end < 0:
                    return len(text)
                position = end + len(closing)
                break
        else:
            if NAME_START.match(text, found + 1):
                return found
            position = found + 1
    return len(text)


def _real_character(reference: re.Match[str]) -> str:
    """The reference, or one to U+FFFD when it names no character (feedparser's repairing
    parser raises on `&#xD800;` or `&#1114112;`)."""
    hexadecimal, decimal = reference.groups()
    digits = (hexadecimal or decimal).lstrip("0") or "0"
    if len(digits) > 7:  # beyond U+10FFFF either way (and no int() of a huge number)
        return NO_CHARACTER
    code = int(digits, 16 if hexadecimal else 10)
    if code > sys.maxunicode or 0xD800 <= code <= 0xDFFF:
        return NO_CHARACTER
    return reference.group(0)


def xml_for_parsers(text: str) -> tuple[bytes, list[str]]:
    """UTF-8 bytes for the parsers: whatever came before the first element (the DOCTYPE and
    its entity declarations, comments, the XML declaration) is replaced by a UTF-8 XML
    declaration, so that no parser ever sees a DTD, or an encoding other than UTF-8. A
    reference to an entity the document declared stays as text ("&x;"), unexpanded; a
    character reference to no character names U+FFFD instead."""
    document = CHARACTER_REFERENCE.sub(_real_character, text[_root_start(text) :])
    declared = set(ENTITY_DECLARATION.findall(text))
    if not declared:
        return (UTF8_DECLARATION + document).encode("utf-8", "replace"), []

    def as_text(reference: re.Match[str]) -> str:
        name = reference.group(1)
        return f"&amp;{name};" if name in declared else reference.group(0)

    document = REFERENCE.sub(as_text, document)
    warning = f"entity declarations ignored, references kept as text: {sorted(declared)[:5]}"
    return (UTF8_DECLARATION + document).encode("utf-8", "replace"), [warning]


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
    text, warnings = decode_xml(body, content_type)
    prepared, ignored = xml_for_parsers(text)
    media_type = (content_type or "application/xml").split(";", 1)[0].strip()
    parsed = (
        _fast_parse(prepared, "") if _well_formed_utf8(body, content_type) else None
    ) or feedparser.parse(
        prepared, response_headers={"content-type": f"{media_type}; charset=utf-8"}
    )
    if not parsed.entries and (parsed.bozo or not parsed.version):
        reason = parsed.get("bozo_exception") or "no feed found"
        raise FeedError(f"not a feed: {reason}")
    info = parsed.feed
    feed = ParsedFeed(
        title=plain_text(info.get("title") or ""),
        language=info.get("language") or "",
        warnings=warnings + ignored,
    )
    if parsed.bozo:
        feed.warnings.append(f"repaired: {parsed.get('bozo_exception')}")
    for entry in parsed.entries:
        try:
            item = _xml_item(feed, entry, base, now)
        except Exception as error:  # noqa: BLE001 - one unreadable item does not lose the feed
            feed.skip_item(error)
            continue
        if item:
            feed.items.append(item)
    return feed


def _xml_item(feed: ParsedFeed, entry: Any, base: str, now: datetime) -> FeedItem | None:
    content = ""
    if entry.get("content"):
        content = max((c.get("value") or "" for c in entry["content"]), key=len)
    return _item(
        feed, entry.get("id") or "", entry.get("link") or "", entry.get("title") or "",
        entry.get("summary") or "", content, _published(entry),
        entry.get("language") or feed.language, base, now,
    )  # fmt: skip


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
