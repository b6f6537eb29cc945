"""Scheduled polling: due sources are claimed once, grouped by host, and polled by workers."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from intersection.mediawatch import services, tasks
from intersection.mediawatch.models import Article, Source, SourceKind

from .conftest import LocalServer, reply
from .test_ingest import OTHER, WIRE, rss

pytestmark = pytest.mark.django_db(transaction=True)


def _source(name: str, url: str, **fields: object) -> Source:
    return Source.objects.create(name=name, kind=SourceKind.FEED, url=url, **fields)


def test_due_sources_are_claimed_once_and_grouped_by_host() -> None:
    now = timezone.now()
    a1 = _source("A1", "https://a.test/one.xml")
    a2 = _source("A2", "https://A.test/two.xml", next_poll_at=now - timedelta(minutes=1))
    b = _source("B", "https://b.test/feed.xml")
    _source("Later", "https://a.test/later.xml", next_poll_at=now + timedelta(hours=1))
    _source("Off", "https://c.test/feed.xml", active=False)
    groups = services.claim_due_sources(now=now)
    assert sorted(sorted(g) for g in groups) == sorted([sorted([a1.pk, a2.pk]), [b.pk]])
    # A second dispatch (the next minute, or another scheduler) hands out nothing…
    assert services.claim_due_sources(now=now + timedelta(minutes=1)) == []
    # …until the claim runs out without a poll (a worker that crashed): then they are due.
    later = now + services.CLAIM + timedelta(seconds=1)
    assert sorted(len(g) for g in services.claim_due_sources(now=later)) == [1, 2]


def test_the_scheduled_task_hands_each_host_to_a_worker(web: LocalServer) -> None:
    web.routes["/a.xml"] = reply(rss([("a1", "Agents de quartier", web.url("/p/1"), WIRE)]))
    web.routes["/b.xml"] = reply(rss([("b1", "Vélos", web.url("/p/2"), OTHER)]))
    first, second = _source("A", web.url("/a.xml")), _source("B", web.url("/b.xml"))
    result = tasks.poll_due_sources.call()
    assert result == {"hosts": 1, "sources": 2}  # one host: one task, polled in turn
    assert DBTaskResult.objects.count() == 1
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    assert Article.objects.count() == 2
    for source in (first, second):
        source.refresh_from_db()
        assert source.last_success_at is not None
        assert source.next_poll_at > timezone.now() + timedelta(minutes=1)  # set by the poll
    assert tasks.poll_due_sources.call() == {"hosts": 0, "sources": 0}
