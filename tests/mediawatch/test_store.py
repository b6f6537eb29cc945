"""Storing items: the duplicate decision when another worker stores the same story."""

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intersection.mediawatch import selectors, services, storage
from intersection.mediawatch.models import Article, ArticleBand, ArticleVersion, Source, SourceKind
from intersection.mediawatch.pipeline import dedup, stemming

from .test_ingest import OTHER, WIRE

pytestmark = pytest.mark.django_db
LABELLED = Path(storage.__file__).parent / "data" / "duplicates.jsonl"
CARNIVAL = (
    "Le carnaval de Binche se prépare : la zone de police annonce des rues fermées dès le "
    "dimanche, des navettes depuis les parkings de délestage et un poste de secours près de "
    "la Grand-Place. Les organisateurs rappellent que les oranges ne se lancent pas sur les "
    "façades et que les enfants perdus seront accueillis à l'hôtel de ville."
)


def _candidate(guid: str, url: str, title: str, text: str) -> storage.Candidate:
    return storage.Candidate(
        guid=guid, url=url, canonical=url.split("//", 1)[1], title=title, text=text,
        summary="", published=datetime(2026, 11, 30, 8, tzinfo=UTC), language="fr",
        language_confidence=1.0, author="", image_url="", flags=frozenset(),
    )  # fmt: skip


