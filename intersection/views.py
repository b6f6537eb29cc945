"""Pages that span modules: home, accessibility statement, audit log, style guide, health,
operations, errors."""

import logging
import sys
from dataclasses import asdict
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.context_processors import csp
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from intersection.api import api
from intersection.core import audit_labels, operations, workers
from intersection.core.models import AuditEvent
from intersection.mediawatch import labels as mediawatch_labels
from intersection.mediawatch import services as mediawatch_services
from intersection.mediawatch.models import PauseReason, Source
from intersection.network import policy
from intersection.network.models import Resource
from intersection.network.policy import Capability

logger = logging.getLogger(__name__)

# Each resource's module: its page once the module is open, and what it offers.
MODULES: dict[Resource, dict[str, Any]] = {
    Resource.MEDIA_WATCH: {
        "url_name": "mediawatch:index",
        "about": _(
            "News on community policing from feeds and sites, searchable in three languages."
        ),
    },
    Resource.NEWSLETTERS: {
        "url_name": None,
        "about": _("The network's newsletter and the weekly media-watch bulletin, by email."),
    },
    Resource.PRACTICES_MEMBER: {
        "url_name": None,
        "about": _(
            "Practice sheets shared by police forces and associations, with their evidence."
        ),
    },
    Resource.SAFE_EXCHANGE: {
        "url_name": None,
        "about": _("Safe spots at police stations where citizens buy and sell second-hand goods."),
    },
}


def home(request: HttpRequest) -> HttpResponse:
    granted = policy.granting_agreements(request.user)
    modules = [
        {
            "resource": resource,
            "unlocked": policy.allows(request.user, resource),
            "agreements": granted.get(resource, []),
            **MODULES[resource],
        }
        for resource in Resource
    ]
    return render(request, "core/home.html", {"modules": modules})


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")


