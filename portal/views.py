"""Pages of the portal as a whole rather than of one app: the landing redirect, 使用帮助 (help
for users) and the error pages."""

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.generic import TemplateView

from portal.numbers import plain
from units import policy

# Where each role's day starts (the home page and the page after logging in).
LANDING = {
    "reporter": "tasks:inbox",
    "approver": "tasks:inbox",
    "office": "tasks:review_queue",
    "viewer": "reports:dashboard",
}


def landing(request):
    """The home page: each role lands on its work (unit staff: 本期待办; the office: 待审核;
    viewers: 工作看板); anyone else on the plan. ``LOGIN_REDIRECT_URL`` points here."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return redirect(LANDING.get(policy.role_of(request.user), "targets:plan_detail"))


def favicon(request):
    """/favicon.ico, which browsers ask for on their own (pages link the icon in base.html)."""
    return redirect(static("img/favicon.ico"), permanent=True)


def csrf_failure(request, reason="", template_name="403_csrf.html"):
    """``CSRF_FAILURE_VIEW``: the refused form explained in the user's language, with the menu."""
    return render(request, template_name, {"reason": reason}, status=403)


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
        from reports.rollup.rollups import thresholds_for
        from targets.submission.excel import MAX_UPLOAD_BYTES as EXCEL_MAX_BYTES
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
