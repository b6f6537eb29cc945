"""Full text and metadata of an article page, with trafilatura."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import trafilatura

MIN_TEXT_CHARS = 80  # less is a menu or a cookie banner, not an article
HTML_LANG = re.compile(rb"<html[^>]*\slang=[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)


@dataclass(frozen=True)
class ExtractedPage:
    text: str
    title: str
    author: str
    published: datetime | None
    canonical_url: str
    image_url: str
    declared_language: str


def declared_language(html: bytes) -> str:
    """The page's own `<html lang>`, lower case, two letters ("" when absent)."""
    match = HTML_LANG.search(html[:4096])
    return match.group(1).decode("ascii").lower()[:2] if match else ""


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def extract_page(html: bytes, url: str) -> ExtractedPage | None:
    """Main text and metadata; None when the page has no article text."""
    document: Any = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
    )
    if document is None or len((document.text or "").strip()) < MIN_TEXT_CHARS:
        return None
    return ExtractedPage(
        text=document.text or "",
        title=document.title or "",
        author=document.author or "",
        published=_date(document.date),
        canonical_url=document.url or url,
        image_url=document.image or "",
        declared_language=declared_language(html),
    )
