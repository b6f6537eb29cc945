"""The SSRF guard's decisions, as tables of pure decisions: no connection is ever opened to
the addresses below (a test that fetches routes any connection outside 127.0.0.1 to a
tripwire that records it and refuses)."""

import socket
from collections.abc import Iterator
from typing import Any

import httpcore
import pytest

from intersection.mediawatch.pipeline import netguard
from intersection.mediawatch.pipeline.fetch import Fetcher, FetchError, FetchErrorKind
from intersection.mediawatch.pipeline.netguard import AddressPolicy, AddressRefused

from .conftest import LocalServer, reply

PUBLIC = "93.184.216.34"  # a public address: only ever a decision or a tripwire here

# (address, reachable by the fetcher): both families, with every IPv4 embedding in IPv6.
ADDRESSES = [
    # IPv4
    ("93.184.216.34", True),
    ("8.8.8.8", True),
    ("1.1.1.1", True),
    ("127.0.0.1", False),
    ("10.0.0.1", False),
    ("172.16.5.4", False),
    ("192.168.1.1", False),
    ("169.254.169.254", False),  # cloud metadata
    ("100.64.0.1", False),  # carrier-grade NAT
    ("0.0.0.0", False),
    ("224.0.0.1", False),  # multicast
    ("255.255.255.255", False),
    ("192.0.2.1", False),  # documentation
    # IPv6
    ("2606:4700:4700::1111", True),
    ("2001:4860:4860::8888", True),
    ("2620:fe::fe", True),
    ("::1", False),
    ("::", False),
    ("fe80::1", False),  # link-local
    ("fe80::1%eth0", False),  # with a zone
    ("fc00::1", False),  # unique local
    ("fd12:3456::1", False),
    ("fec0::1", False),  # site-local (deprecated; Python 3.13 calls it global)
    ("fec0:0:0:1::5", False),
    ("ff02::1", False),  # multicast
    ("ff0e::1", False),  # global-scope multicast: still no
    ("2001:db8::1", False),  # documentation
    # IPv4-mapped
    ("::ffff:93.184.216.34", True),
    ("::ffff:127.0.0.1", False),
    ("::ffff:10.0.0.1", False),
    # IPv4-compatible (deprecated)
    ("::127.0.0.1", False),
    ("::10.0.0.1", False),
    ("::169.254.169.254", False),
    ("::8.8.8.8", True),
    # IPv4-translated (RFC 2765)
    ("::ffff:0:a00:1", False),
    ("::ffff:0:7f00:1", False),
    ("::ffff:0:808:808", True),
    # NAT64, well-known prefix (RFC 6052) and local-use prefix (RFC 8215)
    ("64:ff9b::a00:1", False),
    ("64:ff9b::7f00:1", False),
    ("64:ff9b::a9fe:a9fe", False),
    ("64:ff9b::c0a8:101", False),
    ("64:ff9b::808:808", True),
    ("64:ff9b:1::808:808", False),
    # 6to4 and Teredo
    ("2002:a00:1::1", False),
    ("2002:808:808::1", False),  # 6to4 is not global for ipaddress: refused whatever it carries
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
]


def _reachable(policy: AddressPolicy, address: str) -> bool:
    try:
        policy.check("news.example.test", address)
    except AddressRefused:
        return False
    return True


def test_it_decides_on_every_address_and_on_the_ipv4_address_it_carries() -> None:
    policy = AddressPolicy()
    assert len(ADDRESSES) >= 25
    wrong = [
        (address, reachable)
        for address, reachable in ADDRESSES
        if _reachable(policy, address) != reachable
    ]
    assert wrong == []  # (address, what the fetcher should do) for every wrong decision


