"""Task workers that survive crashes: heartbeats, recovery of tasks left behind, health.

Every worker (`manage.py worker`) has a `TaskWorker` row and moves its `last_seen` to the
database's clock every TASK_WORKER_HEARTBEAT_SECONDS, from a thread of its own, also while a
long task runs. A task RUNNING under a worker whose heartbeat is older than
TASK_WORKER_LOST_SECONDS, or under a worker with no row at all, was left behind by a worker
that died (SIGKILL, out of memory, a machine lost): `recover_lost_tasks` marks it failed with
the reason "worker lost" and, when its job is in TASKS_SAFE_TO_REPEAT, enqueues it again in
the same transaction. Only database rows and the database's clock decide, so it works with
workers on several machines, and a worker that still beats is never touched.

The scheduler runs the recovery at every pass, and every worker from its heartbeat thread:
whichever comes first takes a task (one conditional UPDATE), the others find nothing to do.
"""

import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Min
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from .models import TaskRecovery, TaskRecoveryReason, TaskWorker

logger = logging.getLogger(__name__)

RUNNING = "RUNNING"
READY = "READY"
FAILED = "FAILED"
# Errors that say "the database went away", not "the task is wrong": the task is given back.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
CONNECTION_ERROR_PATHS = frozenset(
    {
        "django.db.utils.OperationalError",
        "django.db.utils.InterfaceError",
        "psycopg.OperationalError",
        "psycopg.InterfaceError",
    }
)
STOP_PATHS = frozenset({"builtins.SystemExit", "builtins.KeyboardInterrupt"})


class WorkerLost(Exception):
    """The reason recorded on a task whose worker stopped beating."""


class ConnectionLost(Exception):
    """The reason recorded on a task whose worker lost the database under it."""


class WorkerStopped(Exception):
    """The reason recorded on a task whose worker was stopped before the end."""


REASON_CLASSES: dict[str, type[Exception]] = {
    TaskRecoveryReason.WORKER_LOST: WorkerLost,
    TaskRecoveryReason.CONNECTION_LOST: ConnectionLost,
    TaskRecoveryReason.WORKER_STOPPED: WorkerStopped,
}


def new_worker_id() -> str:
    """Unique across machines, and says where the worker runs (at most 64 characters)."""
    host = socket.gethostname()[:40]
    return f"{host}:{os.getpid()}:{get_random_string(8)}"


def lost_after() -> timedelta:
    return timedelta(seconds=settings.TASK_WORKER_LOST_SECONDS)


def register(worker_id: str) -> None:
    """Before a worker takes its first task: from now on it is alive."""
    TaskWorker.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": timezone.now(),
            "last_seen": Now(),
        },
    )


def beat(worker_id: str, *, task_id: str | None = None, done: int | None = None) -> None:
    """The worker is alive (and runs `task_id`, "" for none). A worker whose row was removed
    (it was silent too long, e.g. cut from the database) registers again."""
    fields: dict[str, Any] = {"last_seen": Now()}
    if task_id is not None:
        fields["task_id"] = task_id
    if done is not None:
        fields["tasks_done"] = done
    if not TaskWorker.objects.filter(worker_id=worker_id).update(**fields):
        register(worker_id)
        if task_id or done:
            TaskWorker.objects.filter(worker_id=worker_id).update(**fields)


def unregister(worker_id: str) -> None:
    TaskWorker.objects.filter(worker_id=worker_id).delete()


def live_workers() -> "Any":
    """The workers whose heartbeat is recent (a queryset)."""
    return TaskWorker.objects.filter(last_seen__gte=Now() - lost_after())


def is_safe_to_repeat(task_path: str) -> bool:
    return task_path in settings.TASKS_SAFE_TO_REPEAT


