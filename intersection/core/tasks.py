"""Background jobs of the core package."""

import io
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.tasks import task
from django.utils import timezone

from . import services


@task()
def retention_prune() -> dict[str, Any]:
    """Daily: old audit events, sign-in logs and scheduler slots, expired sessions, and task
    results finished 30+ days ago."""
    report = asdict(services.retention_prune(now=timezone.now()))
    call_command("prune_db_task_results", "--min-age-days", "30", "--queue-name", "*", verbosity=0)
    call_command("clearsessions", verbosity=0)
    # django-axes' sign-in log (address, browser, time) is kept as long as the audit log.
    call_command(
        "axes_reset_logs",
        "--age",
        str(settings.AUDIT_RETENTION_DAYS),
        verbosity=0,
        stdout=io.StringIO(),  # it prints a count even when quiet
    )
    return report
