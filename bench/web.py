"""Web benchmark: requests per second and p50/p99 latency under the production server.

Builds a throw-away database (1,000 organisations, 10,000 people with memberships), counts
the SQL queries of each benchmarked page in-process, then starts granian (WSGI interface) on
127.0.0.1 and drives it with 50 keep-alive HTTP/1.1 clients from a separate process.

    make bench                      # or: .venv/bin/python bench/web.py --duration 10
    BENCH_DATABASE_URL=postgres://... make bench   # an EMPTY PostgreSQL database

Target: p99 < 100 ms for every endpoint, with no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import platform
import random
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
TARGET_P99_MS = 100.0
REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Endpoint:
    label: str
    path: str
    authenticated: bool = False
    # The same endpoint with a smaller page: equal query counts show there is no N+1.
    small_path: str | None = None
    # The target applies to the directory page and a (public) API list endpoint; the
    # per-user, uncached people endpoint is measured for information.
    targeted: bool = True


ENDPOINTS = [
    Endpoint("directory page", "/organisations/"),
    Endpoint(
        "API organisations", "/api/organisations?limit=50", False, "/api/organisations?limit=5"
    ),
    Endpoint(
        "API people (token)", "/api/people?limit=50", True, "/api/people?limit=5", targeted=False
    ),
]


# --- Environment and data -----------------------------------------------------------------


def bench_env(var_dir: Path, database_url: str) -> dict[str, str]:
    """Production-like settings: PRODUCTION=1 and DEBUG off, plain HTTP on 127.0.0.1."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "intersection.settings"
            ),
            "VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(var_dir / "media"),
            "STATIC_ROOT": str(var_dir / "static"),
            "PRODUCTION": "1",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48),
            # TLS is the reverse proxy's job; the benchmark talks plain HTTP to the app server.
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": f"{HOST},localhost,testserver",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True)


FIRST_NAMES = [
    "Anne", "Bart", "Chloé", "Dirk", "Élise", "Farid", "Greet", "Hugo", "Inès", "Jan",
    "Karim", "Lotte", "Marc", "Nadia", "Olivier", "Pieter", "Quentin", "Rania", "Sofie",
    "Thomas", "Ursula", "Vincent", "Wout", "Yasmina", "Zoé",
]  # fmt: skip
LAST_NAMES = [
    "Peeters", "Dubois", "Janssens", "Lambert", "Maes", "Dupont", "Claes", "Martin",
    "Jacobs", "Simon", "Mertens", "Laurent", "Willems", "Leroy", "Wouters", "Renard",
    "Goossens", "Lejeune", "De Smet", "Moreau", "Hermans", "Fontaine", "Vermeulen", "Michel",
]  # fmt: skip
TITLES = ["Commissaire", "Coordinator", "Inspecteur", "Chargée de projet", "Directeur", ""]
REGIONS = ["Bruxelles", "Wallonie", "Vlaanderen", "Québec", "Île-de-France", "Genève", ""]
LANGUAGES = ["fr", "nl", "fr,nl", "fr,en", "nl,en", "fr,nl,en"]


