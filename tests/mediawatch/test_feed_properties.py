"""Property tests: real feeds (RSS 2.0, Atom, RDF, JSON Feed, a news sitemap, a listing page)
mutated byte by byte and element by element, through the parser entry points the poller
uses (services._parse): nothing but FeedError comes out, and what comes out is clean.

Deterministic (derandomize): CI runs the same examples every time. A failure prints the
smallest mutation found; add it to test_feeds.py as a plain regression test."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.dom import minidom

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from intersection.mediawatch import services
from intersection.mediawatch.models import Source, SourceKind
from intersection.mediawatch.pipeline.feeds import FeedError, ParsedFeed
from intersection.mediawatch.pipeline.urls import web_url

from .test_listings import SITEMAP

DEMO = Path(__file__).resolve().parents[2] / "intersection" / "mediawatch" / "demo_sources"
BASE = "http://127.0.0.1:8765"
RDF = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel rdf:about="https://a.example/"><title>Le fil</title><link>https://a.example/</link>
<items><rdf:Seq><rdf:li rdf:resource="https://a.example/1"/><rdf:li rdf:resource="https://a.example/2"/></rdf:Seq></items>
</channel>
<item rdf:about="https://a.example/1"><title>Agents de quartier</title><link>https://a.example/1</link>
<description>Les agents de quartier reprennent leurs tourn\xc3\xa9es.</description><dc:date>2026-11-29T08:00:00+01:00</dc:date>
<dc:language>fr</dc:language></item>
<item rdf:about="https://a.example/2"><title>V\xc3\xa9los grav\xc3\xa9s</title><link>/2</link>
<content:encoded><![CDATA[<p>Des v\xc3\xa9los grav\xc3\xa9s <b>gratuitement</b>.</p>]]></content:encoded></item>
</rdf:RDF>"""  # noqa: E501


def _demo(path: str) -> bytes:
    return (DEMO / path).read_bytes().replace(b"{{BASE}}", BASE.encode())


# (name, source kind, body): the poller's three parsers, every feed format.
SAMPLES = [
    ("rss2", SourceKind.FEED, _demo("hainaut-matin/feed.xml")),
    ("atom", SourceKind.FEED, _demo("community-policing-review/atom.xml")),
    ("rdf", SourceKind.FEED, RDF),
    ("json-feed", SourceKind.FEED, _demo("echo-du-saint-laurent/feed.json")),
    ("news-sitemap", SourceKind.NEWS_SITEMAP, SITEMAP),
    ("listing-page", SourceKind.WEB_PAGE, _demo("hainaut-matin/index.html")),
]
XML_SAMPLES = [sample for sample in SAMPLES if sample[0] in {"rss2", "atom", "rdf", "news-sitemap"}]
PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Bytes and values that parsers trip on: markup, entities, encodings' marks, broken URLs.
BYTES = [
    b"<", b">", b"&", b";", b'"', b"'", b"/", b"[", b"]", b"{", b"}", b",", b":", b"\\",
    b"\x00", b"\x80", b"\xc3", b"\xff", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
    b"\x00\x00\xfe\xff", b"]]>", b"<![CDATA[", b"<!--", b"-->", b"<?xml", b"?>",
    b"<!DOCTYPE x [<!ENTITY e 'v'>]>", b"&e;", b"&#0;", b"&#xD800;", b"&#1114112;", b"&nbsp;",
    b"javascript:", b"http://[", b"http://example.c[o.test/", b"\r\n", b"\t", b"null",
    b"9" * 5000, b"[" * 3000, b"<a>" * 1000,
]  # fmt: skip
VALUES = [
    "", " ", "javascript:alert(1)", "data:text/html,x", "http://example.c[o.test/", "http://[::1",
    "//other.test/x", "/relative", "../../x", "http://127.0.0.1:99999/", "text/html", "html",
    "xhtml", "application/xhtml+xml", "base64", "escaped", "true", "false", "alternate",
    "enclosure", "self", "Sat, 31 Dec 9999 23:59:59 +2359", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-23:59", "nan", "-1", "x" * 5000, "<b>bold</b>", "&amp;amp;", "\x07",
]  # fmt: skip
CONTENT_TYPES = [
    "", "application/rss+xml", "application/atom+xml; charset=utf-8",
    "text/xml; charset=iso-8859-1",
    "application/xml; charset=utf-16", "text/html", "application/feed+json",
    "text/xml; charset=bogus",
    "text/xml; charset=utf-7", "text/xml; charset=cp037", "text/xml; charset=idna",
]  # fmt: skip
ENCODINGS = ["utf-8", "utf-16", "utf-16-be", "utf-32", "latin-1", "windows-1252", "koi8-r",
             "shift_jis", "big5", "utf-7", "cp037"]  # fmt: skip
