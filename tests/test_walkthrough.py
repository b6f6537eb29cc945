"""What a first walkthrough found: refusals that say why, refusals counted not repeated,
filters that do not show a misleading list, codes shown in words, the directory sorted the
reader's way, error pages in the reader's language, the home page's modules."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from intersection.accounts.models import Role
from intersection.core.models import AuditEvent
from intersection.mediawatch.models import (
    Article,
    ArticleVersion,
    PauseReason,
    SavedSearch,
    Source,
    SourceKind,
)
from intersection.mediawatch.pipeline.stemming import index_terms
from intersection.network.models import Resource

from .conftest import login, make_agreement, make_org, make_user

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}


def _in(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def _reader(**fields: object) -> Client:
    """A member whose zone's agreement in force unlocks the media watch."""
    zone = make_org("zone")
    make_agreement(
        "MW-1", parties=[make_org("net", kind="association"), zone],
        grants={Resource.MEDIA_WATCH: [zone]}, signed_on=date(2020, 1, 1),
        starts_on=date(2020, 1, 1), **fields,
    )  # fmt: skip
    return login(Client(), make_user("reader@example.org", org=zone))


def _article(title: str, source: Source, **fields: object) -> Article:
    text = "Les policiers de quartier reprennent leurs tournées à pied dans le quartier Nord."
    article = Article.objects.create(
        canonical_url=f"x.example/{title}", url=f"https://x.example/{title}?utm_source=rss",
        title=title, normalised_title=title.lower(), text=text, language="fr", source=source,
        published_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        search_terms=index_terms(f"{title} {text}", "fr"), **fields,
    )  # fmt: skip
    ArticleVersion.objects.create(article=article, source=source, guid=title, url=article.url,
                                  title=title)  # fmt: skip
    return article


def _source(name: str = "Le Quotidien", **fields: object) -> Source:
    return Source.objects.create(name=name, kind=SourceKind.FEED, url="https://q.example/rss",
                                 **fields)  # fmt: skip


# --- Refusals -------------------------------------------------------------------------------
def test_repeated_refusals_are_one_audit_row_an_hour_with_a_count() -> None:
    member = make_user("m@example.org")
    other = make_user("o@example.org")
    for _ in range(5):
        assert login(Client(), member).get("/audit/").status_code == 403
    assert login(Client(), other).get("/audit/").status_code == 403
    rows = AuditEvent.objects.filter(action="access.denied").order_by("actor__email")
    assert [(row.actor_label, row.count) for row in rows] == [
        ("m@example.org", 5), ("o@example.org", 1),
    ]  # fmt: skip
    # An hour later, a new row starts.
    AuditEvent.objects.update(at=timezone.now() - timedelta(hours=1, minutes=1))
    login(Client(), member).get("/audit/")
    assert AuditEvent.objects.filter(action="access.denied", actor=member).count() == 2


def test_refusals_of_visitors_are_counted_by_address() -> None:
    """A visitor who is not signed in is told apart by client address."""
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from intersection.core import audit

    def refuse(address: str) -> None:
        request = RequestFactory().get("/organisations/network/register/", REMOTE_ADDR=address)
        request.user = AnonymousUser()
        audit.record_refusal(request=request, permission="register.view")

    for _ in range(3):
        refuse("203.0.113.9")
    refuse("203.0.113.10")
    rows = AuditEvent.objects.values_list("ip_address", "count")
    assert dict(rows) == {"203.0.113.9": 3, "203.0.113.10": 1}


def test_the_register_export_refusal_is_counted_once_an_hour() -> None:
    make_org("network", kind="association")
    member = login(Client(), make_user("m@example.org"))
    for _ in range(3):
        assert member.get("/organisations/network/register.csv").status_code == 403
    assert list(AuditEvent.objects.values_list("count", "after")) == [
        (3, {"path": "/organisations/network/register.csv"})
    ]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/audit/", "The audit log is open to platform administrators only."),
        ("/styleguide/", "The style guide is open to network staff and platform administrators"),
        ("/organisations/network/register/",
         "The member register of a network is open to its current board members"),
    ],
)  # fmt: skip
def test_a_refusal_gives_its_own_reason(path: str, reason: str) -> None:
    make_org("network", kind="association")
    response = login(Client(), make_user("m@example.org")).get(path, headers=EN)
    page = response.content.decode()
    assert response.status_code == 403
    assert reason in page
    assert "no partnership agreement" not in page  # not the agreements' message for all


