"""Contention benchmark: sign-ins, pages and writes stay fast beside ingestion.

Runs the product the way `manage.py runall` does (granian, WSGI, 2 workers × 4 blocking
threads; 2 `manage.py worker` processes) on a fresh database, and drives it with 40 clients
that sign in through the login form, read (the archive, article pages, searches, the
directory) and write (saving a search), each waiting about a second between requests.
Ingestion is started as the scheduler starts it: `mediawatch.tasks.poll_due_sources` is
enqueued, it hands one task per host to the workers, and they poll generated full-text feeds
(50 outlets × 300 items, one address of 127.0.0.0/8 per outlet) served by a separate
process. Three phases in one run, on each engine:

  a. the web load alone;  b. ingestion alone;  c. both at once.

    .venv/bin/python bench/contention.py                       # SQLite, then PostgreSQL
    .venv/bin/python bench/contention.py --engine sqlite --seconds 20
    .venv/bin/python bench/contention.py --postgres-url postgres://postgres@127.0.0.1:5432/x
    .venv/bin/python bench/contention.py --hashers-only        # the cost of a password hash

The PostgreSQL database is created by the benchmark (it must not exist) and dropped at the
end. Targets: sign-in p95 with ingestion ≤ 1.3 × without; every write's p99 ≤ 1 s; read p95
≤ 300 ms; ingestion with the web load ≥ 80 % of ingestion alone. It also measures each
password hasher's cost (median of several hashes in this process: CPU and wall time).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import mediawatch as mw  # bench/mediawatch.py: generated outlets and the archive loader
import web  # bench/web.py: CPU accounting, machine description

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/intersection_bench_contention"
PASSWORD = "contention-bench-password-7"
REQUEST_TIMEOUT_S = 30.0

TARGET_SIGN_IN_RATIO = 1.3
TARGET_WRITE_P99_MS = 1000.0
TARGET_READ_P95_MS = 300.0
TARGET_INGESTION_SHARE = 0.8

# What a client does after signing in: (kind, weight). Reads and one write.
ACTIONS = [
    ("archive", 35),  # /media-watch/, pages 1 to 3
    ("article", 25),  # an article page
    ("search", 20),  # /media-watch/?q=… (one of bench/mediawatch.py's 50 queries)
    ("directory", 10),  # /organisations/
    ("save search", 10),  # POST /media-watch/saved/
]
WRITES = {"sign-in", "save search"}


# --- Password hashers -------------------------------------------------------------------------


@dataclass
class HasherCost:
    label: str
    parameters: str
    rounds: int
    cpu_ms: float  # median CPU time of one hash (every thread of this process)
    wall_ms: float  # median wall time
    memory_mib: float  # memory a hash allocates (from its parameters), 0 when negligible

    @property
    def per_core(self) -> float:
        return 1000 / self.cpu_ms if self.cpu_ms else float("nan")


def hasher_costs(rounds: int) -> list[HasherCost]:
    """Django's hashers as a sign-in runs them (`encode` = what `check_password` computes),
    the median of `rounds` hashes each, one after the other on an idle process."""
    from django.contrib.auth import hashers

    class OwaspArgon2(hashers.Argon2PasswordHasher):
        time_cost, memory_cost, parallelism = 2, 19 * 1024, 1

    class Pbkdf2Owasp(hashers.PBKDF2PasswordHasher):
        iterations = 600_000

    django_argon2 = hashers.Argon2PasswordHasher
    candidates: list[tuple[str, str, Any, float]] = [
        ("PBKDF2-SHA256 (Django)", f"{hashers.PBKDF2PasswordHasher.iterations:,} iterations",
         hashers.PBKDF2PasswordHasher(), 0.0),
        ("PBKDF2-SHA256 (OWASP)", "600,000 iterations", Pbkdf2Owasp(), 0.0),
        ("scrypt (Django)", "N=2^14, r=8, p=1", hashers.ScryptPasswordHasher(), 16.0),
        ("Argon2id (Django)",
         f"t={django_argon2.time_cost}, m={django_argon2.memory_cost // 1024} MiB, "
         f"p={django_argon2.parallelism}", django_argon2(), django_argon2.memory_cost / 1024),
        ("Argon2id (OWASP minimum)", "t=2, m=19 MiB, p=1", OwaspArgon2(), 19.0),
    ]  # fmt: skip
    costs = []
    for label, parameters, hasher, memory in candidates:
        hasher.encode(PASSWORD, hasher.salt())  # loads the library
        cpu, wall = [], []
        for _ in range(rounds):
            salt = hasher.salt()
            started, started_cpu = time.perf_counter(), time.process_time()
            hasher.encode(PASSWORD, salt)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        costs.append(
            HasherCost(
                label, parameters, rounds, statistics.median(cpu), statistics.median(wall), memory
            )
        )
    return costs


def print_hasher_costs(costs: list[HasherCost], load: str) -> None:
    print(f"\n== Password hashing: one hash in this process, median of {costs[0].rounds}")
    print(
        f"  {'hasher':<26} {'parameters':<26} {'CPU ms':>7} {'wall ms':>8} "
        f"{'sign-ins/s/core':>15} {'MiB/hash':>8}"
    )
    for c in costs:
        print(
            f"  {c.label:<26} {c.parameters:<26} {c.cpu_ms:>7.1f} {c.wall_ms:>8.1f} "
            f"{c.per_core:>15.1f} {c.memory_mib:>8.0f}"
        )
    print(
        "  (CPU: every thread of the process, so Argon2 with p lanes counts all of them; "
        f"sign-ins/s/core = 1000 / CPU ms; load average before: {load})"
    )


# --- Feeds: one address of 127.0.0.0/8 per outlet, so that each is a host of its own ------


def serve_forever(directory: str, addresses: list[str]) -> None:
    """Entry point of `--serve DIR`: serve DIR on every address, on one port (keep-alive)."""

    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # see bench/mediawatch.py

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
def feed_server(directory: Path, addresses: list[str]) -> Any:
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(directory), "--addresses", ",".join(addresses)],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.isdigit():
            raise SystemExit("The feed server did not start.")
        yield int(line)
    finally:
        stop_group(process)


def addresses_for(sources: int) -> list[str]:
    return [f"127.0.0.{n}" for n in range(2, 2 + sources)]


@dataclass(frozen=True)
class Feed:
    name: str
    url: str
    items: int


def write_feeds(
    site: Path, prefix: str, count: int, items: int, port: int, model: mw.TextModel, seed: int
) -> list[Feed]:
    """Full-text feeds (bench/mediawatch.py's generated outlets: 150–400 words an item, a
    fifth near copies), outlet n at http://127.0.0.(n+2):port/."""
    rng = random.Random(seed)
    outlets = mw.generate_outlets(prefix, count, items, 0.2, model, rng, datetime.now(tz=UTC))
    feeds = []
    for outlet, address in zip(outlets, addresses_for(count), strict=True):
        base = f"http://{address}:{port}"
        (site / outlet.slug).mkdir(parents=True, exist_ok=True)
        (site / outlet.slug / "feed.xml").write_bytes(mw.rss(outlet, base, True))
        feeds.append(Feed(outlet.name, f"{base}/{outlet.slug}/feed.xml", len(outlet.stories)))
    return feeds


