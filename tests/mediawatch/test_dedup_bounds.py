"""The text rule's candidates stay few however many stored articles share a key with a new
one (storage.COMMON_KEY, ONE_KEY_DISTANCE, TEXT_CANDIDATES), and true copies are still found.
Candidates are counted as the comparisons made and the rows read, never as timings."""

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from intersection.mediawatch import storage
from intersection.mediawatch.models import Article, ArticleBand, Source, SourceKind
from intersection.mediawatch.pipeline import dedup

pytestmark = pytest.mark.django_db
LABELLED = Path(storage.__file__).parent / "data" / "duplicates.jsonl"
PUBLISHED = datetime(2026, 11, 30, 8, tzinfo=UTC)


def _candidate(guid: str, text: str) -> storage.Candidate:
    """An item found by its text alone: its own title and no shared address."""
    return storage.Candidate(
        guid=guid, url="", canonical=f"guid:{guid}", title=f"Story {guid}", text=text,
        summary="", published=PUBLISHED, language="fr", language_confidence=1.0, author="",
        image_url="", flags=frozenset(),
    )  # fmt: skip


def _unrelated(count: int, seed: int) -> list[str]:
    """Texts of invented words: nothing in common with each other or with real news."""
    rng = random.Random(seed)
    words = [
        "".join(rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("aeiou") for _ in range(3))
        for _ in range(400)
    ]
    return [" ".join(rng.choice(words) for _ in range(150)) for _ in range(count)]


def _overlap_keys(text: str) -> list[int]:
    return sorted(filter(dedup.is_overlap_key, dedup.candidate_keys(text)))


def _copies(shared: int) -> Iterator[tuple[str, str]]:
    """Labelled duplicates (original, copy) that `compare` finds by their texts, sharing
    exactly `shared` MinHash keys, or at least that many when `shared` is negative."""
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        a, b = row["a_text"], row["b_text"]
        if row["label"] != "duplicate":
            continue
        if not dedup.compare(dedup.Document("A", a), dedup.Document("B", b)).duplicate:
            continue
        count = len(set(_overlap_keys(a)) & set(_overlap_keys(b)))
        if count == shared or 0 < -shared <= count:
            yield a, b


