"""PostgreSQL: the search vector also holds each triple of adjacent terms.

With the pairs of migration 0006, the index found the articles holding every pair of a
phrase, and each of them had the positions in its stored vector checked: counting the
first 1,001 matches of a phrase of frequent words read at least 1,001 vectors (about 40 µs
each, 200 ms and more over a million articles). With the triples ("zon de polic"), a
phrase of two or three terms is one key of the index and nothing is read to confirm it; a
longer phrase asks for all its triples, then checks the positions of the few articles
holding them. See docs/decisions/0009-postgres-phrase-keys.md; a test computes
the same keys from an article's terms and compares.

The column is replaced: every article's vector is computed again and the index rebuilt
(docs/operations.md gives the duration). SQLite is unchanged.
"""

from importlib import import_module

from django.db import migrations

VECTOR_0005 = import_module("intersection.mediawatch.migrations.0005_postgres_search_vector")
KEYS_0006 = import_module("intersection.mediawatch.migrations.0006_postgres_search_keys")
_run = VECTOR_0005._run  # runs its statements on PostgreSQL only

# 0006's function, with the triples: the terms zipped with themselves shifted by one and by
# two (unnest of three arrays walks them side by side).
KEYS = (
    "CREATE FUNCTION mediawatch_search_keys(terms text, language text, listed timestamptz)"
    " RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$"
    " SELECT array_to_tsvector(ARRAY(SELECT u.a || ' ' || u.b"
    " FROM unnest(t[1:cardinality(t) - 1], t[2:]) AS u(a, b) WHERE u.a <> '' AND u.b <> '')"
    " || ARRAY(SELECT u.a || ' ' || u.b || ' ' || u.c"
    " FROM unnest(t[1:cardinality(t) - 2], t[2:cardinality(t) - 1], t[3:]) AS u(a, b, c)"
    " WHERE u.a <> '' AND u.b <> '' AND u.c <> '')"
    " || ARRAY['§l:' || coalesce(language, ''), '§p:' || coalesce(floor(("
    f"extract(epoch FROM listed) - {KEYS_0006.EPOCH_2000}) / {KEYS_0006.PERIOD_SECONDS})"
    "::bigint::text, '')])"
    " FROM string_to_array(coalesce(terms, ''), ' ') AS t $$"
)  # IMMUTABLE holds: the epoch of a timestamptz does not depend on the session's time zone


def _vector(keys_function: str) -> list[str]:
    """The statements that compute every vector again with `keys_function`."""
    return [
        "DROP INDEX IF EXISTS mediawatch_article_search_vector",
        "ALTER TABLE mediawatch_article DROP COLUMN IF EXISTS search_vector",
        "DROP FUNCTION IF EXISTS mediawatch_search_keys(text, text, timestamptz)",
        keys_function,
        # 0006's column (calling the function), memory setting, index and ANALYZE.
        *KEYS_0006.POSTGRES[3:],
    ]


POSTGRES = _vector(KEYS)
POSTGRES_REVERSE = _vector(KEYS_0006.KEYS)


class Migration(migrations.Migration):
    dependencies = [("mediawatch", "0007_rekey_duplicate_bands")]

    operations = [migrations.RunPython(_run(POSTGRES), _run(POSTGRES_REVERSE))]
