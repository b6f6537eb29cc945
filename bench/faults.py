"""Fault script: PostgreSQL goes away while the product ingests news and serves its pages.

Not a test: it starts the product as users run it (`manage.py runall --task-workers 2`:
granian, the scheduler and two task workers) on a fresh PostgreSQL database fault_<pid>,
with generated news sources served from 127.0.0.2… (one address, so one host, per source;
some summary-only, whose article pages are fetched slowly, so that ingestion lasts about
30–60 s) and client threads that browse (the login page, the media watch signed in,
/health/). While ingestion runs it cuts the database:

  --fault terminate  pg_terminate_backend on every connection to fault_<pid>, --cuts times,
                     --cut-interval seconds apart: nobody else's connection is touched.
  --fault restart    stops the PostgreSQL cluster itself (pg_ctlcluster … stop), waits
                     --down-seconds, starts it again (--down-seconds 0: pg_ctlcluster
                     restart). THIS CUTS EVERY CONNECTION OF EVERY USER OF THE SERVER, other
                     people's test suites included: it needs --yes-restart-postgres (the
                     default fault is `terminate` without that flag, `restart` with it) and
                     root, and is meant for a quiet machine.

Then it waits until every served item is stored (or --deadline) and prints the machine, what
the clients got before, during and after the outage (by path and status code or connection
error) and how long pages took to answer again once PostgreSQL was back, whether runall and
every process it started are still the same processes (the restarts it logged), tasks by
status and recovered tasks, fetch runs never finished, and what was lost or stored twice.

    .venv/bin/python bench/faults.py                               # --fault terminate
    .venv/bin/python bench/faults.py --yes-restart-postgres        # quiet machine only!
    .venv/bin/python bench/faults.py --yes-restart-postgres --down-seconds 10 --keep

Exit code 0 when nothing was lost or stored twice, no request answered a 5xx other than 503,
every page answered again by itself and no process of the product died or was restarted;
1 otherwise; 2 when the run itself could not be carried out. Once this script has stopped
PostgreSQL, it starts it again whatever happens next (an error, Ctrl-C, SIGTERM); only a
SIGKILL of this script can leave it stopped (`pg_ctlcluster <version> main start` then).
The database and the temporary directory are removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for _path in (ROOT, BENCH):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import mediawatch as mw  # noqa: E402 - bench/mediawatch.py: generated outlets and pages
import web as web_bench  # noqa: E402 - bench/web.py: the machine's description

HOST = "127.0.0.1"
DEFAULT_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
PASSWORD = "fault-script-password-7"
PRODUCT_APP = "intersection-fault-product"  # application_name of the product's connections
SCRIPT_APP = "intersection-fault-script"  # this script's own short connections
REQUEST_TIMEOUT_S = 10.0
LOGIN, SIGN_IN, MEDIA, HEALTH = (
    "GET /accounts/login/",
    "POST /accounts/login/",
    "GET /media-watch/",
    "GET /health/",
)
PATHS = (LOGIN, SIGN_IN, MEDIA, HEALTH)
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
LOG_LINE = re.compile(r"^\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+) (.*)$")


def say(text: str) -> None:
    print(text, flush=True)


def warn_loudly(lines: list[str]) -> None:
    bar = "!" * 96
    print(f"\n{bar}", file=sys.stderr)
    for line in lines:
        print(f"!!  {line}", file=sys.stderr)
    print(f"{bar}\n", file=sys.stderr, flush=True)


# --- PostgreSQL -------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def connect(url: str, timeout: int = 3) -> Any:
    import psycopg

    return psycopg.connect(
        url, autocommit=True, connect_timeout=timeout, application_name=SCRIPT_APP
    )


def rows(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """One short connection a query: it never outlives an outage."""
    with connect(url) as db:
        return list(db.execute(sql.encode(), params).fetchall())


def answers(url: str) -> bool:
    try:
        rows(url, "SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return False
    return True


@dataclass
class Cluster:
    """The local PostgreSQL cluster behind the admin URL (Debian's pg_ctlcluster)."""

    version: str
    name: str
    stopped_by_us: bool = False

    @classmethod
    def find(cls, admin_url: str) -> Cluster:
        port = str(urlsplit(admin_url).port or 5432)
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            listed = subprocess.run(
                ["pg_lsclusters", "--no-header"], capture_output=True, text=True, timeout=30
            ).stdout
            for line in listed.splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[2] == port:
                    return cls(parts[0], parts[1])
        versions = sorted(p.name for p in Path("/etc/postgresql").iterdir() if p.is_dir())
        if not versions:
            raise SystemExit("No PostgreSQL cluster in /etc/postgresql.")
        return cls(versions[-1], "main")

    def ctl(self, action: str, *options: str) -> subprocess.CompletedProcess[str]:
        command = [
            "pg_ctlcluster", "--skip-systemctl-redirect", *options, self.version, self.name,
            action,
        ]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, timeout=180)

    def running(self) -> bool:
        return self.ctl("status").returncode == 0

    def ensure_running(self, admin_url: str) -> None:
        """Start the cluster when it is down, and wait until it answers."""
        if not self.running():
            say(f"Starting PostgreSQL {self.version}/{self.name} again…")
            done = self.ctl("start")
            if done.returncode not in (0, 2):  # 2: already running
                warn_loudly(
                    [
                        f"pg_ctlcluster {self.version} {self.name} start FAILED "
                        f"(exit {done.returncode}): {done.stderr.strip()[-500:]}",
                        f"Start it by hand: pg_ctlcluster {self.version} {self.name} start",
                    ]
                )
                return
        deadline = time.monotonic() + 120
        while not answers(admin_url) and time.monotonic() < deadline:
            time.sleep(0.5)
        if answers(admin_url):
            self.stopped_by_us = False
        else:
            warn_loudly(
                [
                    "PostgreSQL does not answer 120 s after its start.",
                    f"Check it: pg_lsclusters; pg_ctlcluster {self.version} {self.name} start",
                ]
            )