XML_ATTRIBUTES = ["href", "rel", "type", "isPermaLink", "rdf:about", "xml:base", "xml:lang", "url"]
JSON_KEYS = ["version", "title", "items", "id", "url", "title", "summary", "content_html",
             "content_text", "date_published", "language"]  # fmt: skip

chunks = st.one_of(st.sampled_from(BYTES), st.binary(min_size=1, max_size=8))
values = st.one_of(st.sampled_from(VALUES), st.text(max_size=40))
junk = st.one_of(st.sampled_from(VALUES), st.text(max_size=200))


def _parse(kind: str, body: bytes, content_type: str = "") -> ParsedFeed | None:
    """The poller's parser for this kind of source; None when it says "not a feed"."""
    try:
        return services._parse(Source(kind=kind), body, f"{BASE}/feed", content_type)
    except FeedError:
        return None


def _check(kind: str, feed: ParsedFeed | None) -> None:
    if currently_in_test_context():  # counted in --hypothesis-show-statistics
        event("refused (FeedError)" if feed is None else "items" if feed.items else "no items")
    if feed is None:
        return
    for item in feed.items:
        assert item.guid, item
        assert item.url == "" or web_url(item.url) == item.url, item
    if kind == SourceKind.FEED:
        assert len({item.guid for item in feed.items}) == len(feed.items)


# --- Byte by byte ---------------------------------------------------------------------------


def _position(draw: st.DrawFn, data: bytearray) -> int:
    """Anywhere, often near the start (the encoding and the root element are decided there)."""
    return draw(st.one_of(st.integers(0, min(64, len(data))), st.integers(0, len(data))))


