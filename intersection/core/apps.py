from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "intersection.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from .collation import register_sqlite_collation

        connection_created.connect(register_sqlite_collation, dispatch_uid="core.collation")
