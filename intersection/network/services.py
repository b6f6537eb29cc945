"""Writes of the network module: reminder emails about agreements and mandates."""

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from intersection.accounts.models import Role, User

from .models import Agreement, Mandate, Membership, Reminder
from .selectors import current
from .status import AgreementStatus

logger = logging.getLogger(__name__)
MAX_REMINDER_ATTEMPTS = 5


@dataclass
class ReminderReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str


def _staff_recipients() -> list[Recipient]:
    users = User.objects.filter(is_active=True, role__in=[Role.ADMIN, Role.STAFF])
    return [Recipient(u.email, u.preferred_language or settings.LANGUAGE_CODE) for u in users]


def _representatives(organisation_ids: list[int], day: date) -> list[Recipient]:
    memberships = (
        Membership.objects.filter(organisation_id__in=organisation_ids, is_representative=True)
        .filter(current(day))
        .select_related("person__user")
    )
    found = []
    for membership in memberships:
        person = membership.person
        user = person.user
        email = person.email or (user.email if user else "")
        if email:
            language = (user.preferred_language if user else "") or settings.LANGUAGE_CODE
            found.append(Recipient(email, language))
    return found


def _unique(recipients: list[Recipient]) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        seen.setdefault(recipient.email.lower(), recipient)
    return list(seen.values())


CLAIM_TIMEOUT = timedelta(hours=1)


def _claim(kind: str, object_id: int, due_on: date, recipient: str) -> Reminder | None:
    """Take the reminder for one recipient and due date, unless it was sent, given up on, or
    is being sent by another worker right now. The claim is one atomic UPDATE; a claim older
    than CLAIM_TIMEOUT (a worker that crashed mid-send) can be taken again."""
    key: dict[str, Any] = {
        "kind": kind,
        "object_id": object_id,
        "due_on": due_on,
        "recipient": recipient,
    }
    try:
        with transaction.atomic():
            reminder, _created = Reminder.objects.get_or_create(**key)
    except IntegrityError:  # another worker created it at the same moment
        reminder = Reminder.objects.get(**key)
    now = timezone.now()
    taken = (
        Reminder.objects.filter(
            pk=reminder.pk, sent_at__isnull=True, attempts__lt=MAX_REMINDER_ATTEMPTS
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now)
    )
    if not taken:
        return None
    reminder.refresh_from_db()
    return reminder


def _send_one(
    reminder: Reminder, template: str, context: dict[str, object], recipient: Recipient
) -> bool:
    """Send the message to one recipient in their language; record the outcome."""
    try:
        with translation.override(recipient.language):
            subject = render_to_string(f"{template}-subject.txt", context).strip()
            body = render_to_string(f"{template}-body.txt", context)
        EmailMessage(subject=subject, body=body, to=[recipient.email]).send()
    except Exception as error:  # noqa: BLE001 - any mail failure is recorded and retried
        Reminder.objects.filter(pk=reminder.pk).update(
            attempts=reminder.attempts + 1,
            last_error=f"{type(error).__name__}: {error}"[:1000],
            claimed_at=None,
        )
        reminder.last_error = f"{type(error).__name__}: {error}"
        logger.warning("reminder %s to %s not sent: %s", reminder, recipient.email, error)
        return False
    Reminder.objects.filter(pk=reminder.pk).update(
        sent_at=timezone.now(), attempts=reminder.attempts + 1, last_error=""
    )
    return True


def _remind(
    report: ReminderReport,
    *,
    kind: str,
    object_id: int,
    due_on: date,
    recipients: list[Recipient],
    template: str,
    context: dict[str, object],
) -> None:
    """One message per recipient, each sent at most once whatever happens to the others."""
    for recipient in _unique(recipients):
        reminder = _claim(kind, object_id, due_on, recipient.email.lower())
        if reminder is None:
            report.skipped += 1
        elif _send_one(reminder, template, context, recipient):
            report.sent += 1
        else:
            report.failed += 1
            report.errors.append(reminder.last_error)


def send_agreement_reminders(*, day: date) -> ReminderReport:
    """Warn staff and the parties' representatives of agreements that end soon. Idempotent."""
    report = ReminderReport()
    candidates = Agreement.objects.filter(
        signed_on__isnull=False, terminated_on__isnull=True
    ).prefetch_related("party_links__organisation")
    for agreement in candidates:
        if agreement.status_on(day) != AgreementStatus.EXPIRING:
            continue
        end = agreement.end_as_of(day)
        assert end is not None
        party_ids = [link.organisation_id for link in agreement.party_links.all()]
        _remind(
            report,
            kind="agreement.expiry",
            object_id=agreement.pk,
            due_on=end,
            recipients=_staff_recipients() + _representatives(party_ids, day),
            template="network/emails/agreement-expiry",
            context={
                "agreement": agreement,
                "end": end,
                "days_left": (end - day).days,
                "parties": [link.organisation for link in agreement.party_links.all()],
                "url": f"{settings.SITE_URL}/agreements/{agreement.pk}/",
            },
        )
    return report


def send_mandate_reminders(*, day: date) -> ReminderReport:
    """Warn staff and the mandate holder before a board or assembly mandate ends. Idempotent."""
    report = ReminderReport()
    horizon = day + timedelta(days=settings.MANDATE_REMINDER_DAYS)
    ending = (
        Mandate.objects.filter(ends_on__gte=day, ends_on__lte=horizon, starts_on__lte=day)
        .filter(~Q(ends_on=None))
        .select_related("person__user", "network")
    )
    for mandate in ending:
        assert mandate.ends_on is not None
        recipients = _staff_recipients()
        person = mandate.person
        holder_email = person.email or (person.user.email if person.user else "")
        if holder_email:
            language = (person.user.preferred_language if person.user else "") or "fr"
            recipients.append(Recipient(holder_email, language))
        _remind(
            report,
            kind="mandate.end",
            object_id=mandate.pk,
            due_on=mandate.ends_on,
            recipients=recipients,
            template="network/emails/mandate-end",
            context={
                "mandate": mandate,
                "days_left": (mandate.ends_on - day).days,
                "url": f"{settings.SITE_URL}/board/",
            },
        )
    return report
