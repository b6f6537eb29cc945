"""Full text and metadata of an article page, with trafilatura.

`Extractor` runs `extract_page` in a separate process, so that the poller fetches and stores
while pages are extracted (two cores work at once), and so that trafilatura's and lxml's
memory goes back to the system: the process is replaced every `recycle` pages, or when it
dies. It ignores Ctrl-C (its parent decides) and leaves by itself when its parent is gone.
"""

import multiprocessing
import os
import re
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urljoin

import trafilatura

from .urls import web_url

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
    # Canonical or image links the page gave that are not http(s) (`javascript:`, `data:`):
    # dropped, reported here for the poll's record.
    unsafe_links: tuple[str, ...] = ()


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
    canonical, image = (
        urljoin(url, found.strip()) if found else ""
        for found in (document.url or url, document.image or "")
    )
    return ExtractedPage(
        text=document.text or "",
        title=document.title or "",
        author=document.author or "",
        published=_date(document.date),
        canonical_url=web_url(canonical),
        image_url=web_url(image),
        declared_language=declared_language(html),
        unsafe_links=tuple(link for link in (canonical, image) if link and not web_url(link)),
    )


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)  # orphaned (the poller was killed): nothing to finish, nobody to answer


def _extractor_started(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class Extractor:
    """`extract_page` in one child process, replaced every `recycle` pages; results come
    back as futures. (Not ProcessPoolExecutor's max_tasks_per_child: in the Python 3.13.0
    we run, it stops scheduling once a child has reached its limit, CPython gh-115634.)"""

    def __init__(self, recycle: int = 500) -> None:
        self.recycle = recycle
        self._pool: ProcessPoolExecutor | None = None
        self._submitted = 0

    def submit(self, html: bytes, url: str) -> "Future[ExtractedPage | None]":
        if self._pool is None or self._submitted >= self.recycle:
            if self._pool is not None:
                self._pool.shutdown(wait=False)  # extracts what it was given, then exits
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),  # no inherited connections
                initializer=_extractor_started,
                initargs=(os.getpid(),),
            )
            self._submitted = 0
        self._submitted += 1
        return self._pool.submit(extract_page, html, url)

    def close(self) -> None:
        """Stop the child process; the next `submit` starts another (after a crash too)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
