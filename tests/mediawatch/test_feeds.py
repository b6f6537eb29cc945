"""Feed parsing: the common formats and the hostile or broken inputs found in the wild."""

import time
from datetime import UTC, datetime

import pytest

from intersection.mediawatch.pipeline import feeds
from intersection.mediawatch.pipeline.feeds import FeedError, parse_feed, plain_text

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BASE = "https://news.example.be/rss"


def parse(body: bytes, content_type: str = "") -> object:
    return parse_feed(body, base_url=BASE, content_type=content_type, now=NOW)


RSS2 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Le Journal</title><language>fr-BE</language>
<item><title>La police de &lt;b&gt;proximit\xc3\xa9&lt;/b&gt; &amp; vous</title>
<link>/articles/42?utm_source=rss</link><guid isPermaLink="false">a-42</guid>
<description>&lt;p&gt;R\xc3\xa9sum\xc3\xa9&lt;/p&gt;</description>
<pubDate>Mon, 30 Nov 2026 08:00:00 +0100</pubDate></item>
</channel></rss>"""


def test_it_reads_rss_2_with_relative_links_and_html_in_titles() -> None:
    feed = parse(RSS2)
    item = feed.items[0]  # type: ignore[attr-defined]
    assert item.title == "La police de proximité & vous"
    assert item.url == "https://news.example.be/articles/42?utm_source=rss"
    assert item.guid == "a-42" and item.summary == "Résumé" and item.language == "fr"
    assert item.published == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def test_it_reads_atom() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="nl"><title>Nieuws</title>
<entry><id>urn:x:1</id><title type="html">Wijkagent &amp;amp; buurt</title>
<link href="https://nieuws.example.be/1"/><updated>2026-11-29T10:00:00Z</updated>
<content type="html">&lt;p&gt;Volledige tekst over de wijkagenten.&lt;/p&gt;</content></entry></feed>"""
    item = parse(atom).items[0]  # type: ignore[attr-defined]
    assert (item.guid, item.title, item.language) == ("urn:x:1", "Wijkagent & buurt", "nl")
    assert "wijkagenten" in item.content


def test_it_reads_rss_1_and_rss_091() -> None:
    rdf = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>T</title></channel>
<item rdf:about="https://a.example/1"><title>One</title><link>https://a.example/1</link></item>
</rdf:RDF>"""
    old = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>T</title>
<item><title>Old</title><link>https://a.example/old</link></item></channel></rss>"""
    assert parse(rdf).items[0].title == "One"  # type: ignore[attr-defined]
    assert parse(old).items[0].url == "https://a.example/old"  # type: ignore[attr-defined]


def test_it_reads_json_feed() -> None:
    body = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "JF", "language": "en",
"items": [{"id": "1", "url": "/p/1", "title": "Community <i>policing</i>",
"content_html": "<p>Body</p>", "date_published": "2026-11-28T09:00:00Z"}]}"""
    item = parse(body, "application/feed+json").items[0]  # type: ignore[attr-defined]
    assert item.title == "Community policing" and item.url == "https://news.example.be/p/1"
    assert item.published == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_it_clamps_and_flags_future_dates_and_flags_missing_ones() -> None:
    body = b"""<rss version="2.0"><channel><title>T</title>
<item><title>Future</title><link>https://a.example/f</link><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>
<item><title>Undated</title><link>https://a.example/u</link></item>
<item><title>Nonsense date</title><link>https://a.example/n</link><pubDate>yesterday-ish</pubDate></item>
</channel></rss>"""
    future, undated, nonsense = parse(body).items  # type: ignore[attr-defined]
    assert future.published == NOW and "future_date" in future.flags
    assert undated.published is None and "missing_date" in undated.flags
    assert nonsense.published is None and "missing_date" in nonsense.flags


def test_it_keeps_one_item_per_guid() -> None:
    body = b"""<rss version="2.0"><channel><title>T</title>
