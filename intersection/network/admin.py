from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intersection.core.admin import AuditedAdminMixin
from intersection.core.i18n import translation_status

from .forms import STATUS_LABELS
from .models import (
    Agreement,
    AgreementParty,
    Mandate,
    Membership,
    Organisation,
    Person,
    RegisterEntry,
    Reminder,
    ResourceGrant,
    Signatory,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["person", "organisation"]


class TranslationStatusMixin:
    translated_fields: tuple[str, ...] = ()

    @admin.display(description=_("translations"))
    def translations(self, obj: object) -> str:
        status = translation_status(obj, self.translated_fields)
        marks = {"complete": "✓", "partial": "½", "missing": "✗"}
        return " ".join(f"{lang.upper()} {marks[state]}" for lang, state in status.items())


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdminMixin, TranslationStatusMixin, admin.ModelAdmin):
    translated_fields = ("name",)
    list_display = ["slug", "name_fr", "kind", "country", "region", "parent", "translations"]
    list_filter = ["kind", "country", "parent"]
    search_fields = ["slug", "name_fr", "name_nl", "name_en", "region"]
    prepopulated_fields = {"slug": ["name_fr"]}
    autocomplete_fields = ["parent"]
    inlines = [MembershipInline]


@admin.register(Person)
class PersonAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["last_name", "first_name", "email", "user"]
    search_fields = ["last_name", "first_name", "email"]
    autocomplete_fields = ["user"]
    inlines = [MembershipInline]


@admin.register(Mandate)
class MandateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["person", "role", "body", "network", "starts_on", "ends_on"]
    list_filter = ["body", "role", "network"]
    autocomplete_fields = ["person", "network", "representing"]


@admin.register(RegisterEntry)
class RegisterEntryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["number", "name", "network", "admitted_on", "resigned_on", "excluded_on"]
    list_filter = ["network"]
    search_fields = ["name", "enterprise_number"]
    autocomplete_fields = ["network", "person", "organisation"]


class PartyInline(admin.TabularInline):
    model = AgreementParty
    extra = 0
    min_num = 2
    autocomplete_fields = ["organisation"]


class SignatoryInline(admin.TabularInline):
    model = Signatory
    extra = 0
    autocomplete_fields = ["organisation", "person"]


class GrantInline(admin.TabularInline):
    model = ResourceGrant
    extra = 0
    filter_horizontal = ["beneficiaries"]


@admin.register(Agreement)
class AgreementAdmin(AuditedAdminMixin, TranslationStatusMixin, admin.ModelAdmin):
    translated_fields = ("title",)
    list_display = [
        "reference",
        "title_fr",
        "kind",
        "signed_on",
        "starts_on",
        "ends_on",
        "status",
        "translations",
    ]
    list_filter = ["kind", "renewal"]
    search_fields = ["reference", "title_fr", "title_nl", "title_en"]
    inlines = [PartyInline, SignatoryInline, GrantInline]

    @admin.display(description=_("status"))
    def status(self, obj: Agreement) -> str:
        return str(STATUS_LABELS[obj.status_on(timezone.localdate())])


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """Read-only: what was sent, what failed and why (SMTP errors are retried by the job)."""

    list_display = ["kind", "object_id", "due_on", "sent_at", "attempts", "last_error"]
    list_filter = ["kind", "sent_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