def other_connections(admin_url: str, ours: str) -> list[tuple[Any, ...]]:
    return rows(
        admin_url,
        "SELECT coalesce(datname, '-'), count(*) FROM pg_stat_activity"
        " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        " AND coalesce(datname, '') <> %s GROUP BY 1 ORDER BY 2 DESC",
        (ours,),
    )


def terminate(admin_url: str, database: str) -> int:
    found = rows(
        admin_url,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    )
    return int(found[0][0])


def create_database(admin_url: str, name: str) -> None:
    assert name.startswith("fault_")
    with connect(admin_url) as db:
        db.execute(f'CREATE DATABASE "{name}"'.encode())


def drop_database(admin_url: str, name: str) -> None:
    assert name.startswith("fault_")
    with connect(admin_url, timeout=10) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


# --- Feeds: one address of 127.0.0.0/8 per source, article pages served slowly ----------------


def serve_forever(directory: str, addresses: list[str], page_delay: float) -> None:
    """Entry point of `--serve DIR`: serve DIR on every address, on one port; article pages
    (…/articles/…) after `page_delay` seconds (a slow site: ingestion lasts, CPU stays idle)."""

    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # see bench/mediawatch.py

        def do_GET(self) -> None:
            if "/articles/" in self.path:
                time.sleep(page_delay)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Handler, directory=directory)
    first = ThreadingHTTPServer((addresses[0], 0), handler)
    port = first.server_address[1]
    servers = [first, *(ThreadingHTTPServer((a, port), handler) for a in addresses[1:])]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(port, flush=True)
    threading.Event().wait()


