"""Media watch benchmark: ingestion throughput, time per stage, duplicate lookup and search.

Generates French, Dutch and English news outlets (about a fifth of the items are near copies
of another outlet's story), serves them from a separate process on 127.0.0.1 and polls them
with `services.poll_source`, as the worker does: first feeds that carry the full text, then
summary-only feeds whose article pages are fetched and extracted with trafilatura. Then runs
bench/dedup_lookup.py (a million signatures), bulk-loads an archive of generated articles and
times `selectors.archive(query=…)`. Everything runs against a throw-away SQLite database in
a temporary VAR_DIR.

    .venv/bin/python bench/mediawatch.py                  # defaults: about 3.5 minutes, 2 cores
    .venv/bin/python bench/mediawatch.py --articles 1000000 --load-budget 3600
    BENCH_DATABASE_URL=postgres://... .venv/bin/python bench/mediawatch.py  # an EMPTY database

Targets: ≥ 500 items/s for full-text feeds; pipeline ≤ 1.3 × trafilatura alone for pages;
search p95 ≤ 50 ms; peak memory ≤ 1 GiB (the process; the lookup runs in a subprocess).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html
import json
import os
import platform
import queue
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from intersection.mediawatch.models import Source
    from intersection.mediawatch.pipeline.fetch import Fetcher

HOST = "127.0.0.1"
CORPUS = ROOT / "intersection" / "mediawatch" / "data" / "duplicates.jsonl"
LANGUAGES = ("fr", "nl", "en")
SOURCE_LANGUAGES = ("fr", "nl", "en", "fr", "nl")  # 2 : 2 : 1
TARGET_ITEMS_PER_S = 500.0
TARGET_EXTRACTION_RATIO = 1.3
TARGET_SEARCH_P95_MS = 50.0
TARGET_DEDUP_P95_MS = 2.0  # bench/dedup_lookup.py's own target
TARGET_MEMORY_MIB = 1024.0
STAGES = ("fetch", "parse", "extract", "language", "dedup", "store", "index", "other")
# Timed separately, reported together: dedup = dedup:hash + dedup:lookup + dedup:compare.
DETAILED = (*STAGES, "dedup:hash", "dedup:lookup", "dedup:compare")
STAGE_NOTE = (
    "Exclusive times from wrappers around the functions services.py and storage.py call "
    "(application code unchanged): fetch = Fetcher.fetch (feed, robots.txt and pages, "
    "server wait included), parse = "
    "parse_feed, extract = waiting for a page from the extraction process (which extracts "
    "while the poller fetches and stores), language = detect_language, dedup = hashing "
    "(dedup.features, text_signature, band_keys, overlap_keys, candidate_keys: normalised text, "
    "shingles, SimHash and MinHash "
    "keys) + queries "
    "(storage._lookup: a batch's URL, title and band queries, loading the texts to compare) + "
    "compare (dedup.compare with each candidate; calls = comparisons), index = "
    "index_terms (Snowball stems), store = the rest of storage.store_items (a batch of up to "
    "100 items: the store lock, what changed meanwhile, INSERTs of the articles, their bands "
    "and versions; on SQLite the FTS5 trigger), other = the rest of "
    "poll_source and _candidate (known-guid query, run and source rows, "
    "URL canonicalisation). Politeness spacing between requests to one host does not apply: "
    "127.0.0.1 is an allowed address."
)


# --- Generated text -------------------------------------------------------------------------


@dataclass
class Chain:
    """Word bigrams of one language's labelled articles, plus invented place names."""

    starts: list[str] = field(default_factory=list)
    following: dict[str, list[str | None]] = field(default_factory=lambda: defaultdict(list))
    vocabulary: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    trigrams: Counter[str] = field(default_factory=Counter)


PLACE_PARTS = {
    "fr": (
        "Beau Mont Ro Cha Ver Lou Mar Fon Ber Gre Sain Vil Bra Cou Hau Mal Per Tour Val Lan",
        "re li ma ven tel san bou ri go la",
        "court ville mont sart champs fontaine lieu gnies ault bais",
        "à",
    ),
    "nl": (
        "Wes Oost Ber Kort Hoog Lan Mol Ste Ro Zel Ven Mer Hal Dil Ever Grim Lo Tem Ha Ze",
        "e en ker del le ver ber o",
        "gem hout kerke dijk rode zele beek dorp hoven broek",
        "in",
    ),
    "en": (
        "Ash Brad Cole Dun Elm Fair Glen Hart King Lang Mill North Oak Pem Rad Stan Tam Wex",
        "ing er ble ton ow en",
        "ford bury ton field wick ham dale moor ley worth",
        "in",
    ),
}


class TextModel:
    """News-like text: a bigram walk over real sentences of the labelled duplicates set
    (intersection/mediawatch/data), jumping to a random word of the language 30% of the time
    so that unrelated generated articles share about as few word triples as unrelated news
    (Jaccard ≈ 0.006), with an invented place name per story for a long vocabulary tail."""

    JUMP = 0.3

    def __init__(self, corpus: Path, seed: int) -> None:
        rng = random.Random(seed)
        self.chains = {code: Chain() for code in LANGUAGES}
        texts: dict[str, set[str]] = defaultdict(set)
        for line in corpus.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("lang") in self.chains:
                texts[record["lang"]].update((record["a_text"], record["b_text"]))
        for code, chain in self.chains.items():
            for text in sorted(texts[code]):
                for sentence in re.split(r"(?<=[.!?])\s+", text):
                    tokens = sentence.split()
                    if len(tokens) < 4:
                        continue
                    chain.starts.append(tokens[0])
                    chain.vocabulary.extend(tokens[1:-1])
                    for a, b in zip(tokens, tokens[1:], strict=False):
                        chain.following[a].append(b)
                    chain.following[tokens[-1]].append(None)
                    plain = re.findall(r"\w+", sentence.lower())
                    chain.counts.update(w for w in plain if w.isalpha())
                    chain.trigrams.update(
                        " ".join(plain[i : i + 3])
                        for i in range(len(plain) - 2)
                        if all(w.isalpha() and len(w) > 1 for w in plain[i : i + 3])
                    )
            onsets, middles, endings, _ = (part.split() for part in PLACE_PARTS[code])
            names: set[str] = set()
            for _ in range(20_000):  # up to 2,000 distinct names
                middle = "".join(rng.sample(middles, rng.randint(0, 2)))
                names.add(rng.choice(onsets) + middle + rng.choice(endings))
                if len(names) >= 2000:
                    break
            chain.places = sorted(names)

    def place(self, language: str, rng: random.Random) -> str:
        return rng.choice(self.chains[language].places)

    def sentence(
        self, language: str, rng: random.Random, place: str = "", max_words: int = 28
    ) -> str:
        chain = self.chains[language]
        word: str | None = rng.choice(chain.starts)
        out: list[str] = []
        while word is not None and len(out) < max_words:
            out.append(word)
            if rng.random() < self.JUMP:
                word = rng.choice(chain.vocabulary)
            else:
                options = chain.following.get(word)
                word = rng.choice(options) if options else None
        text = " ".join(out).rstrip(",;:–-— ")
        if place and rng.random() < 0.35:
            text = f"{text.rstrip('.!?')} {PLACE_PARTS[language][3]} {place}"
        if text[-1:] not in ".!?»":
            text += "."
        return text[:1].upper() + text[1:]

    def title(self, language: str, rng: random.Random, place: str) -> str:
        words = self.sentence(language, rng, max_words=rng.randint(6, 11)).rstrip(".!?").split()
        if rng.random() < 0.4:
            return (
                f"{place} : {' '.join(words)}"
                if language == "fr"
                else f"{place}: {' '.join(words)}"
            )
        return " ".join(words)

    def paragraphs(self, language: str, rng: random.Random, words: int, place: str) -> list[str]:
        out: list[str] = []
        count = 0
        while count < words:
            paragraph = " ".join(
                self.sentence(language, rng, place) for _ in range(rng.randint(2, 4))
            )
            out.append(paragraph)
            count += len(paragraph.split())
        return out


