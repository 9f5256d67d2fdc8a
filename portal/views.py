"""Pages of the portal as a whole rather than of one app: 使用帮助 (help for users)."""

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from portal.numbers import plain


def _percent(share) -> str:
    """1.10 → "110", 0.95 → "95", 0.825 → "82.5"."""
    return plain(share * 100)


class HelpView(LoginRequiredMixin, TemplateView):
    """使用帮助: the quarterly form, what each status means, how targets are computed, whom to ask.

    The numbers the rules depend on (status thresholds, the jump ratio, the upload limit, the
    deadline) are read from where the portal itself reads them, so the page stays true when the
    office or the deployment changes them.
    """

    template_name = "help.html"

    def get_context_data(self, **kwargs):
        # Imported here: portal/ wires the apps together and is imported by them at start-up.
        from reports.rollups import thresholds_for
        from targets.excel import MAX_UPLOAD_BYTES as EXCEL_MAX_BYTES
        from tasks.selectors import current_plan

        thresholds = thresholds_for(current_plan())
        return super().get_context_data(
            ahead=_percent(thresholds.ahead),
            on_track=_percent(thresholds.on_track),
            behind=_percent(thresholds.behind),
            jump_ratio=settings.REPORTING_JUMP_RATIO,
            evidence_mb=settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
            excel_mb=EXCEL_MAX_BYTES // (1024 * 1024),
            deadline_days=settings.REPORTING_DEADLINE_DAYS,
            **kwargs,
        )
