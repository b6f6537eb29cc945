"""Search latency over a large archive, alone: the archive page's 50 queries.

bench/mediawatch.py times these queries at the end of its run, over the archive its load
budget allows (about 100,000 articles in 150 s). This benchmark loads, or reuses, an archive
of the size asked and times only the search, so a million articles can be measured on each
engine, and measured again after a change without being loaded again:

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/mwsearch \\
        .venv/bin/python bench/search.py --articles 1000000          # PostgreSQL
    .venv/bin/python bench/search.py --articles 1000000 --sqlite var/search.sqlite3

A database without articles is migrated, loaded with `bench/mediawatch.py`'s `load_archive`
(15 to 35 minutes per million articles; on PostgreSQL the search index is dropped first and
built once after the load, as a restore does), then vacuumed and analysed, as autovacuum
would do on a live archive. A database that already holds articles is migrated (an upgrade
runs its new migrations, which this measures too) and used as it is. The queries and the way each
is timed (count, then the first page with outlet counts and snippets) are
`bench/mediawatch.py`'s. Target: p95 ≤ 50 ms over 1,000,000 articles on each engine.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import mediawatch as bench  # bench/mediawatch.py, beside this file

TARGET_P95_MS = bench.TARGET_SEARCH_P95_MS


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=1_000_000, help="archive size")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of the 50 queries")
    parser.add_argument(
        "--seed", type=int, default=2026, help="text model and queries; the archive uses seed+1"
    )
    parser.add_argument("--sqlite", metavar="FILE", help="SQLite database file (kept)")
    args = parser.parse_args()
    if not (1 <= args.articles <= 5_000_000 and 1 <= args.rounds <= 20):
        parser.error("--articles must be in [1, 5,000,000] and --rounds in [1, 20]")
    return args


def _prepare(
    database_url: str, args: argparse.Namespace, model: bench.TextModel
) -> tuple[str, int]:
    """Migrates, then loads the archive when the database holds none. Says what it did, and
    how many articles the database holds."""
    started = time.perf_counter()
    var_dir = Path(tempfile.mkdtemp(prefix="intersection-bench-search-"))
    bench.setup_django(var_dir, database_url, empty=False)
    migrated = time.perf_counter() - started
    from django.db import connection

    from intersection.mediawatch.models import Article

    held = Article.objects.count()
    if held:
        if held < args.articles:
            print(f"  WARNING: the database holds {held:,} articles, fewer than --articles")
        return f"reused: {held:,} articles already there (migrations: {migrated:.0f} s)", held
    now = datetime.now(tz=UTC).replace(microsecond=0)
    postgres = connection.vendor == "postgresql"
    if postgres:  # built once after the load, as a restore does, instead of row by row
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX {SEARCH_INDEX}")
    archive = bench.load_archive(model, args.articles, float("inf"), args.seed + 1, now)
    described = (
        f"loaded: {archive.loaded:,} articles in {archive.seconds:.0f} s "
        f"({archive.loaded / archive.seconds:,.0f}/s)"
    )
    if postgres:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"SET maintenance_work_mem = '{INDEX_MEMORY}'")
            cursor.execute(_create_search_index())
        described += (
            f", search index built in {time.perf_counter() - started:.0f} s"
            f" (maintenance_work_mem {INDEX_MEMORY})"
        )
    started = time.perf_counter()
    statement = "VACUUM ANALYZE" if postgres else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(statement)
    described += f", then {statement} in {time.perf_counter() - started:.0f} s"
    return described, archive.loaded


SEARCH_INDEX = "mediawatch_article_search_vector"
INDEX_MEMORY = "1GB"


def _create_search_index() -> str:
    """The statement that builds the PostgreSQL search index: 0006's, which 0008 runs too."""
    keys = importlib.import_module("intersection.mediawatch.migrations.0006_postgres_search_keys")
    return next(s for s in keys.POSTGRES if s.startswith(f"CREATE INDEX {SEARCH_INDEX}"))


def main() -> int:
    args = parse_args()
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if args.sqlite:
        database_url = f"sqlite:///{Path(args.sqlite).resolve()}"
    else:
        database_url = os.environ.get("BENCH_DATABASE_URL", "")
    if not database_url:
        sys.exit("Give --sqlite FILE or BENCH_DATABASE_URL=postgres://… (see --help).")
    model = bench.TextModel(bench.CORPUS, args.seed)
    print(f"Preparing {database_url.split(':', 1)[0]} (--articles {args.articles:,})…", flush=True)
    prepared, articles = _prepare(database_url, args, model)
    print(f"  {prepared}", flush=True)
    print("Timing the 50 queries…", flush=True)
    run = bench.search_latency(bench.make_queries(model, args.seed), args.rounds)

    print("\n== Machine")
    for key, value in bench.machine_description(database_url, load_before):
        print(f"  {key:<11} {value}")
    print(f"\n== Search: the archive page's work (selectors.archive, search.counted)\n  {prepared}")
    bench.print_search(run)
    p95 = bench.percentile(run.timings, 0.95)
    print(
        f"\n== Summary\n  search p95 ≤ {TARGET_P95_MS:.0f} ms{'':<10} {p95:.1f} ms at "
        f"{articles:,} articles{'':<6} {bench.verdict(p95 <= TARGET_P95_MS)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
