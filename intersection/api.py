"""The JSON API: one NinjaAPI mounting one router per module. OpenAPI at /api/openapi.json."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext, gettext_noop
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, ValidationError

from intersection.accounts.api_auth import TOKEN_OR_SESSION
from intersection.mediawatch.api import router as mediawatch_router
from intersection.network.api import router as network_router
from intersection.network.policy import unlocked_resources

api = NinjaAPI(
    title="Intersection API",
    version="1",
    description=gettext_noop(
        "API of the Intersection community-policing exchange network. Authenticate with "
        "`Authorization: Bearer <token>` (tokens are created on the account security page)."
    ),
    urls_namespace="api",
    docs_url=None,  # served by intersection.views.api_docs: accessible, no script
)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    """403 with the actual reason (the policy's refusal_reason), in the reader's language."""
    reason = str(exc) or gettext("You are not allowed to use this resource.")
    return api.create_response(request, {"detail": reason}, status=403)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": gettext("Not found.")}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = str(getattr(exc, "message", "") or "")
    if message in ("", "Unauthorized"):  # django-ninja's own English default
        message = gettext(
            "Authentication required: send `Authorization: Bearer <token>` or sign in."
        )
    return api.create_response(request, {"detail": message}, status=401)


# Pydantic's error types, in words (its own messages are English only).
VALIDATION_MESSAGES = {
    "missing": gettext_noop("This parameter is required."),
    "int_parsing": gettext_noop("Enter a whole number."),
    "int_type": gettext_noop("Enter a whole number."),
    "float_parsing": gettext_noop("Enter a number."),
    "bool_parsing": gettext_noop("Enter true or false."),
    "date_parsing": gettext_noop("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": gettext_noop("Enter a date as YYYY-MM-DD."),
    "datetime_parsing": gettext_noop("Enter a date and time (ISO 8601)."),
    "greater_than_equal": gettext_noop("The value is too small."),
    "greater_than": gettext_noop("The value is too small."),
    "less_than_equal": gettext_noop("The value is too large."),
    "less_than": gettext_noop("The value is too large."),
    "string_too_long": gettext_noop("The text is too long."),
    "string_too_short": gettext_noop("The text is too short."),
    "enum": gettext_noop("This value is not one of the allowed values."),
    "literal_error": gettext_noop("This value is not one of the allowed values."),
    "json_invalid": gettext_noop("The body is not valid JSON."),
}


@api.exception_handler(ValidationError)
def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """422: each field's error in the reader's language, the parameter it concerns, and the
    technical type (for client code)."""
    errors: list[dict[str, Any]] = []
    for error in exc.errors:
        kind = str(error.get("type", ""))
        message = VALIDATION_MESSAGES.get(kind)
        errors.append(
            {
                "loc": error.get("loc", []),
                "msg": gettext(message) if message else gettext("This value is not valid."),
                "type": kind,
            }
        )
    return api.create_response(request, {"detail": errors}, status=422)


class MeOut(Schema):
    email: str
    full_name: str
    role: str
    resources: list[str]


@api.get(
    "/me",
    response=MeOut,
    auth=TOKEN_OR_SESSION,
    tags=["accounts"],
    summary=gettext_noop("Who am I"),
    description=gettext_noop(
        "The signed-in account: email, name, role and the resources it may use."
    ),
)
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        email=user.email,  # type: ignore[union-attr]
        full_name=user.full_name,  # type: ignore[union-attr]
        role=user.role,  # type: ignore[union-attr]
        resources=sorted(unlocked_resources(user)),
    )


api.add_router("/", network_router)
api.add_router("/media-watch", mediawatch_router)