def test_a_copy_stored_by_another_worker_during_the_search_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = Source.objects.create(name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f")
    second = Source.objects.create(name="La Libre", kind=SourceKind.FEED, url="https://b.test/f")
    lock = storage._serialise_stores
    calls: list[int] = []

    def other_worker_first() -> None:
        # Between this worker's search (nothing found) and its write transaction, another
        # worker stores the same dispatch from another outlet.
        if not calls:
            calls.append(1)
            assert storage.store_items(
                second, [_candidate("b1", "https://b.test/1", "Agents de quartier", WIRE)]
            ) == [True]
        lock()

    monkeypatch.setattr(storage, "_serialise_stores", other_worker_first)
    stored = storage.store_items(
        first, [_candidate("a1", "https://a.test/1", "Les agents de quartier - Le Soir", WIRE)]
    )
    assert stored == [False] and calls
    assert Article.objects.count() == 1
    assert ArticleVersion.objects.filter(article=Article.objects.get()).count() == 2


def test_an_original_deleted_during_the_search_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = Source.objects.create(name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f")
    storage.store_items(source, [_candidate("a1", "https://a.test/1", "Agents de quartier", WIRE)])
    lock = storage._serialise_stores

    def deleted_meanwhile() -> None:
        Article.objects.all().delete()  # a curator deletes the story the search just found
        lock()

    monkeypatch.setattr(storage, "_serialise_stores", deleted_meanwhile)
    assert storage.store_items(source, [_candidate("a2", "https://a.test/2", "Agents", WIRE)]) == [
        True
    ]
    assert list(ArticleVersion.objects.values_list("guid", flat=True)) == ["a2"]


def _labelled_candidates() -> list[storage.Candidate]:
    """Both sides of every labelled pair (duplicates and distinct look-alikes, fr/nl/en),
    published within a few hours of each other."""
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    texts: dict[str, storage.Candidate] = {}
    for number, row in enumerate(rows):
        for side in ("a", "b"):
            text = row[f"{side}_text"]
            url = row.get(f"{side}_url") or ""
            guid = f"{side}{number}"
            texts.setdefault(
                text,
                storage.Candidate(
                    guid=guid, url=url, canonical=url.split("//", 1)[-1] or f"guid:{guid}",
                    title=row.get(f"{side}_title") or "", text=text, summary="",
                    published=datetime(2026, 11, 30, tzinfo=UTC) + timedelta(minutes=number),
                    language="fr", language_confidence=1.0, author="", image_url="",
                    flags=frozenset(),
                ),
            )  # fmt: skip
    return list(texts.values())


def _stories() -> set[frozenset[str]]:
    """Which items were stored as one story."""
    stories: dict[int, set[str]] = {}
    for article, guid in ArticleVersion.objects.values_list("article", "guid"):
        stories.setdefault(article, set()).add(guid)
    return {frozenset(guids) for guids in stories.values()}


def test_a_batch_makes_the_same_stories_as_storing_one_item_after_the_other() -> None:
    source = Source.objects.create(name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f")
    candidates = _labelled_candidates()
    for candidate in candidates:
        storage.store_items(source, [candidate])
    one_by_one = _stories()
    Article.objects.all().delete()
    assert not ArticleVersion.objects.exists()

    decisions: list[bool] = []
    for start in range(0, len(candidates), 40):  # stored articles and earlier items of a batch
        decisions += storage.store_items(source, candidates[start : start + 40])
    batched = _stories()
    assert batched == one_by_one
    assert decisions.count(True) == len(batched) == Article.objects.count()
    # The labelled set has duplicates: some stories have several versions, some only one.
    assert any(len(story) > 1 for story in batched) and any(len(s) == 1 for s in batched)


def test_copies_inside_one_batch_are_one_story() -> None:
    source = Source.objects.create(name="Belga", kind=SourceKind.FEED, url="https://a.test/f")
    stored = storage.store_items(
        source,
        [
            _candidate("w1", "https://a.test/1", "Agents de quartier", WIRE),
            _candidate("w2", "https://a.test/2", "Agents de quartier - Le Soir", WIRE + " Belga."),
            _candidate("w3", "https://a.test/1", "Agents de quartier (mise à jour)", OTHER),
            _candidate("o1", "https://a.test/3", "Vélos volés", OTHER),
        ],
    )
    assert stored == [True, False, False, True]
    wire = ArticleVersion.objects.get(guid="w1").article
    assert sorted(wire.versions.values_list("guid", "match_reason")) == [
        ("w1", ""), ("w2", "same-title"), ("w3", "url"),
    ]  # fmt: skip
    assert Article.objects.count() == 2


def test_a_batch_with_an_item_another_worker_stored_is_stored_item_by_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = Source.objects.create(name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f")
    other = Source.objects.create(name="Belga", kind=SourceKind.FEED, url="https://b.test/f")
    batch = [
        _candidate("a1", "https://a.test/1", "Agents de quartier", WIRE),
        _candidate("a2", "https://a.test/2", "Vélos volés", OTHER),
        _candidate("a3", "https://a.test/3", "Carnaval", CARNIVAL),
    ]
    decide = storage._decide
    calls: list[int] = []

    def other_worker_stores_a2(items: list[object]) -> None:
        # After this worker's search, before its transaction, another worker polling the
        # same source stores the second item (and Belga the first): the batch's insert
        # fails on (source, guid) and is rolled back.
        if not calls:
            calls.append(1)
            assert storage.store_items(source, [batch[1]]) == [True]
            assert storage.store_items(other, [batch[0]]) == [True]
        decide(items)  # type: ignore[arg-type]

    monkeypatch.setattr(storage, "_decide", other_worker_stores_a2)
    assert services._store(source, batch) == [False, None, True]
    assert sorted(ArticleVersion.objects.values_list("source__name", "guid")) == [
        ("Belga", "a1"), ("Le Soir", "a1"), ("Le Soir", "a2"), ("Le Soir", "a3"),
    ]  # fmt: skip
    assert Article.objects.count() == 3  # a1 is a version of Belga's copy, stored first


def test_a_candidate_deleted_before_its_text_is_loaded_is_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = Source.objects.create(name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f")
    storage.store_items(source, [_candidate("a1", "https://a.test/1", "Agents", WIRE)])
    load = storage._load

    def deleted_first(ids: set[int]) -> dict[int, Article]:
        Article.objects.all().delete()  # between the band query and the loading of texts
        return load(ids)

    monkeypatch.setattr(storage, "_load", deleted_first)
    copy = _candidate("a2", "https://a.test/2", "Agents de quartier", WIRE)
    assert storage.store_items(source, [copy]) == [True]  # a new story, no error
    assert list(ArticleVersion.objects.values_list("guid", flat=True)) == ["a2"]


def test_a_very_long_text_is_stored_and_found_by_its_words() -> None:
    """A text of 40,000 distinct words and a 3,000-character token (encoded data pasted in
    a page): PostgreSQL refuses a search vector over 1 MB or a term over 2,047 bytes, which
    made storing fail. The index holds the text's first words (up to MAX_TERMS_BYTES) and
    skips tokens that are not words; the article is stored and found by its words."""
    source = Source.objects.create(name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f")
    rng = random.Random(4)
    filler = " ".join(
        "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(rng.randint(4, 10)))
        for _ in range(40_000)
    )
    text = f"Zone de police en alerte. {'A1' * 1500} patrouille de nuit. {filler} fin"
    assert storage.store_items(source, [_candidate("g", "https://a.test/1", "Long", text)]) == [
        True
    ]
    article = Article.objects.get()
    assert article.text == text  # the text itself is kept whole
    assert len(article.search_terms.encode()) <= stemming.MAX_TERMS_BYTES
    for query in ('"zone de police"', '"patrouille de nuit"', "alerte"):
        assert [a.pk for a in selectors.archive(query=query)] == [article.pk], query
    assert not selectors.archive(query="fin").exists()  # after the indexed part


def test_each_new_story_gets_its_lookup_keys_and_a_version_gets_none() -> None:
    outlet = Source.objects.create(name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f")
    stored = storage.store_items(
        outlet,
        [
            _candidate("a1", "https://a.test/1", "Agents de quartier", WIRE),
            _candidate("a2", "https://a.test/2", "Carnaval", CARNIVAL),
            _candidate("a3", "https://a.test/3", "Agents de quartier", WIRE),  # a copy
        ],
    )
    assert stored == [True, True, False]
    for text in (WIRE, CARNIVAL):
        article = Article.objects.get(text=text)
        keys = ArticleBand.objects.filter(article=article).values_list("key", flat=True)
        assert sorted(keys) == sorted(set(dedup.candidate_keys(text)))
    assert ArticleBand.objects.count() == len(set(dedup.candidate_keys(WIRE))) + len(
        set(dedup.candidate_keys(CARNIVAL))
    )
    # A later copy from another outlet is found through those keys.
    other = Source.objects.create(name="La Libre", kind=SourceKind.FEED, url="https://b.test/f")
    edited = WIRE.replace(".", " , selon la zone de police.", 1)
    assert storage.store_items(other, [_candidate("b1", "https://b.test/1", "Autre", edited)]) == [
        False
    ]
