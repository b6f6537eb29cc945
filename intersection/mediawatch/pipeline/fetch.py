"""Fetching feeds and pages safely: the parser only ever gets bytes.

Conditional GET, an honest User-Agent, timeouts and an overall deadline (slow-drip servers),
limits on the bytes received and on the bytes after decompression (gzip/deflate bombs),
a few redirects at most, http/https only, and the SSRF guard of `netguard` on every hop.
Every failure is a `FetchError` with a `kind` the caller records on the source.

Politeness spacing is pluggable (`HostSpacing`): `LocalSpacing` keeps requests to one host
apart within this process; the Django side shares it between workers through PostgreSQL.
"""

import hashlib
import time
import zlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from .netguard import AddressPolicy, AddressRefused, GuardedBackend


class FetchErrorKind(StrEnum):
    BAD_URL = "bad_url"
    REFUSED_ADDRESS = "refused_address"
    CONNECTION = "connection"
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    RATE_LIMITED = "rate_limited"
    HTTP_STATUS = "http_status"
    BAD_ENCODING = "bad_encoding"


class FetchError(Exception):
    def __init__(
        self,
        kind: FetchErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_seconds: float = 60.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_decoded_bytes: int = 30 * 1024 * 1024
    max_redirects: int = 5
    max_retry_after: float = 6 * 3600.0
    # Politeness: seconds between two requests to one host, for the default LocalSpacing.
    host_spacing: float = 0.0


@dataclass(frozen=True)
class Validators:
    """What the last successful fetch said, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    body: bytes
    not_modified: bool
    validators: Validators
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def parse_retry_after(value: str | None, now: float, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header (delay or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        moment = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, min(moment - now, cap))


class _Decoder:
    """Incremental gzip/deflate decoding that never produces more than `limit` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit = limit
        self.output = bytearray()
        wbits = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS}.get(encoding)
        self.raw_deflate_fallback = encoding == "deflate"
        self.decoder = zlib.decompressobj(wbits if wbits else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> None:
        while data:
            room = self.limit - len(self.output)
            try:
                piece = self.decoder.decompress(data, room + 1)
            except zlib.error as error:
                if self.raw_deflate_fallback and not self.output:
                    # Some servers send raw deflate without the zlib header.
                    self.raw_deflate_fallback = False
                    self.decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise FetchError(FetchErrorKind.BAD_ENCODING, f"corrupt body: {error}") from None
            self.raw_deflate_fallback = False
            self.output += piece
            if len(self.output) > self.limit:
                raise FetchError(
                    FetchErrorKind.TOO_LARGE, f"decompressed body over {self.limit} bytes"
                )
            data = self.decoder.unconsumed_tail

    def finish(self) -> bytes:
        self.output += self.decoder.flush()
        if len(self.output) > self.limit:
            raise FetchError(FetchErrorKind.TOO_LARGE, f"decompressed body over {self.limit} bytes")
        return bytes(self.output)


class _PlainBody:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.output = bytearray()

    def feed(self, data: bytes) -> None:
        self.output += data
        if len(self.output) > self.limit:
            raise FetchError(FetchErrorKind.TOO_LARGE, f"body over {self.limit} bytes")

    def finish(self) -> bytes:
        return bytes(self.output)


class HostSpacing(Protocol):
    """Keeps requests to one host apart: `wait(host)` returns when a request may go."""

    def wait(self, host: str) -> None: ...


class LocalSpacing:
    """At least `seconds` between two requests to one host from this process (one box).

    Hosts in `unspaced` are never waited for (the tests' and the offline demo's 127.0.0.1)."""

    def __init__(self, seconds: float, *, unspaced: frozenset[str] = frozenset()) -> None:
        self.seconds = seconds
        self.unspaced = unspaced
        self._last_request: dict[str, float] = {}

    def wait(self, host: str) -> None:
        if not self.seconds or host in self.unspaced:
            return
        wait = self._last_request.get(host, 0.0) + self.seconds - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request[host] = time.monotonic()


def _guarded_transport(policy: AddressPolicy) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(trust_env=False)
    # httpx has no public hook for the network backend: swap its pool for one that connects
    # only through the SSRF guard (same settings otherwise).
    transport._pool = httpcore.ConnectionPool(  # noqa: SLF001
        ssl_context=httpx.create_ssl_context(trust_env=False),
        network_backend=GuardedBackend(policy),
        max_connections=20,
        max_keepalive_connections=10,
        keepalive_expiry=30.0,
    )
    return transport


class Fetcher:
    """One HTTP client for many fetches; close it (or use `with`) when done."""

    def __init__(
        self,
        *,
        user_agent: str,
        policy: AddressPolicy,
        limits: FetchLimits | None = None,
        spacing: HostSpacing | None = None,
    ) -> None:
        self.limits = limits or FetchLimits()
        self.policy = policy
        self.spacing = spacing if spacing is not None else LocalSpacing(self.limits.host_spacing)
        self.client = httpx.Client(
            transport=_guarded_transport(policy),
            follow_redirects=False,
            timeout=httpx.Timeout(
                connect=self.limits.connect_timeout,
                read=self.limits.read_timeout,
                write=self.limits.read_timeout,
                pool=self.limits.connect_timeout,
            ),
            headers={
                "User-Agent": user_agent,
                # Only encodings we can decode within limits; brotli is not asked for.
                "Accept-Encoding": "gzip, deflate",
            },
        )

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, validators: Validators | None = None, accept: str = "*/*") -> Fetched:
        deadline = time.monotonic() + self.limits.total_seconds
        for _hop in range(self.limits.max_redirects + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FetchError(FetchErrorKind.BAD_URL, f"only http(s) URLs are fetched: {url!r}")
            self._space(parts.hostname)
            headers = {"Accept": accept}
            if validators and validators.etag:
                headers["If-None-Match"] = validators.etag
            elif validators and validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
            try:
                result = self._request(url, headers, deadline)
            except AddressRefused as error:
                raise FetchError(FetchErrorKind.REFUSED_ADDRESS, str(error)) from None
            except httpx.TimeoutException as error:
                raise FetchError(FetchErrorKind.TIMEOUT, f"timed out: {error!r}") from None
            except (httpx.TransportError, httpx.InvalidURL) as error:
                raise FetchError(
                    FetchErrorKind.CONNECTION, f"{type(error).__name__}: {error}"
                ) from None
            if isinstance(result, Fetched):
                return result
            url = result  # a redirect: check and fetch the next hop
        raise FetchError(
            FetchErrorKind.TOO_MANY_REDIRECTS, f"more than {self.limits.max_redirects} redirects"
        )

    def _space(self, host: str) -> None:
        """Wait for this host's turn (politeness spacing)."""
        self.spacing.wait(host)

    def _request(self, url: str, headers: dict[str, str], deadline: float) -> Fetched | str:
        with self.client.stream("GET", url, headers=headers) as response:
            status = response.status_code
            if status in (301, 302, 303, 307, 308) and response.headers.get("location"):
                return urljoin(url, response.headers["location"])
            found = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
            if status == 304:
                return Fetched(url, status, b"", True, found, "")
            if status in (429, 503):
                wait = parse_retry_after(
                    response.headers.get("retry-after"), time.time(), self.limits.max_retry_after
                )
                raise FetchError(
                    FetchErrorKind.RATE_LIMITED, f"HTTP {status}", status=status, retry_after=wait
                )
            if status >= 400:
                raise FetchError(FetchErrorKind.HTTP_STATUS, f"HTTP {status}", status=status)
            body = self._read(response, deadline)
            return Fetched(
                str(response.url), status, body, False, found,
                response.headers.get("content-type", ""),
            )  # fmt: skip

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_body_bytes:
            raise FetchError(FetchErrorKind.TOO_LARGE, f"announced {declared} bytes")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        sink: _Decoder | _PlainBody
        if encoding in ("gzip", "x-gzip", "deflate"):
            sink = _Decoder(encoding, self.limits.max_decoded_bytes)
        elif encoding in ("identity", ""):
            sink = _PlainBody(self.limits.max_body_bytes)
        else:
            raise FetchError(FetchErrorKind.BAD_ENCODING, f"unsupported encoding {encoding!r}")
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > self.limits.max_body_bytes:
                raise FetchError(FetchErrorKind.TOO_LARGE, f"body over {received} bytes")
            if time.monotonic() > deadline:
                raise FetchError(
                    FetchErrorKind.TIMEOUT, f"not finished after {self.limits.total_seconds} s"
                )
            sink.feed(chunk)
        return sink.finish()
