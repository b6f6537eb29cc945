from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Which navigation entries the visitor may see: asked of the access policy, lazily."""
    from django.utils.functional import SimpleLazyObject

    def compute() -> dict[str, bool]:
        from intersection.network.models import Resource
        from intersection.network.policy import Capability, allows

        user = request.user
        return {
            "agreements": allows(user, Capability.VIEW_AGREEMENTS),
            "board": allows(user, Capability.VIEW_BOARD),
            "media_watch": allows(user, Resource.MEDIA_WATCH),
            "audit": allows(user, Capability.VIEW_AUDIT),
            "admin": bool(getattr(user, "is_staff", False)),
        }

    return {"nav": SimpleLazyObject(compute)}
