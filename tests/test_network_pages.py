"""Network pages: directory, organisation, agreements, board, register; query counts."""

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from intersection.accounts.models import Role
from intersection.core.models import AuditEvent
from intersection.network.demo import load_demo
from intersection.network.models import (
    Agreement,
    Membership,
    Organisation,
    Person,
    RegisterEntry,
    Resource,
)

from .conftest import login, make_agreement, make_org, make_user

pytestmark = pytest.mark.django_db


def _populate(count: int) -> None:
    network = make_org("network", kind="association")
    for i in range(count):
        org = make_org(f"zone-{i:03d}", parent=network, name_nl=f"Zone {i} NL")
        person = Person.objects.create(first_name="A", last_name=f"B{i}")
        Membership.objects.create(person=person, organisation=org)
        agreement = make_agreement(
            f"R-{i}",
            parties=[network, org],
            grants={Resource.MEDIA_WATCH: [org], Resource.NEWSLETTERS: [org]},
            signed_on=date(2020, 1, 1),
            starts_on=date(2020, 1, 1),
        )
        assert agreement.pk


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/organisations/",
        "/agreements/",
        "/organisations/network/",
        "/api/organisations",
        "/api/people",
        "/api/agreements",
        "/board/",
    ],
)
def test_it_runs_the_same_number_of_queries_for_5_or_20_rows(url: str, settings: Any) -> None:
    settings.DIRECTORY_CACHE_SECONDS = 0
    _populate(5)
    # A member of one of the zones: the policy's agreement checks run too.
    client = login(
        Client(), make_user("member@example.org", org=Organisation.objects.get(slug="zone-000"))
    )
    few = _queries(client, url)
    _populate_more = [make_org(f"x-{i}") for i in range(15)]
    for i, org in enumerate(_populate_more):
        person = Person.objects.create(first_name="C", last_name=f"D{i}")
        Membership.objects.create(person=person, organisation=org)
        make_agreement(
            f"X-{i}",
            parties=[Organisation.objects.get(slug="network"), org],
            grants={Resource.MEDIA_WATCH: [org]},
            signed_on=date(2020, 1, 1),
            starts_on=date(2020, 1, 1),
        )
    assert _queries(client, url) == few


def test_it_filters_the_directory_by_kind_country_and_text(client: Client) -> None:
    load_demo()
    page = client.get("/organisations/", {"kind": "police_zone", "q": "ath"}).content.decode()
    assert "Zone de police d&#x27;Ath" in page or "Zone de police d'Ath" in page
    assert "Bruxelles-Nord" not in page
    quebec = client.get("/organisations/", {"country": "CA"}).content.decode()
    assert "Laval" in quebec and "Montgomery" not in quebec


def test_it_explains_a_bad_filter_in_the_users_language(client: Client) -> None:
    response = client.get(
        "/organisations/", {"kind": "spaceship"}, headers={"accept-language": "en"}
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_it_shows_names_in_the_readers_language_and_marks_fallbacks(client: Client) -> None:
    make_org("bxl", name_fr="Zone Bruxelles-Nord", name_nl="Politiezone Brussel-Noord")
    make_org("ath", name_fr="Zone d'Ath")
    page = client.get("/organisations/", headers={"accept-language": "nl"}).content.decode()
    assert "Politiezone Brussel-Noord" in page
    assert '<span lang="fr">Zone d&#x27;Ath</span>' in page


def test_it_shows_people_to_members_but_contact_details_only_to_staff(client: Client) -> None:
    zone = make_org("zone")
    colleague = Person.objects.create(first_name="Lea", last_name="Martin", email="lea@x.org")
    Membership.objects.create(person=colleague, organisation=zone, title="Inspectrice")
    anonymous_page = client.get("/organisations/zone/").content.decode()
    assert "Martin" not in anonymous_page
    member_page = login(Client(), make_user("m@example.org", org=zone)).get("/organisations/zone/")
    assert "Martin" in member_page.content.decode()
    assert "lea@x.org" not in member_page.content.decode()
    staff = login(Client(), make_user("s@example.org", role=Role.STAFF))
    assert "lea@x.org" in staff.get("/organisations/zone/").content.decode()


def test_it_lists_agreements_with_their_status_and_filters_them(client: Client) -> None:
    load_demo()
    login(client, make_user("m@example.org"))
    page = client.get("/agreements/", headers={"accept-language": "en"}).content.decode()
    assert "QC-BXL-2016" in page and "FORM-2017" in page
    expired = client.get("/agreements/", {"status": "expired"}).content.decode()
    assert "FORM-2017" in expired and "QC-BXL-2016" not in expired


def test_it_shows_an_agreement_with_parties_and_unlocked_resources(client: Client) -> None:
    load_demo()
    agreement = Agreement.objects.get(reference="QC-BXL-2016")
    login(client, make_user("m@example.org"))
    page = client.get(f"/agreements/{agreement.pk}/", headers={"accept-language": "en"})
    text = page.content.decode()
    assert "Media watch" in text and "Newsletters" in text
    assert "/organisations/zone-bruxelles-nord/" in text
    assert "Renewed tacitly" in text


def test_it_exports_the_member_register_as_csv_and_audits_it(client: Client) -> None:
    load_demo()
    network = Organisation.objects.get(slug="reseau-belge")
    RegisterEntry.objects.create(
        network=network,
        number=99,
        name='=HYPERLINK("http://evil")',
        address="Rue 1",
        admitted_on=date(2020, 1, 1),
    )
    staff = make_user("s@example.org", role=Role.STAFF)
    response = login(client, staff).get("/organisations/reseau-belge/register.csv")
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(content)))
    assert len(rows) == 1 + RegisterEntry.objects.filter(network=network).count()
    assert rows[1][0] == "1" and "Bruxelles-Nord" in rows[1][1]
    assert rows[-1][1].startswith("'=")  # formula injection neutralised
    assert AuditEvent.objects.filter(action="register.export", actor=staff).exists()


