"""Writes on accounts: API tokens, sessions, password resets, language preference."""

import hashlib
import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from intersection.core import audit, throttle

from .models import ApiToken, User, new_security_stamp

logger = logging.getLogger(__name__)

# Password resets: requests from one client address, and emails to one account, per hour.
PASSWORD_RESET_PERIOD = timedelta(hours=1)
PASSWORD_RESETS_PER_ADDRESS = 5
PASSWORD_RESET_EMAILS_PER_ACCOUNT = 3


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(
    *, user: User, name: str, request: HttpRequest | None = None
) -> tuple[ApiToken, str]:
    """Create a token; return it with its secret, which is never stored nor shown again."""
    raw = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name.strip()[:100], key_prefix=raw[:12], key_hash=_hash(raw)
    )
    audit.record(action="token.create", actor=user, obj=token, request=request)
    return token, raw


def token_revoke(*, token: ApiToken, actor: User, request: HttpRequest | None = None) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(action="token.revoke", actor=actor, obj=token, request=request)


def token_authenticate(raw: str) -> User | None:
    """The active user owning this active token, or None."""
    if not raw.startswith(ApiToken.PREFIX) or len(raw) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def user_logout_everywhere(
    *, user: User, revoke_tokens: bool = False, request: HttpRequest | None = None
) -> int:
    """End every session of this user, on every device, including the current one. API tokens
    keep working unless `revoke_tokens`: then every active one is revoked too. Returns how
    many tokens were revoked."""
    user.security_stamp = new_security_stamp()
    user.save(update_fields=["security_stamp"])
    revoked = 0
    if revoke_tokens:
        for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
            token_revoke(token=token, actor=user, request=request)
            revoked += 1
    audit.record(
        action="user.logout_everywhere",
        actor=user,
        obj=user,
        request=request,
        after={"tokens_revoked": revoked},
    )
    return revoked


def password_reset_throttle(*, address: str | None) -> throttle.Verdict:
    """Count one password-reset request from this client address."""
    return throttle.hit(
        key=f"password-reset:address:{address or 'unknown'}",
        limit=PASSWORD_RESETS_PER_ADDRESS,
        period=PASSWORD_RESET_PERIOD,
    )


def password_reset_send(*, email: str, language: str) -> int:
    """Email a link to choose a new password to the active account using this address, if
    any, in its owner's language (else `language`, the one of the page it was asked from).
    An account is sent at most PASSWORD_RESET_EMAILS_PER_ACCOUNT per hour; beyond that the
    request is dropped silently, like one for an unknown address. Returns the emails sent."""
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    site = urlsplit(settings.SITE_URL)
    sent = 0
    for user in PasswordResetForm().get_users(email):
        verdict = throttle.hit(
            key=f"password-reset:account:{user.pk}",
            limit=PASSWORD_RESET_EMAILS_PER_ACCOUNT,
            period=PASSWORD_RESET_PERIOD,
        )
        if not verdict.allowed:
            logger.info("password reset for user %s not sent: hourly limit reached", user.pk)
            continue
        context = {
            "email": user.email,
            "user": user,
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "protocol": site.scheme,
            "domain": site.netloc,
        }
        with translation.override(user.preferred_language or language):
            subject = render_to_string("accounts/password_reset_subject.txt", context)
            body = render_to_string("accounts/password_reset_email.txt", context)
        EmailMessage(subject="".join(subject.splitlines()), body=body, to=[user.email]).send()
        sent += 1
    return sent


def user_set_language(*, user: User, language: str) -> None:
    if language in dict(settings.LANGUAGES) and user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
