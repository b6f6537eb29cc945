"""Writes of the core package: retention of the audit log and of scheduler bookkeeping."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from .models import AuditEvent, ScheduledRun, ThrottleCounter


@dataclass(frozen=True)
class PruneReport:
    audit_events: int
    scheduled_runs: int
    rate_limit_counters: int


def retention_prune(*, now: datetime) -> PruneReport:
    """Delete audit events and scheduler slots older than their retention period, and the
    rate-limit counters whose window has closed (they hold client addresses)."""
    audit_cutoff = now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    runs_cutoff = now - timedelta(days=30)
    audit_deleted, _ = AuditEvent.objects.filter(at__lt=audit_cutoff).delete()
    runs_deleted, _ = ScheduledRun.objects.filter(enqueued_at__lt=runs_cutoff).delete()
    counters_deleted, _ = ThrottleCounter.objects.filter(resets_at__lte=now).delete()
    return PruneReport(
        audit_events=audit_deleted,
        scheduled_runs=runs_deleted,
        rate_limit_counters=counters_deleted,
    )