<item><guid>same</guid><title>First</title><link>https://a.example/1</link></item>
<item><guid>same</guid><title>Again</title><link>https://a.example/2</link></item>
</channel></rss>"""
    feed = parse(body)
    assert [i.title for i in feed.items] == ["First"]  # type: ignore[attr-defined]
    assert any("duplicate id" in w for w in feed.warnings)  # type: ignore[attr-defined]


def test_it_reads_a_feed_in_windows_1252() -> None:
    body = '<?xml version="1.0" encoding="windows-1252"?><rss version="2.0"><channel><title>T</title><item><title>Sécurité – été</title><link>https://a.example/1</link></item></channel></rss>'.encode(
        "cp1252"
    )
    assert parse(body).items[0].title == "Sécurité – été"  # type: ignore[attr-defined]


def test_it_survives_a_wrong_charset_declaration() -> None:
    body = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title><item><title>Sécurité</title><link>https://a.example/1</link></item></channel></rss>'.encode(
        "latin-1"
    )
    feed = parse(body)
    assert len(feed.items) == 1  # type: ignore[attr-defined]
    assert feed.items[0].title.startswith("S")  # type: ignore[attr-defined]


def test_it_removes_control_characters() -> None:
    assert plain_text("Zone\x00 de\x07 police\x1b") == "Zone de police"


def test_it_repairs_or_refuses_malformed_xml_without_crashing() -> None:
    body = b"""<rss version="2.0"><channel><title>T</title><item><title>Unclosed
<link>https://a.example/1</link></item><item><title>Second</title><link>https://a.example/2</link>"""
    try:
        feed = parse(body)
    except FeedError as error:
        assert "not a feed" in str(error)
    else:
        assert feed.warnings  # type: ignore[attr-defined]


def test_it_does_not_expand_entity_bombs() -> None:
    laughs = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY l1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY l2 "&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;">
<!ENTITY l3 "&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;">
<!ENTITY l4 "&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;">
<!ENTITY l5 "&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;">
<!ENTITY l6 "&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;">
<!ENTITY l7 "&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;">
<!ENTITY l8 "&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;">]>
<rss version="2.0"><channel><title>&l8;</title><item><title>&l8;</title>
<link>https://a.example/1</link></item></channel></rss>"""
    started = time.monotonic()
    try:
        feed = parse(laughs)
    except FeedError:
        pass
    else:
        titles = [item.title for item in feed.items]  # type: ignore[attr-defined]
        assert all(len(title) <= 500 for title in titles)
    assert time.monotonic() - started < 5


def test_it_never_reads_external_entities() -> None:
    xxe = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>T</title><item><title>A &x; B</title>
<link>https://a.example/1</link></item></channel></rss>"""
    try:
        feed = parse(xxe)
    except FeedError:
        return
    assert all("root:" not in item.title for item in feed.items)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<!DOCTYPE html><html><head><title>Accueil</title></head><body><p>Hi</p></body></html>",
         "text/html"),
        (b"", "application/rss+xml"),
        (b"   \n", "application/rss+xml"),
        (bytes(range(256)) * 4, "application/octet-stream"),
        (b'{"hello": "world"}', "application/json"),
        (b"{not json", "application/feed+json"),
    ],
)  # fmt: skip
def test_it_refuses_what_is_not_a_feed(body: bytes, content_type: str) -> None:
    with pytest.raises(FeedError):
        parse(body, content_type)


def test_it_accepts_an_empty_but_valid_feed() -> None:
    feed = parse(b'<rss version="2.0"><channel><title>Rien</title></channel></rss>')
    assert feed.items == [] and feed.title == "Rien"  # type: ignore[attr-defined]