@policy.requires(Capability.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.all()
    action = request.GET.get("action", "").strip()[:64]
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    rows = [(event, audit_labels.action_label(event.action)) for event in page]
    return render(
        request,
        "core/audit_log.html",
        {"page": page, "rows": rows, "action": action, "actions": audit_labels.known_actions()},
    )


@policy.requires(Capability.VIEW_STYLEGUIDE)
def styleguide(request: HttpRequest) -> HttpResponse:
    """Every component of the design system, in each interface language (docs/design.md)."""
    from django.conf import settings

    from intersection.core import styleguide as samples

    languages = [code for code, _name in settings.LANGUAGES]
    forms = samples.sample_forms(languages)
    return render(
        request,
        "core/styleguide.html",
        {
            "sections": [(language, forms[language]) for language in languages],
            "page": samples.sample_page(),
        },
    )


NO_STORE = "no-store"


@require_safe
def health(request: HttpRequest) -> HttpResponse:
    """For load balancers and monitoring: no personal data, no session, no audit; "down" with
    503 when the database does not answer (core.workers.health)."""
    return _health_response(workers.health())


def _health_response(state: workers.Health) -> HttpResponse:
    response = JsonResponse(asdict(state), status=state.http_status)
    response["Cache-Control"] = NO_STORE
    # A degraded state is the monitor's to report, not an error of the web process to log.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _failing_sources() -> list[dict[str, Any]]:
    """Sources whose last polls failed and that the media watch still means to poll, or
    paused after repeated failures (a curator's pause is not a failure)."""
    sources = Source.objects.filter(
        Q(active=True, consecutive_failures__gt=0)
        | Q(active=False, pause_reason=PauseReason.FAILURES)
    ).order_by("failing_since", "name")[: operations.LIMIT]
    return [
        {
            "source": source,
            "state": mediawatch_labels.health(source),
            "error": mediawatch_labels.failure(source.last_error_kind)[0],
        }
        for source in sources
    ]


@policy.requires(Capability.VIEW_OPERATIONS)
def operations_page(request: HttpRequest) -> HttpResponse:
    """Workers, the queue, tasks that went wrong and failing news sources, for the staff."""
    return render(
        request,
        "core/operations.html",
        {
            "health": workers.health(),
            "workers": operations.task_workers(),
            "queue": operations.queue(),
            "problems": operations.task_problems(),
            "sources": _failing_sources(),
        },
    )


@policy.requires(Capability.VIEW_OPERATIONS)
@require_POST
def operations_poll_source(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    if not source.active and source.pause_reason != PauseReason.FAILURES:
        messages.error(
            request,
            gettext("“%(name)s” is paused by a curator: resume it in the back office first.")
            % {"name": source.name},
        )
    else:
        mediawatch_services.source_poll_now(source=source, request=request)
        messages.success(
            request,
            gettext("“%(name)s” will be polled by the next free worker.") % {"name": source.name},
        )
    return redirect(f"{reverse('core:operations')}#failing-sources")


def _type_label(schema: dict[str, Any], components: dict[str, Any]) -> str:
    """A readable type for a parameter schema: `string`, `integer`, or the allowed values."""
    if "$ref" in schema:
        target = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        if "enum" in target:
            return " | ".join(str(value) for value in target["enum"])
        return str(target.get("type", "object"))
    if "anyOf" in schema:
        labels = [_type_label(s, components) for s in schema["anyOf"] if s.get("type") != "null"]
        return " | ".join(labels)
    return str(schema.get("type", ""))


RESPONSES = {
    "200": _("Success"),
    "401": _("Not signed in, or the token is invalid or revoked"),
    "403": _("Refused by the access policy (the reason is in “detail”)"),
    "404": _("Not found, or not visible to you"),
    "422": _("A parameter is not valid (each error is listed in “detail”)"),
}


def _translated(text: str) -> str:
    """The schema's English text in the reader's language ("" stays "": gettext("") is the
    catalog's header)."""
    return gettext(text) if text else ""


def api_docs(request: HttpRequest) -> HttpResponse:
    """The API reference, rendered on the server from the OpenAPI schema: no script, no CDN.
    The schema's texts are in English; the page shows them in the reader's language."""
    schema = api.get_openapi_schema()
    components = schema.get("components", {}).get("schemas", {})
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            operations.append(
                {
                    "id": operation["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": _translated(operation.get("summary", "")),
                    "description": _translated(operation.get("description", "")),
                    "authenticated": bool(operation.get("security")),
                    "parameters": [
                        {
                            "name": p["name"],
                            "location": p["in"],
                            "required": p.get("required", False),
                            "type": _type_label(p.get("schema", {}), components),
                            "description": _translated(p.get("description", "")),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "responses": [
                        (code, RESPONSES.get(code, "")) for code in sorted(operation["responses"])
                    ],
                }
            )
    info = {**schema["info"], "description": _translated(schema["info"].get("description", ""))}
    return render(request, "core/api_docs.html", {"info": info, "operations": operations})


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return render(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    """The 403 page gives the actual reason: the agreement, the role or the board mandate
    that is missing (policy.refusal_reason), not one message for every refusal."""
    permission = getattr(request, "denied_permission", None)
    return render(
        request,
        "403.html",
        {"reason": str(exception or ""), "by_agreement": isinstance(permission, Resource)},
        status=403,
    )


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return render(request, "404.html", status=404)


RETRY_AFTER_SECONDS = 30


def database_unavailable(request: HttpRequest) -> HttpResponse:
    """503 while the database is away, read-only or full: rendered without a query (no user,
    no session, no navigation), JSON for the API and /health/. The connection that failed is
    closed at the end of the request (Django's close_if_unusable_or_obsolete), so the product
    recovers by itself when the database is back."""
    if request.path == reverse("health"):
        response = _health_response(workers.Health("down", "down", 0, None, 0))
    elif request.path.startswith("/api/"):
        detail = gettext(
            "The service is temporarily unavailable: the database does not answer. "
            "Try again in a minute."
        )
        response = JsonResponse({"detail": detail}, status=503)
    else:
        html = render_to_string("503.html", {"request": request, **csp(request)})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = NO_STORE
    # One line for the operator, not a traceback per request while the database is away.
    logger.warning(
        "database unavailable: %s %s answered 503 (%s)",
        request.method,
        request.path,
        type(sys.exc_info()[1]).__name__,
    )
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's own flag
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page in the reader's language; when even that cannot be rendered (the database
    is down, say), the same page without the parts that need the database. Database trouble
    (unreachable, read-only, full) is not a bug: it answers 503."""
    if operations.is_database_trouble(sys.exc_info()[1]):
        return database_unavailable(request)
    try:
        return render(request, "500.html", status=500)
    except Exception:  # noqa: BLE001 - the error page must always answer
        logger.exception("the 500 page failed to render with its context")
        html = render_to_string("500.html", {"request": request, "minimal": True})
        return HttpResponse(html, status=500)