def lost_tasks() -> list[DBTaskResult]:
    """Tasks RUNNING under a worker that is not alive (or never said it was), and tasks a
    live worker no longer runs: started longer ago than the lost-worker limit while its
    heartbeats name another task (the database went away as the worker took it, and the
    worker never learnt that the claim was committed)."""
    running = list(DBTaskResult.objects.filter(status=RUNNING))
    if not running:
        return []
    alive = dict(live_workers().values_list("worker_id", "task_id"))
    long_ago = timezone.now() - lost_after()

    def lost(task: DBTaskResult) -> bool:
        worker = task.worker_ids[-1] if task.worker_ids else None
        if worker not in alive:
            return True
        started = task.started_at
        return started is not None and started < long_ago and alive[worker] != str(task.pk)

    return [task for task in running if lost(task)]


def give_back(task: DBTaskResult, reason: str, *, failed: bool = False) -> TaskRecovery | None:
    """A task that did not end normally: marked failed (unless `failed`, when its own error is
    on record already) and enqueued again when it is safe to repeat, both or neither (one
    transaction). Does nothing when the task is no longer RUNNING under the same start:
    someone else recovered it, or it ended meanwhile."""
    worker = task.worker_ids[-1] if task.worker_ids else ""
    label = str(dict(TaskRecoveryReason.choices).get(reason, reason))
    with transaction.atomic():
        if not failed:
            marked = DBTaskResult.objects.filter(
                pk=task.pk, status=RUNNING, started_at=task.started_at
            ).update(
                status=FAILED,
                finished_at=timezone.now(),
                exception_class_path=f"{__name__}.{REASON_CLASSES[reason].__name__}",
                traceback=f"{label}: {worker or '?'}",
            )
            if not marked:
                return None
        requeued = ""
        if is_safe_to_repeat(task.task_path):
            arguments = task.args_kwargs or {}
            job = import_string(task.task_path).using(
                queue_name=task.queue_name, priority=task.priority
            )
            result = job.enqueue(*arguments.get("args", []), **arguments.get("kwargs", {}))
            requeued = str(result.id)
        recovery = TaskRecovery.objects.create(
            task_id=str(task.pk),
            task_path=task.task_path[:255],
            worker_id=worker[:64],
            reason=reason,
            requeued_id=requeued,
        )
    logger.warning(
        "task %s (%s): %s under worker %s%s",
        task.pk,
        task.task_path,
        label,
        worker or "?",
        f"; enqueued again as {requeued}" if requeued else "; not repeated",
    )
    return recovery


def recover_lost_tasks() -> list[TaskRecovery]:
    """Recover every task left behind by a lost worker, and forget lost workers' rows."""
    recovered = []
    for task in lost_tasks():
        try:
            found = give_back(task, TaskRecoveryReason.WORKER_LOST)
        except ImportError:  # a task whose code is gone: marked failed, not repeated
            logger.exception("task %s: its job %s cannot be imported", task.pk, task.task_path)
            continue
        if found is not None:
            recovered.append(found)
    TaskWorker.objects.filter(last_seen__lt=Now() - lost_after()).delete()
    return recovered


@dataclass(frozen=True)
class Health:
    """What an operator (or a load balancer) needs to know, without personal data."""

    status: str  # "ok", "degraded" or "down"
    database: str  # "ok" or "down"
    workers: int
    oldest_ready_task_s: float | None
    stuck_tasks: int

    @property
    def http_status(self) -> int:
        return 200 if self.status == "ok" else 503


def ready_tasks() -> "Any":
    return DBTaskResult.objects.ready()


def health(now: datetime | None = None) -> Health:
    """Three small queries; "down" when the database does not answer."""
    moment = now or timezone.now()
    try:
        workers = live_workers().count()
        oldest = ready_tasks().aggregate(first=Min("enqueued_at"))["first"]
        stuck = len(lost_tasks())
    except DatabaseError:
        logger.warning("health: the database does not answer", exc_info=True)
        _discard_connection()
        return Health("down", "down", 0, None, 0)
    waited = None if oldest is None else round(max(0.0, (moment - oldest).total_seconds()), 1)
    late = waited is not None and waited > settings.TASK_QUEUE_LATE_SECONDS
    status = "ok" if workers and not stuck and not late else "degraded"
    return Health(status, "ok", workers, waited, stuck)


def _discard_connection() -> None:
    """A connection that failed is closed, so that the next request opens a new one."""
    with contextlib.suppress(DatabaseError):
        connection.close()
