"""Storing items: the duplicate decision when another worker stores the same story."""

from datetime import UTC, datetime

import pytest

from intersection.mediawatch import services
from intersection.mediawatch.models import Article, ArticleVersion, Source, SourceKind

from .test_ingest import WIRE

pytestmark = pytest.mark.django_db


def _candidate(guid: str, url: str, title: str, text: str) -> services.Candidate:
    return services.Candidate(
        guid=guid, url=url, canonical=url.split("//", 1)[1], title=title, text=text,
        summary="", published=datetime(2026, 11, 30, 8, tzinfo=UTC), language="fr",
        language_confidence=1.0, author="", image_url="", flags=frozenset(),
    )  # fmt: skip


def test_a_copy_stored_by_another_worker_during_the_search_is_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = Source.objects.create(name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f")
    second = Source.objects.create(name="La Libre", kind=SourceKind.FEED, url="https://b.test/f")
    lock = services._serialise_stores
    calls = []

    def other_worker_first() -> None:
        # Between this worker's search (nothing found) and its write transaction, another
        # worker stores the same dispatch from another outlet.
        if not calls:
            calls.append(1)
            assert services._store(
                second, _candidate("b1", "https://b.test/1", "Agents de quartier", WIRE)
            )
        lock()

    monkeypatch.setattr(services, "_serialise_stores", other_worker_first)
    is_new = services._store(
        first, _candidate("a1", "https://a.test/1", "Les agents de quartier - Le Soir", WIRE)
    )
    assert not is_new and calls
    assert Article.objects.count() == 1
    assert ArticleVersion.objects.filter(article=Article.objects.get()).count() == 2


def test_an_original_deleted_during_the_search_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = Source.objects.create(name="Le Soir", kind=SourceKind.FEED, url="https://a.test/f")
    services._store(source, _candidate("a1", "https://a.test/1", "Agents de quartier", WIRE))
    lock = services._serialise_stores

    def deleted_meanwhile() -> None:
        Article.objects.all().delete()  # a curator deletes the story the search just found
        lock()

    monkeypatch.setattr(services, "_serialise_stores", deleted_meanwhile)
    assert services._store(source, _candidate("a2", "https://a.test/2", "Agents", WIRE))
    assert list(ArticleVersion.objects.values_list("guid", flat=True)) == ["a2"]
