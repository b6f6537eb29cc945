"""The JSON API: one NinjaAPI mounting one router per module. OpenAPI at /api/openapi.json."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError

from intersection.accounts.api_auth import TOKEN_OR_SESSION
from intersection.mediawatch.api import router as mediawatch_router
from intersection.network.api import router as network_router
from intersection.network.policy import unlocked_resources

api = NinjaAPI(
    title="Intersection API",
    version="1",
    description=(
        "API of the Intersection community-policing exchange network. Authenticate with "
        "`Authorization: Bearer <token>` (tokens are created on the account security page)."
    ),
    urls_namespace="api",
    docs_url=None,  # served by intersection.views.api_docs: accessible, no script
)


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": gettext("You are not allowed to use this resource.")}, status=403
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": gettext("Not found.")}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = str(getattr(exc, "message", "") or "") or gettext("Authentication required.")
    return api.create_response(request, {"detail": message}, status=401)


class MeOut(Schema):
    email: str
    full_name: str
    role: str
    resources: list[str]


@api.get("/me", response=MeOut, auth=TOKEN_OR_SESSION, tags=["accounts"])
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
