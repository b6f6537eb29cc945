"""SSRF guard: refuse to connect to loopback, private, link-local, multicast or reserved
addresses, or to ports that are not web ports, after DNS resolution and right before each
connection (every redirect hop and every new connection), so a name that resolves to an
internal address is never reached.

The guard lives in the network backend of the HTTP client: the address that was checked is
the address connected to (no second DNS lookup that could answer differently).

An IPv6 address can carry an IPv4 address (IPv4-mapped, IPv4-compatible, IPv4-translated,
NAT64, 6to4, Teredo), which some networks route to that IPv4 address: both the IPv6 address
and every IPv4 address it carries must be public. `check_url` asks the same questions of a
URL without connecting, for the curator's form."""

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpcore

from .urls import DEFAULT_PORTS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
WEB_PORTS = frozenset({80, 443, 8080, 8443})
_V6 = ipaddress.IPv6Network
# Prefixes whose last 32 bits are an IPv4 address: IPv4-compatible (::a.b.c.d, deprecated),
# IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d, RFC 2765) and the NAT64
# well-known prefix (64:ff9b::/96, RFC 6052).
LAST_32_BITS = (_V6("::/96"), _V6("::ffff:0:0/96"), _V6("::ffff:0:0:0/96"), _V6("64:ff9b::/96"))
# Local-use NAT64 (RFC 8215): the operator chooses where the IPv4 address sits, so the
# whole prefix is refused (ipaddress counts it as not global, checked here all the same).
NAT64_LOCAL = _V6("64:ff9b:1::/48")


class Refusal(StrEnum):
    """Why a destination is refused; the form turns each into a sentence."""

    SCHEME = "scheme"
    NO_HOST = "no_host"
    BAD_PORT = "bad_port"
    UNRESOLVABLE = "unresolvable"
    PRIVATE = "private"
    PORT = "port"


class AddressRefused(Exception):  # noqa: N818 - reads as the event it reports
    """The destination resolves to an address the fetcher must not reach."""

    def __init__(self, host: str, address: str, message: str = "") -> None:
        super().__init__(message or f"{host} resolves to {address}, a non-public address: refused")
        self.host = host
        self.address = address


class PortRefused(AddressRefused):
    """The destination is public, but its port is not a web port."""

    def __init__(self, host: str, address: str, port: int) -> None:
        super().__init__(host, address, f"{host}: port {port} is not a web port: refused")
        self.port = port


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address carries, by any of the known embeddings."""
    found = []
    if any(ip in prefix for prefix in LAST_32_BITS):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # the Teredo server and the (de-obfuscated) client
    return found


def is_public(ip: IPAddress) -> bool:
    """A global unicast address, carrying no IPv4 address that is not one."""
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local or ip in NAT64_LOCAL:
            return False
        return all(is_public(inner) for inner in embedded_ipv4(ip))
    return True


def parse_address(address: str) -> IPAddress:
    return ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone (%eth0)


Resolver = Callable[..., list[tuple[Any, ...]]]


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses on web ports only, except the addresses or host names listed (e.g.
    127.0.0.1 for tests and the demo), which may be reached on any port."""

    allowed: frozenset[str] = field(default_factory=frozenset)
    ports: frozenset[int] = WEB_PORTS

    def refusal(self, host: str, address: str, port: int | None = None) -> Refusal | None:
        """Why this destination is refused, or None: a decision, nothing is connected."""
        if address in self.allowed or host in self.allowed:
            return None
        try:
            ip = parse_address(address)
        except ValueError:
            return Refusal.PRIVATE  # not an address we can judge
        if str(ip) in self.allowed:
            return None
        if not is_public(ip):
            return Refusal.PRIVATE
        if port is not None and port not in self.ports:
            return Refusal.PORT
        return None

    def check(self, host: str, address: str, port: int | None = None) -> None:
        refused = self.refusal(host, address, port)
        if refused is Refusal.PORT and port is not None:
            raise PortRefused(host, address, port)
        if refused is not None:
            raise AddressRefused(host, address)

    def resolve(self, host: str, port: int) -> list[str]:
        """Every address of `host`, each checked; raises before anything is connected."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            self.check(host, address, port)
        return addresses


@dataclass(frozen=True)
class UrlCheck:
    """What `check_url` found: no refusal, or the refusal with what it is about."""

    refusal: Refusal | None
    host: str = ""
    address: str = ""
    port: int | None = None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def check_url(url: str, policy: AddressPolicy, resolver: Resolver | None = None) -> UrlCheck:
    """Would the fetcher go to this URL? The scheme, the host, the port, that the host
    resolves, and every address it resolves to, by the fetcher's own policy. It resolves
    the name (DNS) but never connects."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        explicit_port = parts.port
    except ValueError:
        return UrlCheck(Refusal.BAD_PORT)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return UrlCheck(Refusal.SCHEME)
    if not host:
        return UrlCheck(Refusal.NO_HOST)
    port = explicit_port if explicit_port is not None else DEFAULT_PORTS[scheme]
    try:
        addresses = [str(parse_address(host))]  # an address written in the URL
    except ValueError:
        addresses = _resolved(host, port, resolver or socket.getaddrinfo)
    if not addresses:
        return UrlCheck(Refusal.UNRESOLVABLE, host, port=port)
    for address in addresses:
        refused = policy.refusal(host, address, port)
        if refused is not None:
            return UrlCheck(refused, host, address, port)
    return UrlCheck(None, host, addresses[0], port)


def _resolved(host: str, port: int, resolver: Resolver) -> list[str]:
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # socket.gaierror is an OSError
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedBackend(httpcore.SyncBackend):
    """httpcore network backend that checks, then connects to the checked address."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self.policy.resolve(host, port)
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)
