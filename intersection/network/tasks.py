"""Background jobs of the network module: thin wrappers around services."""

from dataclasses import asdict
from typing import Any

from django.tasks import task
from django.utils import timezone

from . import services


@task()
def send_agreement_reminders() -> dict[str, Any]:
    return asdict(services.send_agreement_reminders(day=timezone.localdate()))


@task()
def send_mandate_reminders() -> dict[str, Any]:
    return asdict(services.send_mandate_reminders(day=timezone.localdate()))