# --- Generated outlets ----------------------------------------------------------------------


@dataclass
class Story:
    slug: str
    language: str
    title: str
    paragraphs: list[str]
    published: datetime
    copy_of: str = ""  # slug of the original when this item is a near copy

    @property
    def summary(self) -> str:
        first = re.split(r"(?<=[.!?])\s+", self.paragraphs[0])[0]
        return first[:280]


@dataclass
class Outlet:
    slug: str
    name: str
    language: str
    declares_language: bool
    stories: list[Story] = field(default_factory=list)


def near_copy(
    original: Story, outlet: Outlet, slug: str, model: TextModel, rng: random.Random
) -> Story:
    """Another outlet's version of a story: a lost last paragraph, a new intro or a few words
    changed, under the same title with the outlet's name or a new title."""
    paragraphs = list(original.paragraphs)
    edit = rng.random()
    if edit < 0.35 and len(paragraphs) > 2:
        paragraphs.pop()
    elif edit < 0.7:
        paragraphs.insert(0, model.sentence(original.language, rng))
    else:
        words = paragraphs[-1].split()
        for _ in range(min(5, len(words) // 4)):
            words[rng.randrange(len(words))] = rng.choice(
                model.chains[original.language].vocabulary
            )
        paragraphs[-1] = " ".join(words)
    if rng.random() < 0.5:
        title = f"{original.title} - {outlet.name}"
    else:
        title = model.title(original.language, rng, model.place(original.language, rng))
    published = original.published + timedelta(minutes=rng.randint(5, 360))
    return Story(slug, original.language, title, paragraphs, published, copy_of=original.slug)


def generate_outlets(
    prefix: str, count: int, items: int, duplicate_share: float, model: TextModel,
    rng: random.Random, now: datetime,
) -> list[Outlet]:  # fmt: skip
    outlets = [
        Outlet(
            slug=f"{prefix}-{i:02d}",
            name=f"{prefix.title()} {SOURCE_LANGUAGES[i % 5].upper()} {i:02d}",
            language=SOURCE_LANGUAGES[i % len(SOURCE_LANGUAGES)],
            declares_language=i % 2 == 0,
        )
        for i in range(count)
    ]
    copies = round(items * duplicate_share)
    for outlet in outlets:
        for n in range(items - copies):
            place = model.place(outlet.language, rng)
            outlet.stories.append(
                Story(
                    slug=f"{outlet.slug}-{n:04d}",
                    language=outlet.language,
                    title=model.title(outlet.language, rng, place),
                    paragraphs=model.paragraphs(outlet.language, rng, rng.randint(150, 400), place),
                    published=now - timedelta(minutes=rng.randint(400, 3 * 24 * 60)),
                )
            )
    for outlet in outlets:
        peers = [o for o in outlets if o is not outlet and o.language == outlet.language]
        originals = [s for peer in peers for s in peer.stories if not s.copy_of]
        for n, original in enumerate(rng.sample(originals, min(copies, len(originals)))):
            slug = f"{outlet.slug}-{items - copies + n:04d}"
            outlet.stories.append(near_copy(original, outlet, slug, model, rng))
        rng.shuffle(outlet.stories)
    return outlets


def rss(outlet: Outlet, base: str, full_text: bool) -> bytes:
    language = f"<language>{outlet.language}-BE</language>" if outlet.declares_language else ""
    items = []
    # Items that carry their text link to the outlet's public address, as real feeds do (no
    # page is fetched for them); feedparser-rs blanks links to 127.0.0.1, which would send
    # every feed to feedparser. Summary-only items link to the local server's pages.
    home = f"https://{outlet.slug}.news.example" if full_text else f"{base}/{outlet.slug}"
    for story in outlet.stories:
        url = f"{home}/articles/{story.slug}.html"
        content = ""
        if full_text:
            body = "".join(f"<p>{html.escape(p)}</p>" for p in story.paragraphs)
            content = f"<content:encoded><![CDATA[{body}]]></content:encoded>"
        items.append(
            f"<item><title>{html.escape(story.title)}</title><link>{url}</link>"
            f'<guid isPermaLink="true">{url}</guid>'
            f"<pubDate>{format_datetime(story.published, usegmt=True)}</pubDate>"
            f"<description>{html.escape(story.summary)}</description>{content}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{html.escape(outlet.name)}</title><link>{base}/{outlet.slug}/</link>"
        f"<description>News from {html.escape(outlet.name)}</description>{language}"
        f"{''.join(items)}</channel></rss>"
    ).encode()


SECTIONS = (
    "Accueil", "Région", "Belgique", "Monde", "Société", "Économie", "Sports", "Culture",
    "Opinions", "Météo",
)  # fmt: skip


def teaser(base: str, outlet: Outlet, story: Story, image: bool) -> str:
    link = f"{base}/{outlet.slug}/articles/{story.slug}.html"
    picture = f'<img src="{link}.jpg" alt="" loading="lazy" width="320" height="180">'
    return (
        f'<li class="teaser"><a href="{link}">{picture if image else ""}'
        f"<h3>{html.escape(story.title)}</h3></a><p>{html.escape(story.summary)}</p></li>"
    )


def article_page(outlet: Outlet, story: Story, base: str, rng: random.Random) -> bytes:
    """An article page as outlets serve them (about 55 KiB): cookie banner, a mega menu of
    300 links, an ad configuration script, JSON-LD, a photo, an inline "read also" box, tags,
    share buttons, "most read" and "related" teasers with summaries, a footer of links."""
    url = f"{base}/{outlet.slug}/articles/{story.slug}.html"
    when = story.published.isoformat()
    section_links = [
        "".join(
            f'<li><a href="{base}/{outlet.slug}/{s.lower()}/{n}.html">{s} {n}</a></li>'
            for n in range(30)
        )
        for s in SECTIONS
    ]
    menu = "".join(
        f'<li class="menu-section"><a href="{base}/{outlet.slug}/{s.lower()}/">{s}</a>'
        f'<ul class="submenu">{links}</ul></li>'
        for s, links in zip(SECTIONS, section_links, strict=True)
    )
    others = rng.sample(outlet.stories, min(19, len(outlet.stories)))
    related = "".join(teaser(base, outlet, other, True) for other in others[:8])
    most_read = "".join(teaser(base, outlet, other, False) for other in others[8:18])
    tracking = json.dumps({"slots": [{"id": f"ad-{n}", "sizes": [[300, 250], [728, 90]],
                                      "targeting": {"section": SECTIONS[n % 10], "n": n}}
                                     for n in range(160)]})  # fmt: skip
    paragraphs = [f"<p>{html.escape(p)}</p>" for p in story.paragraphs]
    if others:
        read_also = teaser(base, outlet, others[-1], False)
        box = f'<aside class="read-also"><strong>Lire aussi</strong>{read_also}</aside>'
        paragraphs.insert(min(2, len(paragraphs)), box)
    ld = json.dumps(
        {"@context": "https://schema.org", "@type": "NewsArticle", "headline": story.title,
         "datePublished": when, "inLanguage": f"{story.language}-BE",
         "author": {"@type": "Person", "name": "Rédaction"},
         "publisher": {"@type": "Organization", "name": outlet.name}},
        ensure_ascii=False,
    )  # fmt: skip
    title = html.escape(story.title)
    tags = "".join(
        f'<li><a href="{base}/{outlet.slug}/tag/{t}">{t}</a></li>' for t in SECTIONS[1:6]
    )
    share = "".join(
        f'<a class="share share-{n}" href="https://{n}.example/share?u={url}">{n}</a>'
        for n in ("facebook", "x", "linkedin", "whatsapp", "mail")
    )
    return (
        f'<!DOCTYPE html><html lang="{story.language}-BE"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} | {html.escape(outlet.name)}</title>"
        f'<link rel="canonical" href="{url}">'
        f'<meta name="description" content="{html.escape(story.summary)}">'
        f'<meta property="og:title" content="{title}">'
        f'<meta property="og:type" content="article"><meta property="og:url" content="{url}">'
        f'<meta property="og:image" content="{url}.jpg">'
        f'<meta property="article:published_time" content="{when}">'
        f'<link rel="stylesheet" href="{base}/{outlet.slug}/assets/site.css">'
        f'<script src="{base}/{outlet.slug}/assets/app.js" defer></script>'
        f'<script type="application/ld+json">{ld}</script>'
        f'<script>window.adConfig = {tracking};</script></head><body class="article-page">'
        '<div class="cookie-banner" role="dialog"><p>Nous utilisons des cookies pour mesurer '
        'l\'audience et personnaliser les publicités. <a href="/vie-privee">En savoir plus'
        "</a></p><button>Tout accepter</button><button>Paramétrer</button></div>"
        f'<header class="site-header"><a class="logo" href="{base}/{outlet.slug}/">'
        f'{html.escape(outlet.name)}</a><nav class="mega-menu"><ul>{menu}</ul></nav>'
        '<a class="subscribe" href="/abonnement">S\'abonner</a></header>'
        f'<nav class="breadcrumb"><a href="{base}/{outlet.slug}/">Accueil</a> › '
        f'<a href="{base}/{outlet.slug}/region/">Région</a></nav>'
        f'<main><article><h1>{title}</h1><p class="byline">Par la Rédaction, '
        f'<time datetime="{when}">{story.published:%d/%m/%Y %H:%M}</time></p>'
        f'<figure><img src="{url}.jpg" alt="" width="1200" height="675">'
        "<figcaption>Illustration. © Photo News</figcaption></figure>"
        f'<div class="share-bar">{share}</div>'
        f'<div class="article-body">{"".join(paragraphs)}</div>'
        f'<ul class="tags">{tags}</ul></article>'
        f'<aside class="related"><h2>À lire aussi</h2><ul>{related}</ul></aside>'
        f'<aside class="most-read"><h2>Les plus lus</h2><ol>{most_read}</ol></aside>'
        '<section class="newsletter"><h2>Newsletter</h2><p>Recevez chaque matin '
        "l'essentiel de l'actualité.</p><form><input type=\"email\"><button>OK</button></form>"
        f"</section></main><footer><ul>{section_links[0]}{section_links[1]}</ul>"
        f"<p>© {html.escape(outlet.name)}. Tous droits réservés. Conditions générales, vie "
        "privée, cookies.</p></footer></body></html>"
    ).encode()


def write_site(
    site: Path, outlets: list[Outlet], base: str, full_text: bool, rng: random.Random
) -> list[tuple[Path, str]]:
    """Write the feeds (and, without full text, the article pages); return the pages."""
    pages: list[tuple[Path, str]] = []
    for outlet in outlets:
        folder = site / outlet.slug
        (folder / "articles").mkdir(parents=True, exist_ok=True)
        (folder / "feed.xml").write_bytes(rss(outlet, base, full_text))
        if full_text:
            continue
        for story in outlet.stories:
            path = folder / "articles" / f"{story.slug}.html"
            path.write_bytes(article_page(outlet, story, base, rng))
            pages.append((path, f"{base}/{outlet.slug}/articles/{story.slug}.html"))
    return pages


# --- File server (a separate process, so that it does not share the poller's GIL) ---------


def serve_forever(directory: str) -> None:
    """Entry point of `--serve DIR`: serve DIR on 127.0.0.1 (HTTP/1.1 keep-alive)."""

    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are two writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK hold every keep-alive response back by about 40 ms.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((HOST, 0), functools.partial(Handler, directory=directory))
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


@contextlib.contextmanager
def file_server(directory: Path) -> Iterator[tuple[int, int]]:
    """Start the file server; yield (port, pid); stop it (by its own session id) on exit."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", str(directory)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.isdigit():
            raise SystemExit("The file server did not start.")
        yield int(line), process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def _spin(_: int) -> float:
    """A fixed amount of pure-Python work; returns the CPU seconds it took."""
    started, total = time.process_time(), 0
    for i in range(3_000_000):
        total += i * i
    return time.process_time() - started


def cpu_scaling(processes: int) -> float:
    """How much more work `processes` spawned processes do than one in the same time: 2.0
    on two real cores, nearer 1.3 when the two "cores" share one physical core (SMT)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_spin, range(processes))  # started and warm
        one = pool.apply(_spin, (0,))
        started = time.perf_counter()
        pool.map(_spin, range(processes), chunksize=1)
        together = time.perf_counter() - started
    return processes * one / together


def machine_busy_seconds() -> float:
    """CPU time used by every process on the machine (user, nice, system, irq, softirq)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (values[0] + values[1] + values[2] + values[5] + values[6]) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of this process's live children: the extraction process (it is started at
    the first page and kept; 400 pages do not reach its recycling)."""
    import multiprocessing

    return sum(process_cpu_seconds(p.pid) for p in multiprocessing.active_children() if p.pid)


# --- Time per stage -------------------------------------------------------------------------


class StageClock:
    """Exclusive time per stage: a wrapped call's time minus the wrapped calls inside it, so
    nested stages (the duplicate search inside the store) are not counted twice."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(DETAILED, 0.0)
        self.calls: Counter[str] = Counter()
        self._children: list[float] = []

    def wrap(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._children.append(0.0)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                self.seconds[stage] += elapsed - self._children.pop()
                self.calls[stage] += 1
                if self._children:
                    self._children[-1] += elapsed

        return timed

    @contextlib.contextmanager
    def installed(self, fetcher: Fetcher) -> Iterator[None]:
        """Wrap the pipeline's functions where services.py looks them up; undo on exit."""
        from intersection.mediawatch import services, storage
        from intersection.mediawatch.pipeline import dedup

        patches: list[tuple[ModuleType, str, str]] = [
            (services, "poll_source", "other"),
            (services, "_candidate", "other"),
            (services, "parse_feed", "parse"),
            (services, "_extracted", "extract"),
            (services, "detect_language", "language"),
            (storage, "_lookup", "dedup:lookup"),
            (dedup, "features", "dedup:hash"),
            (dedup, "text_signature", "dedup:hash"),
            (dedup, "candidate_keys", "dedup:hash"),
            (dedup, "band_keys", "dedup:hash"),
            (dedup, "overlap_keys", "dedup:hash"),
            (dedup, "compare", "dedup:compare"),
            (storage, "index_terms", "index"),
            (services, "store_items", "store"),
        ]
        # Only what exists: the benchmark keeps working when services.py is refactored.
        patches = [
            (module, name, stage) for module, name, stage in patches if hasattr(module, name)
        ]
        saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
        for module, name, stage in patches:
            setattr(module, name, self.wrap(stage, getattr(module, name)))
        fetcher.fetch = self.wrap("fetch", fetcher.fetch)  # type: ignore[method-assign]
        try:
            yield
        finally:
            for module, name, original in saved:
                setattr(module, name, original)
            del fetcher.fetch


# --- Ingestion ------------------------------------------------------------------------------


@dataclass
class Ingestion:
    label: str
    sources: int
    items: int
    new: int
    duplicates: int
    planted: int
    errors: dict[str, int]
    seconds: float
    cpu_seconds: float
    server_cpu_seconds: float
    extraction_cpu_seconds: float  # the extraction process's (services.extractor)
    stages: dict[str, float]
    calls: Counter[str]
    other_cores: float  # cores used by other processes of the machine meanwhile
    page_kib: float = 0.0

    @property
    def per_second(self) -> float:
        return (self.new + self.duplicates) / self.seconds if self.seconds else 0.0


def register(outlets: list[Outlet], base: str) -> list[Source]:
    from intersection.mediawatch.models import Source, SourceKind

    return [
        Source.objects.create(name=o.name, kind=SourceKind.FEED, url=f"{base}/{o.slug}/feed.xml")
        for o in outlets
    ]


def warm_up(page: tuple[Path, str] | None, model: TextModel) -> None:
    """Load lingua's models, the stemmers and trafilatura before anything is timed."""
    from intersection.mediawatch.pipeline.extract import extract_page
    from intersection.mediawatch.pipeline.language import detect_language
    from intersection.mediawatch.pipeline.stemming import index_terms

    rng = random.Random(0)
    for code in LANGUAGES:
        text = " ".join(model.paragraphs(code, rng, 100, ""))
        detect_language(text)
        index_terms(text, code)
    if page is not None:
        extract_page(page[0].read_bytes(), page[1])


def ingest(label: str, outlets: list[Outlet], base: str, server_pid: int) -> Ingestion:
    from django.utils import timezone

    from intersection.mediawatch import services

    sources = register(outlets, base)
    clock = StageClock()
    reports = []
    with services.fetcher_for_settings() as fetcher, clock.installed(fetcher):
        cpu, server_cpu = time.process_time(), process_cpu_seconds(server_pid)
        children_cpu = children_cpu_seconds()
        busy = machine_busy_seconds()
        started = time.perf_counter()
        for source in sources:
            reports.append(services.poll_source(source=source, fetcher=fetcher, now=timezone.now()))
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        server_cpu = process_cpu_seconds(server_pid) - server_cpu
        children_cpu = children_cpu_seconds() - children_cpu
        busy = machine_busy_seconds() - busy
    errors: Counter[str] = Counter()
    for report in reports:
        errors.update(report.errors)
        if report.status != "ok":
            errors[f"poll_{report.status}"] += 1
    return Ingestion(
        label=label,
        sources=len(sources),
        items=sum(r.items for r in reports),
        new=sum(r.new for r in reports),
        duplicates=sum(r.duplicates for r in reports),
        planted=sum(1 for o in outlets for s in o.stories if s.copy_of),
        errors=dict(errors),
        seconds=seconds,
        cpu_seconds=cpu,
        server_cpu_seconds=server_cpu,
        extraction_cpu_seconds=children_cpu,
        stages=clock.seconds,
        calls=clock.calls,
        other_cores=max(0.0, busy - cpu - server_cpu - children_cpu) / seconds,
    )


@dataclass
class ParallelIngestion:
    workers: int
    sources: int
    items: int
    new: int
    duplicates: int
    errors: dict[str, int]
    seconds: float
    other_cores: float
    worker_cpu: list[float]  # CPU seconds of each worker process

    @property
    def per_second(self) -> float:
        return (self.new + self.duplicates) / self.seconds if self.seconds else 0.0


def _worker(
    source_ids: list[int], ready: Any, start: Any, results: Any, sample: tuple[str, str]
) -> None:
    """A worker process (spawned: nothing inherited but the environment): Django and the
    models loaded, then it waits for the signal and polls its share of the sources with
    services.poll_sources, as a task worker does."""
    import django

    django.setup()
    from intersection.mediawatch import services
    from intersection.mediawatch.pipeline.language import detect_language
    from intersection.mediawatch.pipeline.stemming import index_terms

    detect_language(sample[0])
    index_terms(sample[0], sample[1])
    ready.put(os.getpid())
    start.wait()
    cpu = time.process_time()
    reports = services.poll_sources(source_ids)
    cpu = time.process_time() - cpu
    errors: Counter[str] = Counter()
    for report in reports:
        errors.update(report.errors)
        if report.status != "ok":
            errors[f"poll_{report.status}"] += 1
    results.put(
        (
            sum(r.items for r in reports),
            sum(r.new for r in reports),
            sum(r.duplicates for r in reports),
            dict(errors),
            cpu,
        )
    )


def ingest_parallel(
    outlets: list[Outlet], base: str, workers: int, model: TextModel, server_pid: int
) -> ParallelIngestion:
    """The same polling in `workers` processes, as that many task workers would: each polls
    its share of the sources with services.poll_sources (the task's code). In production
    the share is one task per host; here every outlet is on 127.0.0.1, so the sources are
    dealt out instead. The processes start and load their models before the timing."""
    import multiprocessing

    from django.db import connections

    sources = register(outlets, base)
    shares = [[s.pk for s in sources[i::workers]] for i in range(workers)]
    connections.close_all()
    context = multiprocessing.get_context("spawn")
    ready, results, start = context.Queue(), context.Queue(), context.Event()
    sample = (" ".join(model.paragraphs("fr", random.Random(0), 100, "")), "fr")
    processes = [
        context.Process(target=_worker, args=(share, ready, start, results, sample))
        for share in shares
    ]
    for process in processes:
        process.start()
    try:
        for _ in processes:
            ready.get(timeout=120)
        busy, started = machine_busy_seconds(), time.perf_counter()
        start.set()
        server_cpu = process_cpu_seconds(server_pid)
        found: list[tuple[int, int, int, dict[str, int], float]] = []
        while len(found) < len(processes):
            with contextlib.suppress(queue.Empty):
                found.append(results.get(timeout=2))
                continue
            if any(p.exitcode not in (None, 0) for p in processes):
                raise RuntimeError("a worker process failed; see its traceback above")
        seconds = time.perf_counter() - started
        busy = machine_busy_seconds() - busy
        server_cpu = process_cpu_seconds(server_pid) - server_cpu
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    errors: Counter[str] = Counter()
    for *_, counted, _cpu in found:
        errors.update(counted)
    return ParallelIngestion(
        workers=workers,
        sources=len(sources),
        items=sum(r[0] for r in found),
        new=sum(r[1] for r in found),
        duplicates=sum(r[2] for r in found),
        errors=dict(errors),
        seconds=seconds,
        other_cores=max(0.0, busy - server_cpu - sum(r[4] for r in found)) / seconds,
        worker_cpu=sorted(r[4] for r in found),
    )


def extraction_alone(pages: list[tuple[Path, str]]) -> float:
    """trafilatura through extract_page on the same bytes, one after the other."""
    from intersection.mediawatch.pipeline.extract import extract_page

    bodies = [(path.read_bytes(), url) for path, url in pages]
    started = time.perf_counter()
    for body, url in bodies:
        extract_page(body, url)
    return time.perf_counter() - started


# --- Near-duplicate lookup ------------------------------------------------------------------


@dataclass
class Lookup:
    size: int
    line: str
    p50: float
    p95: float
    peak_mib: float
    seconds: float


def dedup_lookup(size: int) -> Lookup:
    """bench/dedup_lookup.py at the default distance, in its own process."""
    from intersection.mediawatch.pipeline.dedup import DEFAULT_MAX_DISTANCE

    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dedup_lookup.py"), "--size", str(size),
         "--distances", str(DEFAULT_MAX_DISTANCE)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    line = next((s.strip() for s in result.stdout.splitlines() if s.strip().startswith("k=")), "")
    p50 = re.search(r"p50 ([\d.]+) ms", line)
    p95 = re.search(r"p95 ([\d.]+) ms", line)
    peak = re.search(r"peak memory of the process: ([\d,]+) MiB", result.stdout)
    if not (p50 and p95):
        raise SystemExit(f"bench/dedup_lookup.py failed:\n{result.stdout}\n{result.stderr}")
    return Lookup(
        size=size,
        line=line,
        p50=float(p50.group(1)),
        p95=float(p95.group(1)),
        peak_mib=float(peak.group(1).replace(",", "")) if peak else float("nan"),
        seconds=seconds,
    )


# --- Search ---------------------------------------------------------------------------------


@dataclass
class Archive:
    requested: int
    loaded: int
    seconds: float
    budget_hit: bool


def load_archive(
    model: TextModel, count: int, budget: float, seed: int, now: datetime, batch: int = 2000
) -> Archive:
    """Bulk-create `count` articles (search_terms from stemming.index_terms; on SQLite the
    FTS5 triggers fill the index) with one version each, a fifth with a second one. Stops at
    the end of the batch that passes `budget` seconds."""
    from django.db import transaction

    from intersection.mediawatch.models import Article, ArticleVersion, Source, SourceKind
    from intersection.mediawatch.pipeline import dedup, stemming

    rng = random.Random(seed)
    sources = [
        Source.objects.create(
            name=f"Archive {i:02d}", kind=SourceKind.FEED,
            url=f"https://archive-{i:02d}.example.org/feed.xml", active=False,
        )
        for i in range(30)
    ]  # fmt: skip
    started = time.perf_counter()
    loaded = 0
    while loaded < count:
        size = min(batch, count - loaded)
        articles = []
        for n in range(loaded, loaded + size):
            language = LANGUAGES[rng.randrange(5) % 3]  # fr and nl twice as often as en
            place = model.place(language, rng)
            title = model.title(language, rng, place)
            paragraphs = model.paragraphs(language, rng, rng.randint(150, 400), place)
            text = "\n".join(paragraphs)
            source = rng.choice(sources)
            # listed_at is what storage.py sets: the publication time (whole seconds).
            published = now - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
            rng.getrandbits(64)  # drawn for Article.signature until 0007: same archive
            articles.append(
                Article(
                    canonical_url=f"archive.example.org/{n}",
                    url=f"https://archive.example.org/{n}",
                    title=title[:500],
                    normalised_title=dedup.normalise_title(title)[:500],
                    summary=paragraphs[0][:280],
                    text=text,
                    language=language,
                    language_confidence=1.0,
                    published_at=published,
                    listed_at=published,
                    search_terms=stemming.index_terms(f"{title} {text}", language),
                    source=source,
                )
            )
        with transaction.atomic():
            Article.objects.bulk_create(articles, batch_size=500)
            versions = [
                ArticleVersion(
                    article=a, source=s, guid=f"urn:archive:{a.pk}:{s.pk}", url=a.url,
                    title=a.title, published_at=a.published_at,
                )
                for a in articles
                for s in ([a.source] if rng.random() < 0.8 else [a.source, rng.choice(sources)])
            ]  # fmt: skip
            ArticleVersion.objects.bulk_create(versions, batch_size=1000, ignore_conflicts=True)
        loaded += size
        elapsed = time.perf_counter() - started
        if loaded % 50_000 == 0 or loaded == count:
            print(f"  {loaded:,} articles loaded in {elapsed:.0f} s", flush=True)
        if elapsed > budget and loaded < count:
            print(f"  load budget of {budget:.0f} s reached at {loaded:,} articles", flush=True)
            return Archive(count, loaded, elapsed, True)
    return Archive(count, loaded, time.perf_counter() - started, False)


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    language: str = ""  # the archive's language filter
    reader: str = "fr"  # reader_language: how phrases are stemmed


def make_queries(model: TextModel, seed: int) -> list[Query]:
    """50 queries: single words of high, middle and low frequency, two words, phrases, the
    language filter, and invented place names (rare words), in the three languages."""
    from intersection.mediawatch.pipeline.stemming import STOPWORDS

    rng = random.Random(seed)
    queries: list[Query] = []
    used: set[str] = set()  # "police" is frequent in French and English: one query
    for code in LANGUAGES:
        chain = model.chains[code]
        ranked = [w for w, _ in chain.counts.most_common() if len(w) >= 5 and w not in STOPWORDS]
        phrases = [t for t, _ in chain.trigrams.most_common(20)]
        singles = [next(w for w in ranked[rank:] if w not in used) for rank in (0, 3, 30, 120, 400)]
        used.update(singles)
        queries += [Query("1 word", word) for word in singles]
        queries += [
            Query("2 words", f"{ranked[a]} {ranked[b]}") for a, b in ((5, 60), (20, 150), (2, 40))
        ]
        queries += [Query("phrase", f'"{p}"', reader=code) for p in rng.sample(phrases, 2)]
        queries.append(Query("phrase", f'{ranked[10]} "{rng.choice(phrases)}"', reader=code))
        queries += [
            Query("language filter", ranked[1], code, code),
            Query("language filter", ranked[80], code, code),
            Query("language filter", f"{ranked[8]} {ranked[90]}", code, code),
        ]
        queries += [Query("place name", place) for place in rng.sample(chain.places, 2)]
    for code in ("fr", "nl"):  # a place name with a frequent word: 50 queries in all
        ranked = [w for w, _ in model.chains[code].counts.most_common(40) if len(w) >= 5]
        queries.append(Query("place name", f"{model.place(code, rng)} {ranked[0]}"))
    return queries


@dataclass
class SearchRun:
    timings: list[float]  # ms: the first 20 rows and the count
    by_kind: dict[str, list[float]]
    rows: dict[str, list[float]]  # ms: the first 20 rows alone
    counts: dict[str, list[float]]  # ms: the count alone
    hits: dict[str, list[int]]
    queries: int
    rounds: int
    other_cores: float = 0.0
    by_query: dict[str, list[float]] = field(default_factory=dict)  # ms, each round


def search_latency(queries: list[Query], rounds: int) -> SearchRun:
    """Each query evaluated as the archive page does: the first 20 rows with their outlet
    counts and highlighted snippets, after the count (exact up to search.COUNT_LIMIT, which
    also picks the plan on PostgreSQL: search.counted)."""
    from intersection.mediawatch import search, selectors

    def run(query: Query) -> tuple[float, float, int]:
        started = time.perf_counter()
        qs = selectors.archive(
            query=query.text, language=query.language, reader_language=query.reader
        )
        qs, total = search.counted(qs)  # the paginator counts first
        middle = time.perf_counter()
        rows = list(search.first_rows(qs, 20)[:20])  # the paginator's first page
        selectors.outlet_counts(rows)
        for article in rows:
            search.snippet(article.text or article.summary, query.text)
        return (time.perf_counter() - middle) * 1000, (middle - started) * 1000, total

    for query in queries:  # warm-up: page cache, statement cache
        run(query)
    result = SearchRun([], defaultdict(list), defaultdict(list), defaultdict(list), {}, 0, rounds)
    hits: dict[str, list[int]] = defaultdict(list)
    cpu, busy, started = time.process_time(), machine_busy_seconds(), time.perf_counter()
    for round_ in range(rounds):
        for query in queries:
            rows_ms, count_ms, total = run(query)
            result.timings.append(rows_ms + count_ms)
            result.by_kind[query.kind].append(rows_ms + count_ms)
            result.rows[query.kind].append(rows_ms)
            result.counts[query.kind].append(count_ms)
            label = f"{query.kind}: {query.text}" + (
                f" [{query.language}]" if query.language else ""
            )
            result.by_query.setdefault(label, []).append(rows_ms + count_ms)
            if round_ == 0:
                hits[query.kind].append(total)
    result.hits, result.queries = dict(hits), len(queries)
    own = time.process_time() - cpu
    result.other_cores = max(0.0, machine_busy_seconds() - busy - own) / (
        time.perf_counter() - started
    )
    return result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


# --- Report ---------------------------------------------------------------------------------


def machine_description(database_url: str, load_before: str) -> list[tuple[str, str]]:
    import django
    import trafilatura

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    from django.db import connection

    database = database_url.split(":", 1)[0]
    if connection.vendor == "postgresql":  # pg_version: 150020 for 15.20
        version = connection.pg_version  # type: ignore[attr-defined]
        database = f"PostgreSQL {version // 10000}.{version % 100}"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("CPU", cpu),
        ("Cores", f"{os.cpu_count()} (usable: {usable}); the poller uses one, the server another"),
        ("Memory", memory),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("Django", django.get_version()),
        ("trafilatura", trafilatura.__version__),
        ("Database", database),
        ("Load avg", f"{load_before} (1, 5, 15 min, before the benchmark started)"),
    ]