def load_data(organisations: int, people: int, seed: int = 42) -> str:
    """Bulk-create the data set in the configured database; return a staff API token."""
    from intersection.accounts.models import Role, User
    from intersection.accounts.services import token_create
    from intersection.network.models import (
        Country,
        Membership,
        Organisation,
        OrganisationKind,
        Person,
    )

    if Organisation.objects.exists() or Person.objects.exists():
        raise SystemExit("The benchmark database is not empty; point it at an empty database.")
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    today = date.today()
    countries = [c.value for c in Country]
    country_weights = [60, 10, 15, 5, 5, 5][: len(countries)]
    kinds = [k.value for k in OrganisationKind]

    def organisation(i: int, kind: str, parent: Organisation | None) -> Organisation:
        name = f"{kind.replace('_', ' ').title()} {rng.choice(LAST_NAMES)} {i:04d}"
        return Organisation(
            slug=f"org-{i:04d}",
            kind=kind,
            name_fr=name,
            name_nl=f"{name} (nl)" if rng.random() < 0.5 else "",
            name_en=f"{name} (en)" if rng.random() < 0.3 else "",
            country=rng.choices(countries, country_weights)[0],
            region=rng.choice(REGIONS),
            languages=rng.choice(LANGUAGES),
            website=f"https://org-{i:04d}.example.org" if rng.random() < 0.7 else "",
            parent=parent,
            active_from=today - timedelta(days=rng.randint(30, 5000)),
            active_until=today - timedelta(days=10) if rng.random() < 0.05 else None,
        )

    network_count = max(1, organisations // 25)
    networks = Organisation.objects.bulk_create(
        organisation(
            i, rng.choice([OrganisationKind.TRAINING_NETWORK, OrganisationKind.ASSOCIATION]), None
        )
        for i in range(network_count)
    )
    Organisation.objects.bulk_create(
        (
            organisation(i, rng.choice(kinds), rng.choice(networks) if rng.random() < 0.6 else None)
            for i in range(network_count, organisations)
        ),
        batch_size=500,
    )
    org_ids = list(Organisation.objects.values_list("pk", flat=True))

    persons = Person.objects.bulk_create(
        (
            Person(
                first_name=rng.choice(FIRST_NAMES),
                last_name=f"{rng.choice(LAST_NAMES)} {i:05d}",
                email=f"person{i:05d}@example.org",
                phone=f"+32 2 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            )
            for i in range(people)
        ),
        batch_size=1000,
    )
    memberships = []
    for person in persons:
        for org_id in rng.sample(org_ids, rng.choice([1, 1, 2])):
            roll = rng.random()
            starts = today - timedelta(days=rng.randint(1, 4000)) if roll > 0.1 else None
            ends = today - timedelta(days=rng.randint(1, 300)) if 0.1 < roll < 0.2 else None
            if starts and ends and ends < starts:
                starts, ends = ends, starts
            memberships.append(
                Membership(
                    person=person,
                    organisation_id=org_id,
                    title=rng.choice(TITLES),
                    starts_on=starts,
                    ends_on=ends,
                    is_representative=rng.random() < 0.1,
                )
            )
    Membership.objects.bulk_create(memberships, batch_size=2000)

    user = User.objects.create_user("bench-staff@example.org", None, role=Role.STAFF)
    _token, raw = token_create(user=user, name="bench")
    return raw


def count_queries(token: str) -> dict[str, tuple[int, int | None]]:
    """SQL queries per request for each endpoint (and for its small page, when given), with
    the public-results cache off so the queries behind a cache miss are the ones counted."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client()

    def queries(path: str, authenticated: bool) -> int:
        headers = {"Authorization": f"Bearer {token}"} if authenticated else {}
        with override_settings(DIRECTORY_CACHE_SECONDS=0):
            cache.clear()
            client.get(path, headers=headers)  # warm caches (content types, translations)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code} in-process; aborting.")
        return len(ctx.captured_queries)

    return {
        e.path: (
            queries(e.path, e.authenticated),
            queries(e.small_path, e.authenticated) if e.small_path else None,
        )
        for e in ENDPOINTS
    }


# --- Server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def granian_command(port: int, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--blocking-threads",
        str(args.blocking_threads),
        "--log-level",
        "warning",
        *shlex.split(args.granian_args),
        "intersection.wsgi:application",
    ]


@contextlib.contextmanager
def granian(command: list[str], env: dict[str, str], log_path: Path) -> Iterator[int]:
    """Run granian in its own session; stop the whole process group on exit."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process.pid
        finally:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=5)


def wait_until_up(port: int, pid: int, log_path: Path, timeout: float = 60.0) -> None:
    url = f"http://{HOST}:{port}/api/organisations?limit=1"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise SystemExit(f"granian did not answer on {url} within {timeout:.0f} s.\n{tail}")


def session_cpu_seconds(session_id: int) -> float:
    """CPU time (user + system) of every live process in a session (granian and workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[3]) == session_id:  # field 6 of stat: session id
            ticks += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time used by every process on the machine (user, nice, system, irq, softirq)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (values[0] + values[1] + values[2] + values[5] + values[6]) / os.sysconf("SC_CLK_TCK")


# --- Load generator (runs in its own process) ----------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    body_bytes: int = 0
    in_window: int = 0  # successful responses received inside the measured window

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """Read one HTTP/1.1 response; return (status, body bytes, server closes connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length: int | None = None
    chunked = False
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            close = value == b"close"
    size = 0
    if chunked:
        while True:
            chunk_line = await reader.readuntil(b"\r\n")
            chunk = int(chunk_line.split(b";", 1)[0].strip(), 16)
            if chunk == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                break
            await reader.readexactly(chunk + 2)
            size += chunk
    elif length is not None:
        await reader.readexactly(length)
        size = length
    else:
        size = len(await reader.read())
        close = True
    return status, size, close


async def client_loop(
    port: int, request: bytes, measure_from: float, measure_until: float, tally: Tally, cap: int
) -> None:
    """One client: back-to-back requests on a keep-alive connection until the window closes.

    A request counts when it overlaps the measured window: one sent during the warm-up and
    answered (or timed out) inside the window counts too, so starved connections show up.
    """
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.perf_counter() < measure_until and len(tally.latencies) + tally.errors < cap:
            started = time.perf_counter()
            outcome: str | None = None
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    if writer is None:
                        reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
                    assert reader is not None
                    writer.write(request)
                    status, size, close = await read_response(reader)
            except (
                OSError,
                TimeoutError,
                ValueError,
                IndexError,
                asyncio.IncompleteReadError,
            ) as e:
                outcome, close = type(e).__name__, True
            else:
                outcome = None if status == 200 else f"HTTP {status}"
            done = time.perf_counter()
            if done >= measure_from:
                if outcome is None:
                    tally.latencies.append(done - started)
                    tally.body_bytes += size
                    tally.in_window += done <= measure_until
                else:
                    tally.error(outcome)
            if close and writer is not None:
                writer.close()
                reader = writer = None
            if outcome is not None and close:
                await asyncio.sleep(0.05)
    finally:
        if writer is not None:
            writer.close()


async def drive(
    *,
    queue: Any,
    port: int,
    path: str,
    token: str | None,
    concurrency: int,
    warmup: float,
    duration: float,
    cap: int,
) -> dict[str, Any]:
    """Run the clients; tell the parent (via `queue`) when the measured window opens."""
    headers = [
        f"GET {path} HTTP/1.1",
        f"Host: {HOST}:{port}",
        "User-Agent: intersection-bench",
        "Accept: */*",
        "Connection: keep-alive",
    ]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    request = ("\r\n".join(headers) + "\r\n\r\n").encode()
    tally = Tally()
    start = time.perf_counter()
    measure_from = start + warmup
    measure_until = measure_from + duration
    loops = [
        asyncio.create_task(client_loop(port, request, measure_from, measure_until, tally, cap))
        for _ in range(concurrency)
    ]
    await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    queue.put("measuring")
    await asyncio.gather(*loops)
    client_cores = (time.process_time() - cpu_start) / (time.perf_counter() - wall_start)
    return {
        "latencies": sorted(tally.latencies),
        "errors": tally.errors,
        "error_samples": tally.error_samples,
        "body_bytes": tally.body_bytes,
        "in_window": tally.in_window,
        "client_cores": client_cores,
    }


def load_process(queue: Any, kwargs: dict[str, Any]) -> None:
    queue.put(asyncio.run(drive(queue=queue, **kwargs)))


@dataclass
class Result:
    label: str
    path: str
    requests: int
    errors: int
    error_samples: list[str]
    rps: float
    p50: float
    p90: float
    p99: float
    max: float
    mean_kib: float
    client_cores: float
    server_cores: float
    other_cores: float

    @property
    def cpu_ms(self) -> float:
        """Server CPU time per request: comparable between runs even on a busy machine."""
        return self.server_cores / self.rps * 1000 if self.rps else float("nan")


def percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1] * 1000


def run_load(
    endpoint: Endpoint, port: int, token: str, server_session: int, args: argparse.Namespace
) -> Result:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    kwargs = {
        "port": port,
        "path": endpoint.path,
        "token": token if endpoint.authenticated else None,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "duration": args.duration,
        "cap": args.max_requests,
    }
    process = ctx.Process(target=load_process, args=(queue, kwargs), daemon=True)
    process.start()
    try:
        # Server CPU is sampled over the measured window only (the client signals its start).
        signal_ = queue.get(timeout=args.warmup + 60)
        assert signal_ == "measuring", signal_
        cpu_before = session_cpu_seconds(server_session)
        busy_before = machine_busy_seconds()
        wall_before = time.monotonic()
        data = queue.get(timeout=args.duration + REQUEST_TIMEOUT_S + 60)
        wall = time.monotonic() - wall_before
        server_cores = (session_cpu_seconds(server_session) - cpu_before) / wall
        machine_cores = (machine_busy_seconds() - busy_before) / wall
    except BaseException:
        process.terminate()
        raise
    finally:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)
    ordered: list[float] = data["latencies"]
    count = len(ordered)
    client_cores = float(data["client_cores"])
    return Result(
        label=endpoint.label,
        path=endpoint.path,
        requests=count,
        errors=int(data["errors"]),
        error_samples=list(data["error_samples"]),
        rps=int(data["in_window"]) / args.duration,
        p50=percentile(ordered, 50),
        p90=percentile(ordered, 90),
        p99=percentile(ordered, 99),
        max=ordered[-1] * 1000 if ordered else float("nan"),
        mean_kib=data["body_bytes"] / count / 1024 if count else 0.0,
        client_cores=client_cores,
        server_cores=server_cores,
        other_cores=max(0.0, machine_cores - server_cores - client_cores),
    )