def _mutate_bytes(draw: st.DrawFn, body: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(draw(st.integers(1, 6))):
        at = _position(draw, data)
        operation = draw(st.sampled_from(["flip", "insert", "delete", "replace", "truncate"]))
        if operation == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif operation == "insert":
            data[at:at] = draw(chunks)
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif operation == "replace":
            data[at : at + draw(st.integers(1, 8))] = draw(chunks)
        elif operation == "truncate":
            del data[at:]
    return bytes(data)


@pytest.mark.parametrize(("name", "kind", "body"), SAMPLES, ids=[s[0] for s in SAMPLES])
@PROPERTIES
@given(data=st.data())
def test_byte_mutations_give_items_or_feed_error(
    name: str, kind: str, body: bytes, data: st.DataObject
) -> None:
    mutated = _mutate_bytes(data.draw, body)
    content_type = data.draw(st.sampled_from(CONTENT_TYPES))
    _check(kind, _parse(kind, mutated, content_type))


# --- Element by element ---------------------------------------------------------------------


def _contains(outer: minidom.Node, inner: minidom.Node) -> bool:
    node: minidom.Node | None = inner
    while node is not None:
        if node is outer:
            return True
        node = node.parentNode
    return False


def _mutate_element(draw: st.DrawFn, document: minidom.Document) -> None:
    elements = list(document.documentElement.getElementsByTagName("*"))
    if not elements:
        return
    element = draw(st.sampled_from(elements))
    parent = element.parentNode
    operation = draw(st.sampled_from(["drop", "duplicate", "swap", "attribute", "junk", "text"]))
    if operation == "drop":
        parent.removeChild(element)
    elif operation == "duplicate":
        parent.insertBefore(element.cloneNode(True), element.nextSibling)
    elif operation == "swap":
        other = draw(st.sampled_from(elements))
        if not _contains(element, other) and not _contains(other, element):
            marker = document.createComment("swap")
            parent.replaceChild(marker, element)
            other.parentNode.replaceChild(element, other)
            marker.parentNode.replaceChild(other, marker)
    elif operation == "attribute":
        names = sorted(element.attributes.keys()) or XML_ATTRIBUTES
        element.setAttribute(draw(st.sampled_from(names)), draw(values))
    elif operation == "junk":
        children = [*element.childNodes, None]
        element.insertBefore(document.createTextNode(draw(junk)), draw(st.sampled_from(children)))
    elif operation == "text":
        while element.firstChild is not None:
            element.removeChild(element.firstChild)
        element.appendChild(document.createTextNode(draw(junk)))


def _serialise(draw: st.DrawFn, document: minidom.Document) -> bytes:
    """In some encoding, declared truly, wrongly or not at all."""
    encoding = draw(st.sampled_from(ENCODINGS))
    declared = draw(st.sampled_from([encoding, encoding, "utf-8", "iso-8859-1", "utf-16", ""]))
    declaration = f'<?xml version="1.0" encoding="{declared}"?>' if declared else ""
    text = declaration + document.documentElement.toxml()
    return text.encode(encoding, "xmlcharrefreplace")


@pytest.mark.parametrize(("name", "kind", "body"), XML_SAMPLES, ids=[s[0] for s in XML_SAMPLES])
@PROPERTIES
@given(data=st.data())
def test_element_mutations_of_xml_give_items_or_feed_error(
    name: str, kind: str, body: bytes, data: st.DataObject
) -> None:
    document = minidom.parseString(body)  # noqa: S318 - our own samples
    for _ in range(data.draw(st.integers(1, 5))):
        _mutate_element(data.draw, document)
    mutated = _serialise(data.draw, document)
    _check(kind, _parse(kind, mutated, data.draw(st.sampled_from(CONTENT_TYPES))))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), values),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.one_of(st.sampled_from(JSON_KEYS), st.text(max_size=5)), children, max_size=3
        ),
    ),
    max_leaves=8,
)


def _slots(value: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) of a JSON document."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield value, key
            yield from _slots(inner)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield value, index
            yield from _slots(inner)


def _mutate_json(draw: st.DrawFn, document: Any) -> Any:
    slots = list(_slots(document))
    if not slots:
        return draw(json_values)
    top = [(container, key) for container, key in slots if container is document]
    container, key = draw(st.sampled_from(draw(st.sampled_from([top or slots, slots]))))
    operation = draw(
        st.sampled_from(["drop", "duplicate", "swap", "value", "scalar", "junk", "root"])
    )
    if operation == "drop":
        del container[key]
    elif operation == "duplicate":
        if isinstance(container, list):
            container.insert(key, json.loads(json.dumps(container[key])))
        else:
            container[draw(st.sampled_from(JSON_KEYS))] = container[key]
    elif operation == "swap":
        other = draw(
            st.sampled_from(
                list(range(len(container))) if isinstance(container, list) else list(container)
            )
        )
        container[key], container[other] = container[other], container[key]
    elif operation == "value":
        container[key] = draw(json_values)
    elif operation == "scalar":  # a number where a list or text is expected, and so on
        container[key] = draw(st.one_of(st.integers(1), st.just(True), st.floats(0.5, 1e308)))
    elif operation == "junk":
        text = container[key] if isinstance(container[key], str) else ""
        at = draw(st.integers(0, len(text)))
        container[key] = text[:at] + draw(junk) + text[at:]
    elif operation == "root":
        return draw(json_values)
    return document


