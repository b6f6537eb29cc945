"""/health/ for monitoring, and the staff's operations page: workers, queue, tasks that went
wrong, failing news sources and their "Poll now" button."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult

from intersection.accounts.models import Role
from intersection.core import workers
from intersection.core.models import AuditEvent, TaskRecovery, TaskRecoveryReason, TaskWorker
from intersection.mediawatch import labels, services
from intersection.mediawatch.models import PauseReason, Source, SourceKind
from intersection.mediawatch.services import CLAIM
from intersection.mediawatch.tasks import poll_sources
from intersection.network.policy import Capability, refusal_reason

from .conftest import login, make_user

pytestmark = pytest.mark.django_db

POLL_SOURCES = "intersection.mediawatch.tasks.poll_sources"


def _running_task(worker_id: str) -> DBTaskResult:
    """A task RUNNING under `worker_id`, as a worker leaves it when it dies."""
    result = poll_sources.enqueue([4242])
    DBTaskResult.objects.filter(pk=result.id).update(
        status=workers.RUNNING, started_at=timezone.now(), worker_ids=[worker_id]
    )
    return DBTaskResult.objects.get(pk=result.id)


def _failing_source(name: str = "Hainaut Matin", **fields: Any) -> Source:
    values: dict[str, Any] = {
        "kind": SourceKind.FEED,
        "url": "https://h.example/rss",
        "consecutive_failures": 3,
        "failing_since": timezone.now() - timedelta(hours=5),
        "last_error_at": timezone.now(),
        "last_error_kind": "timeout",
        "last_error": "read timed out after 20 s",
        "next_poll_at": timezone.now() + timedelta(hours=2, minutes=5),
    }
    return Source.objects.create(name=name, **{**values, **fields})


# --- /health/ --------------------------------------------------------------------------------
def test_health_is_ok_with_a_live_worker_and_an_empty_queue(client: Client) -> None:
    workers.register("web-1:100:abc")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "workers": 1,
        "oldest_ready_task_s": None,
        "stuck_tasks": 0,
    }
    assert response["Cache-Control"] == "no-store"
    # Cheap: no session, no audit, no sign-in throttling; a few small queries.
    assert not response.cookies
    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "django_session" not in sql and "axes_" not in sql and "core_auditevent" not in sql
    assert len(queries.captured_queries) <= 4
    assert not AuditEvent.objects.exists()


def test_health_is_degraded_with_503_when_no_worker_runs(client: Client) -> None:
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded" and response.json()["workers"] == 0
    assert response.json()["database"] == "ok"


def test_health_is_degraded_when_a_task_runs_under_an_unknown_worker(client: Client) -> None:
    workers.register("web-1:100:abc")
    _running_task("gone:1:zzz")
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded" and response.json()["stuck_tasks"] == 1


def test_a_task_its_live_worker_no_longer_runs_is_recovered_once_it_is_old_enough() -> None:
    """The database went away as the worker claimed the task: the claim was committed but
    the worker never learnt it, and its heartbeats name no task. Recovered after the
    lost-worker limit, never before, and never while the heartbeats name it."""
    workers.register("w-1:100:abc")
    task = _running_task("w-1:100:abc")
    assert workers.lost_tasks() == []  # just taken: its worker may not have beaten since
    long_ago = timezone.now() - workers.lost_after() - timedelta(seconds=5)
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=long_ago)
    workers.beat("w-1:100:abc", task_id=str(task.pk))
    assert workers.lost_tasks() == []  # a long task its worker still runs
    workers.beat("w-1:100:abc", task_id="")
    assert [t.pk for t in workers.lost_tasks()] == [task.pk]
    (recovery,) = workers.recover_lost_tasks()
    assert recovery.task_id == str(task.pk) and recovery.requeued_id
    assert DBTaskResult.objects.get(pk=task.pk).status == workers.FAILED
    assert TaskWorker.objects.filter(worker_id="w-1:100:abc").exists()  # the worker lives on


def test_health_says_how_long_the_oldest_ready_task_waits(client: Client) -> None:
    workers.register("web-1:100:abc")
    result = poll_sources.enqueue([1])
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=timezone.now() - timedelta(hours=1)
    )
    body = client.get("/health/").json()
    assert body["status"] == "degraded"  # later than TASK_QUEUE_LATE_SECONDS
    assert 3590 < body["oldest_ready_task_s"] < 3700


def test_health_answers_anonymous_visitors_without_personal_data(client: Client) -> None:
    make_user("staff@example.org", role=Role.STAFF)
    worker_id = "secret-host:100:abc"
    workers.register(worker_id)
    body = client.get("/health/").content.decode()
    assert "staff@example.org" not in body and "secret-host" not in body
    assert client.post("/health/").status_code == 405


# --- The operations page ---------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_operations_page_is_open_to_staff_and_administrators(client: Client, role: str) -> None:
    login(client, make_user("ops@example.org", role=role))
    response = client.get("/operations/")
    assert response.status_code == 200


def test_operations_page_is_refused_to_members_with_the_reason(client: Client) -> None:
    login(client, make_user("member@example.org"))
    translation.activate("en")
    response = client.get("/operations/", headers={"accept-language": "en"})
    assert response.status_code == 403
    assert refusal_reason(Capability.VIEW_OPERATIONS) in response.content.decode()
    assert AuditEvent.objects.filter(action="access.denied").exists()
    assert Client().get("/operations/").status_code == 302  # anonymous: sign in first


def test_the_account_menu_offers_the_operations_page_to_staff_only(client: Client) -> None:
    login(client, make_user("member@example.org"))
    assert 'href="/operations/"' not in client.get("/").content.decode()
    login(client, make_user("ops@example.org", role=Role.STAFF))
    assert 'href="/operations/"' in client.get("/").content.decode()


def test_operations_page_lists_live_and_lost_workers(client: Client) -> None:
    workers.register("alive:1:a")
    task = _running_task("alive:1:a")
    workers.beat("alive:1:a", task_id=str(task.pk), done=7)
    TaskWorker.objects.create(
        worker_id="lost:2:b",
        hostname="machine-that-died",
        pid=31337,
        started_at=timezone.now() - timedelta(hours=3),
        last_seen=timezone.now() - timedelta(hours=2, minutes=5),
    )
    login(client, make_user("ops@example.org", role=Role.STAFF))
    translation.activate("en")
    page = client.get("/operations/", headers={"accept-language": "en"}).content.decode()
    assert "machine-that-died" in page and "31337" in page
    assert '<span class="badge badge-danger">Lost</span>' in page
    assert '<span class="badge badge-success">Live</span>' in page
    assert "<code>poll_sources</code>" in page and str(task.pk) in page  # its current task
    assert '<td class="num">7</td>' in page  # tasks done
    assert "2\xa0hours ago" in page  # the lost worker's last heartbeat


def test_operations_page_lists_recovered_and_failed_tasks_without_their_details(
    client: Client,
) -> None:
    TaskRecovery.objects.create(
        task_id="0f0f0f0f-0000-0000-0000-000000000001",
        task_path="intersection.network.tasks.send_agreement_reminders",
        worker_id="lost:2:b",
        reason=TaskRecoveryReason.WORKER_LOST,
        requeued_id="0f0f0f0f-0000-0000-0000-000000000002",
    )
    failed = poll_sources.enqueue([987654321])
    DBTaskResult.objects.filter(pk=failed.id).update(
        status=workers.FAILED,
        finished_at=timezone.now(),
        exception_class_path="httpx.ReadTimeout",
        traceback="Traceback (most recent call last): secret-in-traceback",
    )
    login(client, make_user("ops@example.org", role=Role.STAFF))
    translation.activate("en")
    page = client.get("/operations/", headers={"accept-language": "en"}).content.decode()
    assert "<code>send_agreement_reminders</code>" in page
    assert "Worker lost" in page and "Enqueued again" in page
    assert "<code>poll_sources</code>" in page and "<code>ReadTimeout</code>" in page
    assert "secret-in-traceback" not in page and "987654321" not in page


def test_operations_page_lists_failing_sources_only(client: Client) -> None:
    _failing_source()
    _failing_source(
        "Le Soir du Nord", active=False, pause_reason=PauseReason.FAILURES, last_error_kind=""
    )
    _failing_source("Paused by hand", active=False, pause_reason=PauseReason.BY_CURATOR)
    Source.objects.create(name="Working feed", kind=SourceKind.FEED, url="https://w.example/")
    login(client, make_user("ops@example.org", role=Role.STAFF))
    translation.activate("en")
    page = client.get("/operations/", headers={"accept-language": "en"}).content.decode()
    assert "Hainaut Matin" in page and escape(labels.failure("timeout")[0]) in page
    assert "Le Soir du Nord" in page and "Paused after repeated failures" in page
    assert "Paused by hand" not in page and "Working feed" not in page
    assert "2\xa0hours from now" in page  # the next poll of the source still polled
    assert page.count(">Poll now<") == 2


def test_operations_page_shows_empty_states(client: Client) -> None:
    login(client, make_user("ops@example.org", role=Role.STAFF))
    translation.activate("en")
    page = client.get("/operations/", headers={"accept-language": "en"}).content.decode()
    assert page.count('class="empty-state"') == 3
    assert "<table" not in page


# --- Poll now --------------------------------------------------------------------------------
def _poll_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=POLL_SOURCES, status=workers.READY))


def test_poll_now_enqueues_a_poll_and_claims_the_source(client: Client) -> None:
    source = _failing_source()
    login(client, make_user("ops@example.org", role=Role.STAFF))
    before = timezone.now()
    translation.activate("en")
    response = client.post(
        f"/operations/sources/{source.pk}/poll/", headers={"accept-language": "en"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/operations/#failing-sources"
    source.refresh_from_db()
    # Claimed as the dispatch claims it: the every-minute dispatch leaves it to this poll.
    assert source.next_poll_at is not None
    assert before + CLAIM <= source.next_poll_at <= timezone.now() + CLAIM
    assert services.claim_due_sources(now=timezone.now()) == []
    [task] = _poll_tasks()
    assert task.args_kwargs == {"args": [[source.pk]], "kwargs": {}}
    event = AuditEvent.objects.get(action="source.poll_now")
    assert event.object_id == str(source.pk) and event.actor_label == "ops@example.org"
    page = client.get(response["Location"], headers={"accept-language": "en"}).content.decode()
    assert "“Hainaut Matin” will be polled by the next free worker." in page


def test_poll_now_turns_back_on_a_source_paused_after_failures(client: Client) -> None:
    source = _failing_source(active=False, pause_reason=PauseReason.FAILURES)
    login(client, make_user("ops@example.org", role=Role.ADMIN))
    assert client.post(f"/operations/sources/{source.pk}/poll/").status_code == 302
    source.refresh_from_db()
    assert source.active and source.pause_reason == ""
    assert len(_poll_tasks()) == 1


def test_poll_now_leaves_a_source_paused_by_a_curator_alone(client: Client) -> None:
    source = _failing_source(active=False, pause_reason=PauseReason.BY_CURATOR)
    planned = source.next_poll_at
    login(client, make_user("ops@example.org", role=Role.STAFF))
    assert client.post(f"/operations/sources/{source.pk}/poll/").status_code == 302
    source.refresh_from_db()
    assert not source.active and source.next_poll_at == planned
    assert not _poll_tasks()


def test_poll_now_is_refused_to_members_and_to_get(client: Client) -> None:
    source = _failing_source()
    planned = source.next_poll_at
    login(client, make_user("member@example.org"))
    assert client.post(f"/operations/sources/{source.pk}/poll/").status_code == 403
    login(client, make_user("ops@example.org", role=Role.STAFF))
    assert client.get(f"/operations/sources/{source.pk}/poll/").status_code == 405
    source.refresh_from_db()
    assert source.next_poll_at == planned and not _poll_tasks()
    assert not AuditEvent.objects.filter(action="source.poll_now").exists()


def test_poll_now_needs_the_csrf_token(client: Client) -> None:
    source = _failing_source()
    guarded = Client(enforce_csrf_checks=True)
    login(guarded, make_user("ops@example.org", role=Role.STAFF))
    assert guarded.post(f"/operations/sources/{source.pk}/poll/").status_code == 403
    assert not _poll_tasks()
