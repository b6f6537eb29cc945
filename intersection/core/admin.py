from typing import Any, ClassVar

from django.contrib import admin
from django.db import models
from django.forms import ModelForm
from django.forms.models import _get_foreign_key
from django.http import HttpRequest

from . import audit
from .models import AuditEvent, ScheduledRun


class AuditedAdminMixin:
    """Back-office writes land in the audit log with their before/after values, including
    the rows edited inline (parties, grants, memberships…) and many-to-many links."""

    inlines: ClassVar[Any]

    def _deep_snapshot(self, obj: models.Model) -> dict[str, Any]:
        data = audit.snapshot(obj)
        for inline in self.inlines:
            fk = _get_foreign_key(type(obj), inline.model, fk_name=inline.fk_name)
            rows = inline.model._default_manager.filter(**{fk.name: obj}).order_by("pk")
            data[f"{inline.model._meta.model_name}_set"] = [audit.snapshot(row) for row in rows]
        return data

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        previous = type(obj)._default_manager.filter(pk=obj.pk).first() if change else None
        request._audit_before = self._deep_snapshot(previous) if previous else None  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        obj = form.instance
        audit.record(
            action=f"{obj._meta.model_name}.{'change' if change else 'create'}",
            obj=obj,
            before=getattr(request, "_audit_before", None),
            after=self._deep_snapshot(obj),
            request=request,
        )

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        self._record_delete(request, obj)
        super().delete_model(request, obj)  # type: ignore[misc]

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        for obj in queryset:
            self._record_delete(request, obj)
        super().delete_queryset(request, queryset)  # type: ignore[misc]

    def _record_delete(self, request: HttpRequest, obj: models.Model) -> None:
        audit.record(
            action=f"{obj._meta.model_name}.delete",
            obj=obj,
            before=self._deep_snapshot(obj),
            request=request,
            object_repr=str(obj),
        )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_repr"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_label", "object_repr", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScheduledRun)
class ScheduledRunAdmin(admin.ModelAdmin):
    list_display = ["job", "slot", "enqueued_at", "task_result_id"]
    list_filter = ["job"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
