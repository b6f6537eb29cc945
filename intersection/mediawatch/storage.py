"""Storing new items once: the duplicate decision and the writes, a batch at a time.

A batch is new items of one outlet from one fetch (at most BATCH). Its duplicate search
reads before the write transaction, with one query per rule for the whole batch (canonical
URL, normalised title, signature bands) and one to load the texts to compare, so parallel
workers hold the write lock only briefly. Inside the transaction, under the store lock, only
what changed meanwhile is searched again: the articles other workers stored since (ids above
the last one seen before the search), and originals deleted meanwhile. So two workers
storing copies of one wire story at the same moment still make one story.

The text rule's candidates stay as few as the archive grows (bench/archive_growth.py): a
MinHash key stored for more than COMMON_KEY articles is boilerplate or common wording, not
evidence, and is not read further; an article that shares a single key with the item is
compared only when their SimHash signatures are close (SimHash bands are stored, not looked
up: a 13-bit band is shared by one stored article in 8,192).

Items of one batch can repeat each other (two outlets of one group in one feed, an outlet
that carries a story twice): each item is also compared with the batch's earlier new items,
by the same rules, as if the items were stored one after the other. The whole batch is one
transaction: a crash stores all of it or none of it.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from .models import Article, ArticleBand, ArticleVersion, Source
from .pipeline import dedup
from .pipeline.stemming import index_terms

BATCH = 100  # items per transaction: the store lock is held about 1 ms an item
DUPLICATE_WINDOW = timedelta(days=14)
TITLE_CANDIDATES = 5  # most recent articles with the same normalised title compared
# A story is stored once, so a key an incoming copy shares with its original is stored for
# a handful of articles (the original, a follow-up, a copy not recognised): more than this
# is a closing line, a wire credit or common wording shared by unrelated stories.
COMMON_KEY = 8
# One key in common happens by chance (4 to 6 unrelated articles an item in the benchmark's
# archives of 100,000 and 1,000,000): such an article is compared when its SimHash is this
# close. 4 % of those chance matches are; the labelled copies sharing one key are 14 to 21
# bits apart.
ONE_KEY_DISTANCE = 24
TEXT_CANDIDATES = 20  # compared at most: those sharing the most keys first, then the newest
COMPARED = ("id", "title", "text", "url")  # what dedup.compare reads
# Rules by strength: an earlier item of the batch wins over a stored article when found by a
# stronger rule, or by the same rule and more similar, as if stored one after the other.
URL, TITLE, TEXT = 0, 1, 2

INSERT_BAND = 'INSERT INTO "mediawatch_articleband" ("article_id", "key") VALUES (%s, %s)'
# PostgreSQL: the batch's bands in one statement, from two arrays (one round trip instead of
# one a row; about 20 rows an article).
INSERT_BANDS_POSTGRES = (
    'INSERT INTO "mediawatch_articleband" ("article_id", "key")'
    " SELECT * FROM unnest(%s::bigint[], %s::bigint[])"
)

# Each lookup key's articles, at most COMMON_KEY + 1 of them (one more tells a common key), in
# one statement for the batch: an index probe per key, whatever the archive's size.
POSTINGS_POSTGRES = (
    "SELECT k.key, ARRAY(SELECT article_id FROM mediawatch_articleband WHERE key = k.key"
    " LIMIT %s) FROM unnest(%s::bigint[]) AS k(key)"
)
POSTINGS_SQLITE = (
    "SELECT k.value, (SELECT group_concat(article_id) FROM (SELECT article_id"
    " FROM mediawatch_articleband WHERE key = k.value LIMIT %s)) FROM json_each(%s) AS k"
)

# PostgreSQL: one store at a time decides "new story or version" (SQLite's IMMEDIATE
# transactions already write one at a time). Any constant works: only stores take it.
STORE_LOCK = 0x6D77_7374  # "mwst"


@dataclass(frozen=True)
class Candidate:
    guid: str
    url: str
    canonical: str
    title: str
    text: str
    summary: str
    published: datetime | None
    language: str
    language_confidence: float
    author: str
    image_url: str
    flags: frozenset[str]


@dataclass(frozen=True)
class _Match:
    original: "Article | _Item"  # a stored article, or an earlier new item of the batch
    similarity: float
    reason: str
    rule: int


@dataclass(eq=False)
class _Item:
    candidate: Candidate
    title: str  # normalised
    keys: list[int]  # stored: dedup.candidate_keys
    signature: int  # SimHash of the text
    evidence: frozenset[int]  # its MinHash keys that are not common (COMMON_KEY)
    around: datetime  # published, else now: the centre of the duplicate window
    stored: _Match | None = None  # the stored article it repeats
    match: _Match | None = None  # what it is finally a version of, None for a new story
    terms: str = ""
    article: Article | None = field(default=None, repr=False)

    @property
    def document(self) -> dedup.Document:
        return dedup.Document(self.candidate.title, self.candidate.text, self.candidate.url)

    @property
    def stored_pk(self) -> int | None:
        original = self.stored.original if self.stored else None
        return original.pk if isinstance(original, Article) else None

    def near(self, listed: datetime) -> bool:
        return abs(listed - self.around) <= DUPLICATE_WINDOW


def _item(candidate: Candidate, now: datetime) -> _Item:
    keys = dedup.candidate_keys(candidate.text)
    return _Item(
        candidate=candidate,
        title=dedup.normalise_title(candidate.title),
        keys=keys,
        signature=dedup.text_signature(candidate.text),
        evidence=frozenset(filter(dedup.is_overlap_key, keys)),
        around=candidate.published or now,
    )


def _related(shared: int, signature: int, other: int | None) -> bool:
    """Worth comparing: two keys in common, or one and a close SimHash."""
    return shared > 1 or (
        shared == 1 and other is not None and dedup.hamming(signature, other) <= ONE_KEY_DISTANCE
    )


def _best_match(
    item: _Item, originals: Iterable[tuple["Article | _Item", dedup.Document]], rule: int
) -> _Match | None:
    best: _Match | None = None
    for original, document in originals:
        decision = dedup.compare(item.document, document)
        if decision.duplicate and (best is None or decision.similarity > best.similarity):
            best = _Match(original, decision.similarity, decision.reason, rule)
    return best


def _stored(article: Article) -> tuple[Article, dedup.Document]:
    return article, dedup.Document(article.title, article.text, article.url)


def _load(ids: set[int]) -> dict[int, Article]:
    return Article.objects.only(*COMPARED, "listed_at").in_bulk(ids) if ids else {}


def _postings(keys: set[int]) -> dict[int, list[int]]:
    """Articles that store each key: all of them, or COMMON_KEY + 1 for a common key."""
    if not keys:
        return {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTINGS_POSTGRES, [COMMON_KEY + 1, sorted(keys)])
            return {key: ids for key, ids in cursor.fetchall() if ids}
        cursor.execute(POSTINGS_SQLITE, [COMMON_KEY + 1, json.dumps(sorted(keys))])
        return {key: [int(pk) for pk in ids.split(",")] for key, ids in cursor.fetchall() if ids}


def _signatures(ids: set[int]) -> dict[int, int | None]:
    """The stored articles' SimHash signatures, from their SimHash band keys."""
    found: dict[int, list[int]] = defaultdict(list)
    if ids:
        bands = ArticleBand.objects.filter(article_id__in=ids, key__lt=dedup.MINHASH_TAG)
        for pk, key in bands.values_list("article_id", "key"):
            found[pk].append(key)
    return {pk: dedup.signature_from_band_keys(keys) for pk, keys in found.items()}


