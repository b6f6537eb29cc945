"""Fetching against real servers on 127.0.0.1: limits, redirects, conditional GET, SSRF."""

import gzip
import time
import zlib
from http.server import BaseHTTPRequestHandler

import pytest

from intersection.mediawatch.pipeline.fetch import (
    Fetcher,
    FetchError,
    FetchErrorKind,
    FetchLimits,
    Validators,
    parse_retry_after,
)
from intersection.mediawatch.pipeline.netguard import AddressPolicy, AddressRefused

from .conftest import LocalServer, reply

UA = "Intersection-mediawatch/1.0 (+https://intersection.example/about)"
LOCAL = AddressPolicy(frozenset({"127.0.0.1"}))


def fetcher(**limits: float) -> Fetcher:
    return Fetcher(user_agent=UA, policy=LOCAL, limits=FetchLimits(**limits))  # type: ignore[arg-type]


def fetch_error(url: str, **limits: float) -> FetchError:
    with fetcher(**limits) as client, pytest.raises(FetchError) as error:
        client.fetch(url)
    return error.value


def test_it_fetches_bytes_and_names_itself(web: LocalServer) -> None:
    web.routes["/feed"] = reply(b"<rss/>", headers={"Content-Type": "application/rss+xml"})
    with fetcher() as client:
        result = client.fetch(web.url("/feed"))
    assert result.body == b"<rss/>" and result.status == 200
    assert result.content_type == "application/rss+xml"
    assert web.requests[0][1]["User-Agent"] == UA


def test_it_sends_if_none_match_and_understands_304(web: LocalServer) -> None:
    def conditional(request: BaseHTTPRequestHandler) -> None:
        if request.headers.get("If-None-Match") == '"v1"':
            reply(b"", status=304)(request)
        else:
            reply(b"<rss/>", headers={"ETag": '"v1"'})(request)

    web.routes["/feed"] = conditional
    with fetcher() as client:
        first = client.fetch(web.url("/feed"))
        second = client.fetch(web.url("/feed"), first.validators)
    assert first.validators.etag == '"v1"'
    assert second.not_modified and second.body == b""


def test_it_falls_back_to_if_modified_since(web: LocalServer) -> None:
    web.routes["/feed"] = reply(b"", status=304)
    stamp = "Mon, 30 Nov 2026 08:00:00 GMT"
    with fetcher() as client:
        result = client.fetch(web.url("/feed"), Validators(last_modified=stamp))
    assert result.not_modified
    assert web.requests[0][1]["If-Modified-Since"] == stamp
    assert "If-None-Match" not in web.requests[0][1]


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, no zlib header
    ],
)
def test_it_decodes_compressed_bodies(web: LocalServer, encoding: str, compress: object) -> None:
    body = "Police de proximité — ".encode() * 100
    web.routes["/feed"] = reply(compress(body), headers={"Content-Encoding": encoding})  # type: ignore[operator]
    with fetcher() as client:
        assert client.fetch(web.url("/feed")).body == body


def test_it_stops_a_gzip_bomb_without_inflating_it(web: LocalServer) -> None:
    bomb = gzip.compress(b"\0" * (200 * 1024 * 1024))  # 200 MB of zeros in ~200 KB
    web.routes["/bomb"] = reply(bomb, headers={"Content-Encoding": "gzip"})
    error = fetch_error(web.url("/bomb"), max_decoded_bytes=1024 * 1024)
    assert error.kind == FetchErrorKind.TOO_LARGE


def test_it_refuses_encodings_it_did_not_ask_for(web: LocalServer) -> None:
    web.routes["/br"] = reply(b"\x1b\x00\x00", headers={"Content-Encoding": "br"})
    assert fetch_error(web.url("/br")).kind == FetchErrorKind.BAD_ENCODING


