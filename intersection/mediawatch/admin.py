from django.contrib import admin

from intersection.core.admin import AuditedAdminMixin

from .forms import SourceForm
from .models import Article, ArticleVersion, FetchRun, Source


@admin.register(Source)
class SourceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = SourceForm  # checks the address with the fetcher's policy before saving
    list_display = [
        "name", "kind", "language_hint", "active", "last_success_at", "consecutive_failures",
        "last_error_kind",
    ]  # fmt: skip
    list_filter = ["active", "kind", "language_hint", "country"]
    search_fields = ["name", "url"]
    readonly_fields = [
        "next_poll_at", "last_success_at", "last_error_at", "last_error_kind", "last_error",
        "consecutive_failures", "failing_since", "etag", "last_modified", "body_sha256",
        "items_seen", "duplicates_seen",
    ]  # fmt: skip


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    extra = 0
    readonly_fields = ["source", "guid", "url", "title", "published_at", "similarity"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "language", "published_at", "source"]
    list_filter = ["language"]
    search_fields = ["title", "canonical_url"]
    exclude = ["search_terms"]
    inlines = [VersionInline]


@admin.register(FetchRun)
class FetchRunAdmin(admin.ModelAdmin):
    list_display = ["source", "started_at", "status", "error_kind", "items", "new_articles"]
    list_filter = ["status", "error_kind"]
