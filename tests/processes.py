"""The harness of real processes: workers, the scheduler, `runall`, on a database of their own.

The processes cannot see the test's own database (on PostgreSQL it lives in an open
transaction or is flushed under them), so each test gets a fresh migrated database of the
engine the suite runs on: a SQLite file copied from one migrated once per session, or on
PostgreSQL a database created from a migrated template. The test reads it with plain SQL
(`Product.scalar`, `Product.rows`), as an operator would, and starts processes with
`Product.start`; every process left is killed (with its children) at the end of the test.
The fixtures `product` and `harness_template` are offered to every test by tests/conftest.py.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
ENGINE = connection.vendor  # the engine this run of the suite is on: "sqlite" or "postgresql"
APP_NAME = "intersection-harness"  # the application_name of the processes' connections


def free_port() -> int:
    """A port the system says is free now (not `port + 1`)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(
    check: Callable[[], Any], *, timeout: float = 60, every: float = 0.2, what: str = ""
) -> Any:
    """Poll `check` until it returns something true; fail after a generous deadline."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not seen within {timeout:.0f} s: {what or check}")
        time.sleep(every)


def children(pid: int) -> list[tuple[int, str]]:
    """The processes whose parent is `pid`, with their command lines (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), command))
    return found


def _base_env() -> dict[str, str]:
    dropped = {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_CURRENT_TEST"}
    return {k: v for k, v in os.environ.items() if k not in dropped}


def _postgres_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(_postgres_url("postgres"), autocommit=True)


class Product:
    """One database and the processes that run on it."""

    def __init__(self, tmp: Path, url: str, pg_name: str = "") -> None:
        self.tmp = tmp
        self.url = url
        self.pg_name = pg_name
        self.processes: list[subprocess.Popen[str]] = []
        self.env = {
            **_base_env(),
            "DATABASE_URL": url,
            "VAR_DIR": str(tmp),
            "PGAPPNAME": APP_NAME,
            "MEDIAWATCH_HOST_SPACING_SECONDS": "0",
            "TASK_WORKER_HEARTBEAT_SECONDS": "1",
            "TASK_WORKER_LOST_SECONDS": "4",
            "PYTHONUNBUFFERED": "1",
        }

    # --- processes ---------------------------------------------------------------------------
    def manage(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-v", "0", "-c", code)

    def start(self, *args: str, log: str, **env: str) -> subprocess.Popen[str]:
        """`manage.py <args>` in its own process group, its output in tmp/<log>."""
        output = (self.tmp / log).open("w")
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=ROOT, env={**self.env, **env},
            stdout=output, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.tmp / name).read_text(errors="replace")

    @staticmethod
    def kill(process: subprocess.Popen[str] | int) -> None:
        """SIGKILL a process and its children (the extraction process of a worker)."""
        pid = process if isinstance(process, int) else process.pid
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        except PermissionError:  # not a group leader (a process started by runall)
            os.kill(pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                self.kill(process)
            process.wait(timeout=30)

    # --- reading the database ----------------------------------------------------------------
    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if ENGINE == "postgresql":
            with psycopg.connect(self.url, autocommit=True) as db:
                return list(db.execute(sql.encode()).fetchall())
        import sqlite3

        with sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=20) as db:
            return list(db.execute(sql).fetchall())

    def scalar(self, sql: str) -> Any:
        return self.rows(sql)[0][0]

    def cut_connections(self) -> int:
        """pg_terminate_backend on the processes' connections only (not the test's)."""
        found = self.rows(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"  # noqa: S608 - ours
            f" WHERE application_name = '{APP_NAME}' AND datname = '{self.pg_name}'"
        )
        return int(found[0][0])


class _Template:
    """A migrated database, made once per session, copied for each test."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.name = f"harness_template_{os.getpid()}"
        if ENGINE == "postgresql":
            with _admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'.encode())
                admin.execute(f'CREATE DATABASE "{self.name}"'.encode())
            Product(tmp, _postgres_url(self.name), self.name).manage("migrate", "-v", "0")
        else:
            self.file = tmp / "template.sqlite3"
            Product(tmp, f"sqlite:///{self.file}").manage("migrate", "-v", "0")

    def product(self, tmp: Path) -> Product:
        if ENGINE == "postgresql":
            name = f"harness_{os.getpid()}_{time.monotonic_ns() % 10**9}"
            with _admin() as admin:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"'.encode())
            return Product(tmp, _postgres_url(name), name)
        database = tmp / "product.sqlite3"
        shutil.copy(self.file, database)
        return Product(tmp, f"sqlite:///{database}")

    def drop(self, product: Product) -> None:
        if product.pg_name:
            with _admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{product.pg_name}" WITH (FORCE)'.encode())

    def close(self) -> None:
        if ENGINE == "postgresql":
            with _admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'.encode())


@pytest.fixture(scope="session")
def harness_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Template]:
    template = _Template(tmp_path_factory.mktemp("harness"))
    yield template
    template.close()


@pytest.fixture
def product(harness_template: _Template, tmp_path: Path) -> Iterator[Product]:
    found = harness_template.product(tmp_path)
    try:
        yield found
    finally:
        found.stop_all()
        harness_template.drop(found)
