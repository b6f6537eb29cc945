from typing import Any

from django.http import HttpRequest

# The header's sections: which one a page belongs to, by (app, url name); "*" for any name.
SECTIONS = {
    ("network", "directory"): "directory",
    ("network", "organisation"): "directory",
    ("network", "register"): "directory",
    ("network", "agreements"): "agreements",
    ("network", "agreement"): "agreements",
    ("network", "board"): "board",
    ("mediawatch", "*"): "media_watch",
}


def current_section(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    return SECTIONS.get((match.app_name, match.url_name), "") or SECTIONS.get(
        (match.app_name, "*"), ""
    )


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Which navigation entries the visitor may see: asked of the access policy, lazily."""
    from django.utils.functional import SimpleLazyObject

    def compute() -> dict[str, Any]:
        from intersection.network.models import Resource
        from intersection.network.policy import Capability, allows

        user = request.user
        return {
            "agreements": allows(user, Capability.VIEW_AGREEMENTS),
            "board": allows(user, Capability.VIEW_BOARD),
            "media_watch": allows(user, Resource.MEDIA_WATCH),
            "audit": allows(user, Capability.VIEW_AUDIT),
            "operations": allows(user, Capability.VIEW_OPERATIONS),
            "styleguide": allows(user, Capability.VIEW_STYLEGUIDE),
            "admin": bool(getattr(user, "is_staff", False)),
            "section": current_section(request),
        }

    return {"nav": SimpleLazyObject(compute)}