@contextlib.contextmanager
def feed_server(directory: Path, addresses: list[str], page_delay: float) -> Iterator[int]:
    command = [
        sys.executable, __file__, "--serve", str(directory), "--addresses", ",".join(addresses),
        "--page-delay", str(page_delay),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.isdigit():
            raise SystemExit("The feed server did not start.")
        yield int(line)
    finally:
        stop_group(process, grace=5)


@dataclass(frozen=True)
class Feed:
    name: str
    url: str
    guids: frozenset[str]
    pages: bool  # summary-only: each item's page is fetched


def write_feeds(site: Path, port: int, args: argparse.Namespace) -> list[Feed]:
    """bench/mediawatch.py's generated outlets (150–400 words an item, a tenth near copies of
    another outlet's story), outlet n on 127.0.0.(n+2); the first --page-sources of them
    summary-only, their article pages written beside the feed."""
    model = mw.TextModel(mw.CORPUS, args.seed)
    rng = random.Random(args.seed)
    now = datetime.now(tz=UTC).replace(microsecond=0)
    full_count = args.sources - args.page_sources
    paged = mw.generate_outlets("lente", args.page_sources, args.page_items, 0.1, model, rng, now)
    full = mw.generate_outlets("rapide", full_count, args.items, 0.1, model, rng, now)
    feeds = []
    outlets = [(o, False) for o in paged] + [(o, True) for o in full]
    for (outlet, full_text), address in zip(outlets, addresses(args.sources), strict=True):
        base = f"http://{address}:{port}"
        mw.write_site(site, [outlet], base, full_text, rng)
        data = (site / outlet.slug / "feed.xml").read_bytes().decode()
        guids = frozenset(html.unescape(g) for g in re.findall(r"<guid[^>]*>([^<]+)</guid>", data))
        feeds.append(Feed(outlet.name, f"{base}/{outlet.slug}/feed.xml", guids, not full_text))
    return feeds


def addresses(count: int) -> list[str]:
    return [f"127.0.0.{n}" for n in range(2, 2 + count)]


# --- The product --------------------------------------------------------------------------------


def stop_group(process: subprocess.Popen[Any], grace: float = 15.0) -> int | None:
    """SIGTERM to the process (its own session), SIGKILL to its group after `grace` s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            return None
    return process.returncode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def product_env(var_dir: Path, database_url: str, sources: int) -> dict[str, str]:
    dropped = {"DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "intersection.settings",
            "DATABASE_URL": database_url,
            "VAR_DIR": str(var_dir),
            "MEDIA_ROOT": str(var_dir / "media"),
            # Not PRODUCTION=1: its cookies are Secure, and the clients speak plain HTTP.
            "PRODUCTION": "0",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": HOST,
            "PGAPPNAME": PRODUCT_APP,
            "MEDIAWATCH_ALLOWED_ADDRESSES": ",".join(addresses(sources)),
            "MEDIAWATCH_HOST_SPACING_SECONDS": "0",
            "TASK_WORKER_HEARTBEAT_SECONDS": "2",
            "TASK_WORKER_LOST_SECONDS": "10",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


SETUP = """
from datetime import date
from django.contrib.auth.hashers import make_password
from intersection.accounts.models import User
from intersection.mediawatch.models import Source, SourceKind
from intersection.network.demo import load_demo
from intersection.network.models import Membership, Organisation, Person

load_demo()
zone = Organisation.objects.get(slug="zone-bruxelles-nord")  # its agreement opens the watch
hashed = make_password(PASSWORD)
users = User.objects.bulk_create(User(email=e, password=hashed) for e in EMAILS)
people = Person.objects.bulk_create(
    Person(first_name="Panne", last_name=f"{n:02d}", email=u.email, user=u)
    for n, u in enumerate(users)
)
Membership.objects.bulk_create(
    Membership(person=p, organisation=zone, starts_on=date(2020, 1, 1)) for p in people
)
Source.objects.bulk_create(Source(name=n, kind=SourceKind.FEED, url=u) for n, u in FEEDS)
print(User.objects.count(), Source.objects.count())
"""


def set_up(env: dict[str, str], emails: list[str], feeds: list[Feed]) -> None:
    code = (
        f"PASSWORD = {PASSWORD!r}\nEMAILS = {emails!r}\n"
        f"FEEDS = {[(f.name, f.url) for f in feeds]!r}\n{SETUP}"
    )
    manage(env, "shell", "-v", "0", "-c", code)


def enqueue_polling(env: dict[str, str]) -> str:
    """What the scheduler does every minute, at once."""
    code = (
        "from intersection.mediawatch.tasks import poll_due_sources\n"
        "print(poll_due_sources.enqueue().id)\n"
    )
    return manage(env, "shell", "-v", "0", "-c", code).strip()


def process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line), from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        table[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), command)
    return table


def role(command: str) -> str:
    if "granian" in command:
        return "web (granian)"
    for name in ("scheduler", "worker"):
        if f"manage.py {name}" in command:
            return name
    return command[:60]


def product_processes(runall_pid: int) -> dict[int, str]:
    """runall's children, and granian's own worker processes: pid -> role. (A task worker's
    extraction process comes and goes by design and is not listed.)"""
    table = process_table()
    found: dict[int, str] = {}
    for pid, (parent, command) in table.items():
        if parent == runall_pid:
            found[pid] = role(command)
    for pid, (parent, _) in table.items():
        if found.get(parent) == "web (granian)":
            found[pid] = "web worker (granian)"
    return found


def wait_until_up(base: str, url: str, runall: subprocess.Popen[Any], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    web_up = False
    while time.monotonic() < deadline and runall.poll() is None:
        if not web_up:
            with contextlib.suppress(httpx.HTTPError):
                web_up = httpx.get(f"{base}/accounts/login/", timeout=5).status_code == 200
        if web_up:
            with contextlib.suppress(Exception):
                if rows(url, "SELECT count(*) FROM core_taskworker")[0][0] >= 2:
                    return
        time.sleep(0.5)
    raise SystemExit(f"The product did not start.\n{log.read_text(errors='replace')[-3000:]}")


# --- Clients ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    path: str
    started: float  # time.monotonic()
    seconds: float
    outcome: str  # "200", "503 down", "302 to login", "ConnectError", …
    ok: bool  # the page answered as it should (/health/: the database answered)
    server_error: bool = False  # a 5xx other than 503


class Client(threading.Thread):
    """One person: signs in once, then in turn reads the login page (signed out), the media
    watch (signed in; signs in again when sent to the login page) and /health/, waiting
    think × U(0.5, 1.5) seconds between requests."""

    def __init__(
        self, base: str, email: str, think: float, stop: threading.Event, seed: int,
        hits: list[Hit], no_health: threading.Event,
    ) -> None:  # fmt: skip
        super().__init__(daemon=True, name=f"client-{seed}")
        self.base, self.email, self.think, self.stop = base, email, think, stop
        self.rng = random.Random(seed)
        self.hits, self.no_health = hits, no_health
        self.signed_in = False

    def request(self, http: Any, label: str, method: str, path: str, **kw: Any) -> tuple[Any, Hit]:
        """The response when the page answered as it should (else None), and the record."""
        started = time.monotonic()
        response = None
        try:
            response = http.request(method, path, **kw)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, by its kind
            outcome, ok, server_error = type(exc).__name__, False, False
        else:
            outcome, ok, server_error = self.judge(label, response)
        hit = Hit(label, started, time.monotonic() - started, outcome, ok, server_error)
        self.hits.append(hit)
        return (response if ok else None), hit

    def judge(self, label: str, response: Any) -> tuple[str, bool, bool]:
        code = response.status_code
        outcome, ok, server_error = str(code), code == 200, code >= 500 and code != 503
        to_login = "/accounts/login/" in response.headers.get("location", "")
        if label == SIGN_IN:
            ok = code == 302 and not to_login
            outcome = "302 signed in" if ok else outcome
        elif label == MEDIA and code == 302:
            outcome = "302 to login" if to_login else "302"
        elif label == HEALTH:
            if code == 404:
                self.no_health.set()
                return "404 (no health endpoint)", False, False
            state: dict[str, Any] = {}
            with contextlib.suppress(ValueError):
                state = response.json()
            outcome = f"{code} {state.get('status', '?')}"
            ok = state.get("database") == "ok"
        return outcome, ok, server_error

    def sign_in(self, http: Any) -> None:
        http.cookies.clear()
        page, _ = self.request(http, LOGIN, "GET", "/accounts/login/")
        found = TOKEN.search(page.text) if page is not None else None
        if found is None:
            return
        form = {"username": self.email, "password": PASSWORD, "csrfmiddlewaretoken": found[1]}
        answer, _ = self.request(http, SIGN_IN, "POST", "/accounts/login/", data=form)
        self.signed_in = answer is not None

    def run(self) -> None:
        import httpx

        options: dict[str, Any] = {
            "base_url": self.base, "timeout": REQUEST_TIMEOUT_S, "follow_redirects": False,
            "headers": {"Accept-Language": "fr", "User-Agent": "intersection-fault-script"},
        }  # fmt: skip
        with httpx.Client(**options) as anonymous, httpx.Client(**options) as member:
            turn = self.rng.randrange(3)
            while not self.stop.wait(self.think * self.rng.uniform(0.5, 1.5)):
                turn = (turn + 1) % 3
                if turn == 0:
                    self.request(anonymous, LOGIN, "GET", "/accounts/login/")
                elif turn == 1:
                    if not self.signed_in:
                        self.sign_in(member)
                        continue
                    _, hit = self.request(member, MEDIA, "GET", "/media-watch/")
                    if hit.outcome == "302 to login":
                        self.signed_in = False
                elif not self.no_health.is_set():
                    self.request(anonymous, HEALTH, "GET", "/health/")


# --- What happened ----------------------------------------------------------------------------


@dataclass
class Timeline:
    clients_started: float = 0.0
    ingestion_started: float = 0.0
    fault: float = 0.0  # the first cut, or the stop command
    down: float = 0.0  # PostgreSQL refuses connections (restart mode)
    back: float = 0.0  # PostgreSQL answers again / the last cut
    ended: float = 0.0


@dataclass
class Stored:
    served: int
    versions: int
    distinct: int
    articles: int
    orphans: int
    missing: list[str] = field(default_factory=list)  # "source: guid"
    doubled: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.served - self.distinct


def stored(url: str, feeds: list[Feed]) -> Stored:
    versions, distinct = rows(
        url, "SELECT count(*), count(DISTINCT (source_id, guid)) FROM mediawatch_articleversion"
    )[0]
    articles = rows(url, "SELECT count(*) FROM mediawatch_article")[0][0]
    orphans = rows(
        url,
        "SELECT count(*) FROM mediawatch_article a WHERE NOT EXISTS"
        " (SELECT 1 FROM mediawatch_articleversion v WHERE v.article_id = a.id)",
    )[0][0]
    found: dict[tuple[str, str], int] = {
        (source, guid): count
        for source, guid, count in rows(
            url,
            "SELECT s.url, v.guid, count(*) FROM mediawatch_articleversion v"
            " JOIN mediawatch_source s ON s.id = v.source_id GROUP BY 1, 2",
        )
    }
    result = Stored(
        sum(len(f.guids) for f in feeds), int(versions), int(distinct), int(articles),
        int(orphans),
    )  # fmt: skip
    for feed in feeds:
        for guid in sorted(feed.guids):
            count = found.get((feed.url, guid), 0)
            if count == 0:
                result.missing.append(f"{feed.name}: {guid}")
            elif count > 1:
                result.doubled.append(f"{feed.name}: {guid} ×{count}")
    return result


def progress(url: str) -> tuple[int, int] | None:
    """(versions stored, polling tasks ready or running), None while the database is away."""
    try:
        found = rows(
            url,
            "SELECT (SELECT count(*) FROM mediawatch_articleversion),"
            " (SELECT count(*) FROM django_tasks_database_dbtaskresult"
            "  WHERE status IN ('READY', 'RUNNING') AND task_path LIKE %s)",
            ("intersection.mediawatch.%",),
        )
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        return None
    return int(found[0][0]), int(found[0][1])


def tally(hits: list[Hit]) -> str:
    counts = Counter(h.outcome for h in hits)
    return ", ".join(f"{outcome} ×{n}" for outcome, n in sorted(counts.items())) or "-"


def print_clients(hits: list[Hit], t: Timeline, no_health: bool) -> list[str]:
    """The clients' view, by window; returns the problems seen."""
    problems = []
    windows = [
        ("before the fault", t.clients_started, t.fault),
        ("during the outage (from the fault until PostgreSQL answered again)", t.fault, t.back),
        ("after PostgreSQL was back, until the end", t.back, t.ended),
    ]
    for label, start, end in windows:
        chosen = [h for h in hits if start <= h.started < end]
        print(f"  {label}: {end - start:.1f} s")
        for path in PATHS:
            these = [h for h in chosen if h.path == path]
            if these:
                print(f"    {path:<22} {tally(these)}")
    failed = sorted((h for h in hits if not h.ok and h.started >= t.fault), key=_start)
    if failed:
        print(
            f"  failed requests after the fault: {len(failed)}, the first started "
            f"+{failed[0].started - t.fault:.1f} s after it, the last +"
            f"{failed[-1].started - t.fault:.1f} s (PostgreSQL answered again at "
            f"+{t.back - t.fault:.1f} s)"
        )
    print("  answering again after PostgreSQL was back (requests counted from their start):")
    for path in PATHS:
        after = sorted((h for h in hits if h.path == path and h.started >= t.back), key=_start)
        if not after:
            if not (path == HEALTH and no_health):
                print(f"    {path:<22} no request after")
            continue
        first_ok = next((h for h in after if h.ok), None)
        failures = [h for h in after if not h.ok]
        if first_ok is None:
            print(f"    {path:<22} NEVER answered again ({len(failures)} failures after)")
            problems.append(f"{path} never answered again after PostgreSQL was back")
            continue
        ready = first_ok.started + first_ok.seconds - t.back
        late = [h for h in failures if h.started > first_ok.started]
        print(
            f"    {path:<22} answered {ready:.1f} s after (first good answer started at "
            f"+{first_ok.started - t.back:.1f} s); {len(failures)} failed after the return"
            + (
                f", {len(late)} of them after the first good answer, the last at "
                f"+{late[-1].started - t.back:.1f} s"
                if late
                else ""
            )
        )
    errors = [h for h in hits if h.server_error]
    if errors:
        problems.append(f"{len(errors)} requests answered a 5xx other than 503: {tally(errors)}")
    if no_health:
        print("  /health/ answered 404: no health endpoint in this version.")
    return problems


def _start(hit: Hit) -> float:
    return hit.started


def print_logs(stderr: Path, hits: list[Hit]) -> tuple[list[str], list[str]]:
    """Log lines of runall and its processes by level and logger, the distinct ERROR lines,
    and the 5xx answers Django logged beside those the clients got; returns runall's own
    lines (its restarts) and notes."""
    counts: Counter[tuple[str, str]] = Counter()
    supervisor: list[str] = []
    errors: Counter[str] = Counter()
    logged: Counter[str] = Counter()  # path -> 5xx answers logged by django.request
    other = 0
    for line in stderr.read_text(errors="replace").splitlines():
        if line.startswith("runall:"):
            supervisor.append(line)
            continue
        found = LOG_LINE.match(line)
        if found:
            counts[found[1], found[2]] += 1
            if found[1] in {"ERROR", "CRITICAL"}:
                message = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", found[3])
                errors[f"{found[1]} {found[2]} {re.sub(r'[0-9]+', 'N', message)}"] += 1
            if found[2] == "django.request" and ": /" in found[3]:
                logged[found[3].rsplit(": ", 1)[1].split("?")[0]] += 1
        elif line.strip():
            other += 1
    print("  log lines by level and logger (runall's stderr, where its processes write):")
    for (level, logger), n in sorted(counts.items()):
        print(f"    {level:<8} {logger:<44} {n}")
    print(f"    (and {other} other lines: tracebacks of the lines above, granian's messages)")
    if errors:
        print("  distinct ERROR lines (numbers as N):")
        for message, n in errors.most_common(10):
            print(f"    ×{n:<4} {message[:200]}")
    notes = []
    for path, n in sorted(logged.items()):
        got = sum(1 for h in hits if h.outcome[:1] == "5" and path_of(h.path) == path)
        print(f"  django.request logged {n} 5xx answers for {path}; the clients got {got}")
        if n > got:
            notes.append(
                f"{path}: {n} 5xx answers logged (ERROR, with a traceback) for {got} received: "
                "some failed requests are logged more than once"
            )
    if supervisor:
        print("  runall's own lines (its processes' restarts):")
        for line in supervisor:
            print(f"    {line}")
    else:
        print("  runall logged no restart.")
    return supervisor, notes


def path_of(label: str) -> str:
    return label.split(" ", 1)[1]


def print_database(url: str) -> list[str]:
    """Tasks, recoveries and fetch runs; returns notes (what is odd, not lost)."""
    notes = []
    print("  tasks by job and status:")
    for path, status, n in rows(
        url,
        "SELECT task_path, status, count(*) FROM django_tasks_database_dbtaskresult"
        " GROUP BY 1, 2 ORDER BY 1, 2",
    ):
        print(f"    {path.rsplit('.', 1)[-1]:<32} {status:<11} {n}")
    for failure, n in rows(
        url,
        "SELECT exception_class_path, count(*) FROM django_tasks_database_dbtaskresult"
        " WHERE status = 'FAILED' GROUP BY 1 ORDER BY 2 DESC",
    ):
        print(f"    failed with {failure or '?'}: {n}")
    recovered = rows(
        url,
        "SELECT reason, count(*), count(*) FILTER (WHERE requeued_id <> '')"
        " FROM core_taskrecovery GROUP BY 1 ORDER BY 1",
    )
    print("  recovered tasks (core_taskrecovery): " + (
        "; ".join(f"{reason} ×{n} ({q} enqueued again)" for reason, n, q in recovered)
        or "none"
    ))  # fmt: skip
    runs = rows(
        url,
        "SELECT status, error_kind, count(*), count(*) FILTER (WHERE finished_at IS NULL)"
        " FROM mediawatch_fetchrun GROUP BY 1, 2 ORDER BY 1, 2",
    )
    print("  fetch runs: " + "; ".join(
        f"{status or '(none)'}{'/' + kind if kind else ''} ×{n}" for status, kind, n, _ in runs
    ))  # fmt: skip
    unfinished = rows(
        url,
        "SELECT s.name, r.status, r.started_at FROM mediawatch_fetchrun r"
        " JOIN mediawatch_source s ON s.id = r.source_id WHERE r.finished_at IS NULL"
        " ORDER BY r.started_at",
    )
    print(f"  fetch runs never finished: {len(unfinished)}")
    for name, status, started in unfinished[:10]:
        print(f"    {name} (status {status or '-'}, started {started:%H:%M:%S})")
    if unfinished:
        notes.append(
            f"{len(unfinished)} fetch runs never finished: cut short by the database, left "
            "with status 'error', no error kind and no end (their sources were polled again)"
        )
    failing = rows(
        url,
        "SELECT name, consecutive_failures, last_error_kind, active FROM mediawatch_source"
        " WHERE consecutive_failures > 0 OR NOT active ORDER BY name",
    )
    if failing:
        print("  sources with failures recorded (the outage counted against them):")
        for name, failures, kind, active in failing[:10]:
            print(f"    {name}: {failures} failures, last {kind or '-'}, active {active}")
    pending = rows(
        url,
        "SELECT count(*) FROM django_tasks_database_dbtaskresult"
        " WHERE status IN ('READY', 'RUNNING')",
    )[0][0]
    if pending:
        print(f"  tasks still ready or running at the end: {pending}")
    return notes


# --- Main ---------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--fault",
        choices=["terminate", "restart"],
        default=None,
        help="default: terminate; restart with --yes-restart-postgres",
    )
    parser.add_argument(
        "--yes-restart-postgres",
        action="store_true",
        help="allow stopping the PostgreSQL server (cuts EVERYONE's connections)",
    )
    parser.add_argument(
        "--down-seconds",
        type=float,
        default=4.0,
        help="restart: seconds PostgreSQL stays stopped (0: pg_ctlcluster restart)",
    )
    parser.add_argument(
        "--stop-mode",
        choices=["fast", "immediate"],
        default="fast",
        help="restart: pg_ctlcluster's shutdown mode",
    )
    parser.add_argument("--cuts", type=int, default=3, help="terminate: how many times")
    parser.add_argument("--cut-interval", type=float, default=1.5, help="terminate: seconds")
    parser.add_argument("--sources", type=int, default=20, help="sources (one host each)")
    parser.add_argument(
        "--page-sources",
        type=int,
        default=8,
        help="of which summary-only: each item's page is fetched",
    )
    parser.add_argument("--items", type=int, default=60, help="items a full-text feed")
    parser.add_argument("--page-items", type=int, default=40, help="items a summary-only feed")
    parser.add_argument(
        "--page-delay",
        type=float,
        default=0.2,
        help="seconds the feed server takes for an article page",
    )
    parser.add_argument("--clients", type=int, default=10, help="browsing threads")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between requests")
    parser.add_argument(
        "--fault-at", type=float, default=0.2, help="cut when this share of the items is stored"
    )
    parser.add_argument(
        "--after-seconds",
        type=float,
        default=15.0,
        help="clients go on at least this long after PostgreSQL is back",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=180.0,
        help="seconds after the fault for ingestion to finish",
    )
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("FAULT_ADMIN_URL", DEFAULT_ADMIN_URL),
        help="a PostgreSQL URL to the maintenance database (trust auth)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--addresses", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return args
    if args.fault is None:
        args.fault = "restart" if args.yes_restart_postgres else "terminate"
    if args.fault == "restart" and not args.yes_restart_postgres:
        parser.error(
            "--fault restart stops the PostgreSQL SERVER and cuts every connection of every "
            "user (other people's test suites): add --yes-restart-postgres on a quiet machine"
        )
    if args.fault == "restart" and os.geteuid() != 0:
        parser.error("--fault restart runs pg_ctlcluster: run it as root")
    if not (1 <= args.sources <= 200 and 0 <= args.page_sources <= args.sources):
        parser.error("--sources must be in [1, 200] and --page-sources in [0, --sources]")
    if not (1 <= args.clients <= 100 and 1 <= args.cuts <= 20 and 0 <= args.down_seconds <= 120):
        parser.error("--clients in [1, 100], --cuts in [1, 20], --down-seconds in [0, 120]")
    return args