@pytest.fixture
def outlet() -> Source:
    return Source.objects.create(name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f")


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(incoming text, stored or earlier text) of every comparison made."""
    calls: list[tuple[str, str]] = []
    compare = dedup.compare

    def counted(a: dedup.Document, b: dedup.Document, *args: Any) -> dedup.Decision:
        calls.append((a.text, b.text))
        return compare(a, b, *args)

    monkeypatch.setattr(dedup, "compare", counted)
    return calls


def _store_unrelated(outlet: Source, texts: list[str], prefix: str) -> list[Article]:
    candidates = [_candidate(f"{prefix}{n}", text) for n, text in enumerate(texts)]
    assert storage.store_items(outlet, candidates) == [True] * len(texts)
    return list(Article.objects.filter(text__in=texts).order_by("pk"))


def _give_keys(articles: list[Article], keys_of: list[list[int]]) -> None:
    """Stored articles that also store these keys, as a closing line or a wire credit shared
    by unrelated stories gives them the same MinHash keys."""
    ArticleBand.objects.bulk_create(
        ArticleBand(article=article, key=key)
        for article, keys in zip(articles, keys_of, strict=True)
        for key in keys
    )


def test_it_skips_keys_stored_for_many_articles_and_still_finds_the_copy(
    outlet: Source, compared: list[tuple[str, str]]
) -> None:
    original, copy = next(_copies(shared=-4))
    shared = sorted(set(_overlap_keys(original)) & set(_overlap_keys(copy)))
    assert storage.store_items(outlet, [_candidate("original", original)]) == [True]
    crowd = _store_unrelated(outlet, _unrelated(3 * storage.COMMON_KEY, seed=1), "crowd")
    _give_keys(crowd, [shared[:2]] * len(crowd))  # two keys now stored by 25 articles
    compared.clear()

    assert storage.store_items(outlet, [_candidate("copy", copy)]) == [False]
    assert compared == [(copy, original)]  # none of the 24 sharing the common keys
    assert Article.objects.get(versions__guid="copy").text == original


def test_it_reads_at_most_one_posting_more_than_a_common_key_has(outlet: Source) -> None:
    crowd = _store_unrelated(outlet, _unrelated(3 * storage.COMMON_KEY, seed=2), "crowd")
    common, rare = (1 << 62) | 12345, (1 << 62) | 67890
    _give_keys(crowd, [[common, rare] if n < 2 else [common] for n in range(len(crowd))])

    postings = storage._postings({common, rare, (1 << 62) | 1})
    assert len(postings[common]) == storage.COMMON_KEY + 1  # rows read, of 24 stored
    assert sorted(postings[rare]) == [crowd[0].pk, crowd[1].pk]
    assert (1 << 62) | 1 not in postings


def test_it_compares_at_most_text_candidates_those_sharing_most_keys_first(
    outlet: Source, compared: list[tuple[str, str]]
) -> None:
    (item,) = _unrelated(1, seed=3)
    keys = _overlap_keys(item)
    others = _unrelated(storage.TEXT_CANDIDATES + 10, seed=4)
    stored = _store_unrelated(outlet, others, "other")
    # The oldest shares three keys, every other one two: each key is stored for at most
    # COMMON_KEY of them, so none is common.
    given = [[keys[n % 16], keys[(n + 5) % 16]] for n in range(len(stored))]
    given[0].append(keys[(0 + 10) % 16])
    _give_keys(stored, given)
    assert all(sum(key in g for g in given) <= storage.COMMON_KEY for key in keys)
    compared.clear()

    assert storage.store_items(outlet, [_candidate("item", item)]) == [True]
    assert len(compared) == storage.TEXT_CANDIDATES
    assert (item, stored[0].text) in compared  # three keys: first, though the oldest
    newest = {a.text for a in stored[-(storage.TEXT_CANDIDATES - 1) :]}
    assert {text for _, text in compared} == newest | {stored[0].text}


def test_one_shared_key_is_compared_only_with_a_close_signature(
    outlet: Source, compared: list[tuple[str, str]]
) -> None:
    (item,) = _unrelated(1, seed=5)
    keys, signature = _overlap_keys(item), dedup.text_signature(item)
    far = [
        text
        for text in _unrelated(60, seed=6)
        if dedup.hamming(signature, dedup.text_signature(text)) > storage.ONE_KEY_DISTANCE
    ][:16]
    others = _store_unrelated(outlet, far, "other")
    _give_keys(others, [[key] for key in keys])  # each shares one key with the item, by chance
    # The newest one gets the item's signature, as a close copy's would be.
    close = others[-1]
    ArticleBand.objects.filter(article=close, key__lt=dedup.MINHASH_TAG).delete()
    _give_keys([close], [dedup.band_keys(signature)])
    compared.clear()

    assert storage.store_items(outlet, [_candidate("item", item)]) == [True]
    assert compared == [(item, close.text)]


def test_simhash_bands_are_not_looked_up(outlet: Source, compared: list[tuple[str, str]]) -> None:
    """A 13-bit SimHash band is stored for one article in 8,192: 120 of a million share
    each band of a new article's signature. They stay stored (the signature), unread."""
    (item,) = _unrelated(1, seed=8)
    bands = dedup.band_keys(dedup.text_signature(item))
    others = _store_unrelated(outlet, _unrelated(storage.COMMON_KEY, seed=9), "other")
    ArticleBand.objects.filter(article__in=others, key__lt=dedup.MINHASH_TAG).delete()
    _give_keys(others, [bands[:2]] * len(others))  # two bands each, no MinHash key
    compared.clear()

    assert storage.store_items(outlet, [_candidate("item", item)]) == [True]
    assert compared == []


def test_copies_sharing_a_single_key_are_still_found(
    outlet: Source, compared: list[tuple[str, str]]
) -> None:
    pairs = list(_copies(shared=1))
    assert len(pairs) >= 3  # the most edited copies of the labelled set
    for n, (original, copy) in enumerate(pairs):
        assert storage.store_items(outlet, [_candidate(f"original{n}", original)]) == [True]
        assert storage.store_items(outlet, [_candidate(f"copy{n}", copy)]) == [False]
        assert Article.objects.get(versions__guid=f"copy{n}").text == original
    # In one batch too: an item repeats an earlier item by the same rules.
    Article.objects.all().delete()
    batch = [_candidate(f"{side}{n}", text) for n, pair in enumerate(pairs) for side, text in
             zip("ab", pair, strict=True)]  # fmt: skip
    assert storage.store_items(outlet, batch) == [True, False] * len(pairs)


def test_a_signature_is_rebuilt_from_its_band_keys() -> None:
    rng = random.Random(7)
    for _ in range(200):
        signature = rng.getrandbits(64)
        keys = dedup.band_keys(signature) + [(1 << 62) | rng.getrandbits(62)]
        assert dedup.signature_from_band_keys(rng.sample(keys, len(keys))) == signature
    assert dedup.signature_from_band_keys(dedup.band_keys(12345)[1:]) is None
