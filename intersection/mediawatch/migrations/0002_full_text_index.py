"""The full-text index of articles: FTS5 on SQLite, a GIN index on PostgreSQL."""

from typing import Any

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE mediawatch_article_fts USING fts5(search_terms,"
    " content='mediawatch_article', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER mediawatch_article_fts_insert AFTER INSERT ON mediawatch_article BEGIN"
    " INSERT INTO mediawatch_article_fts(rowid, search_terms) VALUES (new.id, new.search_terms);"
    " END",
    "CREATE TRIGGER mediawatch_article_fts_delete AFTER DELETE ON mediawatch_article BEGIN"
    " INSERT INTO mediawatch_article_fts(mediawatch_article_fts, rowid, search_terms)"
    " VALUES ('delete', old.id, old.search_terms); END",
    "CREATE TRIGGER mediawatch_article_fts_update AFTER UPDATE OF search_terms"
    " ON mediawatch_article BEGIN"
    " INSERT INTO mediawatch_article_fts(mediawatch_article_fts, rowid, search_terms)"
    " VALUES ('delete', old.id, old.search_terms);"
    " INSERT INTO mediawatch_article_fts(rowid, search_terms) VALUES (new.id, new.search_terms);"
    " END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS mediawatch_article_fts_update",
    "DROP TRIGGER IF EXISTS mediawatch_article_fts_delete",
    "DROP TRIGGER IF EXISTS mediawatch_article_fts_insert",
    "DROP TABLE IF EXISTS mediawatch_article_fts",
]
POSTGRES = [
    "CREATE INDEX mediawatch_article_search ON mediawatch_article"
    " USING gin (to_tsvector('simple', search_terms))"
]
POSTGRES_REVERSE = ["DROP INDEX IF EXISTS mediawatch_article_search"]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("mediawatch", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
