"""Database trouble answers 503: unreachable, read-only (a failover, a full disk) or cut, the
product says so in the reader's language, with Retry-After, JSON for the API, no traceback,
and works again by itself when the database is back (no restart)."""

import contextlib
import logging
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import translation

from intersection.accounts import services as account_services
from intersection.accounts.models import Role

from .conftest import PASSWORD, free_port, login, make_user

TITLE = "Service temporarily unavailable"
TEXT = (
    "Our database does not answer at the moment. What you just sent may not have been "
    "saved: try again in a minute."
)
API_DETAIL = (
    "The service is temporarily unavailable: the database does not answer. Try again in a minute."
)


def _in(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def assert_unavailable_page(response: Any, language: str) -> None:
    """The translated 503 page, in the design system, with Retry-After and no traceback."""
    page = response.content.decode() if hasattr(response, "content") else response.text
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert f'<html lang="{language}">' in page
    assert _in(language, TITLE) in page and _in(language, TEXT) in page
    assert 'class="error-page"' in page and "/static/css/site.css" in page
    assert "Traceback" not in page and "OperationalError" not in page


def _sign_in(client: Client, language: str) -> Any:
    return client.post(
        "/accounts/login/",
        {"username": "m@example.org", "password": PASSWORD},
        headers={"accept-language": language},
    )


# --- In process: the database refuses writes ---------------------------------------------------
@contextmanager
def sqlite_read_only() -> Iterator[None]:
    """SQLite refuses every write ("attempt to write a readonly database"), as on a full or
    read-only disk."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = OFF")


@contextmanager
def postgresql_read_only() -> Iterator[None]:
    """PostgreSQL refuses every write (SQLSTATE 25006), as a standby does after a failover."""
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET default_transaction_read_only = off")


def read_only() -> Any:
    return sqlite_read_only() if connection.vendor == "sqlite" else postgresql_read_only()


@pytest.mark.django_db(transaction=True)  # outside a test transaction, as in production
def test_a_refused_write_answers_503_in_the_readers_language_then_works_again() -> None:
    make_user("m@example.org")
    client = Client(raise_request_exception=False)
    with read_only():
        assert client.get("/organisations/").status_code == 200  # reading still works
        assert_unavailable_page(_sign_in(client, "fr"), "fr")  # the sign-in writes
        assert_unavailable_page(_sign_in(client, "en"), "en")
    response = _sign_in(client, "en")
    assert response.status_code == 302  # signed in: the same connection writes again


@pytest.mark.django_db(transaction=True)
def test_a_refused_write_answers_json_503_to_the_api() -> None:
    user = make_user("m@example.org", role=Role.STAFF)
    _token, secret = account_services.token_create(user=user, name="monitor")
    client = Client(raise_request_exception=False)
    headers = {"authorization": f"Bearer {secret}", "accept-language": "en"}
    with read_only():
        response = client.get("/api/me", headers=headers)  # the token's first use is recorded
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.json() == {"detail": _in("en", API_DETAIL)}
    assert client.get("/api/me", headers=headers).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_saving_a_search_on_a_read_only_database_answers_503_to_a_signed_in_user(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = login(Client(raise_request_exception=False), make_user("s@ex.org", role=Role.STAFF))
    saving = {"name": "Quartier", "filters": "q=police"}
    with read_only(), caplog.at_level(logging.WARNING):
        response = client.post("/media-watch/saved/", saving, headers={"accept-language": "en"})
    assert_unavailable_page(response, "en")
    # One line for the operator, no traceback logged as an error for each request.
    assert [(r.levelname, r.getMessage().split(" (")[0]) for r in caplog.records] == [
        ("WARNING", "database unavailable: POST /media-watch/saved/ answered 503")
    ]
    assert all(r.exc_info is None for r in caplog.records)
    assert "s@ex.org" not in response.content.decode()  # rendered without the user
    assert client.post("/media-watch/saved/", saving).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_postgresql_read_only_transactions_answer_503() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLSTATE 25006 (read_only_sql_transaction) is PostgreSQL's; set DATABASE_URL")
    make_user("m@example.org")
    client = Client(raise_request_exception=False)
    with postgresql_read_only():
        assert_unavailable_page(_sign_in(client, "fr"), "fr")
    assert _sign_in(client, "fr").status_code == 302


def test_a_bug_is_still_a_500_not_a_503(rf: Any) -> None:
    from intersection import views

    request = rf.get("/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = views.server_error(request)
    assert response.status_code == 500 and not response.has_header("Retry-After")


# --- A real server whose database is unreachable -----------------------------------------------
class Server:
    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DIRECTORY_CACHE_SECONDS": "0",
            "LOG_LEVEL": "CRITICAL",
        }
        command = [
            sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
            "--port", str(self.port), "--log-level", "error", "intersection.wsgi:application",
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("granian stopped before answering")
            try:
                httpx.get(f"{self.url}/health/", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("granian did not answer within 30 s")

    def get(self, path: str, language: str = "fr", **kwargs: Any) -> httpx.Response:
        headers = {"accept-language": language, **kwargs.pop("headers", {})}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=10, **kwargs)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def server_without_database() -> Iterator[Server]:
    """granian, as `manage.py runall` starts it, with PostgreSQL on a port nobody listens on."""
    server = Server(f"postgres://postgres@127.0.0.1:{free_port()}/intersection")
    try:
        yield server
    finally:
        server.stop()


def test_health_says_down_when_the_database_does_not_answer(
    server_without_database: Server,
) -> None:
    response = server_without_database.get("/health/")
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {
        "status": "down",
        "database": "down",
        "workers": 0,
        "oldest_ready_task_s": None,
        "stuck_tasks": 0,
    }
    # A session cookie does not make it fail differently: the session is never read first.
    cookie = {"cookie": f"sessionid={'a' * 32}; csrftoken=x"}
    response = server_without_database.get("/health/", headers=cookie)
    assert response.status_code == 503 and response.json()["database"] == "down"


def test_pages_answer_the_translated_503_page_without_a_database(
    server_without_database: Server,
) -> None:
    for language in ("fr", "en"):
        assert_unavailable_page(server_without_database.get("/organisations/", language), language)
    # A signed-in visitor too: their session cannot be read, the page is rendered without it.
    signed_in = server_without_database.get("/", "en", headers={"cookie": "sessionid=" + "a" * 32})
    assert_unavailable_page(signed_in, "en")


def test_signing_in_without_a_database_answers_503(server_without_database: Server) -> None:
    with httpx.Client(base_url=server_without_database.url, timeout=10) as browser:
        form = browser.get("/accounts/login/", headers={"accept-language": "nl"})
        assert form.status_code == 200  # the form itself needs no database
        token = form.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        response = browser.post(
            "/accounts/login/",
            data={"csrfmiddlewaretoken": token, "username": "m@example.org", "password": "x"},
            headers={"accept-language": "nl", "referer": f"{server_without_database.url}/"},
        )
    assert_unavailable_page(response, "nl")


def test_the_api_answers_json_503_without_a_database(server_without_database: Server) -> None:
    response = server_without_database.get("/api/organisations", "en")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": _in("en", API_DETAIL)}


# --- A real server whose database goes away and comes back -------------------------------------
class Cuttable:
    """A TCP relay to PostgreSQL that can be cut (open connections dropped, new ones refused)
    and restored, on the same port: the database going away and coming back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        if self.listener is not None:
            self._drop(self.listener)
            self.listener = None
        for pair in self.pairs:
            for end in pair:
                self._drop(end)
        self.pairs.clear()

    @staticmethod
    def _drop(end: socket.socket) -> None:
        """Shut down first: a plain close waits for the thread blocked on the socket."""
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        end.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # cut
            upstream = socket.create_connection(self.target)
            self.pairs.append((client, upstream))
            threading.Thread(target=self._relay, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _relay(one: socket.socket, other: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(one, selectors.EVENT_READ, other)
            selector.register(other, selectors.EVENT_READ, one)
            while True:
                try:
                    for key, _mask in selector.select(timeout=1):
                        data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                        if not data:
                            return
                        key.data.sendall(data)
                except (OSError, ValueError):
                    return


def test_the_product_recovers_by_itself_when_the_database_is_back(
    transactional_db: None,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs a PostgreSQL server to cut and restore; set DATABASE_URL")
    database = connection.settings_dict
    relay = Cuttable((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432)))
    password = f":{database['PASSWORD']}" if database["PASSWORD"] else ""
    server = Server(
        f"postgres://{database['USER']}{password}@127.0.0.1:{relay.port}/{database['NAME']}"
    )
    try:
        assert server.get("/health/").json()["database"] == "ok"
        assert server.get("/organisations/").status_code == 200
        relay.cut()  # open connections dropped, new ones refused
        for _attempt in range(4):  # each of the server's threads, whatever its connection
            assert_unavailable_page(server.get("/organisations/"), "fr")
        relay.restore()
        # Pages first: /health/ closes a failed connection itself, which would hide a page
        # keeping a broken one.
        for _attempt in range(4):  # a failed connection is not kept: no restart needed
            assert server.get("/organisations/").status_code == 200
        assert server.get("/health/").json()["database"] == "ok"
        relay.cut()
        assert server.get("/health/").json()["database"] == "down"
        relay.restore()
        assert server.get("/health/").json()["database"] == "ok"
    finally:
        server.stop()
        relay.cut()