# --- Report -------------------------------------------------------------------------------


def machine_description(database_url: str, load_before: str) -> list[tuple[str, str]]:
    import django
    import granian

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    engine = database_url.split(":", 1)[0]
    return [
        ("CPU", cpu),
        ("Cores", f"{os.cpu_count()} (usable by this process: {usable}); shared with the client"),
        ("Memory", memory),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("Django", django.get_version()),
        ("granian", granian.__version__),
        ("Database", engine),
        ("Load avg", f"{load_before} (1, 5, 15 min, before the benchmark started)"),
    ]


def print_report(
    machine: list[tuple[str, str]],
    config: list[tuple[str, str]],
    queries: dict[str, tuple[int, int | None]],
    results: list[Result],
    concurrency: int = 0,
) -> bool:
    print("\n== Machine")
    for key, value in machine:
        print(f"  {key:<9} {value}")
    print("\n== Setup")
    for key, value in config:
        print(f"  {key:<12} {value}")
    print("\n== SQL queries per request (in-process, before the server starts)")
    for endpoint in ENDPOINTS:
        full, small = queries[endpoint.path]
        line = f"  {endpoint.path:<30} {full:>3}"
        if small is not None:
            verdict = "constant: no N+1" if small == full else "GROWS WITH PAGE SIZE: N+1"
            line += f"   ({endpoint.small_path}: {small}; {verdict})"
        print(line)
    print("\n== Load (latency in ms)")
    header = (
        f"  {'endpoint':<30} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50':>7} {'p90':>7} "
        f"{'p99':>7} {'max':>7} {'KiB':>6} {'cpu ms':>6} "
        f"{'srv cpu':>7} {'cli cpu':>7} {'others':>7}"
    )
    print(header)
    for r in results:
        print(
            f"  {r.path:<30} {r.requests:>8} {r.errors:>6} {r.rps:>7.0f} {r.p50:>7.1f} "
            f"{r.p90:>7.1f} {r.p99:>7.1f} {r.max:>7.1f} {r.mean_kib:>6.1f} {r.cpu_ms:>6.1f} "
            f"{r.server_cores:>7.2f} {r.client_cores:>7.2f} {r.other_cores:>7.2f}"
        )
        if r.error_samples:
            print(f"      errors, e.g.: {', '.join(r.error_samples)}")
    print(
        "  (cpu ms: granian CPU time per request; srv cpu, cli cpu, others: cores used by granian, "
        "by the load generator and by other processes during the measured window)"
    )
    noisy = [r.path for r in results if r.other_cores > 0.2]
    if noisy:
        print(f"  WARNING: other processes competed for the CPU during {', '.join(noisy)}.")
    targeted = {e.label for e in ENDPOINTS if e.targeted}
    failing = [
        r
        for r in results
        if r.label in targeted and (not r.p99 < TARGET_P99_MS or r.errors or not r.requests)
    ]
    print(
        f"\n== Target: p99 < {TARGET_P99_MS:.0f} ms for the directory page and the API list "
        "endpoint, no errors"
    )
    for r in results:
        ok = r.p99 < TARGET_P99_MS and not r.errors and r.requests
        verdict = ("met" if ok else "NOT MET") if r.label in targeted else "(information)"
        print(f"  {r.label:<22} p99 {r.p99:7.1f} ms  {verdict}")
    print(f"  => target {'MET' if not failing else 'NOT MET'}")
    if concurrency:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        needed = concurrency / (TARGET_P99_MS / 1000)
        print(
            f"  Note: {concurrency} clients sending back-to-back wait on average {concurrency}/rps "
            f"(Little's law), so p99 < {TARGET_P99_MS:.0f} ms needs more than {needed:.0f} req/s, "
            f"i.e. under {cores / needed * 1000:.1f} ms of CPU per request on {cores} cores "
            "(server and client together)."
        )
    return not failing