def _lookup(items: Sequence[_Item], newer_than: int = 0) -> None:
    """Set `stored` on the items that repeat a stored article (among those with an id above
    `newer_than` when given): same canonical URL, else same normalised title, else near
    text; five queries at most for the whole batch. Sets each item's `evidence`."""
    if not items:
        return
    articles = Article.objects.filter(pk__gt=newer_than) if newer_than else Article.objects
    window = (
        min(item.around for item in items) - DUPLICATE_WINDOW,
        max(item.around for item in items) + DUPLICATE_WINDOW,
    )
    by_url = {
        article.canonical_url: article
        for article in articles.filter(
            canonical_url__in={item.candidate.canonical for item in items}
        ).only(*COMPARED, "canonical_url")
    }
    titled: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    titles = {item.title for item in items if item.title}
    if titles:
        for pk, title, listed in articles.filter(
            normalised_title__in=titles, listed_at__range=window
        ).values_list("pk", "normalised_title", "listed_at"):
            titled[title].append((listed, pk))
    postings = _postings({key for item in items for key in item.evidence})
    shared: dict[_Item, Counter[int]] = {}
    for item in items:
        item.evidence = frozenset(
            key for key in item.evidence if len(postings.get(key, ())) <= COMMON_KEY
        )
        shared[item] = Counter(
            pk for key in item.evidence for pk in postings.get(key, ()) if pk > newer_than
        )
    signatures = _signatures(
        {pk for counts in shared.values() for pk, n in counts.items() if n == 1}
    )

    wanted: dict[_Item, tuple[list[int], list[int]]] = {}
    for item in items:
        if item.candidate.canonical in by_url:
            item.stored = _Match(by_url[item.candidate.canonical], 1.0, "url", URL)
            continue
        same_title = sorted(
            (found for found in titled.get(item.title, ()) if item.near(found[0])), reverse=True
        )[:TITLE_CANDIDATES]  # the most recent first, as the archive lists them
        related = sorted(
            (
                (n, pk)
                for pk, n in shared[item].items()
                if _related(n, item.signature, signatures.get(pk))
            ),
            reverse=True,
        )
        wanted[item] = [pk for _, pk in same_title], [pk for _, pk in related[:TEXT_CANDIDATES]]
    every = {pk for by_title, by_text in wanted.values() for pk in (*by_title, *by_text)}
    loaded = _load(every)  # only those still there: a curator may have deleted one since
    for item, (by_title, by_text) in wanted.items():
        item.stored = _best_match(
            item, (_stored(loaded[pk]) for pk in by_title if pk in loaded), TITLE
        ) or _best_match(
            item,  # the window is checked on the rows loaded: on SQLite the listing date of an
            # article costs as much to read as its text (it comes after it in the row)
            (_stored(a) for pk in by_text if (a := loaded.get(pk)) and item.near(a.listed_at)),
            TEXT,
        )


