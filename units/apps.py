from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = _("单位与地区")

    def ready(self):
        # Record log-ins, log-outs and failures; keep a new session fresh (see portal.security).
        from django.contrib.auth.signals import user_logged_in

        from portal.security import mark_session_fresh
        from units import auth  # noqa: F401

        user_logged_in.connect(mark_session_fresh, dispatch_uid="mark_session_fresh")
