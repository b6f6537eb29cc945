"""The archive's search on the engine in use (SQLite FTS5 or PostgreSQL): order, filters,
date bounds, paging and capped counts agree with a plain reading of the stored articles."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from intersection.mediawatch import search, selectors
from intersection.mediawatch.models import Article, ArticleVersion, Source, SourceKind
from intersection.mediawatch.pipeline.stemming import index_terms, words
from intersection.mediawatch.views import ArchivePaginator

from ..conftest import login, make_agreement, make_org, make_user
from .conftest import POSTGRES_ONLY

pytestmark = pytest.mark.django_db

TOPICS = {
    "fr": ["policier de quartier", "vol de vélos", "sécurité routière", "patrouille à pied"],
    "nl": ["wijkagent in de buurt", "fietsdiefstal aan het station", "verkeersveiligheid"],
    "en": ["community policing", "bicycle theft", "road safety"],
}
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _archive(count: int = 120, seed: int = 3) -> list[Article]:
    rng = random.Random(seed)
    be = Source.objects.create(
        name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f", country="BE"
    )
    ca = Source.objects.create(
        name="La Presse", kind=SourceKind.FEED, url="https://b.test/f", country="CA"
    )
    articles = []
    for n in range(count):
        language = rng.choice(list(TOPICS))
        topic = rng.choice(TOPICS[language])
        text = f"{topic}. Article {n} " + " ".join(rng.choice(TOPICS[language]) for _ in range(3))
        # Hours apart, several articles in the same second, one before 2000, some undated.
        listed = START - timedelta(hours=rng.randint(0, 2000), seconds=rng.choice([0, 0, 1]))
        if n == 7:
            listed = datetime(1998, 5, 1, tzinfo=UTC)
        source = be if rng.random() < 0.6 else ca
        article = Article.objects.create(
            canonical_url=f"a.test/{n}", url=f"https://a.test/{n}", title=f"{topic} {n}",
            normalised_title=f"{topic} {n}", text=text, language=language,
            published_at=None if n % 17 == 0 else listed, listed_at=listed,
            search_terms=index_terms(f"{topic} {n} {text}", language), source=source,
        )  # fmt: skip
        ArticleVersion.objects.create(article=article, source=source, guid=f"g{n}", url=article.url)
        if rng.random() < 0.2:
            other = ca if source == be else be
            ArticleVersion.objects.create(
                article=article, source=other, guid=f"h{n}", url=article.url
            )
        articles.append(article)
    return articles


def _expected(articles: list[Article], word: str = "", **filters: object) -> list[int]:
    """A plain reading: the word among the article's words (any inflection the search
    accepts is left to the engine; here each test word appears as written)."""
    chosen = []
    for a in articles:
        if word and word not in words(f"{a.title} {a.text}"):
            continue
        if filters.get("language") and a.language != filters["language"]:
            continue
        countries = set(a.versions.values_list("source__country", flat=True))
        if filters.get("country") and filters["country"] not in countries:
            continue
        since, until = filters.get("since"), filters.get("until")
        if isinstance(since, date) and a.listed_at.date() < since:
            continue
        if isinstance(until, date) and a.listed_at.date() > until:
            continue
        chosen.append(a)
    chosen.sort(key=lambda a: (a.listed_at, a.pk), reverse=True)
    return [a.pk for a in chosen]


@pytest.mark.parametrize(
    ("word", "filters"),
    [
        ("", {}),
        ("velos", {}),
        ("policing", {}),
        ("article", {"language": "nl"}),
        ("article", {"country": "CA"}),
        ("article", {"since": date(2026, 1, 10), "until": date(2026, 2, 1)}),
        ("quartier", {"until": date(2026, 1, 31), "country": "BE"}),
        ("", {"since": date(2026, 2, 20), "language": "en"}),
    ],
)
def test_results_are_the_matches_newest_first(word: str, filters: dict[str, object]) -> None:
    articles = _archive()
    expected = _expected(articles, word, **filters)
    assert expected, "the case must select something"
    found = selectors.archive(query=word, **filters)  # type: ignore[arg-type]
    assert [a.pk for a in found] == expected
    assert search.capped_count(found) == len(expected)
    # The plan chosen after counting (a sort of the matches on PostgreSQL) keeps the order.
    counted, total = search.counted(found)
    assert total == len(expected) and [a.pk for a in counted] == expected
    # Paging walks the same order without gaps or repeats.
    pages = [a.pk for start in range(0, len(expected), 7) for a in found[start : start + 7]]
    assert pages == expected


def test_the_index_follows_changes_of_date_text_and_deletions() -> None:
    articles = _archive(30)
    oldest = min(articles, key=lambda a: a.listed_at)
    oldest.listed_at = START + timedelta(days=1)
    oldest.save()
    assert next(iter(selectors.archive(query="article"))).pk == oldest.pk
    oldest.search_terms = index_terms("zonnepanelen", "nl")
    oldest.save()
    assert [a.pk for a in selectors.archive(query="zonnepanelen")] == [oldest.pk]
    assert oldest.pk not in [a.pk for a in selectors.archive(query="article")]
    oldest.delete()
    assert list(selectors.archive(query="zonnepanelen")) == []


def test_the_listing_key_orders_like_the_listing() -> None:
    moments = [datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), search.EPOCH, START]
    keys = [search.listing_key(m, i) for m in moments for i in (1, 2, search.ID_MASK)]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(
        k & search.ID_MASK == i for k, i in zip(keys, [1, 2, search.ID_MASK] * 3, strict=True)
    )
    # That SQLite's triggers compute the same rowids is checked by
    # test_the_index_keys_of_an_article_follow_its_listing_time.


def test_counts_stop_at_the_limit_and_the_page_says_more(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _expected(_archive(40), "article")
    assert search.capped_count(selectors.archive(query="article"), limit=10) == 11
    monkeypatch.setattr(search, "COUNT_LIMIT", 10)
    zone = make_org("zone")
    make_agreement(
        "MW", parties=[make_org("net", kind="association"), zone],
        grants={"media_watch": [zone]}, signed_on=date(2026, 1, 1), starts_on=date(2026, 1, 1),
    )  # fmt: skip
    member = login(Client(), make_user("m@example.org", org=zone))
    page = member.get("/media-watch/", {"q": "article"}).content.decode()
    assert "Plus de 10 articles" in page  # French by default
    api = member.get("/api/media-watch/articles", {"q": "article", "limit": 5}).json()
    assert (api["count"], api["more"], len(api["items"])) == (10, True, 5)
    assert [item["id"] for item in api["items"]] == expected[:5]
    # Past the counted matches, pages go on in the same order.
    far = member.get("/api/media-watch/articles", {"q": "article", "limit": 5, "offset": 12})
    assert [item["id"] for item in far.json()["items"]] == expected[12:17]
    few = member.get("/api/media-watch/articles", {"q": "article", "language": "xx"}).json()
    assert (few["count"], few["more"], few["items"]) == (0, False, [])


def test_snippets_mark_every_inflection_in_a_window_around_the_first_match() -> None:
    text = "Début <b>sans</b> rapport. " * 30 + "Les policiers & le policier de quartier. " * 3
    shown = search.snippet(text, "policier", width=120)
    assert shown.startswith("…") and shown.endswith("…")
    assert shown.count("<mark>policiers</mark>") >= 1 and "<mark>policier</mark>" in shown
    assert "&amp;" in shown and "<b>" not in shown  # the text is escaped, only marks are HTML
    assert "<mark>" not in search.snippet("Rien à voir ici.", "policier")
    assert search.snippet("x" * 300, "absent").endswith("…")


PHRASE_TEXTS = [
    "Un vol de vélos à la gare de Namur.",
    "Les vols de vélos se multiplient.",  # "vols" and "vol": one stem
    "Des vélos de vol, une histoire de pigeons.",  # the words in another order
    "Le vol de nuit a visé des vélos.",  # the words apart
    "Elle habite près de la ville ; la police arrive.",  # "de la" and "la police", apart
    "Le commissaire de la police locale parle.",
    "De la police ? Personne.",
    "La police de la poste et le centre de la ville.",  # "police de la", "de la ville" apart
    "Vue de la police de la ville.",
]


@pytest.mark.parametrize(
    ("phrase", "texts"),
    [
        ("vol de vélos", {0, 1}),
        ("de la police", {5, 6, 8}),
        ("la police", {4, 5, 6, 7, 8}),
        ("vélos de vol", {2}),
        ("commissaire de la police locale", {5}),
        ("police de la ville", {8}),  # each run of three terms is in 7 too, not the four
        ("police vol", set()),
    ],
)
def test_phrases_match_their_words_in_order_and_next_to_each_other(
    phrase: str, texts: set[int]
) -> None:
    source = Source.objects.create(name="S", kind=SourceKind.FEED, url="https://a.test/f")
    articles = []
    for n, text in enumerate(PHRASE_TEXTS):
        article = Article.objects.create(
            canonical_url=f"a.test/{n}", url=f"https://a.test/{n}", title=f"Titre {n}",
            normalised_title=f"titre {n}", text=text, language="fr", source=source,
            search_terms=index_terms(f"Titre {n} {text}", "fr"),
            listed_at=START - timedelta(hours=n),
        )  # fmt: skip
        articles.append(article)
    found = selectors.archive(query=f'"{phrase}"')
    assert [a.pk for a in found] == [articles[n].pk for n in sorted(texts)]
    # A phrase and a word together: both must match.
    both = selectors.archive(query=f'"{phrase}" gare')
    assert [a.pk for a in both] == [articles[n].pk for n in sorted(texts & {0})]


def _phrase_keys(terms: list[str]) -> set[str]:
    """Each run of 2 and of 3 adjacent terms: what `search` asks the index for a phrase."""
    return {
        " ".join(terms[start : start + size])
        for size in (2, search.KEY_TERMS)
        for start in range(len(terms) - size + 1)
    }


def test_a_phrase_asks_for_itself_up_to_three_terms_and_for_its_runs_of_three_beyond() -> None:
    assert search._phrase_query(["zon", "de"]) == "'zon de'"
    assert search._phrase_query(["zon", "de", "polic"]) == "'zon de polic'"
    assert search._phrase_query(["l", "agent", "de", "quartier"]) == (
        "'l agent de' & 'agent de quartier'"
    )


@POSTGRES_ONLY
def test_the_phrase_keys_of_an_article_are_its_runs_of_two_and_three_terms() -> None:
    """A phrase of two or three terms is found by its key alone on PostgreSQL: the keys the
    database computes (migration 0008) must be the runs of terms the queries ask for."""
    for article in _archive(12):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT lexeme FROM mediawatch_article, unnest(search_vector)"
                " WHERE id = %s AND lexeme LIKE '%% %%'",
                [article.pk],
            )
            stored = {lexeme for (lexeme,) in cursor.fetchall()}
        assert stored == _phrase_keys(article.search_terms.split(" "))


def test_windows_grow_by_the_rate_of_matches_and_stop_at_the_oldest_period() -> None:
    assert list(search._window(100, 70, 4)) == [100, 99, 98, 97]
    assert list(search._window(72, 70, 16)) == [72, 71, 70] and not search._window(69, 70, 1)
    # Nothing found: four times larger. 960 found in one period with 41 to go: one more
    # period. 10 found in four periods with 500 to go: 16 at most (four times four).
    assert search._next_size(range(100, 99, -1), 0, 1001) == 4
    assert search._next_size(range(100, 99, -1), 960, 41) == 1
    assert search._next_size(range(100, 96, -1), 10, 500) == 16
    assert search._next_size(range(100, 96, -1), 300, 400) == 8  # 1.5 x 400 / 75 a period


@pytest.mark.parametrize("query", ["article", '"article"'])  # a word, a phrase
@pytest.mark.parametrize("limit", [3, 1000])
@pytest.mark.parametrize(
    "filters",
    [{}, {"language": "nl"}, {"since": date(2023, 6, 1)}, {"until": date(2024, 2, 1)}],
)
def test_counts_over_years_of_archive_agree_with_a_plain_count(
    query: str, limit: int, filters: dict[str, object]
) -> None:
    """Counting by period (PostgreSQL) or in the index (SQLite) over articles spread across
    five years: the same count as reading them, stopped at the limit."""
    articles = _archive(60, seed=11)
    rng = random.Random(5)
    for article in articles:  # days apart over five years, so that many periods are counted
        article.listed_at = START - timedelta(
            days=rng.randint(0, 5 * 365), seconds=rng.randint(0, 86_399)
        )
        article.save()
    expected = _expected(articles, "article", **filters)
    assert len(expected) > 3
    found = selectors.archive(query=query, **filters)  # type: ignore[arg-type]
    assert search.capped_count(found, limit=limit) == min(len(expected), limit + 1)
    with transaction.atomic():  # as in a request: the planner's settings come back after
        counted, total = search.counted(found, limit)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW enable_seqscan")
                assert cursor.fetchone() == ("on",)
    assert total == min(len(expected), limit + 1)
    assert [a.pk for a in counted[:limit]] == expected[:limit]
    # A page needs only the first rows: on PostgreSQL they come from the newest periods.
    for rows in (1, 2, limit):
        assert [a.pk for a in search.first_rows(counted, rows)[:rows]] == expected[:rows]
    if connection.vendor == "postgresql" and limit == 1000:  # the count read every match
        with CaptureQueriesContext(connection) as read:  # so the page is read by id
            assert [a.pk for a in search.first_rows(counted, 5)] == expected[:5]
        assert '"mediawatch_article"."id" IN (' in read.captured_queries[-1]["sql"]
    paginator = ArchivePaginator(found, 7)  # the archive page's pages
    for number in range(1, paginator.num_pages + 1):
        page = [a.pk for a in paginator.page(number)]
        assert page == expected[(number - 1) * 7 : number * 7]


def test_the_index_keys_of_an_article_follow_its_listing_time() -> None:
    """The keys the database computes agree with Python's: on PostgreSQL the period and
    language keys (migration 0006, `search.period`), on SQLite the FTS5 rowid
    (`search.listing_key`), at period and epoch boundaries, after the date changed."""
    moments = [
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
        search.EPOCH,
        START,
        search.EPOCH + timedelta(seconds=search.PERIOD_SECONDS * 7 - 1),
        search.EPOCH + timedelta(seconds=search.PERIOD_SECONDS * 7),
    ]
    article = _archive(1)[0]
    for moment in moments:
        Article.objects.filter(pk=article.pk).update(listed_at=moment)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT search_vector @@ %s::tsquery FROM mediawatch_article WHERE id = %s",
                    [f"'§p:{search.period(moment)}' & '§l:{article.language}'", article.pk],
                )
                assert cursor.fetchone() == (True,), moment
            else:
                cursor.execute("SELECT rowid FROM mediawatch_article_fts")
                assert cursor.fetchall() == [(search.listing_key(moment, article.pk),)], moment
    assert [search.period(m) for m in moments] == [-1, 0, 318, 6, 7]  # 9,556 days to START


@pytest.mark.parametrize("query", ["", "article"])
def test_dates_at_the_ends_of_the_calendar_filter_nothing_out(query: str) -> None:
    """ "Since 0001-01-01" is before year 1 once written in UTC from Brussels: the filter
    keeps every article instead of failing (a 500 found by the API's generated requests)."""
    expected = _expected(_archive(12), query, country="BE")
    found = selectors.archive(
        query=query, country="BE", since=date(1, 1, 1), until=date(9999, 12, 31)
    )
    assert [a.pk for a in found] == expected
    assert search.counted(found)[1] == len(expected)


def test_a_phrase_found_often_in_the_newest_period_is_read_from_that_period() -> None:
    """Counted within the newest period: a word's page walks the date index (PostgreSQL
    finds a page within a few rows), a phrase's is read from that period and sorted (the
    planner cannot tell how many articles hold a phrase). Both list the same articles."""
    expected = _expected(_archive(40), "article")
    word, phrase = selectors.archive(query="article"), selectors.archive(query='"article"')
    counted_word, found_word = search.counted(word, limit=3)
    counted_phrase, found_phrase = search.counted(phrase, limit=3)
    assert found_word == found_phrase == 4
    for counted in (counted_word, counted_phrase):
        assert [a.pk for a in search.first_rows(counted, 3)[:3]] == expected[:3]
    if connection.vendor == "postgresql":
        assert counted_word is word and counted_phrase is not phrase
