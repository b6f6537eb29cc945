"""Reminder emails through a real SMTP server; scheduler idempotency; a dead SMTP server."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from intersection.accounts.models import Role
from intersection.core import scheduler
from intersection.core.models import ScheduledRun
from intersection.network import services
from intersection.network.models import (
    GoverningBody,
    Mandate,
    MandateRole,
    Membership,
    Person,
    Reminder,
    Resource,
)

from .conftest import Mailbox, free_port, make_agreement, make_org, make_user, use_smtp

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 30)


def _expiring_agreement() -> None:
    network = make_org("network", kind="association")
    zone = make_org("zone")
    chief = Person.objects.create(first_name="Chef", last_name="Zone", email="chief@zone.test")
    Membership.objects.create(person=chief, organisation=zone, is_representative=True)
    make_agreement(
        "EXP-1",
        parties=[network, zone],
        grants={Resource.MEDIA_WATCH: [zone]},
        signed_on=date(2020, 1, 1),
        starts_on=date(2020, 1, 1),
        ends_on=TODAY + timedelta(days=20),
    )
    make_agreement(  # far from its end: no reminder
        "FAR-1",
        parties=[network, zone],
        grants={},
        signed_on=date(2020, 1, 1),
        starts_on=date(2020, 1, 1),
        ends_on=TODAY + timedelta(days=400),
    )


def test_it_emails_staff_and_representatives_once_before_an_agreement_ends(
    smtp_server: Mailbox,
) -> None:
    make_user("curator@network.test", role=Role.STAFF, preferred_language="en")
    _expiring_agreement()
    report = services.send_agreement_reminders(day=TODAY)
    assert report.sent == 2
    recipients = sorted(r for m in smtp_server.messages for r in m["to"])  # type: ignore[attr-defined]
    assert recipients == ["chief@zone.test", "curator@network.test"]
    english = next(m for m in smtp_server.messages if "curator@network.test" in m["to"])  # type: ignore[operator]
    assert "EXP-1 ends in 20 days" in str(english["data"])
    # The next day's run sends nothing more.
    again = services.send_agreement_reminders(day=TODAY + timedelta(days=1))
    assert again.sent == 0 and again.skipped == 2
    assert len(smtp_server.messages) == 2


def test_it_records_a_dead_smtp_server_and_retries_later(settings: object) -> None:
    use_smtp(settings, free_port())  # nothing listens there
    make_user("curator@network.test", role=Role.STAFF)
    _expiring_agreement()
    report = services.send_agreement_reminders(day=TODAY)
    assert report.failed == 2 and report.sent == 0
    for reminder in Reminder.objects.all():
        assert reminder.sent_at is None and reminder.attempts == 1
        assert reminder.claimed_at is None  # released for the next run
        assert "ConnectionRefused" in reminder.last_error


def test_it_sends_the_reminder_once_the_server_is_back(
    smtp_server: Mailbox, settings: object
) -> None:
    make_user("curator@network.test", role=Role.STAFF)
    _expiring_agreement()
    use_smtp(settings, free_port())
    assert services.send_agreement_reminders(day=TODAY).failed == 2
    use_smtp(settings, smtp_server.port)
    assert services.send_agreement_reminders(day=TODAY).sent == 2
    assert not Reminder.objects.filter(sent_at=None).exists()


def test_it_sends_each_recipient_one_message_when_another_address_is_refused(
    smtp_server: Mailbox,
) -> None:
    make_user("curator@network.test", role=Role.STAFF)
    _expiring_agreement()
    smtp_server.rejected.add("curator@network.test")
    for offset in range(3):  # three daily runs
        services.send_agreement_reminders(day=TODAY + timedelta(days=offset))
    delivered = [r for m in smtp_server.messages for r in m["to"]]  # type: ignore[attr-defined]
    assert delivered == ["chief@zone.test"]
    refused = Reminder.objects.get(recipient="curator@network.test")
    assert refused.sent_at is None and refused.attempts == 3
    assert "550" in refused.last_error


def test_it_does_not_send_a_reminder_another_worker_is_sending(smtp_server: Mailbox) -> None:
    _expiring_agreement()
    first = services._claim("agreement.expiry", 1, TODAY, "chief@zone.test")
    assert first is not None
    assert services._claim("agreement.expiry", 1, TODAY, "chief@zone.test") is None
    # A claim left by a worker that crashed mid-send is taken again after the timeout.
    Reminder.objects.filter(pk=first.pk).update(
        claimed_at=timezone.now() - services.CLAIM_TIMEOUT - timedelta(minutes=1)
    )
    assert services._claim("agreement.expiry", 1, TODAY, "chief@zone.test") is not None


def test_it_reminds_a_board_member_before_the_mandate_ends(smtp_server: Mailbox) -> None:
    network = make_org("network", kind="association")
    holder = Person.objects.create(first_name="Ana", last_name="Board", email="ana@board.test")
    Mandate.objects.create(
        network=network,
        body=GoverningBody.BOARD,
        person=holder,
        role=MandateRole.TREASURER,
        starts_on=date(2023, 1, 1),
        ends_on=TODAY + timedelta(days=30),
    )
    assert services.send_mandate_reminders(day=TODAY).sent == 1  # no staff account here
    assert smtp_server.messages[0]["to"] == ["ana@board.test"]
    assert services.send_mandate_reminders(day=TODAY).sent == 0


def test_it_enqueues_each_periodic_job_once_per_period() -> None:
    moment = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    first = scheduler.tick(moment)
    assert sorted(first) == [
        "agreement-reminders",
        "mandate-reminders",
        "mediawatch-poll",
        "retention",
    ]
    assert scheduler.tick(moment + timedelta(seconds=5)) == []
    assert ScheduledRun.objects.count() == 4
    assert all(run.task_result_id for run in ScheduledRun.objects.all())
    later = scheduler.tick(moment + timedelta(days=1))
    assert sorted(later) == [
        "agreement-reminders",
        "mandate-reminders",
        "mediawatch-poll",
        "retention",
    ]


@pytest.mark.django_db(transaction=True)
def test_it_runs_the_enqueued_reminder_task_through_the_task_backend(smtp_server: Mailbox) -> None:
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    make_user("curator@network.test", role=Role.STAFF)
    network = make_org("network", kind="association")
    zone = make_org("zone")
    make_agreement(
        "SOON",
        parties=[network, zone],
        grants={},
        signed_on=date(2020, 1, 1),
        starts_on=date(2020, 1, 1),
        ends_on=timezone.localdate() + timedelta(days=5),
    )
    scheduler.tick()
    call_command("db_worker", "--batch", "--interval", "0")
    results = DBTaskResult.objects.all()
    assert results.count() == 4
    assert {r.status for r in results} == {"SUCCESSFUL"}
    assert any("SOON" in str(m["data"]) for m in smtp_server.messages)


def test_it_deletes_audit_events_past_their_retention(settings: object) -> None:
    from intersection.core import audit
    from intersection.core.models import AuditEvent
    from intersection.core.services import retention_prune

    settings.AUDIT_RETENTION_DAYS = 10  # type: ignore[attr-defined]
    old = audit.record(action="access.denied", object_repr="old")
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=11))
    recent = audit.record(action="access.denied", object_repr="recent")
    report = retention_prune(now=timezone.now())
    assert report.audit_events == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [recent.pk]


def test_it_deletes_rate_limit_counters_whose_window_has_closed() -> None:
    from intersection.core import throttle
    from intersection.core.models import ThrottleCounter
    from intersection.core.services import retention_prune

    now = timezone.now()
    throttle.hit(key="password-reset:address:203.0.113.5", limit=5, period=timedelta(hours=1))
    throttle.hit(key="password-reset:address:203.0.113.6", limit=5, period=timedelta(hours=1))
    ThrottleCounter.objects.filter(key__endswith=".5").update(resets_at=now - timedelta(seconds=1))
    assert retention_prune(now=now).rate_limit_counters == 1
    assert list(ThrottleCounter.objects.values_list("key", flat=True)) == [
        "password-reset:address:203.0.113.6"
    ]


def test_it_keeps_scheduling_other_jobs_when_one_cannot_be_enqueued(settings: object) -> None:
    settings.SCHEDULE = [  # type: ignore[attr-defined]
        ("broken", "intersection.network.tasks.does_not_exist", 3600),
        ("mandate-reminders", "intersection.network.tasks.send_mandate_reminders", 3600),
    ]
    assert scheduler.tick() == ["mandate-reminders"]
    assert not ScheduledRun.objects.filter(job="broken").exists()  # retried next pass
