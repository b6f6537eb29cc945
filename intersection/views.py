"""Pages that span modules: home, accessibility statement, audit log, error pages."""

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from intersection.api import api
from intersection.core.models import AuditEvent
from intersection.network import policy
from intersection.network.models import Resource
from intersection.network.policy import Capability

RESOURCE_PAGES = {Resource.MEDIA_WATCH: "mediawatch:index"}


def home(request: HttpRequest) -> HttpResponse:
    resources = [
        {
            "resource": resource,
            "unlocked": policy.allows(request.user, resource),
            "url_name": RESOURCE_PAGES.get(resource),
        }
        for resource in Resource
    ]
    return render(request, "core/home.html", {"resources": resources})


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "core/accessibility.html")


@policy.requires(Capability.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.all()
    action = request.GET.get("action", "").strip()[:64]
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_log.html", {"page": page, "action": action})


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


def api_docs(request: HttpRequest) -> HttpResponse:
    """The API reference, rendered on the server from the OpenAPI schema: no script, no CDN."""
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
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "authenticated": bool(operation.get("security")),
                    "parameters": [
                        {
                            "name": p["name"],
                            "location": p["in"],
                            "required": p.get("required", False),
                            "type": _type_label(p.get("schema", {}), components),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "responses": sorted(operation.get("responses", {})),
                }
            )
    return render(
        request,
        "core/api_docs.html",
        {"info": schema["info"], "operations": operations},
    )


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    permission = getattr(request, "denied_permission", None) or str(exception or "")
    reason = ""
    if permission in {r.value for r in Resource}:
        reason = _(
            "Your organisation has no partnership agreement in force that unlocks “%(resource)s”."
        ) % {"resource": Resource(permission).label}
    return render(request, "403.html", {"reason": reason}, status=403)


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