def test_a_refused_resource_names_the_agreement_rule_in_the_api_too() -> None:
    member = login(Client(), make_user("m@example.org"))
    response = member.get("/api/media-watch/sources", headers=EN)
    assert response.status_code == 403
    assert "no partnership agreement in force that unlocks" in response.json()["detail"]


# --- Home page modules ----------------------------------------------------------------------
def test_the_home_page_links_each_open_module_and_names_its_agreement() -> None:
    page = _reader().get("/", headers=EN).content.decode()
    assert 'href="/media-watch/"' in page
    assert "MW-1" in page  # the agreement that opens it
    # Modules not built yet say so plainly instead of a dead card.
    assert page.count("Not open yet") == 3


def test_the_home_page_tells_a_locked_member_why() -> None:
    page = login(Client(), make_user("m@example.org")).get("/", headers=EN).content.decode()
    assert 'href="/media-watch/"' not in page
    assert "No agreement in force unlocks it for your organisation" in page


# --- Filters --------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["since=2026-13-45", "q=" + "x" * 201, "language=klingon"])
def test_an_invalid_archive_filter_shows_the_error_and_no_list(query: str) -> None:
    _article("Police de proximité", _source())
    response = _reader().get(f"/media-watch/?{query}", headers=EN)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'class="error-summary"' in page
    assert "Police de proximité" not in page  # no unfiltered archive under the error
    assert 'class="item-list"' not in page


def test_a_valid_search_still_lists_its_matches() -> None:
    _article("Police de proximité", _source())
    page = _reader().get("/media-watch/?q=policiers", headers=EN).content.decode()
    assert "Police de proximité" in page


def test_invalid_directory_and_agreement_filters_show_no_list(client: Client) -> None:
    make_org("zone-a", name_fr="Zone Alpha")
    page = client.get("/organisations/?kind=spaceship", headers=EN).content.decode()
    assert "error-summary" in page and "Zone Alpha" not in page
    make_agreement("AG-1", parties=[make_org("b"), make_org("c")], grants={},
                   signed_on=date(2020, 1, 1))  # fmt: skip
    member = login(Client(), make_user("m@example.org"))
    response = member.get("/agreements/?status=bogus", headers=EN)
    assert response.status_code == 400 and "AG-1" not in response.content.decode()
    assert "AG-1" in member.get("/agreements/").content.decode()


# --- The media watch in words ---------------------------------------------------------------
def test_an_article_leads_back_to_the_same_search() -> None:
    article = _article("Police de proximité", _source())
    reader = _reader()
    listing = reader.get("/media-watch/?q=policiers&language=fr&page=1").content.decode()
    assert f'/media-watch/articles/{article.pk}/?q=policiers&amp;language=fr&amp;page=1"' in listing
    page = reader.get(f"/media-watch/articles/{article.pk}/?q=policiers&language=fr&page=1")
    assert 'href="/media-watch/?q=policiers&amp;language=fr&amp;page=1"' in page.content.decode()
    # Only the archive's own parameters come back, re-encoded.
    page = reader.get(f"/media-watch/articles/{article.pk}/?q=x&next=https://evil.example")
    assert 'href="/media-watch/?q=x"' in page.content.decode()


def test_match_reasons_are_words_with_a_percentage() -> None:
    source, other = _source(), _source("Hainaut Matin")
    article = _article("Police de proximité", source)
    ArticleVersion.objects.create(article=article, source=other, guid="h", title="Copie",
                                  url="https://h.example/c", similarity=0.94,
                                  match_reason="near-copy")  # fmt: skip
    page = _reader().get(f"/media-watch/articles/{article.pk}/", headers=EN).content.decode()
    assert "Nearly the same text" in page and "94 % alike" in page
    assert "near-copy" not in page


