"""Run the whole product in one terminal: web server, task worker and scheduler.

Ctrl-C (or SIGTERM) stops the three processes cleanly.
"""

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the web server (granian), the task workers and the scheduler together."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--web-workers", default=os.environ.get("WEB_WORKERS", "2"))
        parser.add_argument(
            "--task-workers", type=int, default=int(os.environ.get("TASK_WORKERS", "2"))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        commands = {
            "web": [
                python,
                "-m",
                "granian",
                "--interface",
                "wsgi",
                "--host",
                options["host"],
                "--port",
                str(options["port"]),
                "--workers",
                str(options["web_workers"]),
                "--blocking-threads",
                "4",
                "--log-level",
                "warning",
                "intersection.wsgi:application",
            ],
            "scheduler": [python, manage, "scheduler"],
        }
        # Workers exit after 200 tasks and are started again: extraction's memory is given
        # back to the system regularly. Several workers poll different hosts in parallel.
        for number in range(1, max(1, options["task_workers"]) + 1):
            commands[f"worker-{number}"] = [
                python, manage, "db_worker", "--interval", "1", "--max-tasks", "200",
            ]  # fmt: skip
        processes = {
            name: subprocess.Popen(cmd, cwd=settings.BASE_DIR, start_new_session=True)
            for name, cmd in commands.items()
        }
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"Intersection is running on {url}"))
        self.stdout.write(f"Sign in at {url}accounts/login/ with a demo account listed above.")
        self.stdout.write("Web server, task workers and scheduler started. Ctrl-C stops all.")

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, process in list(processes.items()):
                if process.poll() is None:
                    continue
                # A worker that exits cleanly was recycled after its max tasks.
                if name.startswith("worker") and process.returncode == 0:
                    processes[name] = subprocess.Popen(
                        commands[name], cwd=settings.BASE_DIR, start_new_session=True
                    )
                    continue
                self.stderr.write(f"{name} exited with code {process.returncode}; stopping.")
                exit_code = 1
                stopping = True
            time.sleep(0.3)
        self.stdout.write("Stopping…")
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)
