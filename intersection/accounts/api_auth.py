"""API authentication: bearer tokens, the browser session, or (where allowed) anonymous."""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.translation import gettext
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer

from . import services


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = services.token_authenticate(token)
        if user is None:
            raise AuthenticationError(message=gettext("Invalid or revoked API token."))
        request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session (CSRF checked on unsafe methods)."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if request.user.is_authenticated:
            return request.user
        return None


class Anonymous:
    """Last in a list of auth methods: lets public endpoints answer visitors without a token."""

    def __call__(self, request: HttpRequest) -> Any:
        return AnonymousUser()


TOKEN_OR_SESSION = [BearerToken(), SessionAuth()]
TOKEN_SESSION_OR_ANONYMOUS = [BearerToken(), SessionAuth(), Anonymous()]
