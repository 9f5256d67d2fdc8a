"""Roll-up runs and the snapshot tables the dashboard reads.

Snapshots are computed by Celery jobs from approved figures (``reports.rollup.rollups``); pages only
read them. Each row is "as of the end of a period": a year's figure is its Q4 row, a
milestone's is the Q4 row of the milestone year.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from reports.choices import ProgressStatus, ReportKind, RunStatus, RunTrigger
from targets.models import Target
from tasks.models import Initiative, Period, Plan
from units.models import Region, Unit


class StatusThresholds(models.Model):
    """The office's thresholds for a target's status, as shares of the expected value.

    actual / expected ≥ ahead → 超前; ≥ on_track → 正常; ≥ behind → 滞后; below → 严重滞后.
    One row per plan.
    """

    plan = models.OneToOneField(
        Plan, verbose_name=_("实施方案"), on_delete=models.CASCADE, related_name="thresholds"
    )
    ahead = models.DecimalField(_("超前（不低于）"), max_digits=5, decimal_places=2, default=Decimal("1.10"))
    on_track = models.DecimalField(
        _("正常（不低于）"), max_digits=5, decimal_places=2, default=Decimal("0.95")
    )
    behind = models.DecimalField(_("滞后（不低于）"), max_digits=5, decimal_places=2, default=Decimal("0.80"))

    class Meta:
        ordering = ["plan"]
        verbose_name = _("进度判定阈值")
        verbose_name_plural = _("进度判定阈值")
        constraints = [
            # The one statement of the rule: the database keeps it, and forms (the settings page,
            # the admin) show this message when they validate the constraint.
            models.CheckConstraint(
                name="thresholds_in_order",
                condition=Q(ahead__gt=models.F("on_track"), on_track__gt=models.F("behind"), behind__gt=0),
                violation_error_message=_(
                    "阈值必须从高到低排列且互不重叠：超前 > 正常 > 滞后 > 0。请检查三个阈值后重新保存。"
                ),
            ),
        ]

    def __str__(self):
        return f"{self.ahead} / {self.on_track} / {self.behind}"


class JobRun(models.Model):
    """What every background run shares (roll-up runs and report runs): its state, when it was
    claimed, the worker's heartbeat and how many times it was tried. ``reports.jobs`` claims,
    queues, watches and sweeps runs of every such model the same way."""

    status = models.CharField(_("状态"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # Written every few seconds by the worker while the run is running (reports.jobs.heartbeat):
    # a run whose heartbeat stopped lost its worker and is requeued or failed by the sweep.
    heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("执行次数"), default=0)
    error = models.TextField(_("错误信息"), blank=True)

    class Meta:
        abstract = True

    @property
    def seconds(self):
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class RollupRun(JobRun):
    """One run of the roll-up job: what triggered it, for which periods, how it went."""

    plan = models.ForeignKey(Plan, verbose_name=_("实施方案"), on_delete=models.CASCADE, related_name="+")
    from_period = models.ForeignKey(
        Period,
        verbose_name=_("起始报送期"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("为空表示全部报送期"),
    )
    trigger = models.CharField(_("触发方式"), max_length=16, choices=RunTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    rows_written = models.PositiveIntegerField(_("写入行数"), default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("汇总任务")
        verbose_name_plural = _("汇总任务")
        indexes = [
            # the sweeper: queued runs, oldest first
            models.Index(fields=["status", "created_at"], name="rollup_run_status_idx"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_trigger_display()} {self.get_status_display()}"


class TargetSnapshot(models.Model):
    """A target's standing at the end of a period."""

    # No single-column indexes: the unique (target, period) and the (period, target) index cover
    # both lookups, and every index is written on each roll-up.
    target = models.ForeignKey(
        Target, verbose_name=_("目标指标"), on_delete=models.CASCADE, related_name="snapshots", db_index=False
    )
    period = models.ForeignKey(
        Period, verbose_name=_("报送期"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    as_of = models.DateField(_("截至日期"))
    actual = models.DecimalField(_("实际完成值"), max_digits=18, decimal_places=4, null=True)
    expected = models.DecimalField(_("序时进度目标值"), max_digits=18, decimal_places=4, null=True)
    baseline = models.DecimalField(_("基期值"), max_digits=18, decimal_places=4, null=True)
    completion = models.DecimalField(_("完成率"), max_digits=9, decimal_places=4, null=True)
    forecast = models.DecimalField(_("预计完成值"), max_digits=18, decimal_places=4, null=True)
    status = models.CharField(_("状态"), max_length=16, choices=ProgressStatus.choices)
    figures = models.PositiveIntegerField(_("计入的数据条数"), default=0)
    regions_met = models.PositiveIntegerField(_("达标地区数"), null=True)
    regions_total = models.PositiveIntegerField(_("考核地区数"), null=True)
    # Per-year targets: completed years met, of completed years with data (4/5 年达标).
    years_met = models.PositiveSmallIntegerField(_("达标年数"), null=True)
    years_judged = models.PositiveSmallIntegerField(_("考核年数"), null=True)

    class Meta:
        ordering = ["target__sort_order", "period"]
        verbose_name = _("指标进度快照")
        verbose_name_plural = _("指标进度快照")
        constraints = [models.UniqueConstraint(fields=["target", "period"], name="target_snapshot_unique")]
        indexes = [
            # the dashboard: every target at one period
            models.Index(fields=["period", "target"], name="target_snapshot_period_idx"),
        ]

    def __str__(self):
        return f"{self.target.code} @ {self.period}"


class ContributionSnapshot(models.Model):
    """What one unit contributes to a target by the end of a period (sum of its increments, or its
    latest level / coverage / milestone)."""

    target = models.ForeignKey(  # the unique (target, period, unit) is its index
        Target, verbose_name=_("目标指标"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    period = models.ForeignKey(Period, verbose_name=_("报送期"), on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    value = models.DecimalField(_("数值"), max_digits=18, decimal_places=4, null=True)
    figures = models.PositiveIntegerField(_("计入的数据条数"), default=0)

    class Meta:
        ordering = ["target", "period", "unit"]
        verbose_name = _("单位贡献快照")
        verbose_name_plural = _("单位贡献快照")
        constraints = [
            models.UniqueConstraint(fields=["target", "period", "unit"], name="contribution_snapshot_unique")
        ]

    def __str__(self):
        return f"{self.target_id}/{self.unit_id} @ {self.period_id}"


class RegionSnapshot(models.Model):
    """A region's funding at the end of a period: the latest approved figure of that year.

    One of the two large snapshot tables (regions × periods): its foreign keys carry no database
    constraint, since the roll-up derives every row from checked data under the plan's lock and
    the constraint checks were a third of a full roll-up's time; deletions still cascade through
    Django. The unique (region, period) is the region's index."""

    region = models.ForeignKey(
        Region,
        verbose_name=_("地区"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    period = models.ForeignKey(
        Period, verbose_name=_("报送期"), on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    funding = models.DecimalField(_("本年度科普经费（万元）"), max_digits=14, decimal_places=2, null=True)
    population = models.DecimalField(_("常住人口（万人）"), max_digits=10, decimal_places=2, null=True)
    per_capita = models.DecimalField(_("人均科普经费（元）"), max_digits=10, decimal_places=2, null=True)

    class Meta:
        ordering = ["period", "region"]
        verbose_name = _("地区经费快照")
        verbose_name_plural = _("地区经费快照")
        constraints = [models.UniqueConstraint(fields=["region", "period"], name="region_snapshot_unique")]

    def __str__(self):
        return f"{self.region_id} @ {self.period_id}"


class InitiativeSnapshot(models.Model):
    """An initiative at the end of a period: its targets by status and its measures' progress."""

    initiative = models.ForeignKey(  # the unique (initiative, period) is its index
        Initiative, verbose_name=_("行动 / 工程"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    period = models.ForeignKey(Period, verbose_name=_("报送期"), on_delete=models.CASCADE, related_name="+")
    targets_by_status = models.JSONField(_("指标状态分布"), default=dict)
    lines_by_status = models.JSONField(_("措施推进状态分布"), default=dict)
    units_reported = models.PositiveIntegerField(_("已报送单位数"), default=0)

    class Meta:
        ordering = ["initiative__sort_order", "period"]
        verbose_name = _("行动进度快照")
        verbose_name_plural = _("行动进度快照")
        constraints = [
            models.UniqueConstraint(fields=["initiative", "period"], name="initiative_snapshot_unique")
        ]

    def __str__(self):
        return f"{self.initiative_id} @ {self.period_id}"


class UnitPeriodSnapshot(models.Model):
    """A unit's submission for a period: status and timeliness (the compliance heatmap).

    The largest snapshot table (units × periods): as for ``RegionSnapshot``, its foreign keys
    carry no database constraint, and the unique (unit, period) and the (period, timeliness)
    index are its only indexes."""

    unit = models.ForeignKey(
        Unit,
        verbose_name=_("单位"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    period = models.ForeignKey(
        Period,
        verbose_name=_("报送期"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(_("状态"), max_length=16)
    timeliness = models.CharField(_("时效"), max_length=16)
    submitted_on = models.DateField(_("首次提交日期"), null=True)

    class Meta:
        ordering = ["unit", "period"]
        verbose_name = _("单位报送快照")
        verbose_name_plural = _("单位报送快照")
        constraints = [models.UniqueConstraint(fields=["unit", "period"], name="unit_period_snapshot_unique")]
        indexes = [models.Index(fields=["period", "timeliness"], name="unit_snapshot_period_idx")]

    def __str__(self):
        return f"{self.unit_id} @ {self.period_id}"


class ReportRun(JobRun):
    """A milestone report (or quarterly brief) generated as PDF from a frozen snapshot.

    The snapshot (the approved data and roll-ups as of the cut-off) is stored with the run, with
    its checksum, so the same report can be rendered again and checked later.
    """

    plan = models.ForeignKey(Plan, verbose_name=_("实施方案"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("报告类型"), max_length=16, choices=ReportKind.choices)
    period = models.ForeignKey(
        Period, verbose_name=_("报送期"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cutoff = models.DateField(_("数据截止日期"))
    # The second date of a judgement: figures as approved at the end of this day (None: when the
    # run froze its data). A report rebuilt with the same two dates shows the same figures.
    knowledge_date = models.DateField(
        _("数据认定日期"),
        null=True,
        blank=True,
        help_text=_("按该日结束时已审核通过的数据生成；留空为生成时"),
    )
    next_steps = models.TextField(_("下一步工作安排"), blank=True)
    # The office's own text beside what the data says (总体评价, 存在的问题), and how the report is
    # issued. A final (定稿) has every office section written; a draft carries 征求意见稿 on
    # every page. A new version is a new run: none overwrites another.
    overall = models.TextField(_("总体评价（省纲要办意见）"), blank=True)
    problems = models.TextField(_("存在的问题（省纲要办意见）"), blank=True)
    addressee = models.CharField(_("主送机关"), max_length=100, blank=True)
    document_number = models.CharField(_("文号"), max_length=50, blank=True)
    final = models.BooleanField(_("定稿"), default=False)
    # A final's number among the finals of the same report and cut-off (1, 2, …): each is kept.
    final_number = models.PositiveSmallIntegerField(_("定稿版次"), null=True, blank=True)
    # The office's picks of 典型经验 (``reports.documents.highlights``), resolved to their texts when the run
    # was requested: the snapshot copies them under their initiatives.
    highlights = models.JSONField(_("典型经验"), default=list, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    progress_note = models.CharField(_("当前步骤"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    snapshot = models.JSONField(_("数据快照"), null=True, blank=True)
    checksum = models.CharField(_("快照校验值（SHA-256）"), max_length=64, blank=True)
    file = models.FileField(_("PDF 文件"), upload_to="reports/%Y/", blank=True)
    pages = models.PositiveIntegerField(_("页数"), null=True, blank=True)
    size = models.PositiveIntegerField(_("文件大小（字节）"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("评估报告")
        verbose_name_plural = _("评估报告")
        indexes = [
            # "is one already running for this milestone and cut-off?" before queueing another
            models.Index(fields=["kind", "cutoff", "status"], name="report_run_lookup_idx"),
        ]
        constraints = [
            # One queued or running run per report and cut-off: a second request reuses it, even
            # when two arrive at the same moment.
            models.UniqueConstraint(
                fields=["plan", "kind", "cutoff", "period"],
                condition=Q(status__in=["queued", "running"], period__isnull=False),
                name="one_active_report_run_per_period",
            ),
            models.UniqueConstraint(
                fields=["plan", "kind", "cutoff"],
                condition=Q(status__in=["queued", "running"], period__isnull=True),
                name="one_active_report_run",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.cutoff}"


class ReportDraft(models.Model):
    """The office's texts of a milestone report (plan, kind, cut-off) as it writes them in the
    editor (``reports.documents.drafts``): its sections and its picks of 典型经验. Every save bumps
    ``version`` (a stale save is refused) and is kept in the history table, so nothing is lost;
    each preview or final copies the texts into a new ``ReportRun``."""

    plan = models.ForeignKey(Plan, verbose_name=_("实施方案"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("报告类型"), max_length=16, choices=ReportKind.choices)
    cutoff = models.DateField(_("数据截止日期"))
    overall = models.TextField(_("总体评价（省纲要办意见）"), blank=True)
    problems = models.TextField(_("存在的问题（省纲要办意见）"), blank=True)
    next_steps = models.TextField(_("下一步工作安排"), blank=True)
    addressee = models.CharField(_("主送机关"), max_length=100, blank=True)
    document_number = models.CharField(_("文号"), max_length=50, blank=True)
    picks = models.JSONField(_("典型经验"), default=list, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_at = models.DateTimeField(_("最后修改时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最后修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("报告稿")
        verbose_name_plural = _("报告稿")
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind", "cutoff"], name="one_report_draft_per_cutoff"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.cutoff}"
