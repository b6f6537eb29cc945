"""Feeds and sitemaps in UTF-8, UTF-16 and UTF-32, with and without a byte order mark,
carrying DTDs: no entity from a DTD is ever expanded, no local file ends up in an item."""

import codecs
from pathlib import Path

import pytest

from intersection.mediawatch.pipeline.feeds import FeedError, ParsedFeed, parse_feed
from intersection.mediawatch.pipeline.listings import parse_news_sitemap

SECRET = "TOP-SECRET-LOCAL-FILE-CONTENT"
INTERNAL = "EXPANDED-FROM-THE-DTD"
# (name in the XML declaration, codec, byte order mark written first)
ENCODINGS = [
    ("utf-8", "utf-8", b""),
    ("utf-8", "utf-8", codecs.BOM_UTF8),
    ("utf-16", "utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16", "utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-16le", "utf-16-le", b""),
    ("utf-16be", "utf-16-be", b""),
    ("utf-32", "utf-32-le", codecs.BOM_UTF32_LE),
    ("utf-32", "utf-32-be", codecs.BOM_UTF32_BE),
    ("utf-32le", "utf-32-le", b""),
    ("utf-32be", "utf-32-be", b""),
]
LAUGHS = (
    '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY x "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
)


def encoded(text: str, declared: str, codec: str, bom: bytes) -> bytes:
    return bom + text.replace("{encoding}", declared).encode(codec)


def entities(secret_file: Path) -> dict[str, tuple[str, str]]:
    """Internal subsets, and the references that use them: a plain internal entity, one
    declaration a line next to an external entity naming a local file, a "billion laughs"
    bomb."""
    local = f'<!ENTITY y SYSTEM "{secret_file.as_uri()}">'
    return {
        "internal": (f'<!ENTITY x "{INTERNAL}">', "&x;"),
        "internal and local file": (f'\n<!ENTITY x "{INTERNAL}">\n{local}\n', "&x; &y;"),
        "local file": (local, "&y;"),
        "entity bomb": (LAUGHS, "&x;"),
    }


FEED = """<?xml version="1.0" encoding="{encoding}"?>
<!DOCTYPE rss [{subset}]>
<rss version="2.0"><channel><title>Journal {references}</title>
<item><guid>urn:a:1</guid><title>Agents {references} de quartier</title>
<link>https://news.example.be/1</link>
<description>R\u00e9sum\u00e9 {references}</description></item>
</channel></rss>"""
# RSS 0.91 as Netscape published it: a DOCTYPE naming the DTD, HTML entities in the text.
NETSCAPE = """<?xml version="1.0" encoding="{encoding}"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
 "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Vieux journal</title><link>https://old.example.be/</link>
<description>d</description><language>fr</language>
<item><title>S&eacute;curit&eacute; &amp; quartier</title><link>https://old.example.be/1</link>
<description>Texte</description></item></channel></rss>"""


def _texts(feed: ParsedFeed) -> str:
    return " ".join([feed.title] + [f"{i.title} {i.summary} {i.content}" for i in feed.items])


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def test_no_feed_ever_expands_an_entity_of_its_dtd_whatever_its_encoding(
    secret_file: Path,
) -> None:
    leaks, unread = [], []
    for declared, codec, bom in ENCODINGS:
        for name, (subset, references) in entities(secret_file).items():
            text = FEED.replace("{subset}", subset).replace("{references}", references)
            body = encoded(text, declared, codec, bom)
            feed = parse_feed(body, base_url="https://news.example.be/rss")
            text = _texts(feed)
            if SECRET in text or INTERNAL in text or "aaaaaaaaaa" in text:
                leaks.append((name, codec, bool(bom)))
            titles = [item.title for item in feed.items]
            if len(titles) != 1 or not titles[0].startswith("Agents"):
                unread.append((name, codec, bool(bom)))
        old = parse_feed(
            encoded(NETSCAPE, declared, codec, bom), base_url="https://old.example.be/rss"
        )  # still read, its HTML entities too
        if [item.title for item in old.items] != ["Sécurité & quartier"]:
            unread.append(("netscape rss 0.91", codec, bool(bom)))
    assert leaks == []
    assert unread == []


SITEMAP = """<?xml version="1.0" encoding="{encoding}"?>{doctype}
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://news.example.be/1</loc><news:news><news:title>Agents {reference}
de quartier \u00e0 v\u00e9lo</news:title></news:news></url></urlset>"""


def test_no_sitemap_with_a_dtd_is_read_and_plain_ones_are_in_every_encoding(
    secret_file: Path,
) -> None:
    not_refused, unread = [], []
    for declared, codec, bom in ENCODINGS:
        for name, (subset, references) in entities(secret_file).items():
            body = SITEMAP.replace("{doctype}", f"<!DOCTYPE urlset [{subset}]>")
            body = body.replace("{reference}", references)
            try:
                found = parse_news_sitemap(
                    encoded(body, declared, codec, bom), base_url="https://n.be/"
                )
            except FeedError as error:
                if "DTD" not in str(error):  # refused, but not for what it is
                    not_refused.append((name, codec, bool(bom), str(error)))
            else:
                not_refused.append((name, codec, bool(bom), found.items[0].title))
        plain = SITEMAP.replace("{doctype}", "").replace("{reference}", "")
        try:
            feed = parse_news_sitemap(
                encoded(plain, declared, codec, bom), base_url="https://n.be/"
            )
        except FeedError:
            unread.append((codec, bool(bom)))
        else:
            assert [item.title for item in feed.items] == ["Agents de quartier à vélo"]
    assert not_refused == []
    assert unread == []


def test_no_feed_hides_a_dtd_in_an_encoding_that_rewrites_ascii() -> None:
    # UTF-7 and EBCDIC spell "<!ENTITY" with other bytes: a byte check cannot see it, and
    # feedparser would decode either. They are not decoded as declared: no DTD comes out.
    subset = f'\n<!ENTITY x "{INTERNAL}">\n'  # one declaration a line: feedparser keeps it
    text = FEED.replace("{subset}", subset).replace("{references}", "&x;")
    bodies = {
        "utf-7": text.replace("{encoding}", "utf-7").encode("utf-7"),
        "ebcdic": text.replace("{encoding}", "cp037").encode("cp037"),
    }
    leaks = []
    for name, body in bodies.items():
        try:
            feed = parse_feed(body, base_url="https://news.example.be/rss")
        except FeedError:
            continue  # not read at all: nothing leaks either
        if INTERNAL in _texts(feed):
            leaks.append(name)
    assert leaks == []
