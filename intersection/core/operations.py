"""What the operations page and the error handler need to know about the running product:
the task workers and the tasks that went wrong (reads only), and whether an error means
"the database is in trouble" (unreachable, read-only, full) rather than "the code is wrong".
The media watch's failing sources are read by the page itself (core sits below the modules).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models import Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from . import workers
from .models import TaskRecovery, TaskWorker

RECENT = timedelta(hours=24)
LIMIT = 100  # rows per table: the page stays light when many things go wrong at once
READ_ONLY_SQLSTATE = "25006"  # PostgreSQL read_only_sql_transaction: a standby, a failover


def is_database_trouble(error: BaseException | None) -> bool:
    """The database does not answer, refuses writes or is full: not a bug, a 503.

    Django raises OperationalError or InterfaceError when the server is away, the connection
    was cut, or SQLite is locked, read-only or full; PostgreSQL refusing a write on a
    read-only server is an InternalError whose cause has SQLSTATE 25006."""
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    if isinstance(error, DatabaseError):
        return getattr(error.__cause__, "sqlstate", None) == READ_ONLY_SQLSTATE
    return False


@dataclass(frozen=True)
class WorkerRow:
    machine: str
    process: int
    started_at: datetime
    last_seen: datetime
    alive: bool
    task_id: str
    task_job: str  # the current task's job, "" when idle or unknown
    tasks_done: int


@dataclass(frozen=True)
class TaskProblem:
    """A task that failed or was recovered: its job and why, never its arguments."""

    at: datetime
    job: str  # the job's name (its function), e.g. poll_sources
    error: str  # the exception's class name, "" when unknown
    reason: str  # the recovery's reason in words, "" when it was not recovered
    requeued: bool | None  # None when it was not recovered


@dataclass(frozen=True)
class Queue:
    ready: int
    oldest_enqueued_at: datetime | None
    late: bool  # the oldest waits longer than TASK_QUEUE_LATE_SECONDS


def job_name(task_path: str) -> str:
    return task_path.rsplit(".", 1)[-1]


def _task_ids(values: list[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue
    return found


def task_workers() -> list[WorkerRow]:
    """Every worker on record, live ones first; lost ones stay until the recovery removes
    them (core.workers.recover_lost_tasks)."""
    rows = list(TaskWorker.objects.all()[:LIMIT])
    alive = set(workers.live_workers().values_list("pk", flat=True))
    busy = _task_ids([row.task_id for row in rows if row.task_id])
    jobs = {
        str(pk): job_name(path)
        for pk, path in DBTaskResult.objects.filter(pk__in=busy).values_list("pk", "task_path")
    }
    found = [
        WorkerRow(
            machine=row.hostname,
            process=row.pid,
            started_at=row.started_at,
            last_seen=row.last_seen,
            alive=row.pk in alive,
            task_id=row.task_id,
            task_job=jobs.get(row.task_id, ""),
            tasks_done=row.tasks_done,
        )
        for row in rows
    ]
    return sorted(found, key=lambda worker: not worker.alive)


def queue(now: datetime | None = None) -> Queue:
    moment = now or timezone.now()
    ready = workers.ready_tasks()
    oldest = ready.aggregate(first=Min("enqueued_at"))["first"]
    late = timedelta(seconds=settings.TASK_QUEUE_LATE_SECONDS)
    return Queue(
        ready=ready.count(),
        oldest_enqueued_at=oldest,
        late=oldest is not None and moment - oldest > late,
    )


def task_problems(now: datetime | None = None) -> list[TaskProblem]:
    """Tasks recovered, and tasks failed, in the last 24 hours, newest first: one row per
    task. Only the job, the error's class and the reason are read (no arguments, no
    traceback)."""
    since = (now or timezone.now()) - RECENT
    failed = {
        str(row["id"]): row
        for row in DBTaskResult.objects.filter(status=workers.FAILED, finished_at__gte=since)
        .order_by("-finished_at")
        .values("id", "task_path", "finished_at", "exception_class_path")[:LIMIT]
    }
    problems = []
    for recovery in TaskRecovery.objects.filter(at__gte=since)[:LIMIT]:
        task = failed.pop(recovery.task_id, None)
        problems.append(
            TaskProblem(
                at=recovery.at,
                job=job_name(recovery.task_path),
                error=job_name(task["exception_class_path"]) if task else "",
                reason=recovery.get_reason_display(),
                requeued=bool(recovery.requeued_id),
            )
        )
    problems.extend(
        TaskProblem(
            at=task["finished_at"] or since,  # never None: filtered on it
            job=job_name(task["task_path"]),
            error=job_name(task["exception_class_path"]),
            reason="",
            requeued=None,
        )
        for task in failed.values()
    )
    return sorted(problems, key=lambda problem: problem.at, reverse=True)[:LIMIT]
