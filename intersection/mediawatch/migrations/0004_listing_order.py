"""The archive's order: `listed_at` (published, else first seen, in whole seconds).

On SQLite the full-text index is rebuilt keyed by the listing order instead of the article
id (search.py explains why): its rowid is `listing_key(listed_at, id)`, so FTS5 returns the
newest matches first and stops after a page. Adding the column rebuilds the article table
on SQLite, which drops the old triggers; this migration creates new ones. On a large
archive it takes a while (about 10 minutes per million articles): see docs/operations.md.
"""

from importlib import import_module
from typing import Any

from django.db import migrations, models

import intersection.mediawatch.models

# Seconds since 2000-01-01 UTC, clamped to 31 bits, in the high bits; the id in the low 31.
# The same formula as search.listing_key (tested to agree).
KEY = (
    "((max(-2147483648, min(2147483647,"
    " CAST(strftime('%s', {row}.listed_at) AS INTEGER) - 946684800)) << 31)"
    " | ({row}.id & 2147483647))"
)
# Migration 0002's index: dropped going forward, restored going back as 0002 wrote it.
FULL_TEXT_0002 = import_module("intersection.mediawatch.migrations.0002_full_text_index")
DROP = FULL_TEXT_0002.SQLITE_REVERSE
SQLITE = [
    # Contentless: the text lives in mediawatch_article; the index only answers rowids. The
    # language is a column of the index, so the archive's language filter reads no article.
    "CREATE VIRTUAL TABLE mediawatch_article_fts USING fts5(search_terms, language,"
    " content='', tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO mediawatch_article_fts(rowid, search_terms, language)"
    f" SELECT {KEY.format(row='a')}, a.search_terms, a.language FROM mediawatch_article a",
    "CREATE TRIGGER mediawatch_article_fts_insert AFTER INSERT ON mediawatch_article BEGIN"
    " INSERT INTO mediawatch_article_fts(rowid, search_terms, language)"
    f" VALUES ({KEY.format(row='new')}, new.search_terms, new.language); END",
    "CREATE TRIGGER mediawatch_article_fts_delete AFTER DELETE ON mediawatch_article BEGIN"
    " INSERT INTO mediawatch_article_fts(mediawatch_article_fts, rowid, search_terms, language)"
    f" VALUES ('delete', {KEY.format(row='old')}, old.search_terms, old.language); END",
    "CREATE TRIGGER mediawatch_article_fts_update"
    " AFTER UPDATE OF search_terms, language, listed_at ON mediawatch_article BEGIN"
    " INSERT INTO mediawatch_article_fts(mediawatch_article_fts, rowid, search_terms, language)"
    f" VALUES ('delete', {KEY.format(row='old')}, old.search_terms, old.language);"
    " INSERT INTO mediawatch_article_fts(rowid, search_terms, language)"
    f" VALUES ({KEY.format(row='new')}, new.search_terms, new.language); END",
]
SQLITE_REVERSE = [
    FULL_TEXT_0002.SQLITE[0],  # the table; then the articles already there; then the triggers
    "INSERT INTO mediawatch_article_fts(mediawatch_article_fts) VALUES ('rebuild')",
    *FULL_TEXT_0002.SQLITE[1:],
]
FILL = {
    "sqlite": "UPDATE mediawatch_article SET listed_at ="
    " strftime('%Y-%m-%d %H:%M:%S', COALESCE(published_at, first_seen_at))",
    "postgresql": "UPDATE mediawatch_article SET listed_at ="
    " date_trunc('second', COALESCE(published_at, first_seen_at))",
}


def _execute(schema_editor: Any, statement: str) -> None:
    # Without parameters, so that strftime's '%s' reaches SQLite as written.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(statement)


def _fill(apps: Any, schema_editor: Any) -> None:
    _execute(schema_editor, FILL[schema_editor.connection.vendor])


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for statement in statements.get(schema_editor.connection.vendor, []):
            _execute(schema_editor, statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("mediawatch", "0003_saved_searches")]

    # The old index goes first and the new one comes last: rebuilding the article table
    # (adding or removing the field, on SQLite) drops the table's triggers, in either
    # direction.
    operations = [
        migrations.RunPython(_run({"sqlite": DROP}), _run({"sqlite": SQLITE_REVERSE})),
        migrations.AlterModelOptions(
            name="article",
            options={
                "ordering": ["-listed_at", "-id"],
                "verbose_name": "article",
                "verbose_name_plural": "articles",
            },
        ),
        migrations.AddField(
            model_name="article",
            name="listed_at",
            field=models.DateTimeField(
                default=intersection.mediawatch.models.now_whole_second, verbose_name="listed"
            ),
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["-listed_at", "-id"], name="article_listing"),
        ),
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                fields=["language", "-listed_at", "-id"], name="article_language_listing"
            ),
        ),
        migrations.RunPython(_run({"sqlite": SQLITE}), _run({"sqlite": DROP})),
    ]
