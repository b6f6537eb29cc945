from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediawatchConfig(AppConfig):
    name = "intersection.mediawatch"
    label = "mediawatch"
    verbose_name = _("Media watch")
