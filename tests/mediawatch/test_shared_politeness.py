"""Several machines, one PostgreSQL: the workers share the politeness towards each outlet.

Two real `db_worker` processes poll sources of one host at the same time; the host never
gets two requests from us closer than the spacing, and its robots.txt is fetched once."""

import contextlib
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from intersection.mediawatch import services, tasks
from intersection.mediawatch.models import ArticleVersion, RobotsTxt, Source, SourceKind

from .conftest import Handler, LocalServer, reply

ROOT = Path(__file__).resolve().parents[2]
SHARED_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="workers share the politeness through PostgreSQL only (on SQLite every worker runs"
    " on one machine and keeps it itself): runs when DATABASE_URL names a PostgreSQL database"
    " (make test's second run, CI)",
)
pytestmark = [SHARED_ONLY, pytest.mark.django_db(transaction=True)]

SPACING = 0.5  # seconds, given to the workers
CLOSEST = 0.6 * SPACING  # what the server may see: the spacing, less network and CPU jitter
GROUPS, SOURCES, PAGES = 2, 2, 2  # two workers' tasks, sources in each, article pages each
TEXT = (
    "Les agents de quartier de la zone {n} rencontrent les habitants chaque semaine pour parler "
    "de sécurité, de stationnement et de cambriolages ; la réunion {n} a lieu au commissariat "
    "de la commune {n}, avec les associations du quartier et les commerçants du marché."
)


class Arrivals:
    """When each request reached the server, by the server's own clock."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def timed(self, handler: Handler, before: threading.Barrier | None = None) -> Handler:
        def record(request: BaseHTTPRequestHandler) -> None:
            with self.lock:
                self.seen.append((time.monotonic(), request.path))
            if before is not None:
                with contextlib.suppress(threading.BrokenBarrierError):
                    before.wait()
            handler(request)

        return record

    def closest(self) -> tuple[float, list[str]]:
        """The shortest time between two requests, and the two paths."""
        ordered = sorted(self.seen)
        gap, first, second = min(
            (b[0] - a[0], a[1], b[1]) for a, b in zip(ordered, ordered[1:], strict=False)
        )
        return gap, [first, second]

    def count(self, path: str) -> int:
        return sum(1 for _moment, seen in self.seen if seen == path)


def _page(number: str) -> bytes:
    text = TEXT.format(n=number) * 3
    body = f"<article><h1>Réunion {number}</h1><p>{text}</p></article>"
    return f"<html><body>{body}</body></html>".encode()


def _feed(web: LocalServer, name: str) -> bytes:
    items = "".join(
        f'<item><guid isPermaLink="false">urn:polite:{name}:{n}</guid><title>Réunion {name} {n}'
        f"</title><link>{web.url(f'/a/{name}/{n}')}</link><description>Bref.</description></item>"
        for n in range(PAGES)
    )
    return f'<rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>'.encode()


def _outlet(
    web: LocalServer, arrivals: Arrivals, both_polling: threading.Barrier
) -> list[list[int]]:
    """One host: a robots.txt, and GROUPS × SOURCES feeds whose items need their page. Each
    group's first feed answers once every group's is asked: the polls then overlap."""
    web.routes["/robots.txt"] = arrivals.timed(
        reply(b"User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"})
    )
    groups = []
    for g in range(GROUPS):
        ids = []
        for s in range(SOURCES):
            name = f"g{g}s{s}"
            web.routes[f"/{name}.xml"] = arrivals.timed(
                reply(_feed(web, name)), both_polling if s == 0 else None
            )
            for n in range(PAGES):
                web.routes[f"/a/{name}/{n}"] = arrivals.timed(reply(_page(f"{name}-{n}")))
            source = Source.objects.create(
                name=name, kind=SourceKind.FEED, url=web.url(f"/{name}.xml")
            )
            ids.append(source.pk)
        groups.append(ids)
    return groups


def _run_workers(count: int, tmp_path: Path) -> list[str]:
    """Run real `manage.py db_worker` processes on the test database, one task each, as on
    separate machines (nothing shared but PostgreSQL); the errors of those that failed."""
    test_database = "/" + str(connection.settings_dict["NAME"])
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
        },
        "DATABASE_URL": urlsplit(os.environ["DATABASE_URL"])._replace(path=test_database).geturl(),
        "VAR_DIR": str(tmp_path),
        "MEDIAWATCH_HOST_SPACING_SECONDS": str(SPACING),
        "MEDIAWATCH_UNSPACED_HOSTS": "",  # 127.0.0.1 is spaced like any outlet here
    }
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--max-tasks", "1"]
    workers = [
        subprocess.Popen(
            [*command, "--no-startup-delay", "--worker-id", f"machine-{n}", "-v", "0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    errors = []
    for worker in workers:
        try:
            _out, err = worker.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            worker.kill()
            _out, err = worker.communicate()
        if worker.returncode:
            errors.append(err[-2000:])
    return errors


def test_two_workers_keep_one_hosts_spacing_and_ask_its_robots_txt_once(
    web: LocalServer, tmp_path: Path
) -> None:
    arrivals, both_polling = Arrivals(), threading.Barrier(GROUPS, timeout=60)
    groups = _outlet(web, arrivals, both_polling)
    for source_ids in groups:  # two polls of one host, as two dispatches a minute apart make
        tasks.poll_sources.enqueue(source_ids)
    assert _run_workers(GROUPS, tmp_path) == []
    ran = DBTaskResult.objects.filter(task_path__endswith="poll_sources")
    assert sorted(w for r in ran for w in r.worker_ids) == ["machine-0", "machine-1"]
    assert all(r.status == "SUCCESSFUL" for r in ran), [r.traceback for r in ran]
    stored = GROUPS * SOURCES * PAGES
    assert ArticleVersion.objects.count() == stored
    # Both workers polled the host at once, and together they kept its spacing…
    assert not both_polling.broken
    gap, pair = arrivals.closest()
    assert gap >= CLOSEST, f"{pair} reached the outlet {gap:.3f} s apart (spacing {SPACING} s)"
    # …and asked for its robots.txt once, for every source and worker.
    assert arrivals.count("/robots.txt") == 1
    assert len(arrivals.seen) == 1 + GROUPS * SOURCES + stored
    assert RobotsTxt.objects.get(origin=web.url("")).outcome == "rules"


def test_a_robots_txt_refusal_is_remembered_for_every_later_poll(web: LocalServer) -> None:
    arrivals = Arrivals()
    web.routes["/robots.txt"] = arrivals.timed(reply(b"", status=403))
    sources = []
    for name in ("first", "second"):
        web.routes[f"/{name}.xml"] = reply(_feed(web, name))
        for n in range(PAGES):
            web.routes[f"/a/{name}/{n}"] = arrivals.timed(reply(_page(f"{name}-{n}")))
        sources.append(
            Source.objects.create(name=name, kind=SourceKind.FEED, url=web.url(f"/{name}.xml"))
        )
    for source in sources:  # two polls, as two workers (or two runs) make them
        (report,) = services.poll_sources([source.pk])
        assert report.errors == {"page_disallowed_by_robots": PAGES}
    assert arrivals.count("/robots.txt") == 1  # asked once; no page fetched against its word
    assert [path for _moment, path in arrivals.seen] == ["/robots.txt"]
    assert ArticleVersion.objects.count() == 2 * PAGES  # stored with the feed's summary
