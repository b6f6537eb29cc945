"""PostgreSQL: the search vector also holds keys that bound the work of a search.

GIN stores no positions and no order, so over a million articles a phrase of frequent words
was checked against tens of thousands of stored vectors, and counting the first 1,001
matches of a mid-frequency word read every article until it found them (30 to 270 ms each
at a million articles). Three kinds of keys are added to `search_vector`, as lexemes that
no text can produce (they hold a space or a "§"):

- each pair of adjacent terms, "van de" and "de politiezon": a phrase is looked up by its
  pairs in the index, and only the few articles holding all of them have their positions
  checked;
- the article's language, "§l:nl", for the language filter;
- the article's 30-day period, "§p:325" (periods since 2000-01-01, by `listed_at`): counts
  ask the index for the matches of the newest periods first and stop after 1,001.

GIN intersects the posting lists of the words and of these keys by skipping through the
longer ones, so the work follows the shorter list. See
docs/decisions/0007-postgres-search-keys.md; `search.period` computes the same period.

The column is replaced: every article's vector is computed again and the index rebuilt,
35 to 40 minutes per million articles on a 2-core machine (docs/operations.md). SQLite is
unchanged.
"""

from importlib import import_module

from django.db import migrations

VECTOR_0005 = import_module("intersection.mediawatch.migrations.0005_postgres_search_vector")
_run = VECTOR_0005._run  # runs its statements on PostgreSQL only

PERIOD_SECONDS = 30 * 24 * 3600
EPOCH_2000 = 946_684_800  # 2000-01-01 00:00 UTC in Unix seconds
# The pairs: the terms zipped with themselves shifted by one (unnest of two arrays walks them
# side by side); array_to_tsvector sorts them and drops repeats.
KEYS = (
    "CREATE FUNCTION mediawatch_search_keys(terms text, language text, listed timestamptz)"
    " RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$"
    " SELECT array_to_tsvector(ARRAY(SELECT u.a || ' ' || u.b"
    " FROM unnest(t[1:cardinality(t) - 1], t[2:]) AS u(a, b) WHERE u.a <> '' AND u.b <> '')"
    " || ARRAY['§l:' || coalesce(language, ''), '§p:' || coalesce(floor(("
    f"extract(epoch FROM listed) - {EPOCH_2000}) / {PERIOD_SECONDS})::bigint::text, '')])"
    " FROM string_to_array(coalesce(terms, ''), ' ') AS t $$"
)  # IMMUTABLE holds: the epoch of a timestamptz does not depend on the session's time zone
POSTGRES = [
    KEYS,
    "DROP INDEX IF EXISTS mediawatch_article_search_vector",
    "ALTER TABLE mediawatch_article DROP COLUMN search_vector",
    "ALTER TABLE mediawatch_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
    " (to_tsvector('simple', search_terms)"
    " || mediawatch_search_keys(search_terms, language, listed_at)) STORED",
    # GIN builds in memory and merges: with the default 64 MB a million articles took 14
    # minutes. The setting lasts until the migration's transaction ends.
    "SET LOCAL maintenance_work_mem = '256MB'",
    "CREATE INDEX mediawatch_article_search_vector ON mediawatch_article"
    " USING gin (search_vector)",
    "ANALYZE mediawatch_article",
]
POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS mediawatch_article_search_vector",
    "ALTER TABLE mediawatch_article DROP COLUMN IF EXISTS search_vector",
    "DROP FUNCTION IF EXISTS mediawatch_search_keys(text, text, timestamptz)",
    *VECTOR_0005.POSTGRES,  # the column and index as 0005 made them
]


class Migration(migrations.Migration):
    dependencies = [("mediawatch", "0005_postgres_search_vector")]

    operations = [migrations.RunPython(_run(POSTGRES), _run(POSTGRES_REVERSE))]
