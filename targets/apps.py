from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TargetsConfig(AppConfig):
    name = "targets"
    verbose_name = _("目标指标")

    def ready(self):
        # Connect the receivers that let the tasks app's submissions carry target figures.
        from targets.submission import services  # noqa: F401
