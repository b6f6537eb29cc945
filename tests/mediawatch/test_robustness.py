"""Hostile and broken sources, end to end through `poll_source`: every case ends in a
recorded, explained source status; none raises, none leaves partial rows."""

import gzip
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

import pytest
from django.utils import timezone

from intersection.mediawatch import services
from intersection.mediawatch.models import Article, ArticleVersion, Source, SourceKind
from intersection.mediawatch.pipeline.fetch import Fetcher, FetchLimits
from intersection.mediawatch.pipeline.netguard import AddressPolicy

from .conftest import Handler, LocalServer, reply

pytestmark = pytest.mark.django_db

LONG = " ".join(["La police de proximité rencontre les habitants du quartier."] * 12)


def rss(items: str) -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()


def item(guid: str, title: str = "Titre", link: str = "", text: str = LONG, date: str = "") -> str:
    link_tag = f"<link>{link}</link>" if link else ""
    date_tag = f"<pubDate>{date}</pubDate>" if date else ""
    guid_tag = f'<guid isPermaLink="false">{guid}</guid>' if guid else ""
    return f"<item>{guid_tag}<title>{title}</title>{link_tag}<description>{text}</description>{date_tag}</item>"


def redirect(location: str) -> Handler:
    return reply(b"", status=302, headers={"Location": location})


def endless(request: BaseHTTPRequestHandler) -> None:
    request.send_response(200)
    request.send_header("Transfer-Encoding", "chunked")
    request.end_headers()
    chunk = b"<item>" * 10000
    try:
        for _ in range(2000):
            request.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    except (BrokenPipeError, ConnectionResetError):
        pass


def drip(request: BaseHTTPRequestHandler) -> None:
    request.send_response(200)
    request.send_header("Content-Length", "1000")
    request.end_headers()
    try:
        for _ in range(1000):
            request.wfile.write(b"<")
            request.wfile.flush()
            time.sleep(0.2)
    except (BrokenPipeError, ConnectionResetError):
        pass


def truncated(request: BaseHTTPRequestHandler) -> None:
    request.send_response(200)
    request.send_header("Content-Length", "5000")
    request.end_headers()
    request.wfile.write(rss(item("urn:t:1"))[:200])
    request.close_connection = True


@dataclass(frozen=True)
class Case:
    name: str
    routes: Callable[[LocalServer, LocalServer], dict[str, Handler]]
    status: str  # the source's recorded outcome: an error kind, or "ok"
    stored: int = 0  # versions stored


