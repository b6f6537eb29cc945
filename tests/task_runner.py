"""Run the tasks waiting in the database with django-tasks-db's own worker code.

`manage.py db_worker` closes old database connections between tasks, which only a
transactional test survives; this runs the same `Worker.run_task` inside a plain test."""

from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def run_enqueued_tasks() -> list[DBTaskResult]:
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )
    done = []
    while (result := DBTaskResult.objects.ready().first()) is not None:
        result.claim(worker.worker_id)
        worker.run_task(result)
        result.refresh_from_db()
        done.append(result)
    return done
