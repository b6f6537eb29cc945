"""Password reset sent by a worker and rate-limited; "sign out everywhere" and API tokens."""

import email
import email.policy
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from intersection.accounts import services
from intersection.core.models import AuditEvent

from .conftest import Mailbox, login, make_user
from .task_runner import run_enqueued_tasks

pytestmark = pytest.mark.django_db

RESET = "/accounts/password-reset/"


def _ask_reset(address: str, *, client_address: str = "203.0.113.5", **headers: str) -> int:
    client = Client(REMOTE_ADDR=client_address)
    return client.post(RESET, {"email": address}, headers=headers).status_code


def _shape(sql: str) -> str:
    """A query without its values (nor savepoint names)."""
    return re.sub(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b|\bs\d+_x\d+\b", "?", sql)


def test_it_does_the_same_work_for_known_and_unknown_addresses(smtp_server: Mailbox) -> None:
    make_user("officer@example.org")
    work = []
    for address, client_address in [
        ("officer@example.org", "203.0.113.5"),
        ("nobody@example.org", "203.0.113.6"),
    ]:
        with CaptureQueriesContext(connection) as queries:
            assert _ask_reset(address, client_address=client_address) == 302
        work.append([_shape(q["sql"]) for q in queries.captured_queries])
    assert work[0] == work[1]
    assert not any("accounts_user" in sql for sql in work[0]), "no account is looked up"
    assert smtp_server.messages == []  # nothing is sent while the visitor waits
    tasks = DBTaskResult.objects.all()
    assert [t.task_path for t in tasks] == ["intersection.accounts.tasks.send_password_reset"] * 2
    run_enqueued_tasks()
    assert [m["to"] for m in smtp_server.messages] == [["officer@example.org"]]


def test_it_sends_at_most_three_reset_emails_an_hour_to_one_account(smtp_server: Mailbox) -> None:
    make_user("officer@example.org")
    # Six requests from six addresses: each is answered the same way.
    for i in range(6):
        assert _ask_reset("Officer@Example.org", client_address=f"198.51.100.{i + 1}") == 302
    run_enqueued_tasks()
    assert len(smtp_server.messages) == 3  # services.PASSWORD_RESET_EMAILS_PER_ACCOUNT
    # Another account is not affected.
    make_user("colleague@example.org")
    assert _ask_reset("colleague@example.org", client_address="198.51.100.9") == 302
    run_enqueued_tasks()
    assert smtp_server.messages[-1]["to"] == ["colleague@example.org"]


def test_it_refuses_a_sixth_request_from_one_address_saying_when_to_try_again(
    smtp_server: Mailbox,
) -> None:
    make_user("officer@example.org")
    client = Client(REMOTE_ADDR="203.0.113.5")
    statuses = [client.post(RESET, {"email": "officer@example.org"}).status_code for _ in range(5)]
    assert statuses == [302] * 5
    refused = client.post(
        RESET, {"email": "someone.else@example.org"}, headers={"accept-language": "en"}
    )
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Try again in 60 minutes." in refused.content.decode()
    assert DBTaskResult.objects.count() == 5  # the refused one asked for nothing
    # Other visitors are not affected.
    assert _ask_reset("officer@example.org", client_address="203.0.113.99") == 302
    run_enqueued_tasks()
    assert len(smtp_server.messages) == 3  # the account's own limit


def test_it_writes_the_reset_email_in_the_account_holders_language(smtp_server: Mailbox) -> None:
    make_user("dutch@example.org", preferred_language="nl")
    make_user("nopreference@example.org")
    english = {"accept-language": "en"}
    _ask_reset("dutch@example.org", client_address="203.0.113.5", **english)
    _ask_reset("nopreference@example.org", client_address="203.0.113.6", **english)
    run_enqueued_tasks()
    subjects = {
        str(message["to"][0]): str(  # type: ignore[index]
            email.message_from_string(str(message["data"]), policy=email.policy.default)["Subject"]
        )
        for message in smtp_server.messages
    }
    assert subjects == {
        "dutch@example.org": "Uw Intersection-wachtwoord opnieuw instellen",
        "nopreference@example.org": "Reset your Intersection password",  # the page's language
    }


def test_it_keeps_api_tokens_working_after_a_plain_sign_out_everywhere(client: Client) -> None:
    user = make_user("client@example.org")
    _token, secret = services.token_create(user=user, name="import")
    login(client, user)
    page = client.get("/accounts/security/", headers={"accept-language": "en"}).content.decode()
    assert "Also revoke my API token" in page
    done = client.post(
        "/accounts/logout-everywhere/", follow=True, headers={"accept-language": "en"}
    )
    assert "Your API token still works" in done.content.decode()
    assert client.get("/accounts/security/").status_code == 302  # signed out
    assert Client().get("/api/me", headers={"authorization": f"Bearer {secret}"}).status_code == 200


def test_it_revokes_every_api_token_when_asked(client: Client) -> None:
    user = make_user("client@example.org")
    secrets = [services.token_create(user=user, name=name)[1] for name in ("import", "export")]
    login(client, user)
    done = client.post(
        "/accounts/logout-everywhere/",
        {"revoke_tokens": "on"},
        follow=True,
        headers={"accept-language": "en"},
    )
    assert "your 2 API tokens are revoked" in done.content.decode()
    for secret in secrets:
        api = Client().get("/api/me", headers={"authorization": f"Bearer {secret}"})
        assert api.status_code == 401
    assert AuditEvent.objects.filter(action="token.revoke", actor=user).count() == 2
    event = AuditEvent.objects.get(action="user.logout_everywhere")
    assert event.after == {"tokens_revoked": 2}
