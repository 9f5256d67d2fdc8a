from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("汇总与评估报告")

    def ready(self):
        from reports import receivers  # noqa: F401
