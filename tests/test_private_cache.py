"""Answers that carry personal or reserved data are never kept by browsers or proxies."""

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from intersection.accounts import services
from intersection.accounts.models import Role

from .conftest import login, make_org, make_user

pytestmark = pytest.mark.django_db
PRIVATE = "private, no-store"


def test_it_keeps_signed_in_pages_and_exports_out_of_caches(client: Client) -> None:
    make_org("reseau-belge", kind="association")
    # Public pages stay cacheable for visitors who are not signed in.
    for url in ["/organisations/", "/api/organisations"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.get("Cache-Control", ""), url
    login(client, make_user("staff@example.org", role=Role.STAFF))
    for url in ["/", "/organisations/", "/organisations/reseau-belge/register.csv"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == PRIVATE, url
    # A page that chose its own Cache-Control keeps it.
    assert "no-cache" in client.get("/accounts/security/")["Cache-Control"]


def test_it_keeps_api_answers_to_a_token_out_of_caches(client: Client) -> None:
    user = make_user("staff@example.org", role=Role.STAFF)
    _token, secret = services.token_create(user=user, name="import")
    auth = {"authorization": f"Bearer {secret}"}
    for url in ["/api/me", "/api/people"]:
        response = client.get(url, headers=auth)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == PRIVATE, url


def test_it_marks_a_view_private_even_for_visitors() -> None:
    from intersection.core.http import private_response

    @private_response
    def feed(request: HttpRequest) -> HttpResponse:
        return HttpResponse("<feed/>", content_type="application/atom+xml")

    request = RequestFactory().get("/feed/some-secret-key.atom")
    assert feed(request)["Cache-Control"] == PRIVATE
