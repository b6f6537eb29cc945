"""Polling sources against real servers on 127.0.0.1: storage, duplicates, health, safety."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from intersection.accounts.models import Role
from intersection.mediawatch import services, storage
from intersection.mediawatch.models import (
    Article,
    ArticleBand,
    ArticleVersion,
    FetchRun,
    Source,
    SourceKind,
)
from intersection.mediawatch.pipeline.fetch import Fetcher

from ..conftest import login, make_agreement, make_org, make_user
from .conftest import LocalServer, reply

pytestmark = pytest.mark.django_db

WIRE = (
    "Les agents de quartier de la zone de police Bruxelles-Nord reprennent dès lundi leurs "
    "tournées à pied dans les quartiers de Schaerbeek, Evere et Saint-Josse. Le chef de corps "
    "explique que l'objectif est de renforcer le contact avec les habitants et les "
    "commerçants, de mieux repérer les problèmes de sécurité du quotidien et de rendre les "
    "policiers plus accessibles. Chaque agent couvrira un secteur précis et tiendra une "
    "permanence hebdomadaire au commissariat. Les habitants pourront aussi prendre "
    "rendez-vous en ligne pour signaler un problème ou poser une question."
)
OTHER = (
    "La zone de police d'Ath lance une campagne contre les vols de vélos à la gare. Des "
    "policiers graveront gratuitement un numéro d'identification sur les cadres des vélos "
    "chaque samedi matin pendant tout le mois de décembre, et conseilleront les cyclistes "
    "sur les meilleurs cadenas. L'an dernier, près de deux cents vélos ont été volés aux "
    "abords de la gare, selon les chiffres communiqués par la zone."
)


def rss(items: list[tuple[str, str, str, str]]) -> bytes:
    entries = "".join(
        f'<item><guid isPermaLink="false">urn:test:{guid}</guid><title>{title}</title><link>{link}</link>'
        f"<description><![CDATA[{text}]]></description>"
        "<pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate></item>"
        for guid, title, link, text in items
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title><language>fr</language>{entries}</channel></rss>'.encode()


def source(web: LocalServer, path: str, name: str = "Le Quotidien") -> Source:
    return Source.objects.create(name=name, kind=SourceKind.FEED, url=web.url(path))


def poll(src: Source, fetcher: Fetcher) -> services.PollReport:
    src.refresh_from_db()
    return services.poll_source(source=src, fetcher=fetcher, now=timezone.now())


def test_it_stores_new_items_once_and_records_health(web: LocalServer, fetcher: Fetcher) -> None:
    web.routes["/a.xml"] = reply(
        rss(
            [
                ("a1", "Agents de quartier", web.url("/p/1"), WIRE),
                ("a2", "Vélos", web.url("/p/2"), OTHER),
            ]
        ),
        headers={"ETag": '"v1"'},
    )
    src = source(web, "/a.xml")
    report = poll(src, fetcher)
    assert (report.status, report.new, report.duplicates) == ("ok", 2, 0)
    src.refresh_from_db()
    assert src.last_success_at is not None and src.consecutive_failures == 0
    assert src.etag == '"v1"' and src.items_seen == 2
    article = Article.objects.get(versions__guid="urn:test:a1")
    assert article.language == "fr" and "Schaerbeek" in article.text
    assert FetchRun.objects.get().status == "ok"
    again = poll(src, fetcher)  # same bytes: nothing parsed again, nothing added
    assert again.status == "unchanged" and Article.objects.count() == 2


def test_it_keeps_one_article_for_a_wire_story_across_outlets(
    web: LocalServer, fetcher: Fetcher
) -> None:
    edited = WIRE.replace("dès lundi", "à partir de lundi").replace(
        "Le chef de corps", "Le commissaire"
    )
    web.routes["/a.xml"] = reply(rss([("a1", "Agents de quartier à pied", web.url("/a/1"), WIRE)]))
    web.routes["/b.xml"] = reply(
        rss(
            [
                (
                    "b9",
                    "VIDÉO - Les agents de quartier repartent - Hainaut Matin",
                    web.url("/b/9?utm_source=x"),
                    "Publié par notre rédaction. " + edited,
                )
            ]
        )
    )
    first, second = source(web, "/a.xml"), source(web, "/b.xml", "Hainaut Matin")
    poll(first, fetcher)
    report = poll(second, fetcher)
    assert (report.new, report.duplicates) == (0, 1)
    article = Article.objects.get()
    assert sorted(v.source.name for v in article.versions.all()) == [
        "Hainaut Matin",
        "Le Quotidien",
    ]
    second.refresh_from_db()
    assert second.duplicate_share == 1.0


def test_it_keeps_distinct_stories_apart(web: LocalServer, fetcher: Fetcher) -> None:
    web.routes["/a.xml"] = reply(rss([("a1", "Contrôle de police", web.url("/a/1"), WIRE)]))
    web.routes["/b.xml"] = reply(rss([("b1", "Contrôle de police", web.url("/b/1"), OTHER)]))
    poll(source(web, "/a.xml"), fetcher)
    poll(source(web, "/b.xml", "Autre"), fetcher)
    assert Article.objects.count() == 2


def test_it_fetches_the_page_when_the_feed_only_summarises(
    web: LocalServer, fetcher: Fetcher
) -> None:
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in WIRE.split(". "))
    web.routes["/p/1"] = reply(
        f'<html lang="fr"><head><link rel="canonical" href="{web.url("/police/agents")}"></head>'
        f"<body><nav>Menu</nav><article><h1>Agents</h1>{paragraphs}</article></body></html>".encode()
    )
    web.routes["/a.xml"] = reply(
        rss([("a1", "Agents", web.url("/p/1?utm_medium=rss"), "Court résumé.")])
    )
    poll(source(web, "/a.xml"), fetcher)
    article = Article.objects.get()
    assert "Saint-Josse" in article.text
    assert article.canonical_url == f"127.0.0.1:{web.port}/police/agents"


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (b"<!DOCTYPE html><html><body>Not a feed</body></html>", 200, "not_a_feed"),
        (b"", 200, "not_a_feed"),
        (b"oops", 500, "http_status"),
        (b"", 404, "http_status"),
    ],
)
def test_it_records_a_broken_source_and_adds_nothing(
    web: LocalServer, fetcher: Fetcher, body: bytes, status: int, kind: str
) -> None:
    web.routes["/bad.xml"] = reply(body, status=status)
    src = source(web, "/bad.xml")
    report = poll(src, fetcher)
    src.refresh_from_db()
    assert report.status == "error" and src.last_error_kind == kind
    assert src.consecutive_failures == 1 and src.last_error
    assert Article.objects.count() == 0 and ArticleVersion.objects.count() == 0
    assert src.next_poll_at is not None and src.next_poll_at > timezone.now()


def test_it_waits_as_long_as_retry_after_says(web: LocalServer, fetcher: Fetcher) -> None:
    web.routes["/busy.xml"] = reply(b"", status=429, headers={"Retry-After": "7200"})
    src = source(web, "/busy.xml")
    poll(src, fetcher)
    src.refresh_from_db()
    assert src.last_error_kind == "rate_limited"
    assert src.next_poll_at is not None
    assert src.next_poll_at >= timezone.now() + timedelta(seconds=7100)


def test_it_disables_a_source_after_repeated_failures(
    web: LocalServer, fetcher: Fetcher, settings: object
) -> None:
    settings.MEDIAWATCH_MAX_FAILURES = 3  # type: ignore[attr-defined]
    web.routes["/bad.xml"] = reply(b"nope", status=500)
    src = source(web, "/bad.xml")
    started = None
    for number in range(3):
        poll(src, fetcher)
        src.refresh_from_db()
        started = started or src.failing_since
        assert src.failing_since == started, "the streak keeps the time of its first failure"
        assert src.active == (number < 2)
    assert src.pause_reason == "failures" and src.consecutive_failures == 3
    assert src.last_error_kind == "http_status"
    web.routes["/bad.xml"] = reply(b"nope", status=304)
    src.active = True
    src.save()
    poll(src, fetcher)
    src.refresh_from_db()
    assert src.failing_since is None and src.consecutive_failures == 0


def test_it_completes_a_run_that_crashed_half_way(
    web: LocalServer, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [
        (f"g{i}", f"Titre {i}", web.url(f"/p/{i}"), f"{OTHER} Numéro {i}. " * 2) for i in range(5)
    ]
    items[0] = ("g0", "Agents", web.url("/p/0"), WIRE)
    web.routes["/a.xml"] = reply(rss(items))
    src = source(web, "/a.xml")
    monkeypatch.setattr(services, "BATCH", 2)  # batches g0-g1, g2-g3, g4
    version = storage._version
    calls = {"n": 0}

    def killed_while_writing_the_second_batch(*args: Any) -> ArticleVersion:
        calls["n"] += 1
        if calls["n"] == 4:  # its articles and bands are written, its versions are not
            raise SystemExit("worker killed")
        return version(*args)

    monkeypatch.setattr(storage, "_version", killed_while_writing_the_second_batch)
    with pytest.raises(SystemExit):
        services.poll_source(source=src, fetcher=fetcher, now=timezone.now())
    # The first batch is stored; nothing of the second one is (no article without a version).
    first_batch = ["urn:test:g0", "urn:test:g1"]
    assert sorted(ArticleVersion.objects.values_list("guid", flat=True)) == first_batch
    assert Article.objects.count() == 2
    assert not ArticleBand.objects.exclude(article__versions__guid__in=first_batch).exists()
    src.refresh_from_db()
    assert src.body_sha256 == ""  # the run did not finish: the feed will be read again
    monkeypatch.setattr(storage, "_version", version)
    poll(src, fetcher)
    assert ArticleVersion.objects.count() == 5
    assert ArticleVersion.objects.values("source", "guid").distinct().count() == 5
    assert Article.objects.count() == 5


def test_it_serves_the_archive_search_and_article_to_members_with_an_agreement(
    web: LocalServer, fetcher: Fetcher
) -> None:
    web.routes["/a.xml"] = reply(
        rss(
            [
                ("a1", "Les policiers de quartier", web.url("/p/1"), WIRE),
                ("a2", "Vélos", web.url("/p/2"), OTHER),
            ]
        )
    )
    poll(source(web, "/a.xml"), fetcher)
    network, zone = make_org("net", kind="association"), make_org("zone")
    make_agreement(
        "MW", parties=[network, zone], grants={"media_watch": [zone]},
        signed_on=timezone.localdate() - timedelta(days=30),
        starts_on=timezone.localdate() - timedelta(days=30),
    )  # fmt: skip
    member = login(Client(), make_user("m@example.org", org=zone))
    page = member.get("/media-watch/", {"q": "agent"}).content.decode()  # "agents", "agent"
    assert "Les policiers de quartier" in page and "Vélos" not in page
    assert "<mark>" in page
    phrase = member.get("/media-watch/", {"q": '"vols de vélos"'}).content.decode()
    assert "Vélos" in phrase and "Les policiers de quartier" not in phrase
    article = Article.objects.get(versions__guid="urn:test:a1")
    detail = member.get(f"/media-watch/articles/{article.pk}/").content.decode()
    assert "Saint-Josse" in detail and "Le Quotidien" in detail
    api = member.get("/api/media-watch/articles", {"q": "sécurité"}).json()
    assert [item["title"] for item in api["items"]] == ["Les policiers de quartier"]
    outsider = login(Client(), make_user("o@example.org", org=make_org("other")))
    assert outsider.get("/media-watch/sources/").status_code == 403
    assert outsider.get("/api/media-watch/articles").status_code == 403
    staff = login(Client(), make_user("s@example.org", role=Role.STAFF))
    assert "Le Quotidien" in staff.get("/media-watch/sources/").content.decode()


def test_it_saves_a_search_with_a_private_feed_and_exports_results(
    web: LocalServer, fetcher: Fetcher
) -> None:
    import csv
    import io

    from intersection.core.models import AuditEvent
    from intersection.mediawatch.models import SavedSearch

    web.routes["/a.xml"] = reply(
        rss(
            [
                ("a1", "=Les agents de quartier", web.url("/p/1"), WIRE),
                ("a2", "Vélos", web.url("/p/2"), OTHER),
            ]
        )
    )
    poll(source(web, "/a.xml"), fetcher)
    network, zone = make_org("net", kind="association"), make_org("zone")
    agreement = make_agreement(
        "MW", parties=[network, zone], grants={"media_watch": [zone]},
        signed_on=timezone.localdate() - timedelta(days=30),
        starts_on=timezone.localdate() - timedelta(days=30),
    )  # fmt: skip
    member = login(Client(), make_user("m@example.org", org=zone))
    member.post("/media-watch/saved/", {"name": "Agents", "filters": "q=agent"})
    saved = SavedSearch.objects.get()
    feed = Client().get(f"/media-watch/saved/{saved.feed_key}.atom")  # a feed reader: no session
    assert feed.status_code == 200 and feed["Content-Type"].startswith("application/atom+xml")
    body = feed.content.decode()
    assert "Les agents de quartier" in body and "Vélos" not in body
    assert Client().get("/media-watch/saved/not-a-key.atom").status_code == 404
    exported = member.get("/media-watch/export.csv", {"q": "agent"})
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row["title"] for row in rows] == ["'=Les agents de quartier"]  # formula neutralised
    as_json = member.get("/media-watch/export.json").json()
    assert {row["title"] for row in as_json} == {"=Les agents de quartier", "Vélos"}
    assert AuditEvent.objects.filter(action="mediawatch.export").count() == 2
    assert member.get("/media-watch/export.xlsx").status_code == 404
    # The agreement ends: the feed ends with it, without anyone touching the saved search.
    agreement.ends_on = timezone.localdate() - timedelta(days=1)
    agreement.save()
    assert Client().get(f"/media-watch/saved/{saved.feed_key}.atom").status_code == 404


def test_it_respects_robots_txt_for_article_pages(web: LocalServer, fetcher: Fetcher) -> None:
    web.routes["/robots.txt"] = reply(b"User-agent: *\nDisallow: /private/\n")
    web.routes["/private/1"] = reply(
        f"<html><body><article><p>{WIRE}</p></article></body></html>".encode()
    )
    web.routes["/a.xml"] = reply(
        rss([("a1", "Agents", web.url("/private/1"), "Court résumé de l'article.")])
    )
    report = poll(source(web, "/a.xml"), fetcher)
    assert report.errors == {"page_disallowed_by_robots": 1}
    assert not any(path == "/private/1" for path, _ in web.requests)
    assert Article.objects.get().text == "Court résumé de l'article."