def test_it_refuses_a_body_announced_too_large_before_reading_it(web: LocalServer) -> None:
    def announce(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", str(50 * 1024 * 1024))
        request.end_headers()
        request.wfile.write(b"x" * 1024)

    web.routes["/huge"] = announce
    assert (
        fetch_error(web.url("/huge"), max_body_bytes=1024 * 1024).kind == FetchErrorKind.TOO_LARGE
    )


def test_it_stops_reading_an_endless_body(web: LocalServer) -> None:
    def endless(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(1000):  # 64 MB at most, then the test server gives up
                request.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass

    web.routes["/endless"] = endless
    error = fetch_error(web.url("/endless"), max_body_bytes=2 * 1024 * 1024)
    assert error.kind == FetchErrorKind.TOO_LARGE


def test_it_gives_up_on_a_slow_drip(web: LocalServer) -> None:
    def drip(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Length", "100")
        request.end_headers()
        try:
            for _ in range(100):
                request.wfile.write(b"x")
                request.wfile.flush()
                time.sleep(0.3)
        except (BrokenPipeError, ConnectionResetError):
            pass

    web.routes["/drip"] = drip
    started = time.monotonic()
    error = fetch_error(web.url("/drip"), total_seconds=1.0, read_timeout=5.0)
    assert error.kind == FetchErrorKind.TIMEOUT
    assert time.monotonic() - started < 5


def test_it_follows_a_few_redirects_then_stops(web: LocalServer) -> None:
    web.routes["/old"] = reply(b"", status=301, headers={"Location": "/new"})
    web.routes["/new"] = reply(b"<rss/>")
    web.routes["/loop"] = reply(b"", status=302, headers={"Location": "/loop"})
    with fetcher() as client:
        moved = client.fetch(web.url("/old"))
    assert moved.body == b"<rss/>" and moved.url.endswith("/new")
    error = fetch_error(web.url("/loop"), max_redirects=3)
    assert error.kind == FetchErrorKind.TOO_MANY_REDIRECTS
    assert sum(1 for path, _ in web.requests if path == "/loop") == 4  # the first + 3 hops


def test_it_only_fetches_http_and_https(web: LocalServer) -> None:
    web.routes["/to-file"] = reply(b"", status=302, headers={"Location": "file:///etc/passwd"})
    assert fetch_error("ftp://example.org/feed").kind == FetchErrorKind.BAD_URL
    assert fetch_error(web.url("/to-file")).kind == FetchErrorKind.BAD_URL


def test_it_reports_rate_limits_with_the_capped_retry_after(web: LocalServer) -> None:
    web.routes["/busy"] = reply(b"", status=429, headers={"Retry-After": "120"})
    web.routes["/down"] = reply(b"", status=503, headers={"Retry-After": "999999"})
    busy = fetch_error(web.url("/busy"))
    assert busy.kind == FetchErrorKind.RATE_LIMITED and busy.retry_after == 120
    assert fetch_error(web.url("/down"), max_retry_after=3600).retry_after == 3600


def test_it_reads_retry_after_dates() -> None:
    now = 1_800_000_000.0
    assert parse_retry_after("Fri, 15 Jan 2027 08:00:00 GMT", now, 10**9) is not None
    assert parse_retry_after("soon", now, 60) is None


def test_it_reports_http_errors_and_dead_servers(web: LocalServer) -> None:
    web.routes["/broken"] = reply(b"oops", status=500)
    broken = fetch_error(web.url("/broken"))
    assert broken.kind == FetchErrorKind.HTTP_STATUS and broken.status == 500
    dead_port = web.port
    web_url = f"http://127.0.0.1:{dead_port + 1 if dead_port < 65535 else 1}/feed"
    assert fetch_error(web_url, connect_timeout=2).kind in {
        FetchErrorKind.CONNECTION,
        FetchErrorKind.TIMEOUT,
    }


def test_it_refuses_loopback_without_connecting(web: LocalServer) -> None:
    web.routes["/feed"] = reply(b"<rss/>")
    with Fetcher(user_agent=UA, policy=AddressPolicy()) as strict:
        for url in (web.url("/feed"), f"http://localhost:{web.port}/feed"):
            with pytest.raises(FetchError) as error:
                strict.fetch(url)
            assert error.value.kind == FetchErrorKind.REFUSED_ADDRESS
    assert web.connections == 0


def test_it_checks_every_redirect_hop(web: LocalServer, other_loopback: LocalServer) -> None:
    other_loopback.routes["/secret"] = reply(b"internal")
    web.routes["/jump"] = reply(
        b"", status=302, headers={"Location": other_loopback.url("/secret")}
    )
    assert fetch_error(web.url("/jump")).kind == FetchErrorKind.REFUSED_ADDRESS
    assert other_loopback.connections == 0


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.254",
        "192.168.1.1", "169.254.169.254", "fe80::1", "fc00::1", "224.0.0.1", "ff02::1",
        "0.0.0.0", "100.64.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    ],
)  # fmt: skip
def test_it_refuses_non_public_addresses_before_any_connection(address: str) -> None:
    # A pure check on the resolved address: nothing is ever sent to these ranges.
    with pytest.raises(AddressRefused):
        AddressPolicy().check("example.test", address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_it_accepts_public_addresses(address: str) -> None:
    AddressPolicy().check("example.test", address)


def test_it_spaces_requests_to_the_same_public_host() -> None:
    # Pure check of the spacing clock: no request leaves the machine.
    client = Fetcher(user_agent=UA, policy=AddressPolicy(), limits=FetchLimits(host_spacing=0.3))
    started = time.monotonic()
    client._space("news.example.org")
    client._space("news.example.org")  # waits for the first one's spacing
    client._space("other.example.org")  # another host: no wait
    assert time.monotonic() - started >= 0.3
    client.close()
