"""Extraction, language and search terms: the pure text pieces of the pipeline."""

import json
from pathlib import Path

import pytest

from intersection import mediawatch
from intersection.mediawatch.opml import OpmlError, OpmlFeed, read_opml, write_opml
from intersection.mediawatch.pipeline import stemming
from intersection.mediawatch.pipeline.extract import extract_page
from intersection.mediawatch.pipeline.language import detect_language
from intersection.mediawatch.pipeline.stemming import index_terms, query_alternatives

PAGE = b"""<!DOCTYPE html><html lang="fr-BE"><head><title>Titre - Le Quotidien</title>
<link rel="canonical" href="https://quotidien.example.be/police/agents-de-quartier">
<meta property="og:image" content="https://quotidien.example.be/img/1.jpg">
<meta name="author" content="Claire Dumont"></head><body>
<nav><a href="/">Accueil</a> <a href="/sport">Sport</a></nav>
<article><h1>Les agents de quartier reprennent leurs tourn\xc3\xa9es</h1>
<time datetime="2026-11-20T09:00:00+01:00">20 novembre 2026</time>
<p>Les agents de quartier de la zone de police Bruxelles-Nord reprennent leurs tourn\xc3\xa9es
\xc3\xa0 pied dans les quartiers, a annonc\xc3\xa9 le chef de corps ce jeudi.</p>
<p>L'objectif est de renforcer le contact avec les habitants et les commer\xc3\xa7ants, et de
mieux rep\xc3\xa9rer les probl\xc3\xa8mes de s\xc3\xa9curit\xc3\xa9 au quotidien.</p></article>
<footer>\xc2\xa9 Le Quotidien \xe2\x80\x94 Mentions l\xc3\xa9gales</footer></body></html>"""


def test_it_extracts_the_main_text_and_metadata() -> None:
    page = extract_page(PAGE, "https://quotidien.example.be/police/agents?utm_source=rss")
    assert page is not None
    assert "tournées à pied" in page.text
    assert "Mentions légales" not in page.text and "Sport" not in page.text
    assert page.canonical_url == "https://quotidien.example.be/police/agents-de-quartier"
    assert page.author == "Claire Dumont" and page.declared_language == "fr"
    assert page.image_url.endswith("/img/1.jpg")
    assert page.published is not None and page.published.date().isoformat() == "2026-11-20"


def test_it_returns_nothing_for_a_page_without_text() -> None:
    assert extract_page(b"<html><body><nav>Menu</nav></body></html>", "https://x.example/") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Les agents de quartier rencontrent les habitants pour parler de sécurité.", "fr"),
        ("De wijkagenten van de politiezone gaan opnieuw te voet de buurt in.", "nl"),
        ("Community officers are back on foot patrol in the neighbourhood.", "en"),
        ("Die Bürgerpolizisten sind wieder zu Fuß im Viertel unterwegs.", "de"),
    ],
)
def test_it_detects_the_language_among_the_configured_ones(text: str, code: str) -> None:
    detected = detect_language(text)
    assert detected.code == code and not detected.declared and detected.confidence > 0.5


def test_it_trusts_a_declared_language_it_knows() -> None:
    assert detect_language("Anything at all", declared="nl-BE").code == "nl"
    assert detect_language("Les agents de quartier et les habitants", declared="xx").code == "fr"


@pytest.mark.parametrize(
    ("query", "text", "language"),
    [
        ("policier", "Deux policiers de quartier", "fr"),
        ("sécurité", "la securite routiere", "fr"),
        ("securite", "La sécurité des aînés", "fr"),
        ("wijkagent", "De wijkagenten van Brussel", "nl"),
        ("officers", "A community officer said", "en"),
    ],
)
def test_it_matches_words_across_inflections_and_accents(
    query: str, text: str, language: str
) -> None:
    indexed = set(index_terms(text, language).split())
    assert indexed & set(query_alternatives(query)), (query, indexed)


def test_remembered_stems_are_forgotten_beyond_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stemming._Stems, "LIMIT", 3)
    stems = stemming._stems("fr")
    stems.clear()
    text = "Les policiers de quartier patrouillent dans les quartiers"
    assert index_terms(text, "fr") == "le polici de quarti patrouillent dan le quarti"
    assert len(stems) <= 3
    assert index_terms(text, "xx") == "les policiers de quartier patrouillent dans les quartiers"


def test_it_reads_and_writes_opml() -> None:
    opml = write_opml("Veille", [OpmlFeed("Le Quotidien & co", "https://q.example/rss", "fr")])
    assert read_opml(opml.encode()) == [
        OpmlFeed("Le Quotidien & co", "https://q.example/rss", "fr")
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"<not-opml/>",
        b"<opml><body><outline",
        b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x "y">]><opml><body/></opml>',
    ],
)
def test_it_refuses_broken_or_dangerous_opml(data: bytes) -> None:
    with pytest.raises(OpmlError):
        read_opml(data)


@pytest.mark.django_db
def test_it_registers_the_documented_public_sources_inactive() -> None:
    from intersection.mediawatch.demo import load_real_sources
    from intersection.mediawatch.models import Source

    added = load_real_sources()
    assert added >= 15 and not Source.objects.filter(active=True).exists()
    search = Source.objects.filter(kind="search_feed").first()
    assert search is not None and "{query}" in search.url and search.query
    assert "%22" in search.fetch_url or "+" in search.fetch_url  # the query is encoded
    assert load_real_sources() == 0  # idempotent


def test_it_names_the_language_of_every_labelled_article() -> None:
    """The sample lingua reads (SAMPLE_CHARS) is short; it must still be enough for real
    articles: both sides of every labelled pair, in French, Dutch and English."""
    labelled = Path(mediawatch.__file__).parent / "data" / "duplicates.jsonl"
    rows = [json.loads(line) for line in labelled.read_text(encoding="utf-8").splitlines()]
    wrong = [
        (row["lang"], row[side][:80])
        for row in rows
        for side in ("a_text", "b_text")
        if detect_language(row[side]).code != row["lang"]
    ]
    assert len(rows) > 200 and wrong == []
