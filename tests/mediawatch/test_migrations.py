"""The full-text index survives migrating the archive back and forth (SQLite rebuilds the
article table when a field is added or removed, which drops its triggers)."""

import pytest
from django.core.management import call_command
from django.db import connection

from intersection.mediawatch import selectors
from intersection.mediawatch.models import Article, Source, SourceKind
from intersection.mediawatch.pipeline.stemming import index_terms

pytestmark = pytest.mark.django_db(transaction=True)

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
            cursor.execute(INSERT_AT_0003, ["a.test/old", "patrouill", source.pk])
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
    assert [a.pk for a in selectors.archive(query="commissariat")] == [after.pk]
