"""The office's settings pages and roll-up runs (thresholds, waypoints, external figures,
regions' own baselines)."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from portal.mixins import PolicyRequiredMixin
from reports.choices import RunTrigger
from reports.models import RollupRun, StatusThresholds
from reports.office.forms import (
    ExternalFigureForm,
    RegionBaselineForm,
    TargetBaselineForm,
    ThresholdsForm,
    WaypointForm,
)
from reports.rollup.services import request_rollup
from targets.baselines import set_baseline
from targets.models import ExternalFigure, RegionBaseline, Target, TargetWaypoint
from tasks.models import Period
from tasks.selectors import current_plan


class OfficeOnly(PolicyRequiredMixin):
    permission = "can_manage_settings"


class SettingsView(OfficeOnly, TemplateView):
    """进度判定设置: thresholds, waypoints and external figures on one page."""

    template_name = "reports/settings.html"

    def get_context_data(self, **kwargs):
        plan = current_plan()
        # read only: the defaults until the office first saves them (a GET never writes)
        thresholds = StatusThresholds.objects.filter(plan=plan).first() or StatusThresholds(plan=plan)
        context = {
            "plan": plan,
            "thresholds_form": kwargs.pop("thresholds_form", None) or ThresholdsForm(instance=thresholds),
            "waypoint_form": kwargs.pop("waypoint_form", None) or WaypointForm(plan=plan),
            "external_form": kwargs.pop("external_form", None) or ExternalFigureForm(plan=plan),
            "waypoints": TargetWaypoint.objects.filter(target__plan=plan).select_related("target"),
            "external_figures": ExternalFigure.objects.filter(target__plan=plan).select_related(
                "target", "entered_by"
            ),
            "baseline_form": kwargs.pop("baseline_form", None) or RegionBaselineForm(plan=plan),
            "target_baseline_form": kwargs.pop("target_baseline_form", None) or TargetBaselineForm(plan=plan),
            "target_baselines": [
                t for t in Target.objects.filter(plan=plan).order_by("sort_order") if t.needs_baseline
            ],
            "baselines": RegionBaseline.objects.filter(target__plan=plan).select_related(
                "target", "region", "entered_by"
            ),
        }
        return super().get_context_data(**context, **kwargs)

    def post(self, request):
        plan = current_plan()
        which = request.POST.get("form")
        if which == "thresholds":
            form = ThresholdsForm(request.POST, instance=StatusThresholds.objects.get_or_create(plan=plan)[0])
            key = "thresholds_form"
        elif which == "waypoint":
            form = WaypointForm(request.POST, plan=plan)
            key = "waypoint_form"
        elif which == "external":
            form = ExternalFigureForm(request.POST, plan=plan)
            key = "external_form"
        elif which == "baseline":
            form = RegionBaselineForm(request.POST, plan=plan)
            key = "baseline_form"
        elif which == "target_baseline":
            form = TargetBaselineForm(request.POST, plan=plan)
            key = "target_baseline_form"
        else:
            messages.error(request, _("无效的请求。"))
            return redirect("reports_office:settings")
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(**{key: form}), status=400)
        with transaction.atomic():
            if which == "waypoint":
                TargetWaypoint.objects.update_or_create(
                    target=form.cleaned_data["target"],
                    year=form.cleaned_data["year"],
                    defaults={"value": form.cleaned_data["value"]},
                )
            elif which == "target_baseline":
                data = form.cleaned_data
                set_baseline(
                    data["target"],
                    value=data["value"],
                    year=data["year"],
                    source=data["source"],
                    by=request.user,
                )
            elif which == "external":
                row = form.save(commit=False)
                row.entered_by = request.user
                row.save()
            elif which == "baseline":  # a region entered again gets the new value
                RegionBaseline.objects.update_or_create(
                    target=form.cleaned_data["target"],
                    region=form.cleaned_data["region"],
                    defaults={
                        "value": form.cleaned_data["value"],
                        "source": form.cleaned_data["source"],
                        "entered_by": request.user,
                    },
                )
            else:
                form.save()
            request_rollup(plan, trigger=RunTrigger.MANUAL, by=request.user)
        messages.success(request, _("已保存，正在重新汇总。"))
        return redirect("reports_office:settings")


class WaypointDeleteView(OfficeOnly, View):
    def post(self, request, pk):
        waypoint = get_object_or_404(TargetWaypoint, pk=pk)
        waypoint.delete()
        request_rollup(current_plan(), trigger=RunTrigger.MANUAL, by=request.user)
        messages.success(request, _("已删除序时目标。"))
        return redirect("reports_office:settings")


class RollupRunsView(PolicyRequiredMixin, TemplateView):
    """汇总任务: the runs with their status and timing; the office can start one."""

    template_name = "reports/rollup_runs.html"
    permission = "can_see_dashboard"
    write_permission = "can_run_rollups"

    def get_context_data(self, **kwargs):
        plan = current_plan()
        return super().get_context_data(
            runs=RollupRun.objects.select_related("from_period", "requested_by")[:50],
            periods=Period.objects.filter(plan=plan).order_by("year", "quarter"),
            **kwargs,
        )

    def post(self, request):
        plan = current_plan()
        period_id = request.POST.get("period") or None
        period = None
        if period_id is not None:
            # ASCII digits only: "²".isdigit() is true, but the database lookup would fail on it
            if not (period_id.isascii() and period_id.isdigit()) or not (
                Period.objects.filter(plan=plan, pk=period_id).exists()
            ):
                messages.error(request, _("所选报送期不存在。"))
                return redirect("reports_office:rollup_runs")
            period = Period.objects.get(pk=period_id)
        run = request_rollup(plan, from_period=period, trigger=RunTrigger.MANUAL, by=request.user)
        messages.success(request, _("汇总任务 #%(id)s 已排队。") % {"id": run.pk})
        return redirect("reports_office:rollup_runs")