@PROPERTIES
@given(data=st.data())
def test_element_mutations_of_a_json_feed_give_items_or_feed_error(data: st.DataObject) -> None:
    _name, kind, body = SAMPLES[3]
    document = json.loads(body)
    for _ in range(data.draw(st.integers(1, 5))):
        document = _mutate_json(data.draw, document)
    text = json.dumps(document, ensure_ascii=data.draw(st.booleans()))
    mutated = text.encode(data.draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"])))
    content_type = data.draw(st.sampled_from(["", "application/feed+json", "application/json"]))
    _check(kind, _parse(kind, mutated, content_type))


# --- What the properties found, kept as plain examples -------------------------------------


def _rss(title: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f'<item><guid isPermaLink="false">urn:1</guid><title>{title}</title></item>'
        "</channel></rss>"
    ).encode()


YEAR_ONE = "0001-01-01T00:00:00+01:00"  # before year 1 once in UTC


def _json_feed(item: str) -> bytes:
    return f'{{"version": "https://jsonfeed.org/version/1.1", "items": [{item}]}}'.encode()


FOUND = [
    # feedparser's repairing parser raised on references to no character.
    ("surrogate reference", _rss("Zone &#xD800; Nord"), 1),
    ("reference beyond U+10FFFF", _rss("Zone &#1114112; Nord"), 1),
    ("reference of 5,000 digits", _rss(f"Zone &#{'9' * 5000}; Nord"), 1),
    ("reference without its semicolon", _rss("Zone &#xDFFF Nord"), 1),
    # json.loads raised ValueError or RecursionError; a date, OverflowError.
    ("number of 5,000 digits", _json_feed(f'{{"id": "1", "n": {"9" * 5000}}}'), None),
    ("nested too deeply", _json_feed('{"id": "1", "n": ' + "[" * 100_000 + "}"), None),
    ("date out of range in UTC", _json_feed(f'{{"id": "1", "date_published": "{YEAR_ONE}"}}'), 1),
    ("items that are no list", b'{"version": "https://jsonfeed.org/version/1", "items": 5}', 0),
    # A blank id made an item with an empty id; a blank link, the feed's own address.
    ("blank id and link", _json_feed('{"id": " ", "url": " "}, {"id": " 2 ", "url": "  "}'), 1),
]  # fmt: skip


@pytest.mark.parametrize(("name", "body", "items"), FOUND, ids=[f[0] for f in FOUND])
def test_what_the_properties_found(name: str, body: bytes, items: int | None) -> None:
    feed = _parse(SourceKind.FEED, body)
    _check(SourceKind.FEED, feed)
    assert (None if feed is None else len(feed.items)) == items
    for item in feed.items if feed else []:
        assert item.url == "" and "\ud800" not in item.title


NO_URL = b"http://example.c[o.test/2026/11/agents-de-quartier"  # urljoin raises ValueError
LINK_THAT_IS_NO_URL = [
    (SourceKind.NEWS_SITEMAP, SITEMAP.replace(b"https://news.example.be/later", NO_URL)),
    (SourceKind.WEB_PAGE, b'<a href="' + NO_URL + b'">Les agents de quartier reprennent</a>'
                          b'<a href="/2026/11/velos-graves">Des velos graves gratuitement</a>'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "body"), LINK_THAT_IS_NO_URL, ids=["news-sitemap", "listing-page"]
)
def test_a_link_that_is_no_url_loses_only_its_item_in_sitemaps_and_pages(
    kind: str, body: bytes
) -> None:
    feed = _parse(kind, body)
    assert feed is not None and len(feed.items) == 1
    _check(kind, feed)


@pytest.mark.parametrize("declaration", [b"<![<", b"<![DOCTYPE x"])
def test_a_broken_declaration_keeps_the_links_read_before_it(declaration: bytes) -> None:
    """The standard library's HTML parser asserts on these (found by the byte mutations)."""
    page = b'<a href="/2026/11/velos-graves">Des velos graves gratuitement</a>' + declaration
    feed = _parse(SourceKind.WEB_PAGE, page)
    assert feed is not None and [item.title for item in feed.items] == [
        "Des velos graves gratuitement"
    ]