def print_ingestion(result: Ingestion) -> None:
    stored = result.new + result.duplicates
    print(
        f"  {result.sources} sources, {result.items} items: {result.new} new stories, "
        f"{result.duplicates} versions of known stories ({result.planted} near copies planted)"
    )
    if result.errors:
        print(f"  errors: {result.errors}")
    print(
        f"  {result.seconds:.2f} s wall -> {result.per_second:.0f} items/s "
        f"({result.seconds / max(stored, 1) * 1000:.1f} ms an item); poller CPU "
        f"{result.cpu_seconds:.1f} s, extraction process CPU "
        f"{result.extraction_cpu_seconds:.1f} s, file server CPU "
        f"{result.server_cpu_seconds:.2f} s, "
        f"other processes {result.other_cores:.2f} cores"
    )
    if result.other_cores > 0.2:
        print("  WARNING: other processes competed for the CPU during this measurement.")
    stages = dict(result.stages)
    calls = Counter(result.calls)
    for part in ("dedup:hash", "dedup:lookup", "dedup:compare"):
        stages["dedup"] += stages[part]
        calls["dedup"] += calls[part]
    total = sum(stages[stage] for stage in STAGES)
    rows = [(stage, stage) for stage in STAGES]
    position = STAGES.index("dedup") + 1
    rows[position:position] = [
        ("  hashing", "dedup:hash"),
        ("  queries", "dedup:lookup"),
        ("  compare", "dedup:compare"),
    ]
    print(f"  {'stage':<12} {'seconds':>8} {'share':>6} {'calls':>6} {'ms/item':>8}")
    for label, stage in rows:
        seconds = stages[stage]
        print(
            f"  {label:<12} {seconds:>8.2f} {seconds / total:>6.1%} {calls[stage]:>6} "
            f"{seconds / max(stored, 1) * 1000:>8.2f}"
        )
    print(
        f"  {'total':<12} {total:>8.2f} {1:>6.1%} {'':>6} {total / max(stored, 1) * 1000:>8.2f}"
        f"   (untimed: {result.seconds - total:.3f} s of the {result.seconds:.2f} s wall)"
    )


