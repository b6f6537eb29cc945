"""Outlet residue: the outlet's name after the title, the title repeated as the first
paragraph, comment, sign-in, paywall and "offered by" prompts at the edges of the text;
and links without tracking parameters. Real text is never cut."""

from pathlib import Path

import pytest
from django.utils import timezone

from intersection.mediawatch import services
from intersection.mediawatch.models import Article, ArticleVersion, Source, SourceKind
from intersection.mediawatch.pipeline import urls
from intersection.mediawatch.pipeline.extract import extract_page
from intersection.mediawatch.pipeline.fetch import Fetcher
from intersection.mediawatch.views import DEMO_SOURCES

from .conftest import LocalServer, reply

HAINAUT = DEMO_SOURCES / "hainaut-matin"
RESIDUE = ("Réactions", "Connectez-vous", "Cet article vous est offert", "Tip de redactie")


def test_it_strips_the_outlet_name_after_a_title_and_nothing_else() -> None:
    from intersection.mediawatch.pipeline.residue import clean_title, outlet_names

    names = outlet_names("Hainaut Matin", "Hainaut Matin - Toute l'actualité")
    cases = {
        "Binche : des inspecteurs enfilent les gants - Hainaut Matin": "Binche : des "
        "inspecteurs enfilent les gants",
        "Binche : des inspecteurs | HAINAUT MATIN": "Binche : des inspecteurs",
        "Binche : des inspecteurs – Hainaut-Matin": "Binche : des inspecteurs",
        "Binche : des inspecteurs — hainaut matin": "Binche : des inspecteurs",
        "Binche : des inspecteurs · Hainaut Matin": "Binche : des inspecteurs",
        # the name elsewhere, or another last part: kept as written
        "Hainaut Matin récompensé pour son enquête - Médias": "Hainaut Matin récompensé "
        "pour son enquête - Médias",
        "Le Hainaut Matin et la police : un partenariat": "Le Hainaut Matin et la police : "
        "un partenariat",
        "Police - Hainaut": "Police - Hainaut",
        "Hainaut Matin": "Hainaut Matin",
        " - Hainaut Matin": " - Hainaut Matin",  # nothing would be left
    }
    assert {title: clean_title(title, names) for title in cases} == cases
    assert clean_title("Agents à vélo - L'Écho du Saint-Laurent", ["L'ECHO DU SAINT LAURENT"]) == (
        "Agents à vélo"
    )


@pytest.mark.parametrize(
    "outlet", ["hainaut-matin", "het-zennebericht", "community-policing-review"]
)
def test_it_strips_the_demo_outlets_residue_from_their_pages(outlet: str) -> None:
    from intersection.mediawatch.pipeline.residue import clean_text

    for path in sorted((DEMO_SOURCES / outlet / "articles").glob("*.html")):
        page = extract_page(path.read_bytes(), "http://127.0.0.1:8765/a.html")
        assert page is not None
        raw = page.text.split("\n")
        cleaned = clean_text(page.text, [page.title]).split("\n")
        assert cleaned[0] != page.title and not any(r in page.text.split("\n")[0] for r in RESIDUE)
        assert not any(line.startswith(RESIDUE) for line in cleaned), path.name
        # Only edges went: what is left is one unbroken run of the extracted paragraphs.
        start = raw.index(cleaned[0])
        assert raw[start : start + len(cleaned)] == cleaned, path.name
        assert len(cleaned) >= 4, path.name


def test_it_strips_prompts_in_french_dutch_and_english_but_never_real_text() -> None:
    from intersection.mediawatch.pipeline.residue import clean_text

    body_fr = [
        "La zone de police a présenté mardi son plan pour les quartiers.",
        "Les commentaires des habitants ont été nombreux lors de la réunion publique.",
    ]
    body_nl = [
        "De politiezone stelde dinsdag haar plan voor de wijken voor.",
        "Reacties van bewoners waren overwegend positief, zei de burgemeester.",
    ]
    body_en = [
        "The police zone presented its neighbourhood plan on Tuesday.",
        "Comments from residents were largely positive, the mayor said.",
    ]
    texts = {
        "fr": [
            "Un plan pour les quartiers",
            "Cet article vous est offert par Le Journal.",
            *body_fr,
            "Lire aussi : La police recrute",
            "Abonnez-vous à notre newsletter",
            "Réactions (12)",
            "Connectez-vous pour réagir à cet article.",
        ],
        "nl": [
            "Dit artikel wordt u aangeboden door De Krant.",
            *body_nl,
            "Lees ook",
            "Reageer",
            "Log in om te reageren",
        ],
        "en": [
            "Policy",
            "A plan for the neighbourhoods",
            *body_en,
            "Subscribe to read more stories like this",
            "Comments",
            "Sign in to comment",
        ],
    }
    titles = ["Un plan pour les quartiers", "A plan for the neighbourhoods"]
    cleaned = {
        lang: clean_text("\n".join(lines), titles).split("\n") for lang, lines in texts.items()
    }
    assert cleaned == {"fr": body_fr, "nl": body_nl, "en": body_en}
    # A prompt-like line inside the text, a last paragraph about comments: kept.
    inside = "\n".join(
        [body_fr[0], "Réactions", body_fr[1], "Comments are closed for now, said the mayor."]
    )
    assert clean_text(inside, titles) == inside


def test_links_lose_their_tracking_parameters_and_fragment_only() -> None:
    cases = {
        "https://www.lesoir.be/a?utm_source=rss&utm_medium=feed#comments": "https://www.lesoir.be/a",
        "http://m.site.be:8080/Path/Page/?id=7&utm_campaign=x&b=2": "http://m.site.be:8080/Path/Page/?id=7&b=2",
        "https://site.be/a?xtor=RSS-12": "https://site.be/a",
        "https://site.be/a?q=caf%C3%A9+bar&fbclid=1&z=1": "https://site.be/a?q=caf%C3%A9+bar&z=1",
        "https://site.be/a": "https://site.be/a",
    }
    assert {url: urls.without_tracking(url) for url in cases} == cases


def _demo(web: LocalServer) -> None:
    """Hainaut Matin's feed and pages, served as the platform serves the demo."""
    files = [HAINAUT / "feed.xml", *sorted((HAINAUT / "articles").glob("*.html"))]
    for path in files:
        body = path.read_bytes().replace(b"{{BASE}}", web.url("").encode())
        web.routes["/" + str(path.relative_to(DEMO_SOURCES))] = reply(body)


@pytest.mark.django_db
def test_a_poll_stores_hainaut_matin_without_its_residue(
    web: LocalServer, fetcher: Fetcher
) -> None:
    _demo(web)
    source = Source.objects.create(
        name="Hainaut Matin", kind=SourceKind.FEED, url=web.url("/hainaut-matin/feed.xml")
    )
    report = services.poll_source(source=source, fetcher=fetcher, now=timezone.now())
    assert report.new == 10, report
    for article in Article.objects.all():
        assert not article.title.endswith("Hainaut Matin"), article.title
        first = article.text.split("\n")[0]
        assert first != article.title and not first.startswith("Cet article"), first
        assert not any(residue in article.text for residue in RESIDUE), article.text[-200:]
    titles = set(ArticleVersion.objects.values_list("title", flat=True))
    assert not any(title.endswith("- Hainaut Matin") for title in titles)
    links = list(ArticleVersion.objects.values_list("url", flat=True))
    assert links and not any("xtor" in link or "#" in link for link in links)
    assert all(Path(link).suffix == ".html" for link in links)