def test_a_failing_source_is_not_shown_as_working() -> None:
    _source("Failing outlet", consecutive_failures=4, last_error_kind="http_status",
            failing_since=datetime(2026, 12, 1, 8, tzinfo=UTC), last_error="HTTP 500")  # fmt: skip
    _source("Quiet outlet", active=False, pause_reason=PauseReason.NOT_ENABLED)
    ok = _source("Fine outlet", last_success_at=timezone.now())
    page = _reader().get("/media-watch/sources/", headers=EN).content.decode()
    failing = page[page.index("Failing outlet") : page.index("Fine outlet")]
    assert "badge-warning" in failing and "badge-success" not in failing
    assert "Since" in failing and "What to do:" in failing
    assert "HTTP 500" not in failing  # the raw error is for staff
    assert "Registered but not polled" in page
    assert f'href="/media-watch/?source={ok.pk}"' in page  # a name leads to its articles


def test_a_curator_sees_the_technical_detail_of_a_failure() -> None:
    _source("Failing outlet", consecutive_failures=1, last_error_kind="connection",
            last_error="ConnectError: refused")  # fmt: skip
    staff = login(Client(), make_user("s@example.org", role=Role.STAFF))
    assert "ConnectError: refused" in staff.get("/media-watch/sources/").content.decode()


def test_audit_actions_are_shown_in_words() -> None:
    AuditEvent.objects.create(action="source.delete", actor_label="x", object_repr="Le Soir")
    admin = login(Client(), make_user("a@example.org", role=Role.ADMIN))
    page = admin.get("/audit/", headers=EN).content.decode()
    assert "Deleted: news source" in page
    with translation.override("fr"):
        french = admin.get("/audit/", headers={"accept-language": "fr"}).content.decode()
    assert _in("fr", "Deleted: %(kind)s").split("%")[0].strip() in french


# --- Saved searches -------------------------------------------------------------------------
def test_saved_searches_say_what_they_filter_and_what_is_new() -> None:
    source = _source()
    reader = _reader()
    user = SavedSearch.objects.model.user.field.related_model.objects.get(
        email="reader@example.org"
    )
    saved = SavedSearch.objects.create(user=user, name="Quartier",
                                       query_string="q=policiers&language=fr")  # fmt: skip
    page = reader.get("/media-watch/", headers=EN).content.decode()
    assert "policiers" in page and "French" in page and "badge-info" not in page
    reader.get(f"/media-watch/saved/{saved.pk}/")  # opened: what is new counts from now
    saved.refresh_from_db()
    assert saved.last_viewed_at is not None
    _article("Nouvelle tournée", source)
    _article("Autre tournée", source)
    page = reader.get("/media-watch/", headers=EN).content.decode()
    assert "2 new" in page


def test_deleting_a_saved_search_asks_first_and_a_feed_address_can_be_renewed() -> None:
    reader = _reader()
    user = SavedSearch.objects.model.user.field.related_model.objects.get(
        email="reader@example.org"
    )
    saved = SavedSearch.objects.create(user=user, name="Quartier", query_string="q=police")
    old_key = saved.feed_key
    assert reader.get(f"/media-watch/saved/{old_key}.atom").status_code == 200
    confirm = reader.get(f"/media-watch/saved/{saved.pk}/delete/", headers=EN)
    assert confirm.status_code == 200 and "Delete the saved search" in confirm.content.decode()
    assert SavedSearch.objects.filter(pk=saved.pk).exists()
    reader.post(f"/media-watch/saved/{saved.pk}/new-address/")
    saved.refresh_from_db()
    assert saved.feed_key != old_key
    assert reader.get(f"/media-watch/saved/{old_key}.atom").status_code == 404
    feed = reader.get(f"/media-watch/saved/{saved.feed_key}.atom")
    assert feed.status_code == 200 and feed["Cache-Control"] == "private, no-store"
    reader.post(f"/media-watch/saved/{saved.pk}/delete/")
    assert not SavedSearch.objects.filter(pk=saved.pk).exists()


