"""Migrating the archive back and forth: the full-text index survives (SQLite rebuilds the
article table when some fields are added or removed, which drops its triggers), and the
duplicate keys are computed again when their hashing changes."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from intersection.mediawatch import selectors, storage
from intersection.mediawatch.models import Article, ArticleBand, ArticleVersion, Source, SourceKind
from intersection.mediawatch.pipeline import dedup
from intersection.mediawatch.pipeline.stemming import index_terms

from .conftest import POSTGRES_ONLY

pytestmark = pytest.mark.django_db(transaction=True)
LABELLED = Path(storage.__file__).parent / "data" / "duplicates.jsonl"

INSERT_AT_0003 = (
    "INSERT INTO mediawatch_article (canonical_url, url, title, normalised_title, summary,"
    " text, author, image_url, language, published_at, first_seen_at, search_terms, flags,"
    " source_id) VALUES (%s, 'https://a.test/x', 'x', 'x', '', '', '', '', 'fr',"
    " '2026-11-30 08:00:00', '2026-11-30 08:00:00', %s, '', %s)"
)


def _article(word: str, source: Source) -> Article:
    return Article.objects.create(
        canonical_url=f"a.test/{word}", url=f"https://a.test/{word}", title=word,
        normalised_title=word, language="fr", search_terms=index_terms(word, "fr"),
        source=source,
    )  # fmt: skip


def test_search_works_after_migrating_back_and_forth() -> None:
    source = Source.objects.create(name="S", kind=SourceKind.FEED, url="https://a.test/f")
    before = _article("gendarmerie", source)
    try:
        call_command("migrate", "mediawatch", "0003", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(INSERT_AT_0003, ["a.test/old", "patrouill a pied", source.pk])
            if connection.vendor == "sqlite":  # the 0003 index is kept up to date again
                cursor.execute(
                    "SELECT count(*) FROM mediawatch_article_fts"
                    " WHERE mediawatch_article_fts MATCH 'patrouill'"
                )
                assert cursor.fetchone()[0] == 1
    finally:
        call_command("migrate", "mediawatch", verbosity=0)
    after = _article("commissariat", source)
    assert [a.pk for a in selectors.archive(query="gendarmerie")] == [before.pk]
    assert [a.title for a in selectors.archive(query="patrouille")] == ["x"]
    # PostgreSQL computed the vector again forwards, with its phrase keys (migration 0008).
    assert [a.title for a in selectors.archive(query='"patrouille à pied"')] == ["x"]
    assert not selectors.archive(query='"pied à patrouille"').exists()
    assert [a.pk for a in selectors.archive(query="commissariat")] == [after.pk]


INSERT_AT_0006 = (
    "INSERT INTO mediawatch_article (canonical_url, url, title, normalised_title, summary,"
    " text, author, image_url, language, language_confidence, published_at, first_seen_at,"
    " listed_at, search_terms, flags, signature, source_id) VALUES ('a.test/wire',"
    " 'https://a.test/wire', %s, %s, '', %s, '', '', 'fr', 1.0, %s, %s, %s, '', '', 12345, %s)"
)


def _edited_copy() -> dict[str, str]:
    """A labelled duplicate found by its text alone: other title, other address."""
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["label"] == "duplicate" and row.get("lang") == "fr":
            a, b = (dedup.Document(text=row[f"{s}_text"]) for s in "ab")
            different_titles = dedup.normalise_title(row["a_title"]) != dedup.normalise_title(
                row["b_title"]
            )
            if different_titles and dedup.compare(a, b).reason in ("near-copy", "overlap"):
                return row
    raise AssertionError("no edited copy in the labelled set")


def test_upgrading_computes_every_stored_article_s_keys_again() -> None:
    # An article stored by the code of 0006 has keys of the old hashing: after the upgrade it
    # has the new keys, and a copy of its story arriving from another outlet is its version.
    source = Source.objects.create(name="S", kind=SourceKind.FEED, url="https://a.test/f")
    row = _edited_copy()
    listed = datetime(2026, 11, 30, 8, tzinfo=UTC)
    try:
        call_command("migrate", "mediawatch", "0006", verbosity=0)
        with connection.cursor() as cursor:
            title = row["a_title"]
            cursor.execute(
                INSERT_AT_0006,
                [title, dedup.normalise_title(title), row["a_text"], listed, listed, listed,
                 source.pk],
            )  # fmt: skip
            cursor.execute("SELECT max(id) FROM mediawatch_article")
            old = cursor.fetchone()[0]
            cursor.executemany(
                "INSERT INTO mediawatch_articleband (article_id, key) VALUES (%s, %s)",
                [(old, key) for key in (1, 2, 2**62 + 3)],  # keys the new code never makes
            )
    finally:
        call_command("migrate", "mediawatch", verbosity=0)
    article = Article.objects.get(pk=old)
    keys = set(ArticleBand.objects.filter(article=article).values_list("key", flat=True))
    assert keys == set(dedup.candidate_keys(row["a_text"]))
    copy = storage.Candidate(
        guid="b1", url="https://b.test/copy", canonical="b.test/copy", title=row["b_title"],
        text=row["b_text"], summary="", published=listed, language="fr",
        language_confidence=1.0, author="", image_url="", flags=frozenset(),
    )  # fmt: skip
    assert storage.store_items(source, [copy]) == [False]
    assert ArticleVersion.objects.get(guid="b1").article == article


@POSTGRES_ONLY
def test_going_back_before_the_phrase_keys_leaves_the_vectors_of_0006() -> None:
    """Migration 0008 reversed: the vectors hold pairs again and no run of three terms."""
    source = Source.objects.create(name="S", kind=SourceKind.FEED, url="https://a.test/f")
    article = _article("patrouille à pied", source)
    query = (
        "SELECT count(*) FILTER (WHERE lexeme LIKE '%% %% %%'), count(*) FILTER (WHERE"
        " lexeme LIKE '%% %%') FROM mediawatch_article, unnest(search_vector) WHERE id = %s"
    )
    try:
        call_command("migrate", "mediawatch", "0007", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(query, [article.pk])
            assert cursor.fetchone() == (0, 2)  # "patrouill a", "a pied"
    finally:
        call_command("migrate", "mediawatch", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(query, [article.pk])
        assert cursor.fetchone() == (1, 3)