def test_it_shows_the_board_with_current_mandates_in_rank_order(client: Client) -> None:
    load_demo()
    login(client, make_user("m@example.org"))
    page = client.get("/board/", headers={"accept-language": "en"}).content.decode()
    assert "Vandenbroeck" in page
    president = page.index(">President<")
    assert president < page.index(">Vice-president<") < page.index(">Treasurer<")
    assert "/register/" not in page  # members without a board seat get no register link
    staff = login(Client(), make_user("s@example.org", role=Role.STAFF))
    assert "/organisations/reseau-belge/register/" in staff.get("/board/").content.decode()


def test_it_serves_every_page_without_external_resources(client: Client) -> None:
    load_demo()
    login(client, make_user("a@example.org", role=Role.ADMIN))
    for url in ["/", "/organisations/", "/agreements/", "/board/", "/audit/", "/api/docs"]:
        page = client.get(url).content.decode()
        for attribute in ("src=", "href="):
            for chunk in page.split(attribute)[1:]:
                target = chunk[1:].split(chunk[0], 1)[0]
                assert not target.startswith(("http://", "https://", "//")) or (
                    "testserver" in target
                ), (url, target)


def test_it_serves_repeated_directory_queries_from_the_cache(client: Client) -> None:
    make_org("bxl", name_fr="Zone Bruxelles-Nord")
    first = _queries(client, "/organisations/?kind=police_zone")
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/organisations/?kind=police_zone").content.decode()
    assert "Zone Bruxelles-Nord" in page
    assert len(ctx.captured_queries) < first
    # Another language or another query is another entry.
    Organisation.objects.filter(slug="bxl").update(name_nl="Politiezone Brussel-Noord")
    dutch = client.get("/organisations/?kind=police_zone", headers={"accept-language": "nl"})
    assert "Politiezone Brussel-Noord" in dutch.content.decode()  # its own cache entry
    french = client.get("/organisations/?kind=police_zone").content.decode()
    assert "Politiezone Brussel-Noord" not in french


def test_it_does_not_cache_invalid_filters(client: Client) -> None:
    assert client.get("/organisations/?kind=spaceship").status_code == 400
    assert client.get("/organisations/?kind=spaceship").status_code == 400


def test_it_refuses_a_signed_copy_that_is_not_a_pdf(client: Client) -> None:
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    agreement = make_agreement("PDF-1", parties=[make_org("a"), make_org("b")], grants={})
    agreement.signed_pdf = SimpleUploadedFile("signed.pdf", b"<html>not a pdf</html>")
    with pytest.raises(ValidationError) as error:
        agreement.full_clean()
    assert "signed_pdf" in error.value.message_dict


def test_it_lets_only_the_parties_download_the_signed_copy(settings: Any, tmp_path: Path) -> None:
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    zone, other = make_org("zone"), make_org("other")
    agreement = make_agreement(
        "PDF-2", parties=[make_org("net"), zone], grants={}, signed_on=date(2024, 1, 1)
    )
    agreement.signed_pdf.save("signed.pdf", ContentFile(b"%PDF-1.7 signed"), save=True)
    party_member = login(Client(), make_user("party@example.org", org=zone))
    outsider = login(Client(), make_user("outsider@example.org", org=other))
    response = party_member.get(f"/agreements/{agreement.pk}/signed.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")  # type: ignore[attr-defined]
    assert outsider.get(f"/agreements/{agreement.pk}/signed.pdf").status_code == 403
    assert AuditEvent.objects.filter(action="agreement.download").count() == 1


def test_the_signed_copy_of_a_draft_is_hidden_like_its_page(settings: Any, tmp_path: Path) -> None:
    """A draft's PDF answers 404 wherever its page does, to its parties' members too, and
    the same 404 as an id that does not exist: no one can list which ids exist."""
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    zone, other = make_org("zone"), make_org("other")
    draft = make_agreement("PDF-DRAFT", parties=[make_org("net"), zone], grants={})
    draft.signed_pdf.save("signed.pdf", ContentFile(b"%PDF-1.7 draft"), save=True)
    party_member = login(Client(), make_user("party@example.org", org=zone))
    outsider = login(Client(), make_user("outsider@example.org", org=other))
    staff = login(Client(), make_user("staff@example.org", role=Role.STAFF))
    for member in (party_member, outsider):
        assert member.get(f"/agreements/{draft.pk}/").status_code == 404
        assert member.get(f"/agreements/{draft.pk}/signed.pdf").status_code == 404
        assert member.get(f"/agreements/{draft.pk + 100}/signed.pdf").status_code == 404
    assert staff.get(f"/agreements/{draft.pk}/signed.pdf").status_code == 200
    assert AuditEvent.objects.filter(action="agreement.download").count() == 1


def test_it_keeps_draft_agreements_among_staff(client: Client) -> None:
    draft = make_agreement("DRAFT-1", parties=[make_org("a"), make_org("b")], grants={})
    member = login(Client(), make_user("m@example.org"))
    staff = login(Client(), make_user("s@example.org", role=Role.STAFF))
    assert "DRAFT-1" not in member.get("/agreements/").content.decode()
    assert member.get(f"/agreements/{draft.pk}/").status_code == 404
    assert member.get(f"/api/agreements/{draft.pk}").status_code == 404
    assert member.get("/api/agreements").json()["count"] == 0
    assert "DRAFT-1" in staff.get("/agreements/").content.decode()
    assert staff.get(f"/agreements/{draft.pk}/").status_code == 200
