from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("重点任务")

    def ready(self):
        # Forms gain newly assigned lines when the assignment is made.
        from tasks import receivers  # noqa: F401
