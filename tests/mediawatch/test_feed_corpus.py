"""feedparser's own test feeds (about 2,200 RSS, Atom, RDF and CDF files, well-formed and
broken, in many encodings) through the platform's parser: nothing but FeedError comes out,
and no feed loses the entries feedparser reads in it.

The corpus is put in var/feed-corpus by `scripts/fetch_feed_corpus.py` (make's install step
runs it); nothing is downloaded here."""

import re
from dataclasses import dataclass, field
from pathlib import Path

import feedparser
import pytest

from intersection.mediawatch.pipeline.feeds import FeedError, parse_feed

CORPUS = Path(__file__).resolve().parents[2] / "var" / "feed-corpus"
BASE = "http://127.0.0.1/"
# The test files of feedparser's HTTP cases say which Content-Type they are served with.
CONTENT_TYPE = re.compile(rb"^\s*Header:\s*Content-type:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(),
    reason="var/feed-corpus is absent: `python scripts/fetch_feed_corpus.py` puts feedparser's"
    " test feeds there (make's install step runs it)",
)


@dataclass
class Outcome:
    files: int = 0
    with_items: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # FeedError: not a feed
    crashed: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # feedparser reads entries, we give none


def _content_type(body: bytes) -> str:
    found = CONTENT_TYPE.search(body[:2000])
    return found.group(1).decode("latin-1") if found else ""


def _entries_with_an_id(body: bytes, content_type: str) -> bool:
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers)
    return any(entry.get("link") or entry.get("id") for entry in parsed.entries)


def _run(paths: list[Path]) -> Outcome:
    outcome = Outcome(files=len(paths))
    for path in paths:
        name = str(path.relative_to(CORPUS))
        body = path.read_bytes()
        content_type = _content_type(body)
        try:
            feed = parse_feed(body, base_url=BASE, content_type=content_type)
        except FeedError:
            outcome.refused.append(name)
            continue
        except Exception as error:  # noqa: BLE001 - what the test looks for
            outcome.crashed.append(f"{name}: {error!r}")
            continue
        if feed.items:
            outcome.with_items.append(name)
        elif _entries_with_an_id(body, content_type):
            outcome.lost.append(name)
    return outcome


def test_every_feed_of_feedparsers_corpus_is_read_or_refused() -> None:
    assert (CORPUS / "VERSION").is_file(), "incomplete corpus: run scripts/fetch_feed_corpus.py"
    paths = sorted(path for path in CORPUS.rglob("*") if path.suffix in {".xml", ".rdf"})
    outcome = _run(paths)
    counts = (
        f"{outcome.files} feeds: {len(outcome.with_items)} with items, "
        f"{len(outcome.refused)} refused (FeedError), {len(outcome.crashed)} crashed, "
        f"{len(outcome.lost)} lost their entries"
    )
    assert outcome.files >= 2000, counts
    assert outcome.crashed == [], counts
    # Most of feedparser's cases test one channel element, or entries without an id nor a
    # link (which the media watch cannot store); every entry feedparser reads with one of
    # them is an item here.
    assert outcome.lost == [], counts
    assert len(outcome.with_items) >= 85, counts
