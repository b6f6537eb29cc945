"""Periodic jobs: one scheduler process enqueues each job once per period.

Jobs are listed in settings.SCHEDULE as (name, dotted path of a django.tasks Task, seconds).
A period is a "slot"; the (job, slot) row and the enqueued task are written in one
transaction, so restarts or several schedulers never enqueue the same slot twice.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import ScheduledRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    task_path: str
    every_seconds: int

    def slot(self, now: datetime) -> str:
        return str(int(now.timestamp()) // self.every_seconds)


def jobs() -> list[Job]:
    return [Job(name, path, int(seconds)) for name, path, seconds in settings.SCHEDULE]


def tick(now: datetime | None = None) -> list[str]:
    """Enqueue every job whose current slot has not been enqueued yet. Returns their names."""
    moment = now or timezone.now()
    enqueued = []
    for job in jobs():
        slot = job.slot(moment)
        try:
            if ScheduledRun.objects.filter(job=job.name, slot=slot).exists():
                continue
            with transaction.atomic():
                run = ScheduledRun.objects.create(job=job.name, slot=slot)
                result = import_string(job.task_path).enqueue()
                run.task_result_id = str(result.id)
                run.save(update_fields=["task_result_id"])
        except IntegrityError:
            continue  # another scheduler took this slot
        except Exception:
            # One broken job (bad path, database briefly locked or away…) must not stop the others,
            # nor the scheduler: the slot was rolled back and is tried again next pass.
            logger.exception("could not enqueue %s (slot %s)", job.name, slot)
            continue
        logger.info("enqueued %s (slot %s) as %s", job.name, slot, result.id)
        enqueued.append(job.name)
    return enqueued
