"""Behind a reverse proxy: sign-in lockouts and the audit log use the client's address, read
from X-Forwarded-For only when a trusted proxy sent it."""

from typing import Any

import pytest
from django.test import Client

from intersection.core.models import AuditEvent

from .conftest import PASSWORD, login, make_user

pytestmark = pytest.mark.django_db

PROXY = "192.0.2.10"
CLIENT_A = "203.0.113.5"
CLIENT_B = "203.0.113.6"
DIRECT = "198.51.100.7"  # connects to the application directly, not through the proxy
EMAIL = "officer@example.org"


@pytest.fixture(autouse=True)
def _behind_one_proxy(settings: Any) -> None:
    settings.PROXY_COUNT = 1
    settings.TRUSTED_PROXIES = [PROXY]
    make_user(EMAIL)


def _sign_in(password: str, *, remote: str = PROXY, forwarded: str | None = None) -> int:
    headers = {"x-forwarded-for": forwarded} if forwarded is not None else {}
    response = Client(REMOTE_ADDR=remote).post(
        "/accounts/login/", {"username": EMAIL, "password": password}, headers=headers
    )
    return response.status_code


def _fail_five_times(**where: str) -> None:
    """The fifth failure already answers with the lockout page."""
    assert [_sign_in("wrong", **where) for _ in range(5)] == [200, 200, 200, 200, 429]


def test_it_locks_the_client_behind_the_proxy_not_everyone_behind_it() -> None:
    _fail_five_times(forwarded=CLIENT_A)
    assert _sign_in(PASSWORD, forwarded=CLIENT_A) == 429
    # Another client behind the same proxy still signs in to the same account.
    assert _sign_in(PASSWORD, forwarded=CLIENT_B) == 302


def test_it_locks_a_client_that_forges_a_new_forwarded_address_each_time() -> None:
    # The client writes the left part of the header; the proxy appends the real address.
    for i in range(5):
        _sign_in("wrong", forwarded=f"198.51.100.{i}, {CLIENT_A}")
    assert _sign_in(PASSWORD, forwarded=f"198.51.100.99, {CLIENT_A}") == 429
    assert _sign_in(PASSWORD, forwarded=CLIENT_B) == 302


def test_it_reads_x_forwarded_for_only_from_a_trusted_proxy() -> None:
    # A client connecting directly cannot pass for another one by sending the header.
    for i in range(5):
        _sign_in("wrong", remote=DIRECT, forwarded=f"203.0.113.{i + 50}")
    assert _sign_in(PASSWORD, remote=DIRECT, forwarded=CLIENT_B) == 429
    assert _sign_in(PASSWORD, forwarded=CLIENT_B) == 302  # B, through the proxy, is not locked
    # Through the proxy, the header is what tells clients apart.
    _fail_five_times(forwarded=CLIENT_A)
    assert _sign_in(PASSWORD, forwarded=CLIENT_A) == 429
    assert _sign_in(PASSWORD, forwarded=CLIENT_B) == 302


def test_it_counts_a_malformed_forwarded_header_against_the_proxy_address() -> None:
    for forwarded in ("", "not-an-address", f"{CLIENT_A}:443", "203.0.113.5 203.0.113.6", ","):
        _sign_in("wrong", forwarded=forwarded)
    assert _sign_in(PASSWORD, forwarded="unknown") == 429  # all five kept the proxy's address
    assert _sign_in(PASSWORD, forwarded=CLIENT_B) == 302  # well-formed: B's own address


def test_it_records_the_client_behind_two_proxies_in_the_audit_log(settings: Any) -> None:
    settings.PROXY_COUNT = 2
    settings.TRUSTED_PROXIES = ["2001:db8:1::/64"]
    client = login(Client(REMOTE_ADDR="2001:db8:1::10"), make_user("client@example.org"))
    # Forged by the client, then the client's address seen by the outer proxy, then the
    # outer proxy's address seen by the inner one.
    forwarded = f"198.51.100.1, {CLIENT_A}, 2001:db8:1::20"
    client.post("/accounts/security/", {"name": "Intranet"}, headers={"x-forwarded-for": forwarded})
    assert AuditEvent.objects.get(action="token.create").ip_address == CLIENT_A
    # A request that does not come from a trusted proxy is recorded with its own address.
    direct = login(Client(REMOTE_ADDR="2001:db8:2::5"), make_user("other@example.org"))
    direct.post("/accounts/security/", {"name": "Other"}, headers={"x-forwarded-for": CLIENT_B})
    latest = AuditEvent.objects.filter(action="token.create").first()
    assert latest is not None and latest.ip_address == "2001:db8:2::5"
