"""Background jobs of the media watch: thin wrappers around services."""

from typing import Any

from django.tasks import task
from django.utils import timezone

from . import coordination, services


@task()
def poll_due_sources() -> dict[str, Any]:
    """Scheduled every minute: claim the due sources and hand them to the workers, one task
    per host (services.claim_due_sources). Also forgets stale shared politeness rows."""
    coordination.forget_stale()
    groups = services.claim_due_sources(now=timezone.now())
    for source_ids in groups:
        poll_sources.enqueue(source_ids)
    return {"hosts": len(groups), "sources": sum(len(ids) for ids in groups)}


@task()
def poll_sources(source_ids: list[int]) -> dict[str, Any]:
    reports = services.poll_sources(source_ids)
    return {
        "sources": len(reports),
        "new": sum(r.new for r in reports),
        "duplicates": sum(r.duplicates for r in reports),
        "errors": sum(sum(r.errors.values()) for r in reports),
    }
