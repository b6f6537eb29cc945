"""Crashes and contention with real processes: `runall` keeps the product up when one of its
processes dies, a task left behind by a killed worker is recovered and run again (nothing
lost, nothing stored twice), a worker that is alive is never robbed of its task, and workers
whose PostgreSQL connections are cut reconnect and finish the work exactly once.

Each runs on the engine of the suite's run: SQLite in the first run of `make test`,
PostgreSQL in the second (tests.processes)."""

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from tests.mediawatch.conftest import LocalServer, reply, serve
from tests.processes import ENGINE, Product, children, free_port, wait_for

TEXT = (
    "Les agents de quartier de la zone {n} rencontrent les habitants chaque semaine pour parler "
    "de sécurité, de stationnement et de cambriolages ; la réunion numéro {n} a lieu au "
    "commissariat de la commune {n}, avec les associations du quartier et les commerçants. "
)
WORDS = [
    "agent",
    "quartier",
    "habitant",
    "réunion",
    "prévention",
    "cambriolage",
    "vélo",
    "école",
    "parc",
    "marché",
    "commerce",
    "stationnement",
    "voisinage",
    "médiation",
    "jeunesse",
    "sécurité",
    "rue",
    "place",
    "gare",
    "bus",
    "tram",
    "nuit",
    "bruit",
    "patrouille",
    "contact",
    "confiance",
    "association",
    "commune",
    "conseil",
    "projet",
    "visite",
]


def _text(path: str) -> str:
    """A different story for each page: no two pages are duplicates of each other."""
    chooser = random.Random(path)
    words = [chooser.choice(WORDS) for _ in range(90)]
    return TEXT.format(n=path) + " ".join(words) + "."


POSTGRES = pytest.mark.skipif(
    ENGINE != "postgresql",
    reason="cuts PostgreSQL connections: runs when DATABASE_URL names a PostgreSQL database"
    " (make test's second run, CI)",
)


@pytest.fixture
def feeds() -> Iterator[LocalServer]:
    yield from serve("127.0.0.1")


def _slow_feed(web: LocalServer, name: str, items: int, page_seconds: float) -> str:
    """A feed whose items only summarise: each article page is fetched and takes a while."""

    def page(request: BaseHTTPRequestHandler) -> None:
        time.sleep(page_seconds)
        body = f"<html><body><article><p>{_text(request.path)}</p></article></body></html>"
        reply(body.encode())(request)

    entries = "".join(
        f'<item><guid isPermaLink="false">urn:{name}:{n}</guid><title>{name} {n}</title>'
        f"<link>{web.url(f'/{name}/p/{name}-{n}')}</link><description>Court.</description></item>"
        for n in range(items)
    )
    web.routes[f"/{name}.xml"] = reply(
        f'<rss version="2.0"><channel><title>{name}</title>{entries}</channel></rss>'.encode()
    )
    for n in range(items):
        web.routes[f"/{name}/p/{name}-{n}"] = page
    return web.url(f"/{name}.xml")


def _add_sources(product: Product, urls: dict[str, str]) -> list[int]:
    out = product.shell(
        "from intersection.mediawatch.models import Source\n"
        f"for name, url in {urls!r}.items():\n"
        "    print(Source.objects.create(name=name, kind='feed', url=url).pk)\n"
    )
    return [int(line) for line in out.split()]


def _enqueue_polls(product: Product, groups: list[list[int]]) -> list[str]:
    out = product.shell(
        "from intersection.mediawatch.tasks import poll_sources\n"
        f"for ids in {groups!r}:\n"
        "    print(poll_sources.enqueue(ids).id)\n"
    )
    return out.split()


def _stored(product: Product) -> tuple[int, int, int, int]:
    """Versions, distinct (source, guid) pairs, articles, articles without a version."""
    versions, distinct = product.rows(
        "SELECT count(*), count(DISTINCT source_id || ':' || guid) FROM mediawatch_articleversion"
    )[0]
    articles = product.scalar("SELECT count(*) FROM mediawatch_article")
    orphans = product.scalar(
        "SELECT count(*) FROM mediawatch_article a WHERE NOT EXISTS"
        " (SELECT 1 FROM mediawatch_articleversion v WHERE v.article_id = a.id)"
    )
    return int(versions), int(distinct), int(articles), int(orphans)