# --- Processes --------------------------------------------------------------------------------


def stop_group(process: subprocess.Popen[Any], grace: float = 15.0) -> None:
    """SIGTERM to the process group (its own session), SIGKILL after `grace` seconds."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def lower_priority(nice: int) -> None:
    """Experiment (--worker-nice): run at this niceness. A process that starts a session has
    an autogroup of its own (Linux, sched_autogroup_enabled), which the scheduler shares out
    by the group's niceness, not the process's: both are set."""
    if nice:
        os.nice(nice)
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(str(nice))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def product_commands(port: int, args: argparse.Namespace) -> dict[str, list[str]]:
    """What `manage.py runall` starts (core/management/commands/runall.py), minus the
    scheduler: the benchmark enqueues the polling task itself, when a phase begins."""
    python, manage = sys.executable, str(ROOT / "manage.py")
    commands = {
        "web": [
            python, "-m", "granian", "--interface", "wsgi", "--host", HOST, "--port", str(port),
            "--workers", str(args.web_workers), "--blocking-threads", str(args.blocking_threads),
            "--log-level", "warning", "intersection.wsgi:application",
        ]
    }  # fmt: skip
    for n in range(1, args.task_workers + 1):
        commands[f"worker-{n}"] = [
            python, manage, "worker", "--interval", "1", "--max-tasks", "200",
        ]  # fmt: skip
    return commands


def rss_mib(session_id: int) -> float:
    """Resident memory of every process of a session (granian's master and workers)."""
    pages = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text()
            fields_after = fields[fields.rindex(")") + 2 :].split()
        except (OSError, ValueError):
            continue
        if int(fields_after[3]) == session_id:
            pages += int(fields_after[21])  # field 24 of stat: rss, in pages
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024**2


# --- Clients ----------------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str
    started: float
    seconds: float
    ok: bool
    error: str = ""


@dataclass
class Plan:
    base: str
    article_ids: list[int]
    queries: list[str]
    think: float
    actions: int


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser(threading.Thread):
    """One person: signs in through the form, does `plan.actions` things with a think time
    of plan.think × U(0.5, 1.5) seconds before each, then starts a new session (cookies
    dropped), until stopped."""

    def __init__(
        self, email: str, plan: Plan, stop: threading.Event, samples: list[Sample], seed: int
    ) -> None:
        super().__init__(daemon=True)
        self.email, self.plan, self.stop, self.samples = email, plan, stop, samples
        self.rng = random.Random(seed)

    def request(self, http: Any, kind: str, expect: int, method: str, path: str, **kw: Any) -> Any:
        started = time.perf_counter()
        error, response = "", None
        try:
            response = http.request(method, path, **kw)
            if response.status_code != expect:
                error = f"HTTP {response.status_code}"
        except Exception as exc:  # noqa: BLE001 - every failure is counted, by its kind
            error = type(exc).__name__
        self.samples.append(Sample(kind, started, time.perf_counter() - started, not error, error))
        return None if error else response

    def think(self) -> bool:
        return not self.stop.wait(self.plan.think * self.rng.uniform(0.5, 1.5))

    def sign_in(self, http: Any) -> bool:
        page = self.request(http, "login form", 200, "GET", "/accounts/login/")
        found = TOKEN.search(page.text) if page is not None else None
        if found is None:
            return False
        form = {"username": self.email, "password": PASSWORD, "csrfmiddlewaretoken": found[1]}
        return self.request(http, "sign-in", 302, "POST", "/accounts/login/", data=form) is not None

    def act(self, http: Any) -> None:
        kinds, weights = zip(*ACTIONS, strict=True)
        kind = self.rng.choices(kinds, weights)[0]
        plan = self.plan
        if kind == "archive":
            self.request(http, kind, 200, "GET", f"/media-watch/?page={self.rng.randint(1, 3)}")
        elif kind == "article":
            pk = self.rng.choice(plan.article_ids)
            self.request(http, kind, 200, "GET", f"/media-watch/articles/{pk}/")
        elif kind == "search":
            query = self.rng.choice(plan.queries)
            self.request(http, kind, 200, "GET", "/media-watch/", params={"q": query})
        elif kind == "directory":
            self.request(http, kind, 200, "GET", "/organisations/")
        else:
            form = {
                "name": f"Veille {self.rng.randint(1, 10**6)}",
                "filters": f"q={self.rng.choice(plan.queries)}",
                "csrfmiddlewaretoken": http.cookies.get("csrftoken", ""),
            }
            self.request(http, kind, 302, "POST", "/media-watch/saved/", data=form)

    def run(self) -> None:
        import httpx

        with httpx.Client(
            base_url=self.plan.base, timeout=REQUEST_TIMEOUT_S, follow_redirects=False,
            headers={"Accept-Language": "fr", "User-Agent": "intersection-contention-bench"},
        ) as http:  # fmt: skip
            # Sessions start spread over one session's length, as they would in steady state.
            if self.stop.wait(self.rng.uniform(0, self.plan.think * (self.plan.actions + 1))):
                return
            while not self.stop.is_set():
                if self.sign_in(http):
                    for _ in range(self.plan.actions):
                        if not self.think():
                            return
                        self.act(http)
                http.cookies.clear()
                if not self.think():
                    return


@contextlib.contextmanager
def browsers(emails: list[str], plan: Plan, samples: list[Sample], seed: int) -> Any:
    stop = threading.Event()
    threads = [Browser(e, plan, stop, samples, seed + n) for n, e in enumerate(emails)]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)


