"""Quantified targets of the plan, with the sentences they come from."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.names import coded_name
from targets.choices import Bound, Combine, MeasureKind, TimeScope, unit_label
from tasks.models import Initiative, InitiativePart, Measure, Plan
from units.choices import RegionLevel
from units.models import Region, Unit


class TargetQuerySet(models.QuerySet):
    def with_related(self):
        """Everything a list of targets shows, in a fixed number of queries."""
        return self.select_related("initiative", "part", "measure", "owner_unit").prefetch_related(
            "reporting_units"
        )

    def for_unit(self, unit):
        """Targets the unit reports on or owns."""
        return self.filter(Q(reporting_units=unit) | Q(owner_unit=unit)).distinct()


class Target(models.Model):
    """A quantified goal of the plan (目标指标) and the rule by which reported figures combine."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("实施方案"), on_delete=models.CASCADE, related_name="targets"
    )
    code = models.CharField(_("编号"), max_length=8)
    name = models.CharField(_("指标名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    initiative = models.ForeignKey(
        Initiative,
        verbose_name=_("行动 / 工程"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
        help_text=_("为空表示全局性目标（如主要目标、经费保障）"),
    )
    part = models.ForeignKey(
        InitiativePart,
        verbose_name=_("子项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("工作措施"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    measure_kind = models.CharField(_("计量类型"), max_length=20, choices=MeasureKind.choices)
    combine = models.CharField(_("汇总方式"), max_length=16, choices=Combine.choices)
    time_scope = models.CharField(_("时间范围"), max_length=16, choices=TimeScope.choices)
    bound = models.CharField(_("约束"), max_length=16, choices=Bound.choices)
    value = models.DecimalField(_("目标值"), max_digits=18, decimal_places=4)
    value_max = models.DecimalField(_("目标值上限"), max_digits=18, decimal_places=4, null=True, blank=True)
    unit = models.CharField(_("计量单位"), max_length=20)
    # The plan's own words for the goal (力争达到10%, 50万人次以上, 力争涵盖20多个), quoted by pages,
    # Excel and reports instead of a paraphrase such as 不低于.
    phrase = models.CharField(_("原文表述"), max_length=100, blank=True)
    # 力争: an aspiration. Reaching it is 已完成; missing it is reported as not reached, never as
    # a breach (the status goes no lower than 滞后).
    aspiration = models.BooleanField(_("力争目标"), default=False)
    # What can exist at most: the 8 市州, the 44 县（市、区）, 9 television stations, or 100 for a
    # share. No expected value, forecast or coverage is shown beyond it.
    ceiling = models.DecimalField(_("可能的最大值"), max_digits=18, decimal_places=4, null=True, blank=True)
    baseline_value = models.DecimalField(_("基期值"), max_digits=18, decimal_places=4, null=True, blank=True)
    baseline_year = models.PositiveSmallIntegerField(_("基期年份"), null=True, blank=True)
    baseline_source = models.CharField(_("基期值来源"), max_length=200, blank=True)
    baseline_demo = models.BooleanField(
        _("演示基期值"),
        default=False,
        help_text=_("演示数据生成的基期值，不是真实统计，正式评估前须由省纲要办录入"),
    )
    deadline_year = models.PositiveSmallIntegerField(_("目标年份"))
    per_region = models.BooleanField(_("分地区考核"), default=False)
    # Blank on a per-region target means both prefectures and counties are checked.
    region_level = models.CharField(_("地区层级"), max_length=16, choices=RegionLevel.choices, blank=True)
    external = models.BooleanField(
        _("外部数据"), default=False, help_text=_("由省纲要办依据抽样调查或监测结果录入，如公民科学素质比例")
    )
    owner_unit = models.ForeignKey(
        Unit, verbose_name=_("负责单位"), on_delete=models.PROTECT, related_name="owned_targets"
    )
    reporting_units = models.ManyToManyField(
        Unit, verbose_name=_("报送单位"), blank=True, related_name="reported_targets"
    )
    questions = models.JSONField(_("待明确事项"), default=list, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    objects = TargetQuerySet.as_manager()
    # Baselines are entered by the office and change judgements: every change is kept, so a
    # report rebuilt "as approved on" a past day uses the baseline known then.
    history = HistoricalRecords(excluded_fields=["questions", "notes", "sort_order"])

    class Meta:
        ordering = ["plan", "sort_order"]
        verbose_name = _("目标指标")
        verbose_name_plural = _("目标指标")
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="target_code_unique_in_plan"),
            models.CheckConstraint(
                name="target_range_has_max",
                condition=~Q(bound=Bound.RANGE)
                | Q(value_max__isnull=False, value_max__gte=models.F("value")),
            ),
            models.CheckConstraint(name="target_value_not_negative", condition=Q(value__gte=0)),
        ]

    def __str__(self):
        return coded_name(self)

    @property
    def needs_baseline(self):
        """Whether the rule measures progress from a baseline: a whole-plan level or coverage
        target (increments count what was added within the plan; milestones, per-year and
        per-region targets are judged against their bound alone)."""
        return (
            self.combine in (Combine.LEVEL, Combine.COVERAGE)
            and self.time_scope == TimeScope.WHOLE_PLAN
            and not self.per_region
        )

    @property
    def unit_label(self):
        """The unit of measure in the active language (``unit`` is the plan's word)."""
        return unit_label(self.unit)

    @property
    def own_region_bounds(self):
        """Whether each region is judged against its own baseline (``RegionBaseline``) rather than
        the plan's value: a per-region target whose value is 0, i.e. T32, 人均科普经费不低于
        “十三五”末水平. Only the regions whose baseline has been entered are judged."""
        return self.per_region and self.value == 0 and self.bound != Bound.YEAR_ON_YEAR

    @property
    def judged_region_levels(self):
        """The region levels a per-region target judges: its own level, or prefectures and counties."""
        return [self.region_level] if self.region_level else [RegionLevel.PREFECTURE, RegionLevel.COUNTY]

    @property
    def bound_short(self):
        """The bound alone, for a column header: 不低于1.5元/人."""
        from targets.presenters import rule_bound_text

        return rule_bound_text(self)

    @property
    def bound_text(self):
        """The target as the plan says it (``phrase``), else as a phrase built from the bound."""
        from targets.presenters import bound_text

        return bound_text(self)


class TargetSource(models.Model):
    """A sentence of the plan that states the target; a target stated twice keeps both."""

    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.CASCADE, related_name="sources"
    )
    text = models.TextField(_("原文表述"))
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["target", "sort_order"]
        verbose_name = _("原文出处")
        verbose_name_plural = _("原文出处")

    def __str__(self):
        return self.text[:40]


class TargetFigureQuerySet(models.QuerySet):
    def approved(self):
        """Figures of approved submissions: the only ones that count."""
        from tasks.choices import SubmissionStatus

        return self.filter(submission__status=SubmissionStatus.APPROVED)


class TargetFigure(models.Model):
    """A figure a unit reports for a target in a quarterly submission (指标数据).

    What it holds depends on the target's combination rule:
    increment → ``value`` is what was added this quarter; level → ``value`` is the current value;
    coverage → ``covered`` of ``total``; milestone → ``done``.
    """

    submission = models.ForeignKey(
        "tasks.Submission", verbose_name=_("报送表"), on_delete=models.CASCADE, related_name="figures"
    )
    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.PROTECT, related_name="figures"
    )
    value = models.DecimalField(_("数值"), max_digits=18, decimal_places=4, null=True, blank=True)
    covered = models.DecimalField(_("已覆盖"), max_digits=18, decimal_places=4, null=True, blank=True)
    total = models.DecimalField(_("应覆盖总数"), max_digits=18, decimal_places=4, null=True, blank=True)
    done = models.BooleanField(_("已完成"), null=True, blank=True)
    source_note = models.CharField(_("数据来源说明"), max_length=500, blank=True)
    explanation = models.TextField(_("变动说明"), blank=True, help_text=_("与上期相比变化较大时必须填写"))

    objects = TargetFigureQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["submission", "target__sort_order"]
        verbose_name = _("指标数据")
        verbose_name_plural = _("指标数据")
        constraints = [
            models.UniqueConstraint(fields=["submission", "target"], name="figure_unique_per_submission"),
            models.CheckConstraint(
                name="figure_value_not_negative", condition=Q(value__isnull=True) | Q(value__gte=0)
            ),
            models.CheckConstraint(
                name="figure_covered_within_total",
                condition=Q(covered__isnull=True)
                | Q(total__isnull=True)
                | Q(covered__gte=0, total__gt=0, covered__lte=models.F("total")),
            ),
        ]
        indexes = [
            # roll-ups: every figure of a target
            models.Index(fields=["target", "submission"], name="figure_target_idx"),
        ]

    def __str__(self):
        return f"{self.target.code} · {self.submission_id}"


class RegionFigure(models.Model):
    """A local government's funding figures for its region (per-region targets, plan 三（三）).

    Per-capita funding is ``funding`` (万元) over ``population`` (万人), so 元/人; the county floor
    of 25万元 compares ``funding`` itself. Both are for the year so far (a level within the year).
    """

    submission = models.OneToOneField(
        "tasks.Submission", verbose_name=_("报送表"), on_delete=models.CASCADE, related_name="region_figure"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("地区"), on_delete=models.PROTECT, related_name="figures"
    )
    funding = models.DecimalField(
        _("本年度科普经费（万元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    population = models.DecimalField(
        _("常住人口（万人）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    source_note = models.CharField(_("数据来源说明"), max_length=500, blank=True)
    # The government's own work: its forms otherwise hold only funding and population.
    narrative = models.TextField(
        _("本地区工作进展"),
        blank=True,
        help_text=_("本季度本地区推进全民科学素质行动的主要做法和成效，不超过 4000 字"),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["region"]
        verbose_name = _("地区科普经费")
        verbose_name_plural = _("地区科普经费")
        constraints = [
            models.CheckConstraint(
                name="region_figure_funding_not_negative",
                condition=Q(funding__isnull=True) | Q(funding__gte=0),
            ),
            models.CheckConstraint(
                name="region_figure_population_positive",
                condition=Q(population__isnull=True) | Q(population__gt=0),
            ),
        ]

    def __str__(self):
        return f"{self.region} · {self.submission_id}"

    @property
    def per_capita(self):
        """元/人: 万元 / 万人."""
        if self.funding is None or not self.population:
            return None
        return (self.funding / self.population).quantize(Decimal("0.01"))


class TargetWaypoint(models.Model):
    """A yearly waypoint set by the office: where a whole-plan target should be at a year's end.

    Without waypoints the expected value runs linearly from the baseline to the target.
    """

    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.CASCADE, related_name="waypoints"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    value = models.DecimalField(_("年末应达到"), max_digits=18, decimal_places=4)

    class Meta:
        ordering = ["target", "year"]
        verbose_name = _("年度序时目标")
        verbose_name_plural = _("年度序时目标")
        constraints = [
            models.UniqueConstraint(fields=["target", "year"], name="waypoint_unique"),
            models.CheckConstraint(name="waypoint_value_not_negative", condition=Q(value__gte=0)),
        ]

    def __str__(self):
        return f"{self.target.code} {self.year}: {self.value}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.target_id and self.year is not None and self.year >= self.target.deadline_year:
            raise ValidationError(
                {
                    "year": _("序时目标年份必须早于目标年份（%(year)s年）：目标年份的年末值就是目标值本身。")
                    % {"year": self.target.deadline_year}
                }
            )
        if self.target_id and self.year is not None and self.year < self.target.plan.start_year:
            raise ValidationError({"year": _("序时目标年份不能早于方案起始年份。")})


class ExternalFigure(models.Model):
    """A figure no unit can report, entered by the office from a survey or monitoring round.

    E.g. 公民具备科学素质的比例 from the national sample survey, 居民健康素养水平 from health
    literacy monitoring. It counts as a level: the latest one measured by a date counts.
    """

    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.PROTECT, related_name="external_figures"
    )
    value = models.DecimalField(_("数值"), max_digits=18, decimal_places=4)
    measured_on = models.DateField(_("调查（监测）时间"))
    source = models.CharField(_("数据来源"), max_length=200)
    survey_round = models.CharField(_("调查轮次"), max_length=100, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["target", "measured_on"]
        verbose_name = _("外部数据")
        verbose_name_plural = _("外部数据")
        constraints = [
            models.UniqueConstraint(fields=["target", "measured_on"], name="external_figure_unique"),
            models.CheckConstraint(name="external_figure_not_negative", condition=Q(value__gte=0)),
        ]
        indexes = [models.Index(fields=["target", "measured_on"], name="external_target_date_idx")]

    def __str__(self):
        return f"{self.target.code} {self.measured_on}: {self.value}"


class RegionBaseline(models.Model):
    """A region's own bound for a per-region target whose plan value is each region's own level:
    T32 (人均科普经费不低于“十三五”末水平) compares every prefecture and county with its 2020
    per-capita funding, which the office enters here from the finance department's accounts."""

    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.PROTECT, related_name="region_baselines"
    )
    region = models.ForeignKey(Region, verbose_name=_("地区"), on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(_("基期值"), max_digits=12, decimal_places=2)
    year = models.PositiveSmallIntegerField(_("基期年份"), default=2020)
    source = models.CharField(_("数据来源"), max_length=200)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("录入时间"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["target", "region__code"]
        verbose_name = _("地区基期值")
        verbose_name_plural = _("地区基期值")
        constraints = [
            models.UniqueConstraint(fields=["target", "region"], name="region_baseline_unique"),
            models.CheckConstraint(name="region_baseline_not_negative", condition=Q(value__gte=0)),
        ]

    def __str__(self):
        return f"{self.target.code} {self.region.name}: {self.value}"
