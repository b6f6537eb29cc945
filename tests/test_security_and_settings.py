"""Security headers, production settings, i18n negotiation, audit log, demo data."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from intersection.accounts.models import Role, User
from intersection.core.models import AuditEvent
from intersection.network.demo import DEMO_ACCOUNTS, load_demo
from intersection.network.models import Agreement, Organisation

from .conftest import login, make_user

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": "sqlite:///:memory:", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_sends_security_headers_and_a_nonce_based_csp(client: Client) -> None:
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp
    nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_refuses_to_start_in_production_with_the_default_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "DATABASE_URL": "sqlite:///:memory:", "PRODUCTION": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    short = _manage("check", PRODUCTION="1", SECRET_KEY="too-short")
    assert short.returncode != 0


def test_it_passes_the_deployment_checklist_in_production_mode() -> None:
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        PRODUCTION="1", SECRET_KEY="x" * 30 + "-production-secret-key-for-tests",
        ALLOWED_HOSTS="intersection.example.org",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_follows_the_browser_language_then_the_users_choice(client: Client) -> None:
    page = client.get("/", headers={"accept-language": "nl-BE,nl;q=0.9"})
    assert '<html lang="nl">' in page.content.decode()
    user = make_user("officer@example.org")
    login(client, user)
    client.post("/accounts/language/", {"language": "en", "next": "/"})
    user.refresh_from_db()
    assert user.preferred_language == "en"
    page = client.get("/", headers={"accept-language": "nl-BE"})
    assert '<html lang="en">' in page.content.decode()


def test_it_restores_the_saved_language_on_a_new_browser(client: Client) -> None:
    make_user("officer@example.org", preferred_language="nl")
    fresh = Client()
    user = User.objects.get(email="officer@example.org")
    login(fresh, user)
    page = fresh.get("/", headers={"accept-language": "fr"})
    assert '<html lang="nl">' in page.content.decode()


def test_it_defaults_to_french(client: Client) -> None:
    assert '<html lang="fr">' in client.get("/").content.decode()


def test_it_records_back_office_changes_with_before_and_after(client: Client) -> None:
    load_demo()
    admin = make_user("root@example.org", role=Role.ADMIN)
    login(client, admin)
    org = Organisation.objects.get(slug="zone-ath")
    data = {
        "slug": org.slug,
        "kind": org.kind,
        "name_fr": "Zone de police d'Ath-Brugelette",
        "country": org.country,
        "region": org.region,
        "languages": org.languages,
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/network/organisation/{org.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="organisation.change")
    assert event.before["name_fr"] == "Zone de police d'Ath"  # type: ignore[index]
    assert event.after["name_fr"] == "Zone de police d'Ath-Brugelette"  # type: ignore[index]
    assert login(Client(), admin).get("/audit/").status_code == 200


def test_it_keeps_network_staff_out_of_user_management(client: Client) -> None:
    login(client, make_user("curator@example.org", role=Role.STAFF))
    assert client.get("/admin/network/agreement/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 403


def test_it_loads_the_demo_data_idempotently() -> None:
    load_demo()
    counts = (Organisation.objects.count(), Agreement.objects.count(), User.objects.count())
    load_demo()
    assert (Organisation.objects.count(), Agreement.objects.count(), User.objects.count()) == counts
    assert User.objects.filter(email__in=[a.email for a in DEMO_ACCOUNTS]).count() == len(
        DEMO_ACCOUNTS
    )
    signed = Agreement.objects.get(reference="QC-BXL-2016").signed_on
    assert signed is not None and (signed.year, signed.month) == (2016, 10)


def _formset(prefix: str, rows: list[dict[str, str]], initial: int) -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{key}": value for key, value in row.items()})
    return data


def test_it_records_resources_unlocked_inline_in_the_back_office(client: Client) -> None:
    load_demo()
    agreement = Agreement.objects.get(reference="BE-MONT-2025")
    links = list(agreement.party_links.all())
    grants = list(agreement.grants.all())
    zone = Organisation.objects.get(slug="zone-montgomery")
    login(client, make_user("root@example.org", role=Role.ADMIN))
    pk = str(agreement.pk)
    data = {
        "reference": agreement.reference,
        "title_fr": agreement.title_fr,
        "kind": agreement.kind,
        "signed_on": "2025-03-03",
        "starts_on": "2025-03-03",
        "ends_on": "2028-03-02",
        "renewal": agreement.renewal,
        **_formset(
            "party_links",
            [{"id": str(p.pk), "agreement": pk, "organisation": str(p.organisation_id)}
             for p in links],
            len(links),
        ),
        **_formset(
            "grants",
            [
                *[
                    {"id": str(g.pk), "agreement": str(agreement.pk), "resource": g.resource,
                     "starts_on": g.starts_on.isoformat() if g.starts_on else "",
                     "beneficiaries": str(zone.pk)}
                    for g in grants
                ],
                {"agreement": str(agreement.pk), "resource": "media_watch",
                 "beneficiaries": str(zone.pk)},
            ],
            len(grants),
        ),
    }  # fmt: skip
    # The signatories are sent back unchanged.
    signatories = list(agreement.signatories.all())
    data.update(
        _formset(
            "signatories",
            [
                {"id": str(s.pk), "agreement": pk, "organisation": str(s.organisation_id),
                 "name": s.name, "title": s.title}
                for s in signatories
            ],
            len(signatories),
        )
    )  # fmt: skip
    response = client.post(f"/admin/network/agreement/{agreement.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="agreement.change")
    before = {g["resource"] for g in event.before["resourcegrant_set"]}  # type: ignore[index]
    after = {g["resource"] for g in event.after["resourcegrant_set"]}  # type: ignore[index]
    assert after - before == {"media_watch"}
    new_grant = next(g for g in event.after["resourcegrant_set"] if g["resource"] == "media_watch")  # type: ignore[index]
    assert new_grant["beneficiaries"] == [zone.pk]


def test_it_records_bulk_deletions_in_the_back_office(client: Client) -> None:
    from intersection.network.models import Person

    doomed = [Person.objects.create(first_name="X", last_name=f"Y{i}") for i in range(2)]
    login(client, make_user("root@example.org", role=Role.ADMIN))
    response = client.post(
        "/admin/network/person/",
        {"action": "delete_selected", "_selected_action": [p.pk for p in doomed], "post": "yes"},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="person.delete").count() == 2
    assert not Person.objects.filter(pk__in=[p.pk for p in doomed]).exists()


def test_it_never_puts_secrets_in_the_audit_log() -> None:
    from intersection.core import audit

    user = make_user("someone@example.org")
    data = audit.snapshot(user)
    assert "password" not in data and "security_stamp" not in data
