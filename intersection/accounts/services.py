"""Writes on accounts: API tokens, sessions, language preference."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from intersection.core import audit

from .models import ApiToken, User, new_security_stamp


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


def user_logout_everywhere(*, user: User, request: HttpRequest | None = None) -> None:
    """End every session of this user, on every device, including the current one."""
    user.security_stamp = new_security_stamp()
    user.save(update_fields=["security_stamp"])
    audit.record(action="user.logout_everywhere", actor=user, obj=user, request=request)


def user_set_language(*, user: User, language: str) -> None:
    if language in dict(settings.LANGUAGES) and user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
