"""OPML import and export of sources (the format every feed reader speaks)."""

import xml.etree.ElementTree as ET  # noqa: S405 - DTDs are refused before parsing
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr


class OpmlError(Exception):
    pass


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    url: str
    language: str


def read_opml(data: bytes) -> list[OpmlFeed]:
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise OpmlError("OPML files with a DTD or entities are refused.")
    try:
        root = ET.fromstring(data)  # noqa: S314 - no DTD, see above
    except ET.ParseError as error:
        raise OpmlError(f"not valid OPML: {error}") from None
    if root.tag.lower() != "opml":
        raise OpmlError("the file's root element is not <opml>.")
    feeds = []
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl") or outline.get("xmlurl") or ""
        if url.startswith(("http://", "https://")):
            title = outline.get("title") or outline.get("text") or url
            feeds.append(OpmlFeed(title[:200], url[:1000], (outline.get("language") or "")[:8]))
    return feeds


def write_opml(title: str, feeds: list[OpmlFeed]) -> str:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{title}</title></head>",
        "  <body>",
    ]
    for feed in feeds:
        lines.append(
            f'    <outline type="rss" text={quoteattr(feed.title)} title={quoteattr(feed.title)}'
            f" xmlUrl={quoteattr(feed.url)} language={quoteattr(feed.language)}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)
