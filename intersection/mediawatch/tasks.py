"""Background jobs of the media watch: thin wrappers around services."""

from typing import Any

from django.tasks import task
from django.utils import timezone

from . import services


@task()
def poll_due_sources() -> dict[str, Any]:
    reports = services.poll_due_sources(now=timezone.now())
    return {
        "sources": len(reports),
        "new": sum(r.new for r in reports),
        "duplicates": sum(r.duplicates for r in reports),
        "errors": sum(sum(r.errors.values()) for r in reports),
    }
