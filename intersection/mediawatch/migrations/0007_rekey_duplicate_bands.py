"""Duplicate detection's keys computed the new way: shingle hashes from word hashes.

Each shingle used to be hashed with its own blake2b call, and MinHash used arithmetic modulo
2^61 - 1; both were most of the time an incoming article took. A shingle's hash is now
mixed from its words' hashes (a word is hashed once and remembered), and MinHash permutes
modulo 2^64 (`pipeline/dedup.py`; docs/decisions/0008-shingle-hashes.md). The decisions on
the labelled pairs are unchanged (`make eval`), but every stored key changes:

- the band keys of every article are computed again from its text;
- `Article.signature` goes: `compare` now computes the SimHash from the shingle hashes it
  needs anyway for the overlap, so the stored copy saved nothing.

About 3 minutes per 100,000 articles on a 2-core machine (docs/operations.md). Going back
to 0006 leaves the new keys in place: the old code then finds near copies only among the
articles stored after the downgrade (restore the backup taken before upgrading instead).
"""

from typing import Any

from django.db import migrations

from intersection.mediawatch.pipeline import dedup

BATCH = 1000  # articles read and keyed at a time


def rekey(apps: Any, schema_editor: Any) -> None:
    article = apps.get_model("mediawatch", "Article")
    band = apps.get_model("mediawatch", "ArticleBand")
    connection = schema_editor.connection
    table = connection.ops.quote_name(band._meta.db_table)
    insert = f'INSERT INTO {table} ("article_id", "key") VALUES (%s, %s)'
    with connection.cursor() as cursor:
        empty = "TRUNCATE {}" if connection.vendor == "postgresql" else "DELETE FROM {}"
        cursor.execute(empty.format(table))
        last = 0
        while True:
            rows = list(
                article.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "text")[:BATCH]
            )
            if not rows:
                break
            cursor.executemany(
                insert, [(pk, key) for pk, text in rows for key in set(dedup.candidate_keys(text))]
            )
            last = rows[-1][0]


class Migration(migrations.Migration):
    dependencies = [("mediawatch", "0006_postgres_search_keys")]

    operations = [
        migrations.RemoveField(model_name="article", name="signature"),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]