# --- Main ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds measured per endpoint"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per endpoint")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument("--blocking-threads", type=int, default=1, help="granian threads/worker")
    parser.add_argument(
        "--granian-args", default="", help='extra granian options, e.g. "--backpressure 4"'
    )
    parser.add_argument("--organisations", type=int, default=1000)
    parser.add_argument("--people", type=int, default=10000)
    parser.add_argument(
        "--max-requests", type=int, default=1_000_000, help="cap per endpoint (safety bound)"
    )
    parser.add_argument(
        "--only", choices=[e.path for e in ENDPOINTS], action="append", help="endpoint(s) to load"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be in (0, 600] and --warmup in [0, 60]")
    if not 1 <= args.concurrency <= 1000:
        parser.error("--concurrency must be between 1 and 1000")
    return args


def stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through the `finally` blocks that stop granian


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    var_dir = Path(tempfile.mkdtemp(prefix="intersection-bench-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{var_dir / 'bench.sqlite3'}"
    env = bench_env(var_dir, database_url)
    try:
        print(f"Preparing {var_dir} ({database_url.split(':', 1)[0]})…", flush=True)
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "collectstatic", "--no-input", "-v", "0")
        os.environ.update(env)
        import django

        django.setup()
        from django.db import connections

        started = time.monotonic()
        token = load_data(args.organisations, args.people)
        print(f"Data loaded in {time.monotonic() - started:.1f} s.", flush=True)
        queries = count_queries(token)
        connections.close_all()

        port = free_port()
        command = granian_command(port, args)
        log_path = var_dir / "granian.log"
        results: list[Result] = []
        with granian(command, env, log_path) as pid:
            wait_until_up(port, pid, log_path)
            for endpoint in ENDPOINTS:
                if args.only and endpoint.path not in args.only:
                    continue
                print(f"Loading {endpoint.path} …", flush=True)
                results.append(run_load(endpoint, port, token, pid, args))

        from intersection.network.models import Membership, Organisation, Person

        config = [
            (
                "Data",
                f"{Organisation.objects.count()} organisations, {Person.objects.count()} people, "
                f"{Membership.objects.count()} memberships",
            ),
            ("Server", " ".join(["granian", *command[3:]])),
            ("Settings", "PRODUCTION=1, DEBUG=0, SECURE_SSL_REDIRECT=0 (plain HTTP, 127.0.0.1)"),
            (
                "Load",
                f"{args.concurrency} keep-alive clients, 1 process (asyncio), "
                f"{args.warmup:g} s warm-up + {args.duration:g} s per endpoint",
            ),
        ]
        connections.close_all()
        met = print_report(
            machine_description(database_url, load_before),
            config,
            queries,
            results,
            args.concurrency,
        )
        return 1 if args.strict and not met else 0
    finally:
        if args.keep:
            print(f"Kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("Interrupted; server stopped.", file=sys.stderr)
        sys.exit(130)