SLOWEST = 6  # queries listed by their slowest round


def print_search(search: SearchRun) -> None:
    """Section 5's table: per kind of query, p50 and p95 of the page with its count."""
    print(
        f"  {search.queries} queries × {search.rounds} rounds after one warm-up round "
        f"({len(search.timings)} timings)"
    )
    print(
        f"  {'kind':<16} {'queries':>7} {'hits (median)':>13} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'rows p95':>9} {'count p95':>9}"
    )
    for kind, values in search.by_kind.items():
        hits = sorted(search.hits[kind])
        print(
            f"  {kind:<16} {len(hits):>7} {hits[len(hits) // 2]:>13,} "
            f"{percentile(values, 0.5):>8.1f} {percentile(values, 0.95):>8.1f} "
            f"{percentile(search.rows[kind], 0.95):>9.1f} "
            f"{percentile(search.counts[kind], 0.95):>9.1f}"
        )
    print(
        f"  {'all':<16} {search.queries:>7} {'':>13} "
        f"{percentile(search.timings, 0.5):>8.1f} {percentile(search.timings, 0.95):>8.1f}"
    )
    print(
        "  (rows: the first page of 20 with outlet counts and highlighted snippets; count: "
        "search.counted, exact up to 1,000, shown above the list)"
    )
    slowest = sorted(search.by_query.items(), key=lambda item: -max(item[1]))[:SLOWEST]
    print(
        "  slowest queries (ms, each round): "
        + "; ".join(
            f"{label} {'/'.join(f'{ms:.0f}' for ms in values)}" for label, values in slowest
        )
    )
    print(
        f"  other processes (the PostgreSQL server among them; SQLite runs in this one): "
        f"{search.other_cores:.2f} cores"
        + (" — WARNING: they competed for the CPU" if search.other_cores > 0.2 else "")
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sources", type=int, default=20, help="full-text feeds")
    parser.add_argument("--items", type=int, default=100, help="items per full-text feed")
    parser.add_argument("--page-sources", type=int, default=8, help="summary-only feeds")
    parser.add_argument("--page-items", type=int, default=50, help="items per summary feed")
    parser.add_argument("--duplicates", type=float, default=0.2, help="share of near copies")
    parser.add_argument(
        "--workers", type=int, default=2, help="worker processes for the parallel full-text run"
    )
    parser.add_argument("--signatures", type=int, default=1_000_000, help="dedup_lookup size")
    parser.add_argument("--articles", type=int, default=200_000, help="archive size (search)")
    parser.add_argument(
        "--load-budget", type=float, default=150.0, help="seconds: stop loading the archive after"
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of the 50 queries")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--serve", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return args
    if not (1 <= args.sources <= 200 and 1 <= args.items <= 1000):
        parser.error("--sources must be in [1, 200] and --items in [1, 1000]")
    if not (0 <= args.page_sources <= 100 and 1 <= args.page_items <= 500):
        parser.error("--page-sources must be in [0, 100] and --page-items in [1, 500]")
    if not 1 <= args.workers <= 16:
        parser.error("--workers must be in [1, 16]")
    if not 0 <= args.duplicates <= 0.5:
        parser.error("--duplicates must be in [0, 0.5]")
    if not (0 <= args.articles <= 2_000_000 and 1 <= args.rounds <= 20):
        parser.error("--articles must be in [0, 2,000,000] and --rounds in [1, 20]")
    if not 10_000 <= args.signatures <= 5_000_000:
        parser.error("--signatures must be in [10,000, 5,000,000]")
    return args


def setup_django(var_dir: Path, database_url: str, *, empty: bool = True) -> None:
    """Django on `database_url`, migrated; with `empty`, the database must hold no source and
    no article (the benchmark counts what it creates)."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "intersection.settings",
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(var_dir / "media"),
            "PRODUCTION": "0",
            "DEBUG": "0",  # no query log growing with every statement
            "MEDIAWATCH_ALLOWED_ADDRESSES": HOST,
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from intersection.mediawatch.models import Article, Source

    if empty and (Source.objects.exists() or Article.objects.exists()):
        raise SystemExit("The benchmark database is not empty; point it at an empty database.")


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through the `finally` blocks that stop the server


def main() -> int:
    args = parse_args()
    if args.serve:
        serve_forever(args.serve)
        return 0
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    var_dir = Path(tempfile.mkdtemp(prefix="intersection-bench-mediawatch-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{var_dir / 'bench.sqlite3'}"
    begun = time.perf_counter()
    try:
        print(f"Preparing {var_dir} ({database_url.split(':', 1)[0]})…", flush=True)
        setup_django(var_dir, database_url)
        rng = random.Random(args.seed)
        model = TextModel(CORPUS, args.seed)
        now = datetime.now(tz=UTC).replace(microsecond=0)
        site = var_dir / "site"
        site.mkdir()
        with file_server(site) as (port, server_pid):
            base = f"http://{HOST}:{port}"
            full = generate_outlets(
                "full", args.sources, args.items, args.duplicates, model, rng, now
            )
            write_site(site, full, base, True, rng)
            paged = generate_outlets(
                "paged", args.page_sources, args.page_items, args.duplicates, model, rng, now
            )
            pages = write_site(site, paged, base, False, rng)
            warm_up(pages[0] if pages else None, model)

            print("1. Polling full-text feeds…", flush=True)
            full_result = ingest("full text", full, base, server_pid)
            parallel = single = None
            scaling = float("nan")
            if args.workers > 1:
                # First one spawned worker, then `--workers` of them, each on new feeds of the
                # same kind: the scaling compares like with like (fresh processes, an archive
                # that already holds the earlier runs' stories).
                print("1b. The same with 1 worker process, then more…", flush=True)
                for label in ("single", "again"):
                    outlets = generate_outlets(
                        label, args.sources, args.items, args.duplicates, model, rng, now
                    )
                    write_site(site, outlets, base, True, rng)
                    count = 1 if label == "single" else args.workers
                    run = ingest_parallel(outlets, base, count, model, server_pid)
                    single, parallel = (run, None) if label == "single" else (single, run)
                scaling = cpu_scaling(args.workers)
            page_result: Ingestion | None = None
            alone = before = after = 0.0
            if pages:
                print("2. Polling summary-only feeds (pages fetched and extracted)…", flush=True)
                # Extraction alone is timed just before and just after the pipeline, and the
                # two are averaged: this machine's speed drifts by up to a third over a minute
                # (measured), which a single measurement on one side would put in the ratio.
                before = extraction_alone(pages)
                page_result = ingest("pages", paged, base, server_pid)
                page_result.page_kib = sum(p.stat().st_size for p, _ in pages) / len(pages) / 1024
                after = extraction_alone(pages)
                alone = (before + after) / 2

        print(f"4. bench/dedup_lookup.py --size {args.signatures:,}…", flush=True)
        lookup = dedup_lookup(args.signatures)

        archive: Archive | None = None
        search: SearchRun | None = None
        queries = make_queries(model, args.seed)
        if args.articles:
            print(f"5. Loading an archive of {args.articles:,} articles…", flush=True)
            archive = load_archive(model, args.articles, args.load_budget, args.seed + 1, now)
            print("   Timing the 50 queries…", flush=True)
            search = search_latency(queries, args.rounds)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        from intersection.mediawatch.models import Article, ArticleBand, ArticleVersion

        counts = (
            Article.objects.count(),
            ArticleVersion.objects.count(),
            ArticleBand.objects.count(),
        )
        database_size = ""
        if database_url.startswith("sqlite"):
            size = sum(p.stat().st_size for p in var_dir.glob("bench.sqlite3*"))
            database_size = f", {size / 1024**2:,.0f} MiB on disk"
        total_seconds = time.perf_counter() - begun

        print("\n== Machine")
        for key, value in machine_description(database_url, load_before):
            print(f"  {key:<11} {value}")
        print("\n== Setup")
        print(
            f"  Feeds        {args.sources} full-text feeds × {args.items} items and "
            f"{args.page_sources} summary-only feeds × {args.page_items} items; 150–400 words "
            f"of generated fr/nl/en text; {args.duplicates:.0%} near copies of another "
            "outlet's story; half the feeds declare their language"
        )
        print(
            f"  Server       a separate process on {HOST} (http.server, threaded, keep-alive); "
            "models loaded before timing; one poller, sources polled one after the other"
        )
        print(
            f"  Database     {counts[0]:,} articles, {counts[1]:,} versions, {counts[2]:,} bands "
            f"at the end{database_size}"
        )

        print("\n== 1. Full-text feeds: end-to-end ingestion (services.poll_source)")
        print_ingestion(full_result)
        if parallel is not None and single is not None:
            print(
                "\n== 1b. The same in spawned worker processes (services.poll_sources, the"
                " polling task's code), each run on other feeds of the same kind"
            )
            for run in (single, parallel):
                print(
                    f"  {run.workers} worker(s): {run.sources} sources, {run.items} items: "
                    f"{run.new} new stories, {run.duplicates} versions of known stories"
                    + (f"; errors: {run.errors}" if run.errors else "")
                    + f"; {run.seconds:.2f} s wall -> {run.per_second:.0f} items/s; worker CPU "
                    + " + ".join(f"{cpu:.2f}" for cpu in run.worker_cpu)
                    + f" s; other processes {run.other_cores:.2f} cores"
                )
                if run.other_cores > 0.2:
                    print("  WARNING: other processes competed for the CPU during this run.")
            print(
                f"  {parallel.workers} workers: {parallel.per_second / single.per_second:.2f}× "
                f"one worker, {parallel.per_second / full_result.per_second:.2f}× the first run"
                " (one process, warm caches, a smaller archive)"
            )
            print(
                f"  this machine: {parallel.workers} processes of pure-Python work do "
                f"{scaling:.2f}× the work of one in the same time (the ceiling of this scaling)"
            )
        ratio = float("nan")
        if page_result is not None:
            print("\n== 2. Summary-only feeds: every page fetched and extracted")
            print_ingestion(page_result)
            ratio = page_result.seconds / alone if alone else float("nan")
            count = len(pages)
            print(
                f"  pages: {count}, {page_result.page_kib:.0f} KiB on average; extract_page "
                f"alone on the same bytes, before and after the pipeline: {before:.2f} s and "
                f"{after:.2f} s, mean {alone:.2f} s ({alone / count * 1000:.1f} ms a page)"
            )
            print(
                f"  pipeline / extraction alone = {page_result.seconds:.2f} / {alone:.2f} = "
                f"{ratio:.2f}×"
            )
        print("\n== 3. Time per stage: see the tables above")
        print(textwrap.fill(STAGE_NOTE, width=96, initial_indent="  ", subsequent_indent="  "))
        print(f"\n== 4. Near-duplicate lookup (bench/dedup_lookup.py, {lookup.size:,} signatures)")
        print(f"  {lookup.line}")
        print(f"  its own process: peak {lookup.peak_mib:,.0f} MiB, {lookup.seconds:.1f} s in all")
        if archive is not None and search is not None:
            print("\n== 5. Search: the archive page's work (selectors.archive, search.counted)")
            print(
                f"  archive: {archive.loaded:,} of {archive.requested:,} articles loaded in "
                f"{archive.seconds:.0f} s ({archive.loaded / archive.seconds:,.0f}/s"
                f"{'; stopped by --load-budget' if archive.budget_hit else ''}), plus the "
                f"{full_result.new + (page_result.new if page_result else 0):,} ingested"
            )
            print_search(search)
        print("\n== 6. Memory")
        print(f"  peak RSS of this process (ru_maxrss): {peak_mib:,.0f} MiB")

        search_p95 = percentile(search.timings, 0.95) if search else float("nan")
        best_rate, best_label = full_result.per_second, "1 process"
        if parallel is not None and parallel.per_second > best_rate:
            best_rate, best_label = parallel.per_second, f"{parallel.workers} processes"
        rows = [
            (
                f"1. full-text ingestion ≥ {TARGET_ITEMS_PER_S:.0f} items/s",
                f"{best_rate:.0f} items/s ({best_label})",
                best_rate >= TARGET_ITEMS_PER_S,
            ),
            (
                f"2. pipeline ≤ {TARGET_EXTRACTION_RATIO}× extraction alone",
                f"{ratio:.2f}×",
                ratio <= TARGET_EXTRACTION_RATIO,
            ),
            (
                f"4. duplicate lookup p95 ≤ {TARGET_DEDUP_P95_MS:.0f} ms",
                f"{lookup.p95:.3f} ms",
                lookup.p95 <= TARGET_DEDUP_P95_MS,
            ),
            (
                f"5. search p95 ≤ {TARGET_SEARCH_P95_MS:.0f} ms",
                f"{search_p95:.1f} ms at {archive.loaded if archive else 0:,} articles",
                search_p95 <= TARGET_SEARCH_P95_MS,
            ),
            (
                f"6. peak memory ≤ {TARGET_MEMORY_MIB:.0f} MiB",
                f"{peak_mib:,.0f} MiB",
                peak_mib <= TARGET_MEMORY_MIB,
            ),
        ]
        print("\n== Summary")
        for label, value, ok in rows:
            if "nan" in value:
                value, outcome = "-", "not measured"
            else:
                outcome = verdict(ok)
            print(f"  {label:<40} {value:<32} {outcome}")
        print(f"  (whole run: {total_seconds:.0f} s)")
        return 0
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if args.keep:
            print(f"Kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("Interrupted; file server stopped.", file=sys.stderr)
        sys.exit(130)
