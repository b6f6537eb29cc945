import logging
import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connections

from intersection.core import scheduler, workers

logger = logging.getLogger("intersection.scheduler")


class Command(BaseCommand):
    help = "Enqueue periodic jobs (settings.SCHEDULE) forever, or once with --once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--interval", type=float, default=30.0, help="Seconds between passes.")

    def handle(self, *args: Any, **options: Any) -> None:
        running = True

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"scheduler: {len(scheduler.jobs())} periodic jobs")
        while running:
            try:
                for name in scheduler.tick():
                    self.stdout.write(f"scheduler: enqueued {name}")
                workers.recover_lost_tasks()
            except DatabaseError:
                # The database went away (failover, restart, SQLite locked): the pass is
                # tried again after the interval, on a new connection.
                logger.warning("scheduler: the database does not answer", exc_info=True)
            for connection in connections.all(initialized_only=True):
                connection.close_if_unusable_or_obsolete()  # a broken one is opened anew
            if options["once"]:
                break
            deadline = time.monotonic() + options["interval"]
            while running and time.monotonic() < deadline:
                time.sleep(0.2)
        self.stdout.write("scheduler: stopped")