@dataclass
class _NewItems:
    """The batch's new items so far, by canonical URL, normalised title and evidence key."""

    items: list[_Item] = field(default_factory=list)
    by_url: dict[str, _Item] = field(default_factory=dict)
    by_title: dict[str, list[_Item]] = field(default_factory=lambda: defaultdict(list))
    by_key: dict[int, list[_Item]] = field(default_factory=lambda: defaultdict(list))

    def add(self, item: _Item) -> None:
        self.items.append(item)
        self.by_url.setdefault(item.candidate.canonical, item)
        if item.title:
            self.by_title[item.title].append(item)
        for key in item.evidence:
            self.by_key[key].append(item)

    def match(self, item: _Item) -> _Match | None:
        """The earlier new item this one repeats, by the lookup's rules."""
        earlier = self.by_url.get(item.candidate.canonical)
        if earlier is not None:
            return _Match(earlier, 1.0, "url", URL)
        if item.title:
            titled = [e for e in self.by_title.get(item.title, ()) if item.near(e.around)]
            found = _best_match(item, ((e, e.document) for e in titled), TITLE)
            if found:
                return found
        shared = Counter(e for key in item.evidence for e in self.by_key.get(key, ()))
        near = [  # in batch order
            e
            for e in self.items
            if e in shared
            and item.near(e.around)
            and _related(shared[e], item.signature, e.signature)
        ]
        return _best_match(item, ((e, e.document) for e in near), TEXT)