# --- One engine, in its own process ----------------------------------------------------------


@dataclass
class Cores:
    web: float = 0.0
    workers: float = 0.0
    clients: float = 0.0  # this process: the client threads (and its few queries)
    database: float = 0.0  # PostgreSQL: the server processes of this database's connections
    others: float = 0.0  # the rest of the machine (other users)


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    samples: list[dict[str, Any]] = field(default_factory=list)  # kind, ms, ok, error
    items: int = 0  # items stored during the window (article versions)
    ingest_errors: int = 0
    ingest_done: bool = False
    cores: Cores = field(default_factory=Cores)
    web_rss_mib: float = 0.0  # peak, the granian processes


def database_backends() -> dict[int, float]:
    """PostgreSQL: CPU seconds of each server process connected to this database (other
    than this process's own connection); nothing on SQLite, which runs inside each process."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in cursor.fetchall()]
    return {pid: mw.process_cpu_seconds(pid) for pid in pids}


class Meter:
    """CPU time of the product's processes, this process, the database server and the
    machine, over a window."""

    def __init__(self, sessions: dict[str, int]) -> None:
        self.sessions = sessions

    def read(self) -> dict[str, Any]:
        return {
            "wall": time.perf_counter(),
            "web": web.session_cpu_seconds(self.sessions["web"]),
            "workers": sum(
                web.session_cpu_seconds(s) for n, s in self.sessions.items() if n != "web"
            ),
            "clients": time.process_time(),
            "database": database_backends(),
            "busy": mw.machine_busy_seconds(),
        }

    @staticmethod
    def cores(before: dict[str, Any], after: dict[str, Any]) -> Cores:
        wall = after["wall"] - before["wall"]
        used = {k: after[k] - before[k] for k in ("web", "workers", "clients", "busy")}
        # A connection opened during the window counts from zero (its CPU before is tiny).
        database = sum(
            cpu - before["database"].get(pid, 0.0) for pid, cpu in after["database"].items()
        )
        ours = used["web"] + used["workers"] + used["clients"] + database
        return Cores(
            used["web"] / wall, used["workers"] / wall, used["clients"] / wall,
            database / wall, max(0.0, used["busy"] - ours) / wall,
        )  # fmt: skip


def stored_items() -> int:
    from intersection.mediawatch.models import ArticleVersion

    return ArticleVersion.objects.count()


def ingestion_pending(since: datetime) -> bool:
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return (
        DBTaskResult.objects.filter(enqueued_at__gte=since, task_path__contains="mediawatch")
        .filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
        .exists()
    )


def ingestion_errors(since: datetime) -> int:
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    found = DBTaskResult.objects.filter(enqueued_at__gte=since, task_path__contains="mediawatch")
    failed = found.filter(status=TaskResultStatus.FAILED).count()
    reported = sum(
        int((value or {}).get("errors", 0))
        for value in found.filter(task_path__endswith="poll_sources").values_list(
            "return_value", flat=True
        )
    )
    return failed + reported


def register(feeds: list[Feed]) -> None:
    from intersection.mediawatch.models import Source, SourceKind

    Source.objects.bulk_create(Source(name=f.name, kind=SourceKind.FEED, url=f.url) for f in feeds)


def start_ingestion() -> datetime:
    """What the scheduler does every minute: enqueue the task that hands out due sources."""
    from django.utils import timezone

    from intersection.mediawatch.tasks import poll_due_sources

    since = timezone.now()
    poll_due_sources.enqueue()
    return since


def run_phase(
    name: str, *, seconds: float, meter: Meter, web_session: int, emails: list[str] | None,
    plan: Plan, feeds: list[Feed] | None, warmup: float, seed: int,
) -> Phase:  # fmt: skip
    """Clients (when `emails`) and ingestion of `feeds` (when given) for `seconds`; the
    window closes early when ingestion ends, so phase c measures only time with both."""
    from django.db import connections

    phase = Phase(name)
    samples: list[Sample] = []
    with contextlib.ExitStack() as stack:
        if emails:
            stack.enter_context(browsers(emails, plan, samples, seed))
            time.sleep(warmup)  # every client signed in once, the ramp is over
        if feeds:
            register(feeds)
        before_items = stored_items()
        before = meter.read()
        since = start_ingestion() if feeds else None
        deadline = before["wall"] + seconds
        peak = 0.0
        while time.perf_counter() < deadline:
            time.sleep(0.5)
            peak = max(peak, rss_mib(web_session))
            if since is not None and not ingestion_pending(since):
                phase.ingest_done = True
                break
        after = meter.read()
        phase.items = stored_items() - before_items
        phase.seconds = after["wall"] - before["wall"]
        phase.cores, phase.web_rss_mib = Meter.cores(before, after), peak
    window = (before["wall"], after["wall"])
    phase.samples = [
        {"kind": s.kind, "ms": s.seconds * 1000, "ok": s.ok, "error": s.error}
        for s in samples
        if window[0] <= s.started < window[1]
    ]
    if since is not None:
        # The rest of the feeds is ingested before the next phase starts (not measured).
        while ingestion_pending(since):
            time.sleep(1)
        phase.ingest_errors = ingestion_errors(since)
    connections.close_all()
    return phase


def create_database(engine: str, database_url: str) -> None:
    if engine == "postgres":
        import psycopg

        name = urlsplit(database_url).path.lstrip("/")
        admin = database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if exists:
                raise SystemExit(
                    f"The database {name} exists: the benchmark creates its own (and drops it "
                    "at the end). Drop it, or choose another name with --postgres-url."
                )
            connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str) -> None:
    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scratch_settings(var_dir: Path, hasher: str) -> str:
    """The settings module: the project's own, or (for an experiment) the same with another
    first password hasher, written into the temporary directory."""
    if hasher == "settings":
        return "intersection.settings"
    first = {
        "pbkdf2": "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "argon2-owasp": "contention_hashers.OwaspArgon2",
    }[hasher]
    (var_dir / "contention_hashers.py").write_text(
        "from django.contrib.auth.hashers import Argon2PasswordHasher\n\n\n"
        "class OwaspArgon2(Argon2PasswordHasher):\n"
        "    time_cost, memory_cost, parallelism = 2, 19 * 1024, 1\n"
    )
    (var_dir / "contention_settings.py").write_text(
        "from intersection.settings import *  # noqa: F403\n\n"
        f"PASSWORD_HASHERS = [{first!r}, *PASSWORD_HASHERS]  # noqa: F405\n"
    )
    return "contention_settings"


def engine_env(var_dir: Path, database_url: str, args: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": scratch_settings(var_dir, args.hasher),
            "PYTHONPATH": os.pathsep.join([str(var_dir), str(ROOT)]),
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(var_dir / "media"),
            # Not PRODUCTION=1: its cookies are Secure, and the clients speak plain HTTP.
            "PRODUCTION": "0",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": HOST,
            "LOG_LEVEL": "WARNING",
            "MEDIAWATCH_ALLOWED_ADDRESSES": ",".join(addresses_for(args.sources)),
            "MEDIAWATCH_HOST_SPACING_SECONDS": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def create_people(count: int) -> list[str]:
    """The demo network (load_demo), then `count` members of the Bruxelles-Nord zone, whose
    agreement unlocks the media watch. One hash of the password, computed with the first
    hasher of the settings, is stored for all: each sign-in still verifies it."""
    from datetime import date

    from django.contrib.auth.hashers import make_password

    from intersection.accounts.models import User
    from intersection.network.demo import load_demo
    from intersection.network.models import Membership, Organisation, Person

    load_demo()
    zone = Organisation.objects.get(slug="zone-bruxelles-nord")
    hashed = make_password(PASSWORD)
    emails = [f"veille{n:02d}@bench.intersection.test" for n in range(count)]
    users = User.objects.bulk_create(User(email=e, password=hashed) for e in emails)
    people = Person.objects.bulk_create(
        Person(first_name="Veille", last_name=f"{n:02d}", email=u.email, user=u)
        for n, u in enumerate(users)
    )
    Membership.objects.bulk_create(
        Membership(person=p, organisation=zone, starts_on=date(2020, 1, 1)) for p in people
    )
    return emails


def wait_until_up(base: str, processes: dict[str, subprocess.Popen[Any]], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes.values()):
            break
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/accounts/login/", timeout=5).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"The product did not start.\n{log.read_text(errors='replace')[-3000:]}")


def run_engine(args: argparse.Namespace) -> dict[str, Any]:
    """Everything for one engine; runs in a child process (Django is set up once per
    process, on one database)."""
    engine = args.child
    var_dir = Path(tempfile.mkdtemp(prefix=f"intersection-bench-contention-{engine}-"))
    database_url = args.postgres_url if engine == "postgres" else f"sqlite:///{var_dir}/db.sqlite3"
    env = engine_env(var_dir, database_url, args)
    processes: dict[str, subprocess.Popen[Any]] = {}
    log = var_dir / "product.log"
    created = False
    try:
        create_database(engine, database_url)
        created = engine == "postgres"
        os.environ.update(env)
        sys.path.insert(0, str(var_dir))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        from intersection.mediawatch.models import Article

        print(f"[{engine}] migrating, loading the demo network, users and archive…", flush=True)
        call_command("migrate", interactive=False, verbosity=0)
        emails = create_people(args.clients)
        model = mw.TextModel(mw.CORPUS, args.seed)
        now = datetime.now(tz=UTC).replace(microsecond=0)
        mw.load_archive(model, args.archive, 120.0, args.seed + 1, now)
        article_ids = list(Article.objects.values_list("pk", flat=True)[:5000])
        queries = [q.text for q in mw.make_queries(model, args.seed)]
        version = engine
        if connection.vendor == "postgresql":
            number = connection.pg_version  # type: ignore[attr-defined]
            version = f"PostgreSQL {number // 10000}.{number % 100}"
        connections.close_all()

        site = Path(args.site)
        sets = {
            name: [Feed(**f) for f in json.loads((site / f"{name}.json").read_text())]
            for name in ("warmup", "alone", "together")
        }
        port = free_port()
        base = f"http://{HOST}:{port}"
        with log.open("ab") as out:
            for name, command in product_commands(port, args).items():
                nice = args.worker_nice if name.startswith("worker") else 0
                processes[name] = subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True, preexec_fn=functools.partial(lower_priority, nice),
                )  # fmt: skip
        wait_until_up(base, processes, log)
        meter = Meter({name: p.pid for name, p in processes.items()})
        plan = Plan(base, article_ids, queries, args.think, args.actions)
        common = {"meter": meter, "web_session": processes["web"].pid, "plan": plan,
                  "warmup": args.warmup, "seed": args.seed}  # fmt: skip

        print(f"[{engine}] warming up: workers load their models, pages their caches…", flush=True)
        run_phase("warm-up", seconds=60, emails=emails[:4], feeds=sets["warmup"], **common)
        phases = []
        for name, label, clients, feeds in [
            ("a", "web load alone", emails, None),
            ("b", "ingestion alone", None, sets["alone"]),
            ("c", "both at once", emails, sets["together"]),
        ]:
            if name in args.phases:
                print(f"[{engine}] {name}. {label}, {args.seconds:g} s at most…", flush=True)
                phases.append(
                    run_phase(name, seconds=args.seconds, emails=clients, feeds=feeds, **common)
                )
        for name, process in processes.items():
            if process.poll() is not None:
                raise SystemExit(f"{name} stopped during the run (exit {process.returncode}).")
        return {"engine": engine, "version": version, "phases": [asdict(p) for p in phases]}
    finally:
        for process in processes.values():
            stop_group(process)
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if created and not args.keep:
            drop_database(database_url)
        if args.keep:
            print(f"Kept {var_dir}", flush=True)
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


# --- Report -----------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    return mw.percentile(values, fraction)


def latencies(phase: dict[str, Any], kinds: set[str] | None = None) -> list[float]:
    return [s["ms"] for s in phase["samples"] if s["ok"] and (kinds is None or s["kind"] in kinds)]


READS = {"archive", "article", "search", "directory", "login form"}


def summarise(result: dict[str, Any]) -> dict[str, float]:
    found = {p["name"]: p for p in result["phases"]}
    empty = {"samples": [], "items": 0, "seconds": float("nan")}
    a, b, c = (found.get(name, empty) for name in "abc")
    out = {
        "sign-in p95 a": percentile(latencies(a, {"sign-in"}), 0.95),
        "sign-in p95 c": percentile(latencies(c, {"sign-in"}), 0.95),
        "write p99 a": percentile(latencies(a, WRITES), 0.99),
        "write p99 c": percentile(latencies(c, WRITES), 0.99),
        "read p95 a": percentile(latencies(a, READS), 0.95),
        "read p95 c": percentile(latencies(c, READS), 0.95),
        "ingest b": b["items"] / b["seconds"],
        "ingest c": c["items"] / c["seconds"],
        "errors": sum(1 for p in (a, c) for s in p["samples"] if not s["ok"]) + 0.0,
    }
    out["sign-in ratio"] = ratio(out["sign-in p95 c"], out["sign-in p95 a"])
    out["ingest share"] = ratio(out["ingest c"], out["ingest b"])
    return out


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def print_engine(result: dict[str, Any]) -> None:
    print(f"\n== {result['version']}")
    kinds = ["sign-in", "save search", "login form", "archive", "article", "search", "directory"]
    for phase in result["phases"]:
        label = {"a": "a. web load alone", "b": "b. ingestion alone", "c": "c. both at once"}
        print(f"  {label[phase['name']]}: {phase['seconds']:.1f} s measured")
        if phase["samples"]:
            print(
                f"    {'request':<12} {'count':>6} {'errors':>6} {'p50':>7} {'p95':>7} "
                f"{'p99':>7} {'max':>7}   (ms)"
            )
            for kind in [*kinds, "all reads"]:
                chosen = READS if kind == "all reads" else {kind}
                rows = [s for s in phase["samples"] if s["kind"] in chosen]
                ok = sorted(s["ms"] for s in rows if s["ok"])
                if not rows:
                    continue
                print(
                    f"    {kind:<12} {len(rows):>6} {len(rows) - len(ok):>6} "
                    f"{percentile(ok, 0.5):>7.0f} {percentile(ok, 0.95):>7.0f} "
                    f"{percentile(ok, 0.99):>7.0f} {(ok[-1] if ok else float('nan')):>7.0f}"
                )
            errors = sorted({s["error"] for s in phase["samples"] if not s["ok"]})
            if errors:
                print(f"    errors, e.g.: {', '.join(errors[:5])}")
            rate = len(phase["samples"]) / phase["seconds"]
            cpu_ms = phase["cores"]["web"] / rate * 1000 if rate else float("nan")
            print(
                f"    {rate:.1f} requests/s, {cpu_ms:.0f} ms of web server CPU a request; "
                f"granian peak RSS {phase['web_rss_mib']:.0f} MiB"
            )
        if phase["name"] != "a":
            per_item = phase["cores"]["workers"] * phase["seconds"] / max(phase["items"], 1)
            print(
                f"    ingestion: {phase['items']:,} items stored → "
                f"{phase['items'] / phase['seconds']:.0f} items/s, "
                f"{per_item * 1000:.1f} ms of worker CPU an item"
                + ("" if phase["ingest_done"] else " (window closed before the end)")
                + (f"; errors: {phase['ingest_errors']}" if phase["ingest_errors"] else "")
            )
        cores = phase["cores"]
        print(
            f"    cores busy: web server {cores['web']:.2f}, task workers {cores['workers']:.2f}"
            f", clients {cores['clients']:.2f}, database server {cores['database']:.2f}, "
            f"rest of the machine {cores['others']:.2f}"
        )


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def print_targets(results: list[dict[str, Any]]) -> None:
    print("\n== Targets")
    for result in results:
        s = summarise(result)
        print(f"  {result['version']}")
        rows = [
            (
                f"sign-in p95 with ingestion ≤ {TARGET_SIGN_IN_RATIO}× without",
                f"{s['sign-in p95 c']:.0f} / {s['sign-in p95 a']:.0f} ms = "
                f"{s['sign-in ratio']:.2f}×",
                s["sign-in ratio"] <= TARGET_SIGN_IN_RATIO,
            ),
            (
                f"write p99 ≤ {TARGET_WRITE_P99_MS:.0f} ms (sign-in, save search)",
                f"{s['write p99 a']:.0f} ms alone, {s['write p99 c']:.0f} ms with",
                max(s["write p99 a"], s["write p99 c"]) <= TARGET_WRITE_P99_MS,
            ),
            (
                f"read p95 ≤ {TARGET_READ_P95_MS:.0f} ms",
                f"{s['read p95 a']:.0f} ms alone, {s['read p95 c']:.0f} ms with",
                max(s["read p95 a"], s["read p95 c"]) <= TARGET_READ_P95_MS,
            ),
            (
                f"ingestion with web load ≥ {TARGET_INGESTION_SHARE:.0%} of alone",
                f"{s['ingest c']:.0f} / {s['ingest b']:.0f} items/s = {s['ingest share']:.0%}",
                s["ingest share"] >= TARGET_INGESTION_SHARE,
            ),
            ("no errors", f"{s['errors']:.0f}", s["errors"] == 0),
        ]
        for label, value, ok in rows:
            print(f"    {label:<46} {value:<34} {verdict(ok)}")


# --- Main -------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds a phase")
    parser.add_argument("--warmup", type=float, default=12.0, help="client ramp before a window")
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between requests")
    parser.add_argument("--actions", type=int, default=10, help="requests a session, sign-in apart")
    parser.add_argument("--sources", type=int, default=50, help="feeds (hosts) a phase")
    parser.add_argument("--items", type=int, default=300, help="items a feed")
    parser.add_argument("--archive", type=int, default=5000, help="articles loaded beforehand")
    parser.add_argument("--web-workers", type=int, default=2, help="granian processes")
    parser.add_argument("--blocking-threads", type=int, default=4, help="granian threads each")
    parser.add_argument("--task-workers", type=int, default=2)
    parser.add_argument(
        "--worker-nice", type=int, default=0, help="experiment: task workers at this niceness"
    )
    parser.add_argument(
        "--hasher", choices=["settings", "pbkdf2", "argon2-owasp"], default="settings",
        help="first password hasher: the settings' own, or another one for an experiment",
    )  # fmt: skip
    parser.add_argument("--phases", default="abc", help="a subset of abc, for experiments")
    parser.add_argument("--hash-rounds", type=int, default=9, help="hashes per hasher (median)")
    parser.add_argument("--hashers-only", action="store_true", help="only the hasher costs")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="a database the benchmark creates and drops (it must not exist)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directories")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--addresses", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--site", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (1 <= args.clients <= 200 and 1 <= args.sources <= 200 and 1 <= args.items <= 1000):
        parser.error("--clients and --sources must be in [1, 200], --items in [1, 1000]")
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be in [1, 600]")
    return args


def child_command(engine: str, args: argparse.Namespace, site: Path, result: Path) -> list[str]:
    passed = ["--child", engine, "--site", str(site), "--result", str(result)]
    for name in ("seconds", "warmup", "clients", "think", "actions", "sources", "items",
                 "archive", "web_workers", "blocking_threads", "task_workers", "hasher", "phases",
                 "worker_nice",
                 "postgres_url", "seed"):  # fmt: skip
        passed += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    if args.keep:
        passed.append("--keep")
    return [sys.executable, __file__, *passed]


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through the `finally` blocks that stop the processes


def machine(load: str, results: list[dict[str, Any]]) -> list[tuple[str, str]]:
    from importlib.metadata import version

    rows = [(k, v) for k, v in web.machine_description("", load) if k != "Database"]
    engines = ", ".join(r["version"] for r in results)
    return [*rows, ("argon2-cffi", version("argon2-cffi")), ("Databases", engines)]


def main() -> int:
    args = parse_args()
    if args.serve:
        serve_forever(args.serve, args.addresses.split(","))
        return 0
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    if args.child:
        result = run_engine(args)
        Path(args.result).write_text(json.dumps(result))
        return 0
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    begun = time.perf_counter()
    from django.conf import settings

    settings.configure()  # the hashers need none of the project's settings
    costs = hasher_costs(args.hash_rounds)
    if args.hashers_only:
        print_hasher_costs(costs, load)
        return 0
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    site = Path(tempfile.mkdtemp(prefix="intersection-bench-contention-feeds-"))
    results: list[dict[str, Any]] = []
    try:
        with feed_server(site, addresses_for(args.sources)) as port:
            model = mw.TextModel(mw.CORPUS, args.seed)
            print(f"Writing feeds ({args.sources} × {args.items} items, twice)…", flush=True)
            for n, (name, count, items) in enumerate(
                [("warmup", 4, 50), ("alone", args.sources, args.items),
                 ("together", args.sources, args.items)]
            ):  # fmt: skip
                feeds = write_feeds(site, name, count, items, port, model, args.seed + n)
                (site / f"{name}.json").write_text(json.dumps([asdict(f) for f in feeds]))
            for engine in engines:
                path = site / f"{engine}.result.json"
                child = subprocess.Popen(child_command(engine, args, site, path), cwd=ROOT)
                try:
                    if child.wait() != 0:
                        raise SystemExit(f"The {engine} run failed (exit {child.returncode}).")
                except BaseException:
                    child.terminate()  # it stops the product's processes it started
                    child.wait(timeout=60)
                    raise
                results.append(json.loads(path.read_text()))
    finally:
        shutil.rmtree(site, ignore_errors=True)

    print("\n== Machine")
    for key, value in machine(load, results):
        print(f"  {key:<11} {value}")
    print("\n== Setup")
    weights = sum(w for _, w in ACTIONS)
    mix = ", ".join(f"{k} {w / weights:.0%}" for k, w in ACTIONS)
    print(
        f"  Product     granian (WSGI) {args.web_workers} workers × {args.blocking_threads} "
        f"blocking threads, {args.task_workers} × `manage.py worker --interval 1 --max-tasks "
        f"200`, as runall starts them; PRODUCTION=0 (plain-HTTP cookies), DEBUG=0; first "
        f"password hasher: {args.hasher}"
    )
    print(
        f"  Clients     {args.clients} threads (httpx, keep-alive), one account each: sign in "
        f"through the form (GET, then POST with the CSRF token), then {args.actions} requests "
        f"({mix}), each after {args.think:g} s × U(0.5, 1.5) of thinking, then a new session"
    )
    print(
        f"  Ingestion   poll_due_sources enqueued → one task per host; {args.sources} full-text "
        f"feeds × {args.items} items (150–400 words each) on {args.sources} addresses of "
        f"127.0.0.0/8; an archive of {args.archive:,} articles loaded beforehand"
    )
    print(
        f"  Windows     {args.seconds:g} s a phase (phase b and c: until ingestion ends, if "
        f"sooner), after a {args.warmup:g} s client ramp; requests counted by their start"
    )
    print_hasher_costs(costs, load)
    for result in results:
        print_engine(result)
    print_targets(results)
    print(f"\n  (whole run: {time.perf_counter() - begun:.0f} s; load average before: {load})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("Interrupted; processes stopped.", file=sys.stderr)
        sys.exit(130)
