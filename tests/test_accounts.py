"""Accounts: email login, throttling, password reset by email, sessions, API tokens."""

import email
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from intersection.accounts import services
from intersection.accounts.models import ApiToken, Role
from intersection.core.models import AuditEvent

from .conftest import PASSWORD, Mailbox, login, make_user
from .task_runner import run_enqueued_tasks

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str) -> int:
    response = client.post("/accounts/login/", {"username": email, "password": password})
    return response.status_code


def test_it_signs_in_with_the_email_address_in_any_case(client: Client) -> None:
    make_user("Officer@Example.org")
    assert _login(client, "OFFICER@example.org", PASSWORD) == 302
    assert client.get("/accounts/security/").status_code == 200


def test_it_shows_a_labelled_error_for_a_wrong_password(client: Client) -> None:
    make_user("officer@example.org")
    response = client.post(
        "/accounts/login/",
        {"username": "officer@example.org", "password": "wrong"},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_it_locks_sign_in_after_repeated_failures(client: Client, settings: object) -> None:
    make_user("officer@example.org")
    for _ in range(5):
        _login(client, "officer@example.org", "wrong")
    # Even the right password is refused while locked.
    response = client.post(
        "/accounts/login/",
        {"username": "officer@example.org", "password": PASSWORD},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 429
    assert "Try again in 15 minutes" in response.content.decode()
    assert client.get("/accounts/security/").status_code == 302


def test_it_does_not_lock_other_accounts(client: Client) -> None:
    make_user("victim@example.org")
    make_user("other@example.org")
    for _ in range(5):
        _login(client, "victim@example.org", "wrong")
    assert _login(client, "other@example.org", PASSWORD) == 302


def test_it_logs_out_every_session(client: Client) -> None:
    user = make_user("officer@example.org")
    laptop, phone = Client(), Client()
    assert _login(laptop, user.email, PASSWORD) == 302
    assert _login(phone, user.email, PASSWORD) == 302
    assert phone.post("/accounts/logout-everywhere/").status_code == 302
    assert laptop.get("/accounts/security/").status_code == 302  # sent to sign in
    assert AuditEvent.objects.filter(action="user.logout_everywhere", actor=user).exists()


def _body(message: dict[str, object]) -> str:
    """The decoded text of a message received by the test SMTP server."""
    payload = email.message_from_string(str(message["data"])).get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_it_resets_a_password_by_email(
    client: Client, smtp_server: Mailbox, settings: object
) -> None:
    settings.SITE_URL = "https://intersection.example.org"  # type: ignore[attr-defined]
    make_user("officer@example.org")
    response = client.post("/accounts/password-reset/", {"email": "officer@example.org"})
    assert response.status_code == 302
    run_enqueued_tasks()  # the email is sent by a worker
    assert len(smtp_server.messages) == 1
    body = _body(smtp_server.messages[0])
    # The link uses the site's public address, whatever Host the request came with.
    link = re.search(r"https://intersection\.example\.org/accounts/reset/[^\s]+/", body)
    assert link, body
    path = urlsplit(link.group(0)).path
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    new_password = "another-long-password-77"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert _login(Client(), "officer@example.org", new_password) == 302


def test_it_sends_no_email_for_an_unknown_address(client: Client, smtp_server: Mailbox) -> None:
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302  # same answer: existence does not leak
    run_enqueued_tasks()
    assert smtp_server.messages == []


def test_it_stores_only_a_hash_of_api_tokens() -> None:
    user = make_user("client@example.org")
    token, secret = services.token_create(user=user, name="import")
    assert secret not in token.key_hash
    assert ApiToken.objects.filter(key_hash__contains=secret).count() == 0
    assert services.token_authenticate(secret) == user


def test_it_refuses_a_revoked_token(client: Client) -> None:
    user = make_user("client@example.org", role=Role.STAFF)
    token, secret = services.token_create(user=user, name="import")
    auth = {"authorization": f"Bearer {secret}"}
    assert client.get("/api/me", headers=auth).status_code == 200
    services.token_revoke(token=token, actor=user)
    response = client.get("/api/me", headers={**auth, "accept-language": "en"})
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    french = client.get("/api/me", headers={**auth, "accept-language": "fr"})
    assert "révoqué" in french.json()["detail"]


def test_it_creates_and_revokes_tokens_from_the_security_page(client: Client) -> None:
    user = make_user("client@example.org")
    login(client, user)
    response = client.post("/accounts/security/", {"name": "Intranet"})
    secret = re.search(r"itk_[A-Za-z0-9_\-]+", response.content.decode())
    assert secret, "the new secret is shown once"
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=user)
    assert client.get("/accounts/security/").content.decode().count(secret.group(0)) == 0
    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_refuses_to_revoke_someone_elses_token(client: Client) -> None:
    owner = make_user("owner@example.org")
    token, _secret = services.token_create(user=owner, name="mine")
    login(client, make_user("intruder@example.org"))
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_it_rejects_an_empty_token_name_with_a_message(client: Client) -> None:
    login(client, make_user("client@example.org"))
    response = client.post("/accounts/security/", {"name": ""}, headers={"accept-language": "en"})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_it_ties_help_and_errors_to_their_field_for_screen_readers(client: Client) -> None:
    login(client, make_user("client@example.org"))
    page = client.post("/accounts/security/", {"name": ""}).content.decode()
    described = re.search(r'<input[^>]*name="name"[^>]*aria-describedby="([^"]+)"', page)
    assert described, "the field names its help and error"
    for element_id in described.group(1).split():
        assert page.count(f'id="{element_id}"') == 1, element_id
