"""Pages extracted in a separate, recycled process: results, a dead process, an orphan."""

import html
import json
import signal
import subprocess
import sys
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest

from intersection.mediawatch import services
from intersection.mediawatch.models import Article
from intersection.mediawatch.pipeline.extract import Extractor, extract_page
from intersection.mediawatch.pipeline.fetch import Fetcher

from .conftest import LocalServer, reply
from .test_ingest import poll, rss, source
from .test_text import PAGE

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "intersection" / "mediawatch" / "data" / "duplicates.jsonl"


def test_the_extraction_process_gives_what_extract_page_gives() -> None:
    extractor = Extractor(recycle=2)  # replaced after two pages: the third needs a new one
    try:
        pages = [extractor.submit(PAGE, f"https://quotidien.example.be/{n}") for n in range(3)]
        results = [page.result(timeout=60) for page in pages]
    finally:
        extractor.close()
    assert results == [extract_page(PAGE, f"https://quotidien.example.be/{n}") for n in range(3)]
    assert results[0] is not None and "tournées" in results[0].text


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent entry is left


def test_the_extraction_process_leaves_when_its_poller_is_killed() -> None:
    script = (
        "import multiprocessing, sys, time\n"
        "from intersection.mediawatch.pipeline.extract import Extractor\n"
        "extractor = Extractor()\n"
        "extractor.submit(b'<html><body><p>x</p></body></html>', 'https://a.example/').result()\n"
        "print(multiprocessing.active_children()[0].pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    poller = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert poller.stdout is not None
        child = int(poller.stdout.readline())
        assert _alive(child)
        poller.send_signal(signal.SIGKILL)  # no clean-up: the child is orphaned
        poller.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(child)
    finally:
        poller.kill()
        poller.wait()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("failure", "error", "replaced"),
    [
        (BrokenProcessPool("killed"), "page_extraction_crashed", True),  # the process died
        (ValueError("lxml could not read it"), "page_extraction_failed", False),
    ],
)
def test_a_failed_extraction_is_recorded_and_the_summary_kept(
    web: LocalServer,
    fetcher: Fetcher,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
    error: str,
    replaced: bool,
) -> None:
    web.routes["/p/1"] = reply(PAGE)
    web.routes["/a.xml"] = reply(rss([("a1", "Agents", web.url("/p/1"), "Court résumé.")]))

    class FailingProcess:
        closed = False

        def submit(self, html: bytes, url: str) -> Future[object]:
            failed: Future[object] = Future()
            failed.set_exception(failure)
            return failed

        def close(self) -> None:
            self.closed = True

    failing = FailingProcess()
    monkeypatch.setattr(services, "extractor", lambda: failing)
    report = poll(source(web, "/a.xml"), fetcher)
    assert report.errors == {error: 1} and failing.closed is replaced
    assert Article.objects.get().text == "Court résumé."  # stored with the feed's summary


@pytest.mark.django_db
def test_pages_are_extracted_ahead_while_items_are_stored_in_order(
    web: LocalServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "EXTRACTION_AHEAD", 2)
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    stories = [rows[n]["a_text"] for n in (0, 60, 120, 180, 240)]  # five different stories
    items = []
    for n, story in enumerate(stories):
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in story.split("\n\n"))
        body = f"<html><body><nav>Menu</nav><article>{paragraphs}</article></body></html>"
        web.routes[f"/p/{n}"] = reply(body.encode())
        items.append((f"g{n}", f"Titre {n}", web.url(f"/p/{n}"), "Court."))
    web.routes["/a.xml"] = reply(rss(items))
    report = poll(source(web, "/a.xml"), fetcher)
    assert (report.new, report.errors) == (5, {})
    for n, story in enumerate(stories):  # each item got its own page's text
        article = Article.objects.get(versions__guid=f"urn:test:g{n}")
        assert story.split("\n\n")[0][:60] in article.text


