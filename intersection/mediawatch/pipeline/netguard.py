"""SSRF guard: refuse to connect to loopback, private, link-local, multicast or reserved
addresses, after DNS resolution and right before each connection (every redirect hop and
every new connection), so a name that resolves to an internal address is never reached.

The guard lives in the network backend of the HTTP client: the address that was checked is
the address connected to (no second DNS lookup that could answer differently)."""

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpcore


class AddressRefused(Exception):  # noqa: N818 - reads as the event it reports
    """The destination resolves to an address the fetcher must not reach."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to {address}, a non-public address: refused")
        self.host = host
        self.address = address


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses only, except those listed (e.g. 127.0.0.1 for tests and the demo)."""

    allowed: frozenset[str] = field(default_factory=frozenset)

    def check(self, host: str, address: str) -> None:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if address in self.allowed or host in self.allowed:
            return
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            raise AddressRefused(host, address)

    def resolve(self, host: str, port: int) -> list[str]:
        """Every address of `host`, each checked; raises before anything is connected."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for address in addresses:
            self.check(host, address)
        return addresses


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