def test_it_allows_web_ports_on_public_addresses_and_any_port_on_listed_ones() -> None:
    Refusal = netguard.Refusal  # noqa: N806
    policy = AddressPolicy(frozenset({"127.0.0.1"}))
    decisions = {
        (PUBLIC, 80): None, (PUBLIC, 443): None, (PUBLIC, 8080): None, (PUBLIC, 8443): None,
        (PUBLIC, 5432): Refusal.PORT, (PUBLIC, 22): Refusal.PORT, (PUBLIC, 6379): Refusal.PORT,
        ("127.0.0.1", 5432): None, ("127.0.0.1", 43210): None,
        ("10.0.0.1", 80): Refusal.PRIVATE, ("10.0.0.1", 5432): Refusal.PRIVATE,
    }  # fmt: skip
    found = {
        (address, port): policy.refusal("example.test", address, port)
        for address, port in decisions
    }
    assert found == decisions
    narrower = AddressPolicy(ports=frozenset({443}))  # MEDIAWATCH_ALLOWED_PORTS
    assert narrower.refusal("example.test", PUBLIC, 80) is Refusal.PORT


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Test host names resolve to the addresses given here, without DNS."""
    names: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host in names:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port))
                for a in names[host]
            ]  # fmt: skip
        if host.endswith(".test"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def test_it_checks_a_url_without_connecting(resolver: dict[str, list[str]]) -> None:
    Refusal = netguard.Refusal  # noqa: N806
    resolver.update(
        {
            "news.example.test": [PUBLIC],
            "intranet.example.test": ["10.0.0.7"],
            "mixed.example.test": [PUBLIC, "fec0::1"],
            "nat64.example.test": ["64:ff9b::a9fe:a9fe"],
        }
    )
    policy = AddressPolicy()
    cases = {
        "https://news.example.test/rss": (None, ""),
        "http://news.example.test:8080/rss": (None, ""),
        "https://news.example.test:5432/rss": (Refusal.PORT, PUBLIC),
        "http://169.254.169.254/latest/meta-data/": (Refusal.PRIVATE, "169.254.169.254"),
        "http://10.0.0.1/": (Refusal.PRIVATE, "10.0.0.1"),
        "http://[::ffff:0:a00:1]/": (Refusal.PRIVATE, "::ffff:0:a00:1"),
        "https://intranet.example.test/feed": (Refusal.PRIVATE, "10.0.0.7"),
        "https://mixed.example.test/feed": (Refusal.PRIVATE, "fec0::1"),
        "https://nat64.example.test/feed": (Refusal.PRIVATE, "64:ff9b::a9fe:a9fe"),
        "https://gone.example.test/feed": (Refusal.UNRESOLVABLE, ""),
        "ftp://news.example.test/rss": (Refusal.SCHEME, ""),
        "file:///etc/passwd": (Refusal.SCHEME, ""),
        "http://news.example.test:port/": (Refusal.BAD_PORT, ""),
    }
    found = {}
    for url in cases:
        check = netguard.check_url(url, policy)
        found[url] = (check.refusal, check.address if check.refusal else "")
    assert found == cases


@pytest.fixture
def tripwire(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int]]]:
    """Any connection the fetcher would open outside 127.0.0.1 is recorded and refused."""
    attempts: list[tuple[str, int]] = []
    real = httpcore.SyncBackend.connect_tcp

    def connect_tcp(self: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host != "127.0.0.1":
            attempts.append((host, port))
            raise httpcore.ConnectError("tripwire: no connection outside 127.0.0.1 in tests")
        return real(self, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect_tcp)
    yield attempts


def test_the_fetcher_refuses_a_non_web_port_on_a_redirect_hop(
    web: LocalServer, resolver: dict[str, list[str]], tripwire: list[tuple[str, int]]
) -> None:
    resolver["news.example.test"] = [PUBLIC]
    web.routes["/jump"] = reply(
        b"", status=302, headers={"Location": "http://news.example.test:5432/feed"}
    )
    with (
        Fetcher(user_agent="test", policy=AddressPolicy(frozenset({"127.0.0.1"}))) as client,
        pytest.raises(FetchError) as error,
    ):
        client.fetch(web.url("/jump"))  # 127.0.0.1 is listed: any port there
    assert error.value.kind == FetchErrorKind.REFUSED_ADDRESS
    assert "port 5432" in str(error.value)
    assert tripwire == []