BOMB = gzip.compress(b" " * (64 * 1024 * 1024))
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]><rss version="2.0"><channel><title>&g;</title></channel></rss>"""

CASES = [
    Case("malformed xml", lambda w, o: {"/f": reply(b"<rss><channel><item><title>x</item>")}, "ok", 0),  # repaired; the item has no id
    Case("entity expansion", lambda w, o: {"/f": reply(LAUGHS)}, "ok", 0),  # not expanded: "&g;" stays text
    Case("external entity", lambda w, o: {"/f": reply(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0"><channel><title>&x;</title></channel></rss>')}, "ok", 0),  # not expanded
    Case("wrong charset declaration", lambda w, o: {"/f": reply(rss(item("urn:t:1", "Sécurité")).replace(b"S\xc3\xa9", "Sé".encode("latin-1")))}, "ok", 1),
    Case("gzip bomb", lambda w, o: {"/f": reply(BOMB, headers={"Content-Encoding": "gzip"})}, "too_large"),
    Case("deflate bomb", lambda w, o: {"/f": reply(zlib.compress(b"\0" * (64 * 1024 * 1024)), headers={"Content-Encoding": "deflate"})}, "too_large"),
    Case("brotli", lambda w, o: {"/f": reply(b"\x0b\x02\x80", headers={"Content-Encoding": "br"})}, "bad_encoding"),
    Case("50 MB page", lambda w, o: {"/f": reply(b"x" * 100, headers={"Content-Length": str(50 * 1024 * 1024)})}, "too_large"),
    Case("endless body", lambda w, o: {"/f": endless}, "too_large"),
    Case("endless redirect", lambda w, o: {"/f": redirect("/f")}, "too_many_redirects"),
    Case("redirect to another scheme", lambda w, o: {"/f": redirect("gopher://x/")}, "bad_url"),
    Case("redirect to a refused address", lambda w, o: {"/f": redirect(o.url("/f"))}, "refused_address"),
    Case("slow drip", lambda w, o: {"/f": drip}, "timeout"),
    Case("truncated body", lambda w, o: {"/f": truncated}, "connection"),
    Case("html served as feed", lambda w, o: {"/f": reply(b"<!DOCTYPE html><html><body><h1>Accueil</h1></body></html>", headers={"Content-Type": "text/html"})}, "not_a_feed"),
    Case("empty body", lambda w, o: {"/f": reply(b"")}, "not_a_feed"),
    Case("binary garbage", lambda w, o: {"/f": reply(bytes(range(256)) * 8)}, "not_a_feed"),
    Case("json that is not a feed", lambda w, o: {"/f": reply(b'{"error": "maintenance"}', headers={"Content-Type": "application/json"})}, "not_a_feed"),
    Case("server error", lambda w, o: {"/f": reply(b"oops", status=500)}, "http_status"),
    Case("not found", lambda w, o: {}, "http_status"),
    Case("too many requests", lambda w, o: {"/f": reply(b"", status=429, headers={"Retry-After": "60"})}, "rate_limited"),
    Case("unavailable", lambda w, o: {"/f": reply(b"", status=503)}, "rate_limited"),
    Case("empty feed", lambda w, o: {"/f": reply(rss(""))}, "ok", 0),
    Case("future dates", lambda w, o: {"/f": reply(rss(item("urn:t:1", date="Fri, 01 Jan 2100 00:00:00 GMT")))}, "ok", 1),
    Case("duplicate guids", lambda w, o: {"/f": reply(rss(item("urn:t:1") + item("urn:t:1", "Autre")))}, "ok", 1),
    Case("control characters", lambda w, o: {"/f": reply(rss(item("urn:t:1", "Zone\x07 de police")))}, "ok", 1),
    Case("items without id nor link", lambda w, o: {"/f": reply(rss(item("") + item("urn:t:2")))}, "ok", 1),
    Case("relative links", lambda w, o: {"/f": reply(rss(item("", link="/a/1")))}, "ok", 1),
    Case("summary only, page missing", lambda w, o: {"/f": reply(rss(item("urn:t:1", link=w.url("/gone"), text="Court.")))}, "ok", 1),
    Case("summary only, page is a bomb", lambda w, o: {"/f": reply(rss(item("urn:t:1", link=w.url("/bomb"), text="Court."))), "/bomb": reply(BOMB, headers={"Content-Encoding": "gzip"})}, "ok", 1),
    Case("summary only, page on a refused address", lambda w, o: {"/f": reply(rss(item("urn:t:1", link=o.url("/p"), text="Court.")))}, "ok", 1),
    Case("304 without validators", lambda w, o: {"/f": reply(b"", status=304)}, "ok", 0),
]  # fmt: skip


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    limits = FetchLimits(
        total_seconds=1.5, read_timeout=1.0, connect_timeout=1.0, max_body_bytes=4 * 1024 * 1024,
        max_decoded_bytes=8 * 1024 * 1024, max_redirects=3,
    )  # fmt: skip
    with Fetcher(
        user_agent="test", policy=AddressPolicy(frozenset({"127.0.0.1"})), limits=limits
    ) as client:
        yield client


def test_there_are_at_least_thirty_hostile_inputs() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_it_records_an_explained_status(
    case: Case, web: LocalServer, other_loopback: LocalServer, fetcher: Fetcher
) -> None:
    web.routes.update(case.routes(web, other_loopback))
    source = Source.objects.create(name=case.name, kind=SourceKind.FEED, url=web.url("/f"))
    report = services.poll_source(source=source, fetcher=fetcher, now=timezone.now())
    source.refresh_from_db()
    if case.status == "ok":
        assert report.status in {"ok", "not_modified"}, (report, source.last_error)
        assert source.consecutive_failures == 0 and source.last_success_at is not None
    else:
        assert report.status == "error"
        assert source.last_error_kind == case.status, (source.last_error_kind, source.last_error)
        assert source.last_error and source.consecutive_failures == 1
    assert ArticleVersion.objects.count() == case.stored
    assert Article.objects.count() == case.stored  # no article without its version
    assert other_loopback.connections == 0
    for article in Article.objects.all():
        assert "\x07" not in article.title and "root:" not in article.text
