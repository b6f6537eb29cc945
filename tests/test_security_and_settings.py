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
    result = _manage("check", PRODUCTION="1", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


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