RICH = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Le &lt;i&gt;Quotidien&lt;/i&gt;</title>
<language>fr-BE</language>
<item><title><![CDATA[Agents de quartier : « on revient à pied » & à vélo]]></title>
<link>/police/42?utm_source=rss&amp;xtor=RSS-1</link><guid>https://q.example.be/42</guid>
<description>&lt;p&gt;Le r\u00e9sum\u00e9, court.&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>Premier paragraphe<script>track()</script> sur la
<a href="/zone">zone</a>.</p><style>p{}</style><p>Deuxi\u00e8me&nbsp;paragraphe, 1&#8239;200 agents.</p>
<ul><li>un</li><li>deux</li></ul>]]></content:encoded>
<dc:date>2026-11-29T18:30:00+01:00</dc:date></item>
<item><title>Sans date ni guid</title><link>https://q.example.be/43</link>
<description>Texte \u00e9crit sans balise.</description></item>
<item><title>Futur</title><link>https://q.example.be/44</link><guid isPermaLink="false">44</guid>
<pubDate>Tue, 30 Nov 2027 10:00:00 GMT</pubDate></item>
</channel></rss>""".encode()
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="nl-BE" xml:base="https://n.example.be/">
<title>Nieuws</title><entry><id>tag:n.example.be,2026:1</id>
<title type="html">Wijkagent &amp;amp; &lt;b&gt;buurt&lt;/b&gt;</title><link href="artikels/1"/>
<published>2026-11-28T09:00:00+01:00</published><updated>2026-11-29T10:00:00Z</updated>
<summary type="text">Kort.</summary>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>De wijkagenten zijn
terug.</p><p>Tweede alinea.</p></div></content></entry>
<entry><id>tag:n.example.be,2026:2</id><title>Zonder inhoud</title>
<link rel="alternate" href="https://n.example.be/2"/><updated>2026-11-29T11:00:00Z</updated>
</entry></feed>"""


@pytest.mark.parametrize("body", [RICH, ATOM, RSS2], ids=["rss2-rich", "atom", "rss2"])
def test_the_fast_parser_reads_clean_feeds_as_feedparser_does(
    body: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = []
    fast = feeds._fast_parse

    def watched(*args: object) -> object:
        result = fast(*args)  # type: ignore[arg-type]
        taken.append(result is not None)
        return result

    monkeypatch.setattr(feeds, "_fast_parse", watched)
    with_rust = parse(body)
    monkeypatch.setattr(feeds, "_fast_parse", lambda *args: None)
    with_feedparser = parse(body)
    assert taken == [True]  # feedparser-rs read it…
    assert with_rust.items == with_feedparser.items  # type: ignore[attr-defined]
    assert with_rust.items  # type: ignore[attr-defined]
    assert (with_rust.title, with_rust.language) == (  # type: ignore[attr-defined]
        with_feedparser.title,  # type: ignore[attr-defined]
        with_feedparser.language,  # type: ignore[attr-defined]
    )


def test_feeds_the_fast_parser_would_misread_go_to_feedparser() -> None:
    latin = '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>'
    latin += "<item><title>Li\u00e8ge</title><link>https://a.example/1</link></item>"
    latin += "</channel></rss>"
    declared_utf8 = latin.replace("iso-8859-1", "utf-8")
    assert feeds._fast_parse(latin.encode("latin-1"), "") is None
    assert feeds._fast_parse(declared_utf8.encode("latin-1"), "") is None  # not UTF-8
    assert feeds._fast_parse(declared_utf8.encode(), "text/xml; charset=windows-1252") is None
    assert (
        feeds._fast_parse(b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]>' + RSS2[39:], "")
        is None
    )
    assert feeds._fast_parse(RSS2[:-20], "") is None  # truncated: feedparser repairs it
    local = declared_utf8.replace("https://a.example/1", "http://127.0.0.1:8000/1").encode()
    assert feeds._fast_parse(local, "") is None  # it would blank the link
    assert parse(local).items[0].url == "http://127.0.0.1:8000/1"  # type: ignore[attr-defined]
    assert feeds._fast_parse(declared_utf8.encode(), "application/rss+xml") is not None
