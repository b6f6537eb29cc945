"""JSON API: auth, pagination, policy, clear 4xx; schemathesis over the OpenAPI schema."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings

from intersection.accounts import services
from intersection.accounts.models import Role
from intersection.network.demo import load_demo
from intersection.wsgi import application

from .conftest import make_org, make_user

pytestmark = pytest.mark.django_db


def _bearer(role: str = Role.MEMBER, org: object = None) -> dict[str, str]:
    user = make_user(f"{role}@example.org", role=role, org=org)  # type: ignore[arg-type]
    _token, secret = services.token_create(user=user, name="test")
    return {"authorization": f"Bearer {secret}"}


def test_it_lists_organisations_publicly_with_pagination(client: Client) -> None:
    for i in range(7):
        make_org(f"zone-{i}")
    page = client.get("/api/organisations", {"limit": 3, "offset": 3}).json()
    assert page["count"] == 7
    assert [item["slug"] for item in page["items"]] == ["zone-3", "zone-4", "zone-5"]


def test_it_filters_organisations_and_rejects_unknown_kinds(client: Client) -> None:
    load_demo()
    zones = client.get("/api/organisations", {"kind": "police_zone", "country": "BE"}).json()
    assert {item["slug"] for item in zones["items"]} == {
        "zone-bruxelles-nord",
        "zone-montgomery",
        "zone-ath",
    }
    response = client.get("/api/organisations", {"kind": "spaceship"})
    assert response.status_code == 422
    assert "kind" in str(response.json()["detail"])


def test_it_answers_404_with_a_message_for_an_unknown_organisation(client: Client) -> None:
    response = client.get("/api/organisations/nowhere", headers={"accept-language": "en"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_it_requires_authentication_for_people_and_agreements(client: Client) -> None:
    assert client.get("/api/people").status_code == 401
    assert client.get("/api/agreements").status_code == 401
    bad = client.get("/api/people", headers={"authorization": "Bearer itk_nope"})
    assert bad.status_code == 401


def test_it_hides_contact_details_from_members_but_not_from_staff(client: Client) -> None:
    load_demo()
    member = client.get("/api/people", headers=_bearer()).json()
    staff = client.get("/api/people", headers=_bearer(Role.STAFF)).json()
    assert member["count"] == staff["count"] > 5
    assert all(person["email"] is None for person in member["items"])
    assert any(person["email"] for person in staff["items"])


def test_it_reports_agreements_with_derived_status_and_what_they_unlock(client: Client) -> None:
    load_demo()
    data = client.get("/api/agreements", headers=_bearer()).json()
    by_ref = {item["reference"]: item for item in data["items"]}
    assert by_ref["FORM-2017"]["status"] == "expired"
    assert by_ref["QC-BXL-2016"]["status"] in {"active", "expiring"}
    unlocked = {grant["resource"] for grant in by_ref["QC-BXL-2016"]["unlocks"]}
    assert unlocked == {"media_watch", "newsletters"}
    only_expired = client.get("/api/agreements?status=expired", headers=_bearer("staff")).json()
    assert [item["reference"] for item in only_expired["items"]] == ["FORM-2017"]


def test_it_tells_a_client_which_resources_its_user_may_use(client: Client) -> None:
    load_demo()
    zone = make_org("lonely-zone")
    me = client.get("/api/me", headers=_bearer(org=zone)).json()
    assert me["resources"] == []


def test_it_serves_the_docs_without_any_cdn(client: Client) -> None:
    page = client.get("/api/docs", headers={"accept-language": "en"}).content.decode()
    assert "cdn" not in page.lower()
    schema = client.get("/api/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method in methods:
            assert f"<code>{method.upper()} {path}</code>" in page  # every endpoint documented
    assert "<code>limit</code>" in page and "police_zone | association" in page


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def token_header(db: None) -> Iterator[dict[str, str]]:
    """Demo data and a staff token; the WSGI app is called directly, so keep the test
    transaction's connection open across requests (as Django's own test client does)."""
    load_demo()
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield _bearer(Role.STAFF)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_it_never_answers_5xx_to_generated_requests(
    case: schemathesis.Case, token_header: dict[str, str]
) -> None:
    for headers in (token_header, {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.path, case.query, response.text[:500])
        case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])


def test_it_bounds_page_sizes_with_a_clear_error(client: Client) -> None:
    response = client.get("/api/organisations", {"limit": 1000})
    assert response.status_code == 422
    assert "limit" in str(response.json()["detail"])
    people = client.get("/api/people", {"offset": -1}, headers=_bearer())
    assert people.status_code == 422


def test_it_documents_the_directory_filters_in_the_schema(client: Client) -> None:
    operation = client.get("/api/openapi.json").json()["paths"]["/api/organisations"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"q", "kind", "country", "parent", "language", "limit", "offset"} <= names


@pytest.mark.parametrize(
    "url",
    [
        "/api/organisations?q=a%00b",
        "/api/organisations?parent=x%00",
        "/api/organisations/zone%00",
        "/organisations/?q=%00",
    ],
)
def test_it_answers_400_to_nul_characters_on_every_database(client: Client, url: str) -> None:
    response = client.get(url, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_it_lists_only_current_members_of_an_organisation(client: Client) -> None:
    from datetime import date

    from intersection.network.models import Membership, Person

    zone = make_org("zone")
    current = Person.objects.create(first_name="Now", last_name="Here")
    former = Person.objects.create(first_name="Long", last_name="Gone")
    Membership.objects.create(person=current, organisation=zone)
    Membership.objects.create(
        person=former, organisation=zone, starts_on=date(2010, 1, 1), ends_on=date(2015, 1, 1)
    )
    page = client.get("/api/people?organisation=zone", headers=_bearer()).json()
    assert [person["last_name"] for person in page["items"]] == ["Here"]


def test_it_tells_a_member_which_resources_their_agreements_unlock(client: Client) -> None:
    load_demo()
    from intersection.accounts.models import User

    officer = User.objects.get(email="officer.bxl@demo.intersection.test")
    _token, secret = services.token_create(user=officer, name="t")
    me = client.get("/api/me", headers={"authorization": f"Bearer {secret}"}).json()
    assert me["resources"] == ["media_watch", "newsletters"]
