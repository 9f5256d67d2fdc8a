"""Office settings: status thresholds, yearly waypoints, externally sourced figures."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.models import StatusThresholds
from targets.models import ExternalFigure, Target, TargetWaypoint


class ThresholdsForm(forms.ModelForm):
    class Meta:
        model = StatusThresholds
        fields = ["ahead", "on_track", "behind"]
        help_texts = {
            "ahead": _("实际进度 ÷ 序时进度 不低于此值为“超前”，如 1.10"),
            "on_track": _("不低于此值为“正常”，如 0.95"),
            "behind": _("不低于此值为“滞后”，低于此值为“严重滞后”，如 0.80"),
        }

    def clean(self):
        cleaned = super().clean()
        ahead, on_track, behind = cleaned.get("ahead"), cleaned.get("on_track"), cleaned.get("behind")
        if None not in (ahead, on_track, behind) and not (ahead > on_track > behind > 0):
            raise forms.ValidationError(
                _("阈值必须从高到低排列且互不重叠：超前 > 正常 > 滞后 > 0。当前为 %(a)s、%(o)s、%(b)s。"),
                params={"a": ahead, "o": on_track, "b": behind},
            )
        return cleaned


class WaypointForm(forms.ModelForm):
    class Meta:
        model = TargetWaypoint
        fields = ["target", "year", "value"]

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["target"].queryset = Target.objects.filter(
            plan=plan, time_scope="whole_plan", per_region=False
        )

    def clean(self):
        cleaned = super().clean()
        target, year, value = cleaned.get("target"), cleaned.get("year"), cleaned.get("value")
        if target and year:
            if year >= target.deadline_year:
                self.add_error(
                    "year",
                    _("序时目标年份必须早于目标年份（%(year)s年）：目标年份的年末值就是目标值本身。")
                    % {"year": target.deadline_year},
                )
            if year < self.plan.start_year:
                self.add_error(
                    "year",
                    _("序时目标年份不能早于方案起始年份（%(year)s年）。") % {"year": self.plan.start_year},
                )
        if value is not None and value < 0:
            self.add_error("value", _("不能为负数。"))
        if target and value is not None and target.unit == "%" and value > 100:
            self.add_error("value", _("百分比不能超过 100。"))
        return cleaned


class ExternalFigureForm(forms.ModelForm):
    class Meta:
        model = ExternalFigure
        fields = ["target", "value", "measured_on", "source", "survey_round"]
        widgets = {"measured_on": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["target"].queryset = Target.objects.filter(plan=plan, external=True)

    def clean(self):
        cleaned = super().clean()
        target, value, measured_on = cleaned.get("target"), cleaned.get("value"), cleaned.get("measured_on")
        if value is not None and value < 0:
            self.add_error("value", _("不能为负数。"))
        if target and value is not None and target.unit == "%" and value > 100:
            self.add_error("value", _("百分比不能超过 100。"))
        if measured_on:
            if measured_on > timezone.localdate():
                self.add_error("measured_on", _("调查时间不能晚于今天。"))
            if measured_on < datetime.date(self.plan.start_year - 1, 1, 1):
                self.add_error("measured_on", _("调查时间早于方案实施期。"))
        return cleaned
