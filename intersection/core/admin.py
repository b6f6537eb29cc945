from typing import Any

from django.contrib import admin
from django.db import models
from django.forms import ModelForm
from django.http import HttpRequest

from . import audit
from .models import AuditEvent, ScheduledRun


class AuditedAdminMixin:
    """Back-office writes land in the audit log with their before/after values."""

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        before = None
        if change and obj.pk:
            previous = type(obj)._default_manager.filter(pk=obj.pk).first()
            before = audit.snapshot(previous) if previous else None
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        action = f"{obj._meta.model_name}.{'change' if change else 'create'}"
        audit.record(
            action=action, obj=obj, before=before, after=audit.snapshot(obj), request=request
        )

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        before = audit.snapshot(obj)
        label = str(obj)
        model_name = obj._meta.model_name
        audit.record(
            action=f"{model_name}.delete",
            obj=obj,
            before=before,
            request=request,
            object_repr=label,
        )
        super().delete_model(request, obj)  # type: ignore[misc]


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
