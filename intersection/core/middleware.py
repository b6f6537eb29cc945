from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _

from .http import PRIVATE


class UserLanguageMiddleware:
    """A signed-in user's saved language wins over Accept-Language on a browser without a cookie.

    LocaleMiddleware already chose: language cookie first, then Accept-Language. When the user
    has a saved preference and this browser has no cookie yet, use the preference and
    remember it in the cookie.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        preferred = ""
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES
        ):
            preferred = getattr(user, "preferred_language", "")
            if preferred in dict(settings.LANGUAGES):
                translation.activate(preferred)
                request.LANGUAGE_CODE = preferred
        response = self.get_response(request)
        if preferred in dict(settings.LANGUAGES):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                preferred,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        return response


class RejectNulCharactersMiddleware:
    """Answer 400 to a path or query string containing a NUL character.

    PostgreSQL text cannot hold NUL, so such input would otherwise fail deep in a query
    (a 500) on PostgreSQL while SQLite accepts it. Forms already refuse it in bodies.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            reason = _("The address contains a NUL character.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": reason}, status=400)
            # The styled 400 page, in the reader's language, declared as UTF-8.
            return render(request, "400.html", {"reason": reason}, status=400)
        return self.get_response(request)


class RequestBodyLimitMiddleware:
    """Answer 413 to a request announcing a body over `REQUEST_BODY_MAX_BYTES`, before any of
    it is read. Django limits form fields (`DATA_UPLOAD_MAX_MEMORY_SIZE`) but not uploaded
    files; each file field has its own, smaller limit (network/validators.py). A body without
    Content-Length is not read by Django at all."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.REQUEST_BODY_MAX_BYTES
        if length > limit:
            message = _("The request is too large (%(size)s): the limit is %(limit)s.") % {
                "size": filesizeformat(length),
                "limit": filesizeformat(limit),
            }
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` on every answer to a signed-in user, by session or
    API token (the API's token check sets `request.user` during the view, so this looks after
    it), unless the view chose its own Cache-Control. Answers to visitors who are not signed
    in stay cacheable; `core.http.private_response` marks a view private for them too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.has_header("Cache-Control"):  # the view chose (the 503 page: no-store)
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = PRIVATE
        return response
