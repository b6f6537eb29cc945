"""`manage.py worker`: django-tasks-db's worker, made to keep running through trouble.

Same options as `db_worker`, plus:
- a heartbeat in the database from a thread of its own (core.workers), also while a long
  task runs, and the recovery of tasks left behind by lost workers;
- the database going away (a failover, `pg_terminate_backend`, PostgreSQL restarted, SQLite
  locked) does not stop it: it waits, reconnects and goes on; the task that was running is
  given back (failed with its reason, enqueued again when it is safe to repeat);
- SIGTERM (or Ctrl-C) lets the current task finish; a second one stops it at once and gives
  the task back.
"""

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from intersection.core import workers
from intersection.core.models import TaskRecoveryReason

logger = logging.getLogger("intersection.worker")

RECONNECT_FIRST = 0.5  # seconds; doubled at each failed attempt up to RECONNECT_MAX
RECONNECT_MAX = 15.0


def _close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a dead connection may refuse even to close
            logger.debug("closing a dead connection failed", exc_info=True)


class Heartbeat(threading.Thread):
    """Beats every TASK_WORKER_HEARTBEAT_SECONDS and recovers lost workers' tasks every few
    beats, on its own database connection; the database being away is logged, not fatal."""

    def __init__(self, worker: "SupervisedWorker") -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.worker = worker
        self.stopped = threading.Event()

    def run(self) -> None:
        every = settings.TASK_WORKER_HEARTBEAT_SECONDS
        beats = 0
        while not self.stopped.wait(every):
            beats += 1
            try:
                workers.beat(
                    self.worker.worker_id,
                    task_id=self.worker.current_task_id,
                    done=self.worker.done,
                )
                if beats % 3 == 0:
                    workers.recover_lost_tasks()
            except Exception:  # noqa: BLE001 - the next beat tries again
                logger.warning("heartbeat: the database does not answer", exc_info=True)
                _close_connections()
        _close_connections()


class SupervisedWorker(Worker):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.current_task_id = ""
        self.done = 0
        self.unrecorded: DBTaskResult | None = None  # running when the database went away

    def run_task(self, db_task_result: DBTaskResult) -> None:
        # Named in the heartbeats until its outcome is recorded or it is given back, so that
        # no other worker recovers it as lost while this one reconnects.
        self.current_task_id = str(db_task_result.pk)
        self.unrecorded = db_task_result
        super().run_task(db_task_result)  # records success or failure itself
        # Recorded: the outcome is in the database.
        self.unrecorded, self.current_task_id = None, ""
        self.done += 1
        failure = db_task_result.exception_class_path
        if db_task_result.status == workers.FAILED and failure:
            if failure in workers.CONNECTION_ERROR_PATHS:
                self._give_back(db_task_result, TaskRecoveryReason.CONNECTION_LOST)
            elif failure in workers.STOP_PATHS:
                self._give_back(db_task_result, TaskRecoveryReason.WORKER_STOPPED)

    def _give_back(self, task: DBTaskResult, reason: str) -> None:
        """A task that failed because of the database or a stop, not because of itself: its
        error stays on record and a task safe to repeat is enqueued again."""
        workers.give_back(task, reason, failed=True)

    def run(self) -> None:
        """The library's loop, started again after the database went away."""
        delay = RECONNECT_FIRST
        while self.running:
            try:
                if self.unrecorded is not None:
                    # Forgotten only once given back: the database may go away again
                    # before that, and the task would stay RUNNING under a live worker.
                    self.unrecorded.refresh_from_db()
                    if self.unrecorded.status == workers.RUNNING:
                        workers.give_back(self.unrecorded, TaskRecoveryReason.CONNECTION_LOST)
                    self.unrecorded, self.current_task_id = None, ""
                workers.beat(self.worker_id, task_id="", done=self.done)
                super().run()
                return  # --batch or --max-tasks reached
            except workers.CONNECTION_ERRORS:
                if not self.running:
                    return
                logger.warning(
                    "worker %s: the database does not answer; trying again in %.1f s",
                    self.worker_id,
                    delay,
                )
                _close_connections()
                self.running_task = False
                time.sleep(delay)
                delay = min(RECONNECT_MAX, delay * 2)
                close_old_connections()


class Command(DbWorkerCommand):
    help = "Run a task worker that beats, recovers lost tasks and survives database trouble."

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None)  # host:pid:random, see workers.new_worker_id

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        worker = SupervisedWorker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"] or workers.new_worker_id(),
            excluded_queue_names=(
                options["exclude_queues"].split(",") if options["exclude_queues"] else []
            ),
        )
        worker.configure_signals()
        self._register(worker)
        heartbeat = Heartbeat(worker)
        heartbeat.start()
        try:
            worker.run()
        finally:
            heartbeat.stopped.set()
            heartbeat.join(timeout=5)
            try:
                workers.unregister(worker.worker_id)
            except Exception:  # noqa: BLE001 - the database may be away: the row ages out
                logger.warning("worker %s: could not unregister", worker.worker_id)

    def _register(self, worker: SupervisedWorker) -> None:
        """Registered before the first task is claimed; waits for the database if needed."""
        delay = RECONNECT_FIRST
        while True:
            try:
                workers.register(worker.worker_id)
                return
            except workers.CONNECTION_ERRORS:
                logger.warning("worker: the database does not answer; trying again")
                _close_connections()
                time.sleep(delay)
                delay = min(RECONNECT_MAX, delay * 2)
