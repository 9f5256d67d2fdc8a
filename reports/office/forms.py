"""Office settings: status thresholds, yearly waypoints, externally sourced figures and the
regions' own baselines."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.names import coded_name
from reports.models import StatusThresholds
from targets.choices import MeasureKind
from targets.models import ExternalFigure, Target, TargetWaypoint
from units.choices import RegionLevel
from units.models import Region


class ThresholdsForm(forms.ModelForm):
    """The order rule (超前 > 正常 > 滞后 > 0) is the model's constraint, with its own message."""

    class Meta:
        model = StatusThresholds
        fields = ["ahead", "on_track", "behind"]
        help_texts = {
            "ahead": _("实际进度 ÷ 序时进度 不低于此值为“超前”，如 1.10"),
            "on_track": _("不低于此值为“正常”，如 0.95"),
            "behind": _("不低于此值为“滞后”，低于此值为“严重滞后”，如 0.80"),
        }


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
        self.fields["target"].label_from_instance = coded_name

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
        self.fields["target"].label_from_instance = coded_name

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


class RegionBaselineForm(forms.Form):
    """A region's own bound for a per-region target stated as "not below its own level" (T32).
    Entering a region again replaces its value, so this is not a ModelForm (whose unique check
    would refuse it)."""

    target = forms.ModelChoiceField(queryset=Target.objects.none(), label=_("目标指标"))
    region = forms.ModelChoiceField(queryset=Region.objects.none(), label=_("地区"))
    value = forms.DecimalField(label=_("基期值"), max_digits=12, decimal_places=2)
    source = forms.CharField(label=_("数据来源"), max_length=200)

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["target"].queryset = Target.objects.filter(plan=plan, per_region=True, value=0).exclude(
            bound="year_on_year"
        )
        self.fields["region"].queryset = Region.objects.filter(
            level__in=[RegionLevel.PREFECTURE, RegionLevel.COUNTY]
        ).order_by("code")
        self.fields["region"].label_from_instance = coded_name
        self.fields["target"].label_from_instance = coded_name

    def clean(self):
        cleaned = super().clean()
        target, region, value = cleaned.get("target"), cleaned.get("region"), cleaned.get("value")
        if value is not None and value < 0:
            self.add_error("value", _("不能为负数。"))
        per_capita = target is not None and target.measure_kind == MeasureKind.MONEY_PER_CAPITA
        if per_capita and value is not None and value > 1000:
            self.add_error("value", _("人均科普经费超过 1000 元/人，请核对单位（元/人）。"))
        if target and region and target.region_level and region.level != target.region_level:
            self.add_error(
                "region",
                _("%(target)s 只考核%(level)s。")
                % {"target": target.code, "level": target.get_region_level_display()},
            )
        return cleaned


class TargetBaselineForm(forms.Form):
    """A target's baseline (value, year, source), for the targets whose rule measures progress from
    one; checked by ``targets.baselines.baseline_errors`` as the API is."""

    target = forms.ModelChoiceField(queryset=Target.objects.none(), label=_("目标指标"))
    value = forms.DecimalField(label=_("基期值"), max_digits=18, decimal_places=4, required=False)
    year = forms.IntegerField(label=_("基期年份"), required=False)
    source = forms.CharField(label=_("数据来源"), max_length=200, required=False)

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        wanted = [t.pk for t in Target.objects.filter(plan=plan) if t.needs_baseline]
        self.fields["target"].queryset = Target.objects.filter(pk__in=wanted).order_by("sort_order")
        self.fields["target"].label_from_instance = coded_name

    def clean(self):
        from targets.baselines import baseline_errors

        cleaned = super().clean()
        target = cleaned.get("target")
        if target is not None:
            errors = baseline_errors(target, cleaned.get("value"), cleaned.get("year"), cleaned.get("source"))
            for field, message in errors.items():
                self.add_error(field, message)
        return cleaned