# --- Directory in the reader's language ----------------------------------------------------
def test_the_dutch_directory_is_sorted_by_the_names_dutch_readers_see(client: Client) -> None:
    make_org("a", name_fr="Zone de police Anvers", name_nl="Politiezone Antwerpen")
    make_org("b", name_fr="Zone de police Bruxelles-Nord", name_nl="")
    make_org("c", name_fr="Académie de police", name_nl="Politieacademie")
    make_org("d", name_fr="École régionale", name_nl="Ècole zonder vertaling")
    page = client.get("/organisations/", headers={"accept-language": "nl"}).content.decode()
    order = [page.index(name) for name in (
        "Ècole zonder vertaling", "Politieacademie", "Politiezone Antwerpen",
        "Zone de police Bruxelles-Nord",
    )]  # fmt: skip
    assert order == sorted(order)  # accents do not push "È" after "Z"
    # The untranslated name is marked with its language.
    assert (
        '<span lang="fr">Zone de police Bruxelles-Nord</span><span class="tag untranslated"' in page
    )
    assert '<span lang="fr">Politiezone Antwerpen' not in page


# --- Error pages ----------------------------------------------------------------------------
def test_a_nul_in_the_address_gets_a_styled_page_in_the_readers_language(client: Client) -> None:
    response = client.get("/organisations/?q=a%00b", headers={"accept-language": "nl"})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode("utf-8")
    assert '<html lang="nl">' in page
    assert _in("nl", "Bad request") in page
    api = client.get("/api/organisations?q=a%00b")
    assert api.status_code == 400 and "NUL" in api.json()["detail"]


def test_the_404_page_speaks_dutch_to_dutch_readers(client: Client) -> None:
    response = client.get("/nowhere/", headers={"accept-language": "nl"})
    assert response.status_code == 404 and '<html lang="nl">' in response.content.decode()
    assert _in("nl", "Page not found") in response.content.decode()


def test_the_500_page_answers_even_when_its_context_fails(rf: object, monkeypatch: object) -> None:
    from django.test import RequestFactory

    from intersection import views

    request = RequestFactory().get("/")
    request.user = make_user("m@example.org")  # type: ignore[attr-defined]
    translation.activate("en")
    response = views.server_error(request)
    assert response.status_code == 500 and b"Server error" in response.content

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(views, "render", broken)  # type: ignore[attr-defined]
    response = views.server_error(request)
    assert response.status_code == 500 and b"Server error" in response.content


# --- The API in the reader's language -------------------------------------------------------
def test_api_errors_are_in_the_readers_language(client: Client) -> None:
    unauthorized = client.get("/api/me", headers={"accept-language": "fr"})
    assert unauthorized.status_code == 401
    assert unauthorized.json()["detail"] != "Unauthorized"
    assert unauthorized.json()["detail"] == _in(
        "fr", "Authentication required: send `Authorization: Bearer <token>` or sign in."
    )
    invalid = client.get("/api/organisations?limit=abc", headers={"accept-language": "en"})
    assert invalid.status_code == 422
    error = invalid.json()["detail"][0]
    assert error["msg"] == "Enter a whole number." and error["type"] == "int_parsing"


def test_the_api_reference_is_in_the_readers_language(client: Client) -> None:
    page = client.get("/api/docs", headers={"accept-language": "nl"}).content.decode()
    assert _in("nl", "Directory of organisations") in page
    assert _in("nl", "Items per page (1–100).") in page


def test_the_style_guide_is_for_staff() -> None:
    assert login(Client(), make_user("m@example.org")).get("/styleguide/").status_code == 403
    staff = login(Client(), make_user("s@example.org", role=Role.STAFF))
    page = staff.get("/styleguide/").content.decode()
    assert page.count('<section class="section" lang=') == 3
