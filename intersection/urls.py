from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.static import serve

from . import views
from .api import api
from .mediawatch import views as mediawatch_views

handler400 = "intersection.views.bad_request"
handler403 = "intersection.views.permission_denied"
handler404 = "intersection.views.not_found"
handler500 = "intersection.views.server_error"

admin.site.site_header = "Intersection"
admin.site.site_title = "Intersection"

core_patterns = (
    [
        path("", views.home, name="home"),
        path("accessibility/", views.accessibility, name="accessibility"),
        path("audit/", views.audit_log, name="audit"),
        path("styleguide/", views.styleguide, name="styleguide"),
        path("operations/", views.operations_page, name="operations"),
        path(
            "operations/sources/<int:pk>/poll/",
            views.operations_poll_source,
            name="operations_poll_source",
        ),
    ],
    "core",
)

urlpatterns: list[URLPattern | URLResolver] = [
    path("health/", views.health, name="health"),
    path("", include(core_patterns)),
    path("", include("intersection.network.urls")),
    path("accounts/", include("intersection.accounts.urls")),
    path("media-watch/", include("intersection.mediawatch.urls")),
    path("demo-sources/<path:path>", mediawatch_views.demo_source, name="demo_source"),
    path("api/docs", views.api_docs, name="api_docs"),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]

if not settings.PRODUCTION:
    # Uploaded logos in development; in production the reverse proxy serves MEDIA_ROOT.
    urlpatterns.append(
        path("media/logos/<path:path>", serve, {"document_root": settings.MEDIA_ROOT / "logos"})
    )