def stop_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through the `finally` that starts PostgreSQL again


def inject(args: argparse.Namespace, admin_url: str, name: str, cluster: Cluster,
           t: Timeline) -> str:  # fmt: skip
    """The fault itself; returns what was done, for the report."""
    if args.fault == "terminate":
        cut = []
        t.fault = time.monotonic()
        for n in range(args.cuts):
            if n:
                time.sleep(args.cut_interval)
            cut.append(terminate(admin_url, name))
        t.back = time.monotonic()
        return (
            f"pg_terminate_backend on every connection to {name}, {args.cuts} times "
            f"{args.cut_interval:g} s apart: {', '.join(map(str, cut))} connections cut"
        )
    others = other_connections(admin_url, name)
    warn_loudly(
        [
            f"STOPPING THE POSTGRESQL SERVER {cluster.version}/{cluster.name} in 5 s "
            f"for {args.down_seconds:g} s: every connection of every user is cut.",
            "Other databases connected now: "
            + (", ".join(f"{d} ({n})" for d, n in others) or "none"),
            "Ctrl-C now to abort (nothing stopped yet).",
        ]
    )
    time.sleep(5)
    t.fault = time.monotonic()
    cluster.stopped_by_us = True  # from here on, the `finally` starts it again if need be
    if args.down_seconds <= 0:
        done = cluster.ctl("restart", "--mode", args.stop_mode)
        action = f"pg_ctlcluster {cluster.version} {cluster.name} restart --mode {args.stop_mode}"
    else:
        done = cluster.ctl("stop", "--mode", args.stop_mode)
        t.down = time.monotonic()
        if done.returncode != 0:
            say(f"pg_ctlcluster stop: exit {done.returncode}: {done.stderr.strip()[-300:]}")
        time.sleep(args.down_seconds)
        done = cluster.ctl("start")
        action = (
            f"pg_ctlcluster {cluster.version} {cluster.name} stop --mode {args.stop_mode} "
            f"(took {t.down - t.fault:.1f} s), {args.down_seconds:g} s stopped, then start"
        )
    if done.returncode != 0:
        say(f"pg_ctlcluster: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    cluster.ensure_running(admin_url)
    t.back = time.monotonic()
    return action + f"; answering again {t.back - t.fault:.1f} s after the stop command"


def main() -> int:  # noqa: C901 - one story, told in order
    args = parse_args()
    if args.serve:
        serve_forever(args.serve, args.addresses.split(","), args.page_delay)
        return 0
    for sig in STOPPING_SIGNALS[1:]:  # SIGINT raises KeyboardInterrupt already
        signal.signal(sig, stop_on_signal)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    admin_url = args.admin_url
    name = f"fault_{os.getpid()}"
    url = with_database(admin_url, name)
    cluster = Cluster.find(admin_url)
    if args.fault == "restart":
        warn_loudly(
            [
                f"--fault restart: this run will STOP the PostgreSQL server "
                f"{cluster.version}/{cluster.name} for {args.down_seconds:g} s.",
                "Every connection of every user of that server is cut (test suites fail).",
                "It is started again at the end whatever happens, unless this script is killed"
                " with SIGKILL.",
            ]
        )
    var_dir = Path(tempfile.mkdtemp(prefix="intersection-fault-"))
    site = var_dir / "site"
    site.mkdir()
    stdout_log, stderr_log = var_dir / "runall.out", var_dir / "runall.err"
    t = Timeline()
    hits: list[Hit] = []
    stop_clients, no_health = threading.Event(), threading.Event()
    clients: list[Client] = []
    runall: subprocess.Popen[Any] | None = None
    created = False
    code = 2
    try:
        with feed_server(site, addresses(args.sources), args.page_delay) as port:
            say(f"Writing {args.sources} feeds ({args.page_sources} summary-only)…")
            feeds = write_feeds(site, port, args)
            served = sum(len(f.guids) for f in feeds)
            say(f"Creating and migrating {name}…")
            create_database(admin_url, name)
            created = True
            env = product_env(var_dir, url, args.sources)
            manage(env, "migrate", "--no-input", "-v", "0")
            emails = [f"panne{n:02d}@fault.intersection.test" for n in range(args.clients)]
            say("Demo network, users and sources…")
            set_up(env, emails, feeds)

            web_port = free_port()
            base = f"http://{HOST}:{web_port}"
            say(f"Starting manage.py runall on {base}…")
            with stdout_log.open("wb") as out, stderr_log.open("wb") as err:
                runall = subprocess.Popen(
                    [sys.executable, "manage.py", "runall", "--port", str(web_port),
                     "--task-workers", "2", "--stop-grace", "10"],
                    cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True,
                )  # fmt: skip
            wait_until_up(base, url, runall, stderr_log)
            time.sleep(1)  # granian's workers all started
            at_start = product_processes(runall.pid)

            t.clients_started = time.monotonic()
            for n, email in enumerate(emails):
                client = Client(base, email, args.think, stop_clients, args.seed + n, hits,
                                no_health)  # fmt: skip
                client.start()
                clients.append(client)
            enqueue_polling(env)
            t.ingestion_started = time.monotonic()
            say(f"Ingestion of {served} items started; {args.clients} clients browsing.")

            threshold = int(served * args.fault_at)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                found = progress(url)
                if found and found[0] >= threshold:
                    break
                time.sleep(0.5)
            found = progress(url) or (0, 0)
            say(
                f"+{time.monotonic() - t.ingestion_started:.0f} s: {found[0]}/{served} items "
                f"stored, {found[1]} polling tasks pending: fault ({args.fault})…"
            )
            action = inject(args, admin_url, name, cluster, t)
            say(f"  {action}")

            deadline = t.back + args.deadline
            last_report = 0.0
            finished = False
            while time.monotonic() < deadline:
                found = progress(url)
                now = time.monotonic()
                if found and found[0] >= served and found[1] == 0:
                    finished = True
                if finished and now >= t.back + args.after_seconds:
                    break
                if now - last_report >= 5:
                    last_report = now
                    state = f"{found[0]}/{served} items, {found[1]} tasks pending" if found else (
                        "the database does not answer"
                    )  # fmt: skip
                    say(f"  +{now - t.fault:.0f} s after the fault: {state}")
                time.sleep(1)
            t.ended = time.monotonic()
            stop_clients.set()
            for client in clients:
                client.join(timeout=REQUEST_TIMEOUT_S + 5)

            runall_alive = runall.poll() is None
            at_end = product_processes(runall.pid) if runall_alive else {}
            result = stored(url, feeds)
            ingestion_seconds = t.ended - t.ingestion_started

            stop_started = time.monotonic()
            exit_code = stop_group(runall, grace=60)
            stop_seconds = time.monotonic() - stop_started

            say("\n== Machine")
            rows_ = [(k, v) for k, v in web_bench.machine_description(url, load) if k != "Database"]
            version = rows(admin_url, "SHOW server_version")[0][0]
            rows_.append(("Database", f"PostgreSQL {version} (cluster {cluster.version}/"
                                      f"{cluster.name}, 127.0.0.1)"))  # fmt: skip
            for key, value in rows_:
                say(f"  {key:<11} {value}")

            say("\n== Setup")
            say(
                f"  Product     manage.py runall --task-workers 2 (granian 2 × 4 threads, the "
                f"scheduler, 2 workers) on {name}; heartbeat 2 s, worker lost after 10 s"
            )
            say(
                f"  Ingestion   {args.sources} sources on 127.0.0.2–{addresses(args.sources)[-1]}"
                f": {args.sources - args.page_sources} full-text × {args.items} items, "
                f"{args.page_sources} summary-only × {args.page_items} items whose pages take "
                f"{args.page_delay:g} s each; {served} items in all; poll_due_sources enqueued"
            )
            say(
                f"  Clients     {args.clients} threads: login page (signed out), /media-watch/ "
                f"(signed in), /health/ in turn, {args.think:g} s × U(0.5, 1.5) apart"
            )
            say(f"  Fault       {action}")
            say(
                f"              at +{t.fault - t.ingestion_started:.1f} s of ingestion "
                f"({threshold} items stored or more)"
            )

            problems: list[str] = []
            say("\n== What the clients got")
            problems += print_clients(hits, t, no_health.is_set())

            say("\n== The product's processes")
            say(
                f"  runall: {'alive' if runall_alive else 'DEAD'} at the end; stopped on "
                f"SIGTERM in {stop_seconds:.1f} s, "
                + (f"exit code {exit_code}" if exit_code is not None else "KILLED (no exit)")
            )
            if not runall_alive:
                problems.append(f"runall died (exit code {runall.returncode})")
            for pid, what in sorted(at_start.items(), key=lambda item: item[1]):
                state = "same process at the end" if at_end.get(pid) == what else "GONE"
                say(f"    {what:<22} pid {pid:<8} {state}")
            replaced = {pid: what for pid, what in at_end.items() if pid not in at_start}
            for pid, what in sorted(replaced.items(), key=lambda item: item[1]):
                say(f"    {what:<22} pid {pid:<8} NEW (started after a death)")
            gone = [what for pid, what in at_start.items() if at_end.get(pid) != what]
            if runall_alive and gone:
                problems.append(f"processes died and were replaced: {', '.join(sorted(gone))}")
            supervisor, notes = print_logs(stderr_log, hits)
            if supervisor and not gone:
                problems.append(f"runall logged {len(supervisor)} restarts")

            say("\n== Tasks, recoveries, fetch runs")
            notes += print_database(url)

            say("\n== Lost or stored twice")
            say(
                f"  served items {result.served}; stored versions {result.versions}, distinct "
                f"(source, guid) {result.distinct}; articles {result.articles}, without a "
                f"version {result.orphans}"
            )
            say(f"  ingestion: {ingestion_seconds:.0f} s from the enqueue to the end of the run")
            say(f"  lost: {len(result.missing)}; stored twice: {len(result.doubled)}")
            for line in (result.missing + result.doubled)[:10]:
                say(f"    {line}")
            if result.missing:
                problems.append(f"{len(result.missing)} served items never stored")
            if result.doubled or result.versions != result.distinct:
                problems.append(
                    f"{result.versions - result.distinct} versions stored twice "
                    f"({len(result.doubled)} items)"
                )
            if result.orphans:
                problems.append(f"{result.orphans} articles without a version")

            say("\n== Verdict")
            for problem in problems:
                say(f"  PROBLEM: {problem}")
            if not problems:
                say("  nothing lost or stored twice; every page answered again; no restart")
            for note in notes:
                say(f"  note: {note}")
            say(f"  (logs: {stdout_log.name}, {stderr_log.name} in {var_dir}"
                f"{'' if args.keep else ', removed now; --keep keeps them'})")  # fmt: skip
            code = 1 if problems else 0
    except KeyboardInterrupt:
        say("Interrupted.")
        code = 130
    except SystemExit as stop:  # a step of the run failed: said, and exit code 2
        print(f"The run failed: {stop}", file=sys.stderr)
        code = 2
    except Exception:  # noqa: BLE001 - any failure of the script itself: exit code 2
        traceback.print_exc()
        code = 2
    finally:
        # Nothing interrupts this part: PostgreSQL must be started again if we stopped it.
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOPPING_SIGNALS}
        try:
            stop_clients.set()
            if cluster.stopped_by_us or args.fault == "restart":
                cluster.ensure_running(admin_url)
            if runall is not None:
                stop_group(runall, grace=60)
            if created and not args.keep:
                try:
                    drop_database(admin_url, name)
                except Exception as exc:  # noqa: BLE001 - said, not raised: cleaning goes on
                    say(f"Could not drop {name}: {exc}; drop it by hand.")
            if args.keep:
                say(f"Kept the database {name} and {var_dir}")
            else:
                shutil.rmtree(var_dir, ignore_errors=True)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return code


if __name__ == "__main__":
    sys.exit(main())
