"""Run the whole product in one terminal: web server, task workers and scheduler, supervised.

A process that stops unexpectedly is started again (core.supervisor); Ctrl-C or SIGTERM stops
them all, letting each worker finish its current task.
"""

import os
import signal
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from intersection.core.supervisor import Child, Supervisor


class Command(BaseCommand):
    help = "Start the web server (granian), the task workers and the scheduler, and keep them up."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--web-workers", default=os.environ.get("WEB_WORKERS", "2"))
        parser.add_argument(
            "--task-workers", type=int, default=int(os.environ.get("TASK_WORKERS", "2"))
        )
        parser.add_argument(
            "--stop-grace",
            type=float,
            default=float(os.environ.get("STOP_GRACE_SECONDS", "30")),
            help="Seconds a busy worker has to finish its task when stopping (then it gives "
            "the task back).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        web = [
            python, "-m", "granian", "--interface", "wsgi",
            "--host", options["host"], "--port", str(options["port"]),
            "--workers", str(options["web_workers"]), "--blocking-threads", "4",
            "--log-level", "warning", "intersection.wsgi:application",
        ]  # fmt: skip
        children = [Child("web", web), Child("scheduler", [python, manage, "scheduler"])]
        # Workers exit after 200 tasks and are started again: extraction's memory is given
        # back to the system regularly. Several workers poll different hosts in parallel.
        for number in range(1, max(1, options["task_workers"]) + 1):
            command = [python, manage, "worker", "--interval", "1", "--max-tasks", "200"]
            children.append(Child(f"worker-{number}", command, recyclable=True))
        supervisor = Supervisor(
            children, cwd=settings.BASE_DIR, log=self._log, grace=options["stop_grace"]
        )
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        supervisor.check()  # starts them all
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"Intersection is running on {url}"))
        self.stdout.write(f"Sign in at {url}accounts/login/ with a demo account listed above.")
        self.stdout.write(
            "Web server, task workers and scheduler started and kept running. Ctrl-C stops all."
        )
        supervisor.run(until=lambda: stopping)
        self.stdout.write("Stopping…")
        supervisor.stop()
        self.stdout.write("Stopped.")

    def _log(self, line: str) -> None:
        self.stderr.write(line)
        self.stderr.flush()