class LazyExtractor:
    """Stands for the extraction process: a page counts as being extracted until the poller
    asks for its result, so the test sees what the poller does while it would wait; with
    `at_once`, every page is extracted as soon as it is handed over."""

    def __init__(self, *, at_once: bool = False) -> None:
        self.at_once = at_once
        self.pages: list[tuple[Future[object], int]] = []
        self.most_in_flight = 0

    def submit(self, html: bytes, url: str) -> Future[object]:
        class Lazy(Future[object]):
            def result(self, timeout: float | None = None) -> object:
                if not self.done():
                    self.set_result(extract_page(html, url))
                return super().result(timeout)

        page = Lazy()
        if self.at_once:
            page.result()
        self.pages.append((page, len(html)))
        self.most_in_flight = max(self.most_in_flight, len(self.in_flight()))
        return page

    def in_flight(self) -> list[int]:
        return [size for page, size in self.pages if not page.done()]


def _lazy_poller(
    monkeypatch: pytest.MonkeyPatch, *, at_once: bool = False, **settings: int
) -> LazyExtractor:
    """The poller with a LazyExtractor and these services settings."""
    lazy = LazyExtractor(at_once=at_once)
    monkeypatch.setattr(services, "extractor", lambda: lazy)
    for name, value in settings.items():
        monkeypatch.setattr(services, name, value)
    return lazy


def _paged_feed(web: LocalServer, count: int) -> list[str]:
    """`count` items whose feed only summarises, each page a different story of one size."""
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    stories = [rows[n * 30]["a_text"][:600] for n in range(count)]
    items = []
    for n, story in enumerate(stories):
        padding = "<!-- " + "x" * 20_000 + " -->"  # every page about 20 kB
        body = f"<html><body>{padding}<article><p>{html.escape(story)}</p></article></body></html>"
        web.routes[f"/p/{n}"] = reply(body.encode())
        items.append((f"g{n}", f"Titre {n}", web.url(f"/p/{n}"), "Court."))
    web.routes["/a.xml"] = reply(rss(items))
    return stories


@pytest.mark.django_db
def test_the_pages_ahead_are_bounded_by_their_bytes(
    web: LocalServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 64 pages allowed ahead, but only two pages and a half of bytes.
    lazy = _lazy_poller(monkeypatch, EXTRACTION_AHEAD=64, EXTRACTION_AHEAD_BYTES=50_000)
    stories = _paged_feed(web, 6)
    report = poll(source(web, "/a.xml"), fetcher)
    assert (report.new, report.errors) == (6, {})
    assert lazy.most_in_flight == 3  # two kept ahead, plus the one just handed over
    for n, story in enumerate(stories):
        assert Article.objects.get(versions__guid=f"urn:test:g{n}").text.startswith(story[:60])


@pytest.mark.django_db
def test_batches_are_stored_while_the_next_page_is_extracted(
    web: LocalServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    lazy = _lazy_poller(monkeypatch, EXTRACTION_AHEAD=3, STORE_WHILE_WAITING=2)
    stores: list[tuple[int, int]] = []  # (items stored, pages still being extracted)
    store_items = services.store_items

    def recorded(src: Any, candidates: Any) -> list[bool]:
        stores.append((len(candidates), len(lazy.in_flight())))
        return store_items(src, candidates)

    monkeypatch.setattr(services, "store_items", recorded)
    _paged_feed(web, 6)
    report = poll(source(web, "/a.xml"), fetcher)
    assert (report.new, report.errors) == (6, {})
    # Without it: one batch of six, stored once the last page is extracted.
    assert stores == [(2, 4), (2, 2), (2, 0)]


@pytest.mark.django_db
def test_an_item_whose_page_is_extracted_goes_on_without_waiting_for_the_window(
    web: LocalServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages that come slowly (the politeness spacing) are each extracted before the next
    # arrives: the items go on one by one, so a crash or a long feed does not hold back the
    # whole window's work.
    extracted = _lazy_poller(monkeypatch, at_once=True, EXTRACTION_AHEAD=64)
    fetched_when_made: list[int] = []
    candidate = services._candidate

    def recorded(*args: Any) -> Any:
        fetched_when_made.append(len(extracted.pages))
        return candidate(*args)

    monkeypatch.setattr(services, "_candidate", recorded)
    _paged_feed(web, 6)
    report = poll(source(web, "/a.xml"), fetcher)
    assert (report.new, report.errors) == (6, {})
    assert fetched_when_made == [1, 2, 3, 4, 5, 6]  # not all six fetched before the first
