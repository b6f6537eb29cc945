"""`manage.py mediawatch fetch|import-opml|export-opml|eval-duplicates`."""

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from intersection.mediawatch import services
from intersection.mediawatch.demo import load_demo_sources, load_real_sources
from intersection.mediawatch.models import Source, SourceKind
from intersection.mediawatch.opml import OpmlError, OpmlFeed, read_opml, write_opml
from intersection.mediawatch.pipeline.dedup import Thresholds
from intersection.mediawatch.pipeline.evaluation import evaluate


class Command(BaseCommand):
    help = "Media watch: fetch sources, import or export OPML, evaluate duplicate detection."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        fetch = commands.add_parser("fetch", help="Fetch active sources now (or one source).")
        fetch.add_argument("--source", type=int, help="id of one source")
        opml_in = commands.add_parser("import-opml", help="Add the feeds of an OPML file.")
        opml_in.add_argument("file", type=Path)
        commands.add_parser("export-opml", help="Print every source as OPML.")
        commands.add_parser(
            "demo-sources", help="Register the offline demo outlets (not in production)."
        )
        commands.add_parser(
            "known-sources", help="Register the documented real public sources, inactive."
        )
        evaluation = commands.add_parser(
            "eval-duplicates", help="Precision and recall of duplicate detection on labelled pairs."
        )
        evaluation.add_argument("file", type=Path, help="JSON lines: a_title, a_text, …, label")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "fetch":
            self.fetch(options.get("source"))
        elif action == "import-opml":
            self.import_opml(options["file"])
        elif action == "export-opml":
            feeds = [OpmlFeed(s.name, s.url, s.language_hint) for s in Source.objects.all()]
            self.stdout.write(write_opml("Intersection — media watch", feeds))
        elif action == "demo-sources":
            if settings.PRODUCTION:
                raise CommandError("Demo sources are not loaded in production (PRODUCTION=1).")
            sources = load_demo_sources()
            load_real_sources()
            self.stdout.write(
                self.style.SUCCESS(
                    f"{len(sources)} demo news sources; the worker reads them within two minutes."
                )
            )
        elif action == "known-sources":
            added = load_real_sources()
            self.stdout.write(self.style.SUCCESS(f"{added} public sources added, inactive."))
        elif action == "eval-duplicates":
            self.eval_duplicates(options["file"])

    def fetch(self, source_id: int | None) -> None:
        sources = Source.objects.filter(active=True)
        if source_id is not None:
            sources = Source.objects.filter(pk=source_id)
            if not sources.exists():
                raise CommandError(f"No source with id {source_id}.")
        total = {"fetched": 0, "new": 0, "duplicates": 0}
        errors: dict[str, int] = {}
        chosen = list(sources)
        with services.fetcher_for_settings() as fetcher:
            for number, source in enumerate(chosen, start=1):
                self.stdout.write(f"[{number}/{len(chosen)}] {source.name} … ", ending="")
                report = services.poll_source(source=source, fetcher=fetcher, now=timezone.now())
                total["fetched"] += 1
                total["new"] += report.new
                total["duplicates"] += report.duplicates
                for kind, count in report.errors.items():
                    errors[kind] = errors.get(kind, 0) + count
                self.stdout.write(
                    f"{report.status}: {report.items} items, {report.new} new, "
                    f"{report.duplicates} duplicates"
                    + (f", errors {report.errors}" if report.errors else "")
                )
        summary = ", ".join(f"{key} {value}" for key, value in total.items())
        self.stdout.write(self.style.SUCCESS(f"Summary: {summary}"))
        self.stdout.write(
            "Errors by kind: "
            + (", ".join(f"{kind} {count}" for kind, count in sorted(errors.items())) or "none")
        )

    def import_opml(self, path: Path) -> None:
        try:
            feeds = read_opml(path.read_bytes())
        except (OSError, OpmlError) as error:
            raise CommandError(str(error)) from None
        added = 0
        for feed in feeds:
            _source, created = Source.objects.get_or_create(
                url=feed.url,
                defaults={
                    "name": feed.title,
                    "kind": SourceKind.FEED,
                    "language_hint": feed.language,
                },
            )
            added += created
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(feeds)} feeds read, {added} added, {len(feeds) - added} known"
            )
        )

    def eval_duplicates(self, path: Path) -> None:
        try:
            with path.open(encoding="utf-8") as lines:
                for line in evaluate(lines, Thresholds()):
                    self.stdout.write(line)
        except OSError as error:
            raise CommandError(str(error)) from None
        except ValueError as error:
            self.stderr.write(str(error))
            sys.exit(2)
