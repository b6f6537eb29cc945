"""Real HTTP servers on 127.0.0.1 that serve whatever a test routes to them, and the mark of
tests that need PostgreSQL."""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection

from intersection.mediawatch import services
from intersection.mediawatch.pipeline.fetch import Fetcher

Handler = Callable[[BaseHTTPRequestHandler], None]

# The stored search vector and its keys exist on PostgreSQL only. Such a test runs whenever
# DATABASE_URL names a PostgreSQL database: `make test`'s second run, and CI (.ci/run).
POSTGRES_ONLY = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the search vector exists on PostgreSQL only: runs when DATABASE_URL names a"
    " PostgreSQL database (make test's second run, CI)",
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], box: "LocalServer") -> None:
        self.box = box
        super().__init__(address, _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up on purpose (limits, timeouts) is not an error here

    def get_request(self) -> Any:
        connection = super().get_request()
        self.box.connections += 1
        return connection


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        box: LocalServer = self.server.box  # type: ignore[attr-defined]
        box.requests.append((self.path, dict(self.headers.items())))
        route = box.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        route(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class LocalServer:
    host: str
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    connections: int = 0
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"


def serve(host: str) -> Iterator[LocalServer]:
    box = LocalServer(host)
    server = _Server((host, 0), box)
    box.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def web() -> Iterator[LocalServer]:
    yield from serve("127.0.0.1")


@pytest.fixture
def other_loopback() -> Iterator[LocalServer]:
    """A second server on 127.0.0.2: loopback, never allowed by the tests' policy."""
    yield from serve("127.0.0.2")


def reply(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        all_headers = {"Content-Length": str(len(body)), **(headers or {})}
        for name, value in all_headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(body)

    return handler


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    """The client the polling task uses (127.0.0.1 allowed by the test settings)."""
    with services.fetcher_for_settings() as client:
        yield client
