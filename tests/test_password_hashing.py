"""Passwords: hashed with Argon2id; older PBKDF2 hashes still sign in and are upgraded.

conftest.py hashes with MD5 for speed: these tests put back the project's own hashers.
"""

import re
from typing import Any

import pytest
from django.conf import global_settings
from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher
from django.test import Client

from intersection import settings as project_settings
from intersection.accounts.models import User

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

# Argon2id with OWASP's first configuration: 19 MiB, 2 passes, 1 lane (decision 0011).
OWASP_ARGON2ID = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


@pytest.fixture
def real_hashers(settings: Any) -> None:
    """The hashers of intersection/settings.py (Django's defaults when it names none)."""
    settings.PASSWORD_HASHERS = getattr(
        project_settings, "PASSWORD_HASHERS", global_settings.PASSWORD_HASHERS
    )


def _sign_in(email: str, password: str) -> Client:
    """Through the login form, as a browser does: the page first, then the form with its
    CSRF token."""
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token is not None
    response = client.post(
        "/accounts/login/",
        {"username": email, "password": password, "csrfmiddlewaretoken": token.group(1)},
    )
    assert response.status_code == 302, response.status_code
    return client


def test_it_upgrades_a_pbkdf2_hash_to_argon2id_at_sign_in(real_hashers: None) -> None:
    user = make_user("officer@example.org")
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    user.save(update_fields=["password"])

    client = _sign_in("officer@example.org", PASSWORD)

    user.refresh_from_db()
    assert user.password.startswith(OWASP_ARGON2ID)
    assert client.get("/accounts/security/").status_code == 200  # the new session holds
    assert user.check_password(PASSWORD)
    _sign_in("officer@example.org", PASSWORD)


def test_it_hashes_a_new_password_with_argon2id(real_hashers: None) -> None:
    user = make_user("officer@example.org")
    user.set_password("another-long-password-17")
    user.save()

    stored = User.objects.get(pk=user.pk).password
    assert stored.startswith(OWASP_ARGON2ID)
    _sign_in("officer@example.org", "another-long-password-17")


def test_it_re_hashes_an_argon2_hash_made_with_heavier_parameters(real_hashers: None) -> None:
    """Django's own Argon2 parameters (100 MiB, 8 lanes) cost ten times the CPU a sign-in:
    such a hash is replaced with the chosen parameters when its owner signs in."""
    user = make_user("officer@example.org")
    heavy = Argon2PasswordHasher()
    user.password = heavy.encode(PASSWORD, heavy.salt())
    user.save(update_fields=["password"])
    assert not user.password.startswith(OWASP_ARGON2ID)

    _sign_in("officer@example.org", PASSWORD)

    user.refresh_from_db()
    assert user.password.startswith(OWASP_ARGON2ID)
