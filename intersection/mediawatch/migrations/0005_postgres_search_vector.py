"""PostgreSQL: the search vector is stored (a generated column) instead of recomputed.

Phrase matches and the rows the planner checks one by one (newest first, for frequent
words) read the stored tsvector instead of parsing `search_terms` again for every row. The
column exists on PostgreSQL only; SQLite has its FTS5 index (migration 0004).
"""

from importlib import import_module
from typing import Any

from django.db import migrations

POSTGRES = [
    "ALTER TABLE mediawatch_article ADD COLUMN search_vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple', search_terms)) STORED",
    "CREATE INDEX mediawatch_article_search_vector ON mediawatch_article"
    " USING gin (search_vector)",
    "DROP INDEX IF EXISTS mediawatch_article_search",
    "ANALYZE mediawatch_article",
]
POSTGRES_REVERSE = [
    # Migration 0002's index, as 0002 wrote it.
    *import_module("intersection.mediawatch.migrations.0002_full_text_index").POSTGRES,
    "DROP INDEX IF EXISTS mediawatch_article_search_vector",
    "ALTER TABLE mediawatch_article DROP COLUMN IF EXISTS search_vector",
]


def _run(statements: list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("mediawatch", "0004_listing_order")]

    operations = [migrations.RunPython(_run(POSTGRES), _run(POSTGRES_REVERSE))]