def _task(product: Product, task_id: str) -> tuple[str, str]:
    status, failure = product.rows(
        "SELECT status, exception_class_path FROM django_tasks_database_dbtaskresult"  # noqa: S608
        f" WHERE id = '{task_id.replace('-', '') if ENGINE == 'sqlite' else task_id}'"
    )[0]
    return str(status), str(failure)


def _unfinished_tasks(product: Product) -> int:
    return int(
        product.scalar(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult"
            " WHERE status IN ('READY', 'RUNNING')"
        )
    )


def _worker(product: Product, log: str) -> subprocess.Popen[str]:
    return product.start("worker", "--interval", "0.2", "--no-startup-delay", log=log)


def test_runall_starts_again_a_killed_worker_and_web_server_and_stops_on_sigterm(
    product: Product,
) -> None:
    port = free_port()
    runall = product.start(
        "runall", "--port", str(port), "--task-workers", "2", "--web-workers", "1",
        "--stop-grace", "5", log="runall.log",
    )  # fmt: skip
    home = f"http://127.0.0.1:{port}/accounts/login/"

    def answers() -> bool:
        try:
            return httpx.get(home, timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def workers() -> list[tuple[str, int]]:
        return product.rows("SELECT worker_id, pid FROM core_taskworker")

    wait_for(answers, what="the web server")
    first = wait_for(lambda: len(workers()) == 2 and workers(), what="two workers")
    victim = first[0][1]
    os.kill(victim, signal.SIGKILL)  # an out-of-memory kill, say

    assert answers(), "the web server must keep answering while a worker is down"
    replaced = wait_for(
        lambda: [pid for _, pid in workers() if pid not in {p for _, p in first}],
        what="a new worker",
    )
    assert replaced
    assert "killed by SIGKILL" in product.log("runall.log")

    # The web server itself dies: started again, it answers again.
    (web,) = [pid for pid, command in children(runall.pid) if "granian" in command]
    os.killpg(web, signal.SIGKILL)
    wait_for(lambda: not answers(), timeout=10, every=0.05, what="the web server down")
    wait_for(answers, what="the web server started again")
    assert runall.poll() is None

    runall.send_signal(signal.SIGTERM)  # only a stop request stops the product
    assert runall.wait(timeout=60) == 0
    assert not answers()
    for _, pid in workers():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


ITEMS = 16


def test_a_task_left_running_by_a_killed_worker_is_recovered_and_polled_again_once(
    product: Product, feeds: LocalServer
) -> None:
    (source,) = _add_sources(product, {"Lente": _slow_feed(feeds, "lente", ITEMS, 0.4)})
    (task,) = _enqueue_polls(product, [[source]])
    first = _worker(product, "first.log")
    wait_for(lambda: _stored(product)[0] > 0, what="a first stored batch")
    product.kill(first)  # mid-poll, no clean-up at all
    first.wait(timeout=30)
    assert _task(product, task)[0] == "RUNNING"  # left behind
    assert 0 < _stored(product)[0] < ITEMS

    _worker(product, "second.log")  # its heartbeat thread finds the lost task
    wait_for(
        lambda: _stored(product)[0] == ITEMS and not _unfinished_tasks(product),
        what="every item stored after the recovery",
    )
    assert _stored(product) == (ITEMS, ITEMS, ITEMS, 0)  # nothing lost, nothing twice
    assert _task(product, task) == ("FAILED", "intersection.core.workers.WorkerLost")
    # The killed worker's fetch run is closed as interrupted by the poll that took over.
    assert product.rows(
        "SELECT error_kind, finished_at IS NOT NULL FROM mediawatch_fetchrun ORDER BY id"
    ) == [("interrupted", True), ("", True)]
    (reason, requeued), *others = product.rows("SELECT reason, requeued_id FROM core_taskrecovery")
    assert (reason, bool(requeued), others) == ("worker_lost", True, [])


def test_a_task_whose_worker_is_alive_is_never_recovered(
    product: Product, feeds: LocalServer
) -> None:
    # 16 pages of 0.4 s: the poll lasts about three times the 4 s after which a silent
    # worker is lost; its heartbeat goes on while the task runs.
    (source,) = _add_sources(product, {"Lente": _slow_feed(feeds, "lente", ITEMS, 0.4)})
    (task,) = _enqueue_polls(product, [[source]])
    _worker(product, "busy.log")
    wait_for(lambda: _task(product, task)[0] == "RUNNING", what="the task taken")
    _worker(product, "idle.log")  # recovers lost tasks every 3 s from its heartbeat thread
    started = time.monotonic()
    wait_for(lambda: _task(product, task)[0] != "RUNNING", what="the task finished")
    assert time.monotonic() - started > 4  # it did outlive the lost-worker limit
    assert _task(product, task) == ("SUCCESSFUL", "")
    assert product.rows("SELECT task_id FROM core_taskrecovery") == []
    assert _stored(product) == (ITEMS, ITEMS, ITEMS, 0)


@POSTGRES
def test_workers_whose_connections_are_cut_mid_ingestion_store_everything_once(
    product: Product, feeds: LocalServer
) -> None:
    sources = _add_sources(
        product, {f"s{n}": _slow_feed(feeds, f"s{n}", 30, 0.05) for n in range(6)}
    )
    _enqueue_polls(product, [[pk] for pk in sources])
    workers = [_worker(product, f"w{n}.log") for n in range(2)]
    wait_for(lambda: _stored(product)[0] > 10, what="ingestion under way")
    cuts = 0
    for _ in range(3):  # a failover, a pooler restart: every connection of the workers goes
        cuts += product.cut_connections()
        time.sleep(1.5)
    assert cuts >= 3
    total = 30 * len(sources)
    wait_for(
        lambda: _stored(product)[0] >= total and not _unfinished_tasks(product),
        timeout=120,
        what="every item stored",
    )
    assert _stored(product) == (total, total, total, 0)
    assert all(worker.poll() is None for worker in workers), "the workers must go on"
    recoveries = product.rows("SELECT reason, requeued_id FROM core_taskrecovery")
    assert recoveries and all(r == "connection_lost" and q for r, q in recoveries)
    assert product.scalar("SELECT count(*) FROM mediawatch_fetchrun WHERE finished_at IS NULL") == 0


def test_health_counts_the_live_workers(product: Product) -> None:
    """A smoke test of the heartbeat as /health/ reads it: the worker is counted while it
    runs and no longer after SIGTERM (it unregisters)."""
    worker = _worker(product, "w.log")
    code = "from intersection.core import workers; print(workers.health().workers)"
    wait_for(lambda: json.loads(product.shell(code)) == 1, what="one live worker")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    assert json.loads(product.shell(code)) == 0


def test_sigterm_lets_a_worker_finish_its_task_and_a_second_one_gives_the_task_back(
    product: Product, feeds: LocalServer
) -> None:
    first, second = _add_sources(
        product,
        {
            "Une": _slow_feed(feeds, "une", 6, 0.3),
            "Deux": _slow_feed(feeds, "deux", ITEMS, 0.4),
        },
    )
    (finishing,) = _enqueue_polls(product, [[first]])
    worker = _worker(product, "graceful.log")
    wait_for(lambda: _task(product, finishing)[0] == "RUNNING", what="the task taken")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    assert _task(product, finishing) == ("SUCCESSFUL", "")  # finished, not cut short

    (stopped,) = _enqueue_polls(product, [[second]])
    worker = _worker(product, "forced.log")
    wait_for(lambda: _task(product, stopped)[0] == "RUNNING", what="the task taken")
    worker.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    worker.send_signal(signal.SIGTERM)  # "press Ctrl+C again to force"
    worker.wait(timeout=60)
    assert _task(product, stopped) == ("FAILED", "builtins.SystemExit")
    ((reason, requeued),) = product.rows("SELECT reason, requeued_id FROM core_taskrecovery")
    assert reason == "worker_stopped" and requeued
    _worker(product, "next.log")  # the next worker takes it again
    wait_for(lambda: not _unfinished_tasks(product), what="the task given back, done again")
    assert _stored(product) == (6 + ITEMS, 6 + ITEMS, 6 + ITEMS, 0)