def _decide(items: Sequence[_Item]) -> None:
    """Each item's `match`: its stored original, or an earlier new item of the batch found by
    a stronger rule or, by the same rule, more similar; None makes it a new story."""
    new = _NewItems()
    for item in items:
        earlier = new.match(item) if new.items else None
        stored = item.stored
        item.match = stored
        if earlier and (
            stored is None
            or (earlier.rule, -earlier.similarity) < (stored.rule, -stored.similarity)
        ):
            item.match = earlier
        if item.match is None:
            new.add(item)


def _serialise_stores() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STORE_LOCK])


def _search_changes(items: Sequence[_Item], seen: int) -> None:
    """Under the store lock: search again what changed since the first search."""
    used = {pk for item in items if (pk := item.stored_pk) is not None}
    if used:
        gone = used - set(Article.objects.filter(pk__in=used).values_list("pk", flat=True))
        again = [item for item in items if item.stored_pk in gone]
        for item in again:  # deleted meanwhile (by a curator): search the whole archive again
            item.stored = None
        _lookup(again)
    if Article.objects.filter(pk__gt=seen).exists():
        _lookup([item for item in items if item.stored is None], newer_than=seen)


def _terms(candidate: Candidate) -> str:
    return index_terms(f"{candidate.title} {candidate.text}", candidate.language)


def _new_article(source: Source, item: _Item, now: datetime) -> Article:
    candidate = item.candidate
    return Article(
        canonical_url=candidate.canonical,
        url=candidate.url,
        title=candidate.title[:500],
        normalised_title=item.title[:500],
        summary=candidate.summary,
        text=candidate.text,
        author=candidate.author[:300],
        image_url=candidate.image_url[:1000],
        language=candidate.language,
        language_confidence=candidate.language_confidence,
        published_at=candidate.published,
        listed_at=(candidate.published or now).replace(microsecond=0),
        flags=",".join(sorted(candidate.flags)),
        search_terms=item.terms or _terms(candidate),
        source=source,
    )


def _version(source: Source, item: _Item) -> ArticleVersion:
    match = item.match
    if match is None:
        article, similarity, reason = item.article, 1.0, ""
    else:
        original = match.original
        article = original.article if isinstance(original, _Item) else original
        similarity, reason = match.similarity, match.reason
    candidate = item.candidate
    return ArticleVersion(
        article=article,
        source=source,
        guid=candidate.guid,
        url=candidate.url,
        title=candidate.title[:500],
        published_at=candidate.published,
        similarity=similarity,
        match_reason=reason,
    )


def _insert_bands(rows: list[tuple[int, int]]) -> None:
    """ArticleBand rows, without building a model instance for each (about 20 an article)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            articles, keys = zip(*rows, strict=True)
            cursor.execute(INSERT_BANDS_POSTGRES, [list(articles), list(keys)])
        else:  # SQLite's executemany loops in C
            cursor.executemany(INSERT_BAND, rows)


def store_items(source: Source, candidates: Sequence[Candidate]) -> list[bool]:
    """Store an outlet's new items in one transaction; for each, True when it is a new story,
    False when a version of a known one. Raises IntegrityError (nothing stored) when another
    worker stored one of these items meanwhile."""
    now = timezone.now()
    items = [_item(candidate, now) for candidate in candidates]
    seen = Article.objects.aggregate(last=Max("id"))["last"] or 0
    _lookup(items)
    _decide(items)
    for item in items:
        if item.match is None:  # stemming outside the lock; most decisions hold
            item.terms = _terms(item.candidate)
    with transaction.atomic():
        _serialise_stores()
        _search_changes(items, seen)
        _decide(items)
        new = [item for item in items if item.match is None]
        created = Article.objects.bulk_create(_new_article(source, item, now) for item in new)
        bands = []
        for item, article in zip(new, created, strict=True):
            item.article = article
            bands += [(article.pk, key) for key in set(item.keys)]
        _insert_bands(bands)
        ArticleVersion.objects.bulk_create(_version(source, item) for item in items)
    return [item.match is None for item in items]
