"""The audit log: one function records a sensitive action."""

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from . import http
from .models import AuditEvent


def _json_value(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    if isinstance(value, (list, tuple, set)):
        return [_json_value(v) for v in value]
    return value


SECRET_FIELDS = ("password", "security_stamp", "key_hash")


def snapshot(instance: models.Model, exclude: Iterable[str] = SECRET_FIELDS) -> dict[str, Any]:
    """Field values of a model instance (many-to-many as sorted ids), JSON-ready, for
    before/after records. Secrets are left out."""
    skipped = set(exclude)
    data = {
        field.attname: _json_value(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
        if field.attname not in skipped
    }
    if instance.pk is not None:
        for field in instance._meta.many_to_many:
            data[field.name] = sorted(getattr(instance, field.name).values_list("pk", flat=True))
    return data


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address, behind trusted reverse proxies too (see core.http)."""
    return http.client_address(request)


def record(
    *,
    action: str,
    actor: Any = None,
    obj: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    object_repr: str = "",
) -> AuditEvent:
    """Record one sensitive action. `actor` is a user (or None for the system)."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=str(getattr(user, "email", "")) if user else "system",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:255],
        before=before,
        after=after,
        ip_address=client_address(request),
    )


REFUSAL = "access.denied"


def record_refusal(
    *, request: HttpRequest, permission: str, obj: models.Model | None = None
) -> AuditEvent:
    """Record a refused access, aggregated: one row per person (or address, for visitors),
    permission, object and hour, whose `count` grows with each repeat, so that a script
    hammering a page adds one row an hour, not one a request. The row keeps the last path."""
    user = request.user if request.user.is_authenticated else None
    address = client_address(request)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    same = AuditEvent.objects.filter(
        action=REFUSAL,
        at__gte=hour,
        object_repr=permission,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
    )
    same = (
        same.filter(actor=user) if user is not None else same.filter(actor=None, ip_address=address)
    )
    path = {"path": request.path[:500]}
    if same.update(count=F("count") + 1, after=path):
        return same.first() or AuditEvent()
    return record(
        action=REFUSAL, actor=user, obj=obj, request=request, object_repr=permission, after=path
    )


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Only the fields that changed, as (before, after) pairs."""
    keys = set(before) | set(after)
    return {k: (before.get(k), after.get(k)) for k in sorted(keys) if before.get(k) != after.get(k)}
