"""Crash safety with a real kill: SIGKILL the fetch command half-way, run it again."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from .conftest import LocalServer, reply

ROOT = Path(__file__).resolve().parents[2]
ITEMS = 20
TEXT = (
    "Les agents de quartier de la zone {n} rencontrent les habitants chaque semaine pour parler "
    "de sécurité, de stationnement et de cambriolages ; la réunion numéro {n} a lieu au "
    "commissariat de la commune {n}, avec les associations du quartier et les commerçants."
)


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300, check=True,
    )  # fmt: skip


def test_a_killed_fetch_run_loses_nothing_and_duplicates_nothing(
    web: LocalServer, tmp_path: Path
) -> None:
    def slow_page(request: BaseHTTPRequestHandler) -> None:
        time.sleep(0.4)  # each article page takes a while: the kill lands mid-run
        number = request.path.rsplit("/", 1)[-1]
        body = f"<html><body><article><p>{TEXT.format(n=number) * 3}</p></article></body></html>"
        reply(body.encode())(request)

    items = "".join(
        f'<item><guid isPermaLink="false">urn:crash:{n}</guid><title>Réunion {n}</title>'
        f"<link>{web.url(f'/p/{n}')}</link><description>Court.</description></item>"
        for n in range(ITEMS)
    )
    web.routes["/feed.xml"] = reply(
        f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()
    )
    for n in range(ITEMS):
        web.routes[f"/p/{n}"] = slow_page
    database = tmp_path / "crash.sqlite3"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
        },
        "DATABASE_URL": f"sqlite:///{database}",
        "VAR_DIR": str(tmp_path),
        "MEDIAWATCH_HOST_SPACING_SECONDS": "0",
    }
    _manage(env, "migrate", "-v", "0")
    _manage(
        env, "shell", "-c",
        "from intersection.mediawatch.models import Source; "
        f"Source.objects.create(name='Lente', kind='feed', url='{web.url('/feed.xml')}')",
    )  # fmt: skip
    run = subprocess.Popen(
        [sys.executable, "manage.py", "mediawatch", "fetch"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _versions(database):  # a first batch
            time.sleep(0.1)
        run.send_signal(signal.SIGKILL)  # the worker dies mid-run, no clean-up at all
    finally:
        run.wait(timeout=30)
    stored_before = _versions(database)
    assert 0 < stored_before < ITEMS, stored_before
    _manage(env, "mediawatch", "fetch")
    with sqlite3.connect(database) as connection:
        versions = connection.execute(
            "SELECT count(*), count(DISTINCT guid) FROM mediawatch_articleversion"
        ).fetchone()
        articles = connection.execute("SELECT count(*) FROM mediawatch_article").fetchone()[0]
        orphans = connection.execute(
            "SELECT count(*) FROM mediawatch_article a WHERE NOT EXISTS"
            " (SELECT 1 FROM mediawatch_articleversion v WHERE v.article_id = a.id)"
        ).fetchone()[0]
    assert versions == (ITEMS, ITEMS)  # nothing lost, nothing twice
    assert articles == ITEMS and orphans == 0


def _versions(database: Path) -> int:
    try:
        with sqlite3.connect(database, timeout=5) as connection:
            return int(
                connection.execute("SELECT count(*) FROM mediawatch_articleversion").fetchone()[0]
            )
    except sqlite3.OperationalError:
        return 0
