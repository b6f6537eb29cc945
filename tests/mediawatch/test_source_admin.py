"""A curator saving a news source in the back office: its address is checked with the
fetcher's own address policy when it is saved, not at the next poll, and the form says why.
Host names resolve through a patched resolver (no DNS); nothing is ever connected."""

import socket
from typing import Any

import pytest
from django.test import Client

from intersection.accounts.models import Role
from intersection.mediawatch.models import PauseReason, Source, SourceKind

from ..conftest import login, make_user

pytestmark = pytest.mark.django_db

ADD = "/admin/mediawatch/source/add/"
EN = {"Accept-Language": "en"}
NAMES = {
    "news.example.test": "93.184.216.34",  # public
    "intranet.example.test": "10.20.30.40",  # a public-looking name, a private address
}


@pytest.fixture
def curator(monkeypatch: pytest.MonkeyPatch) -> Client:
    """A staff member signed in to the back office; test names resolve without DNS and any
    connection attempt is recorded and refused."""
    attempts: list[Any] = []

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in NAMES:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (NAMES[host], port))]

    def tripwire(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise ConnectionRefusedError("tripwire: the form must not connect")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", tripwire)
    client = login(Client(), make_user("curator@example.org", role=Role.STAFF))
    client.attempts = attempts  # type: ignore[attr-defined]
    return client


def add(client: Client, url: str, **fields: str) -> str:
    data = {"name": "Journal", "kind": SourceKind.FEED, "url": url, "poll_minutes": "60"}
    data |= {"active": "on", **fields}
    if not data["active"]:
        del data["active"]
    response = client.post(ADD, data, headers=EN)
    if response.status_code == 302:
        return "saved"
    assert response.status_code == 200
    return response.content.decode()


def test_it_refuses_addresses_the_fetcher_would_refuse_and_says_why(
    curator: Client, settings: Any
) -> None:
    settings.MEDIAWATCH_ALLOWED_ADDRESSES = []  # production: 127.0.0.1 is not allowed
    refused = {
        "http://169.254.169.254/latest/meta-data/": "points inside a private network "
        "(169.254.169.254): the media watch only fetches public sites.",
        "http://10.0.0.1/rss": "points inside a private network (10.0.0.1)",
        "https://intranet.example.test/feed": "points inside a private network (10.20.30.40)",
        "http://127.0.0.1:5432/": "points inside a private network (127.0.0.1)",
        "https://news.example.test:5432/rss": "Port 5432 is not allowed: use a web address "
        "(port 80 or 443).",
        "https://gone.example.test/rss": "This host name cannot be found.",
        "ftp://news.example.test/rss": "Only http:// and https:// addresses can be fetched.",
    }
    answers = {url: add(curator, url) for url in refused}
    assert [url for url, message in refused.items() if message not in answers[url]] == []
    search = add(
        curator,
        "http://10.0.0.1/search?q={query}",
        kind=SourceKind.SEARCH_FEED,
        query="police de proximité",
    )
    assert "points inside a private network (10.0.0.1)" in search
    assert not Source.objects.exists()
    assert curator.attempts == []  # type: ignore[attr-defined]


def test_it_saves_a_public_source_and_keeps_pausing_and_resuming_in_words(
    curator: Client,
) -> None:
    assert add(curator, "https://news.example.test/rss", active="") == "saved"
    source = Source.objects.get()
    assert (source.active, source.pause_reason) == (False, PauseReason.BY_CURATOR)
    assert curator.attempts == []  # type: ignore[attr-defined]
    # Resumed by the curator: no reason left; the failure streak is kept as recorded.
    Source.objects.filter(pk=source.pk).update(consecutive_failures=3)
    change = f"/admin/mediawatch/source/{source.pk}/change/"
    data = {
        "name": "Journal", "kind": SourceKind.FEED, "url": "https://news.example.test/rss",
        "poll_minutes": "60", "active": "on", "pause_reason": PauseReason.BY_CURATOR,
    }  # fmt: skip
    assert curator.post(change, data, headers=EN).status_code == 302
    source.refresh_from_db()
    assert (source.active, source.pause_reason, source.consecutive_failures) == (True, "", 3)
    # Paused after failures, then edited by a curator while still paused: that reason stays.
    Source.objects.filter(pk=source.pk).update(active=False, pause_reason=PauseReason.FAILURES)
    del data["active"]
    data["pause_reason"] = PauseReason.FAILURES
    assert curator.post(change, data, headers=EN).status_code == 302
    source.refresh_from_db()
    assert (source.active, source.pause_reason) == (False, PauseReason.FAILURES)
