"""The plan's structure: plan, initiatives (and parts), measures, assignments, milestones."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal.names import display_name
from tasks import rules
from tasks.choices import (
    AssignmentRole,
    EvaluationKind,
    EventAction,
    InitiativeKind,
    Judgement,
    MeasureStatus,
    NotificationKind,
    PeriodState,
    ReminderKind,
    SubmissionStatus,
)
from tasks.evidence import stored_name
from units.models import Unit


class Plan(models.Model):
    """An implementation plan, such as the 2021-2025 Qinghai plan. A later plan loads as data."""

    code = models.SlugField(_("方案代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    name_en = models.CharField(_("英文名称"), max_length=300, blank=True)
    issuer = models.CharField(_("印发机构"), max_length=100)
    issued_on = models.DateField(_("印发日期"))
    start_year = models.PositiveSmallIntegerField(_("起始年份"))
    end_year = models.PositiveSmallIntegerField(_("截止年份"))
    source_text = models.TextField(_("原文"), blank=True)

    class Meta:
        ordering = ["-start_year"]
        verbose_name = _("实施方案")
        verbose_name_plural = _("实施方案")
        constraints = [
            models.CheckConstraint(
                name="plan_years_in_order", condition=Q(start_year__lte=models.F("end_year"))
            ),
        ]

    def __str__(self):
        return self.name


class Initiative(models.Model):
    """One of the plan's 6 improvement actions (提升行动) or 7 key projects (重点工程)."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("实施方案"), on_delete=models.CASCADE, related_name="initiatives"
    )
    code = models.CharField(_("编号"), max_length=8, help_text=_("A1–A6 为提升行动，P1–P7 为重点工程"))
    kind = models.CharField(_("类别"), max_length=16, choices=InitiativeKind.choices)
    number = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("名称"), max_length=100)
    title_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    aim = models.TextField(_("目标"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["plan", "sort_order"]
        verbose_name = _("行动 / 工程")
        verbose_name_plural = _("行动 / 工程")
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="initiative_code_unique_in_plan"),
            models.UniqueConstraint(
                fields=["plan", "kind", "number"], name="initiative_number_unique_in_plan"
            ),
        ]

    def __str__(self):
        return display_name(self)

    @property
    def label(self):
        """The way the plan numbers it, e.g. 提升行动1 / Improvement action 1, 重点工程3 / Key project 3."""
        if self.kind == InitiativeKind.PROJECT:
            return _("重点工程%(number)s") % {"number": self.number}
        return _("提升行动%(number)s") % {"number": self.number}


class InitiativePart(models.Model):
    """A part (子项) of a key project with its own units, e.g. 精品科普工程's 生态科普."""

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("行动 / 工程"), on_delete=models.CASCADE, related_name="parts"
    )
    code = models.CharField(_("编号"), max_length=8)
    title = models.CharField(_("名称"), max_length=50)
    title_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    heading = models.CharField(_("标题"), max_length=100, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["initiative", "sort_order"]
        verbose_name = _("子项")
        verbose_name_plural = _("子项")
        constraints = [models.UniqueConstraint(fields=["initiative", "code"], name="part_code_unique")]

    def __str__(self):
        return self.title


class Measure(models.Model):
    """A work measure (工作措施): a bolded item under an initiative, with its full text."""

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("行动 / 工程"), on_delete=models.CASCADE, related_name="measures"
    )
    part = models.ForeignKey(
        InitiativePart,
        verbose_name=_("子项"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="measures",
    )
    code = models.CharField(_("编号"), max_length=12)
    number = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("措施"), max_length=200)
    title_en = models.CharField(_("英文名称"), max_length=300, blank=True)
    text = models.TextField(_("内容"))

    class Meta:
        ordering = ["initiative__sort_order", "number"]
        verbose_name = _("工作措施")
        verbose_name_plural = _("工作措施")
        constraints = [
            models.UniqueConstraint(fields=["initiative", "number"], name="measure_number_unique"),
            models.UniqueConstraint(fields=["initiative", "code"], name="measure_code_unique"),
        ]

    def __str__(self):
        return self.title


class AssignmentQuerySet(models.QuerySet):
    def leads(self):
        return self.filter(role=AssignmentRole.LEAD)

    def responsibles(self):
        return self.filter(role=AssignmentRole.RESPONSIBLE)


class Assignment(models.Model):
    """A unit's role in an initiative or in one of its parts.

    ``all_members`` stands for the plan's "省纲要办各成员单位": every member unit of the office.
    It resolves to the member list when asked (``units_for``), never to a placeholder unit.
    """

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("行动 / 工程"), on_delete=models.CASCADE, related_name="assignments"
    )
    part = models.ForeignKey(
        InitiativePart,
        verbose_name=_("子项"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    role = models.CharField(_("分工"), max_length=16, choices=AssignmentRole.choices)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
    )
    all_members = models.BooleanField(_("省纲要办各成员单位"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["initiative__sort_order", "part__sort_order", "role", "sort_order"]
        verbose_name = _("分工")
        verbose_name_plural = _("分工")
        constraints = [
            models.CheckConstraint(
                name="assignment_unit_xor_all_members",
                condition=(Q(unit__isnull=False) & Q(all_members=False))
                | (Q(unit__isnull=True) & Q(all_members=True)),
            ),
            # "No part" and "all members" are NULLs; partial constraints keep each assignment
            # unique on every database (SQLite cannot enforce nulls_distinct=False).
            models.UniqueConstraint(
                fields=["initiative", "part", "role", "unit"],
                condition=Q(part__isnull=False, unit__isnull=False),
                name="assignment_unique_in_part",
            ),
            models.UniqueConstraint(
                fields=["initiative", "role", "unit"],
                condition=Q(part__isnull=True, unit__isnull=False),
                name="assignment_unique_in_initiative",
            ),
            models.UniqueConstraint(
                fields=["initiative", "part", "role"],
                condition=Q(part__isnull=False, all_members=True),
                name="assignment_all_members_once_in_part",
            ),
            models.UniqueConstraint(
                fields=["initiative", "role"],
                condition=Q(part__isnull=True, all_members=True),
                name="assignment_all_members_once",
            ),
        ]
        indexes = [
            # "what does this unit lead or take part in" on the unit page and the quarterly form
            models.Index(fields=["unit", "role"], name="assignment_unit_role_idx"),
        ]

    def __str__(self):
        who = _("省纲要办各成员单位") if self.all_members else str(self.unit)
        return f"{self.initiative} · {self.get_role_display()} · {who}"


class Milestone(models.Model):
    """A point in the plan's schedule: 2021 mobilisation, 2023 mid-term, 2025 final evaluation."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("实施方案"), on_delete=models.CASCADE, related_name="milestones"
    )
    year = models.PositiveSmallIntegerField(_("年份"))
    code = models.SlugField(_("代码"), max_length=32)
    name = models.CharField(_("名称"), max_length=50)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    evaluates = models.TextField(_("工作安排"), blank=True)

    class Meta:
        ordering = ["plan", "year"]
        verbose_name = _("阶段节点")
        verbose_name_plural = _("阶段节点")
        constraints = [
            models.UniqueConstraint(fields=["plan", "year"], name="milestone_year_unique"),
            models.UniqueConstraint(fields=["plan", "code"], name="milestone_code_unique"),
        ]

    def __str__(self):
        return f"{self.year}年 {self.name}"


class WorkPoint(models.Model):
    """A key task of a year's work points (年度重点工作任务及分工), set by the office for some units.

    It appears as an extra line in that year's quarterly forms of those units.
    """

    plan = models.ForeignKey(
        Plan, verbose_name=_("实施方案"), on_delete=models.CASCADE, related_name="work_points"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    number = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("工作任务"), max_length=300)
    initiative = models.ForeignKey(
        Initiative, verbose_name=_("行动 / 工程"), null=True, blank=True, on_delete=models.SET_NULL
    )
    units = models.ManyToManyField(Unit, verbose_name=_("责任单位"), related_name="work_points")

    class Meta:
        ordering = ["plan", "year", "number"]
        verbose_name = _("年度重点工作任务")
        verbose_name_plural = _("年度重点工作任务")
        constraints = [models.UniqueConstraint(fields=["plan", "year", "number"], name="work_point_unique")]

    def __str__(self):
        return f"{self.year}-{self.number} {self.title}"


class PeriodQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state=PeriodState.OPEN)

    def current(self, today=None):
        """The open period whose deadline is nearest (the one the inbox shows)."""
        return self.open().order_by("deadline").first()


class Period(models.Model):
    """A reporting period: one quarter of the plan, or the 2021 baseline."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("实施方案"), on_delete=models.PROTECT, related_name="periods"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(_("季度"))
    is_baseline = models.BooleanField(_("基期"), default=False, help_text=_("2021年基期：方案印发当年的情况"))
    opens_on = models.DateField(_("开始填报日期"))
    deadline = models.DateField(_("报送截止日期"))
    state = models.CharField(
        _("状态"), max_length=16, choices=PeriodState.choices, default=PeriodState.PLANNED
    )

    objects = PeriodQuerySet.as_manager()
    # The audit trail: who opened or closed the period, or moved its deadline, and when.
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "year", "quarter"]
        verbose_name = _("报送期")
        verbose_name_plural = _("报送期")
        constraints = [
            models.UniqueConstraint(fields=["plan", "year", "quarter"], name="period_unique"),
            models.CheckConstraint(name="period_quarter_1_to_4", condition=Q(quarter__gte=1, quarter__lte=4)),
            models.CheckConstraint(
                name="period_deadline_after_opening", condition=Q(deadline__gte=models.F("opens_on"))
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        if self.is_baseline:
            return _("%(year)s年（基期）") % {"year": self.year}
        return _("%(year)s年第%(q)s季度") % {"year": self.year, "q": self.quarter}

    @property
    def axis_label(self):
        """The period on a chart's axis, where space forces the glossary's short form: 22年Q2,
        21年基期 (pages, the PDF's charts and their tables alike)."""
        if self.is_baseline:
            return _("%(yy)s年基期") % {"yy": f"{self.year % 100:02d}"}
        return _("%(yy)s年Q%(q)s") % {"yy": f"{self.year % 100:02d}", "q": self.quarter}

    @property
    def ends_on(self):
        """The quarter's last day."""
        return rules.quarter_bounds(self.year, self.quarter)[1]

    @property
    def key(self):
        """A sortable integer: 20243 for 2024 Q3."""
        return self.year * 10 + self.quarter


class DeadlineExtension(models.Model):
    """The office's extension of one unit's deadline for one period, with its reason."""

    period = models.ForeignKey(
        Period, verbose_name=_("报送期"), on_delete=models.CASCADE, related_name="extensions"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="extensions"
    )
    deadline = models.DateField(_("延期至"))
    reason = models.TextField(_("延期原因"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("批准人"), on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(_("批准时间"), default=timezone.now)

    # Every extension granted, also those a later one replaced: each date with its reason and who.
    history = HistoricalRecords()

    class Meta:
        ordering = ["period", "unit"]
        verbose_name = _("延期")
        verbose_name_plural = _("延期")
        constraints = [models.UniqueConstraint(fields=["period", "unit"], name="extension_unique")]

    def __str__(self):
        return f"{self.unit} {self.period} → {self.deadline}"


class SubmissionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Submissions a user may read (``units.policy.unit_scope``): the office and viewers all,
        unit staff their unit's, others none.

        (A lead unit reads its initiative's approved lines through the dashboard's lead-unit view,
        not through other units' forms.)"""
        from units.policy import unit_scope

        return self.filter(unit_scope(user, "unit"))

    def pending_review(self):
        """Submitted and waiting for the office, longest waiting first."""
        return self.filter(status=SubmissionStatus.SUBMITTED).order_by("submitted_at")


EDITABLE_STATUSES = (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)


class WorkflowDocument(models.Model):
    """A form of the submit / approve / return workflow (``SubmissionStatus``): the quarterly form
    (``Submission``) and the self-assessment (``SelfAssessment``). The workflow's fields and state;
    its transitions are ``tasks.services``."""

    status = models.CharField(
        _("状态"), max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.DRAFT
    )
    # Optimistic locking: every save of the form bumps it; a save based on an older one is refused.
    version = models.PositiveIntegerField(_("版本"), default=1)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("最后修改时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最后修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    review_comment = models.TextField(_("退回意见"), blank=True)

    class Meta:
        abstract = True

    @property
    def is_editable(self):
        return self.status in EDITABLE_STATUSES

    @property
    def awaits_review(self):
        return self.status == SubmissionStatus.SUBMITTED

    @property
    def is_approved(self):
        return self.status == SubmissionStatus.APPROVED


class Submission(WorkflowDocument):
    """One unit's quarterly progress form for one period (季度进展报送)."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="submissions"
    )
    period = models.ForeignKey(
        Period, verbose_name=_("报送期"), on_delete=models.PROTECT, related_name="submissions"
    )
    # Counts corrections after approval: 0 for the first approval, +1 at each reopening.
    revision = models.PositiveSmallIntegerField(_("修订次数"), default=0)
    first_submitted_at = models.DateTimeField(_("首次提交时间"), null=True, blank=True)

    objects = SubmissionQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-period__year", "-period__quarter", "unit__sort_order"]
        verbose_name = _("季度进展报送")
        verbose_name_plural = _("季度进展报送")
        constraints = [
            models.UniqueConstraint(fields=["unit", "period"], name="one_submission_per_unit_and_period")
        ]
        indexes = [
            # the office's review queue: submitted, oldest first
            models.Index(fields=["status", "submitted_at"], name="submission_status_idx"),
            # the period overview and the roll-ups: every submission of a period
            models.Index(fields=["period", "status"], name="submission_period_status_idx"),
        ]

    def __str__(self):
        return f"{display_name(self.unit)} · {self.period}"  # in messages: the reader's language


class MeasureLine(models.Model):
    """A line of the form: progress on one measure (or one annual work point) this quarter."""

    submission = models.ForeignKey(
        Submission, verbose_name=_("报送表"), on_delete=models.CASCADE, related_name="lines"
    )
    measure = models.ForeignKey(
        Measure,
        verbose_name=_("工作措施"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )
    work_point = models.ForeignKey(
        WorkPoint,
        verbose_name=_("年度重点工作任务"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )
    status = models.CharField(
        _("推进状态"), max_length=16, choices=MeasureStatus.choices, default=MeasureStatus.NOT_STARTED
    )
    progress = models.TextField(_("工作进展"), blank=True, max_length=4000)
    problems = models.TextField(_("存在问题"), blank=True, max_length=2000)
    next_steps = models.TextField(_("下一步计划"), blank=True, max_length=2000)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["submission", "sort_order"]
        verbose_name = _("措施进展")
        verbose_name_plural = _("措施进展")
        constraints = [
            models.CheckConstraint(
                name="line_measure_xor_work_point",
                condition=Q(measure__isnull=False, work_point__isnull=True)
                | Q(measure__isnull=True, work_point__isnull=False),
            ),
            models.UniqueConstraint(fields=["submission", "measure"], name="line_measure_unique"),
            models.UniqueConstraint(fields=["submission", "work_point"], name="line_work_point_unique"),
        ]

    def __str__(self):
        return str(self.measure or self.work_point)


class EvidenceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Evidence files a user may read: those of the submissions they may read."""
        from units.policy import unit_scope

        return self.filter(unit_scope(user, "submission__unit"))


class Evidence(models.Model):
    """A file attached to a submission as evidence (佐证材料)."""

    submission = models.ForeignKey(
        Submission, verbose_name=_("报送表"), on_delete=models.CASCADE, related_name="evidence"
    )
    # A random name (tasks.evidence.stored_name), served only by the checked download view.
    file = models.FileField(_("文件"), upload_to=stored_name)
    original_name = models.CharField(_("原文件名"), max_length=255)
    kind = models.CharField(_("类型"), max_length=16)
    size = models.PositiveIntegerField(_("大小（字节）"))
    description = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    objects = EvidenceQuerySet.as_manager()
    # Uploads and deletions, with who did them (a deleted file's row stays here).
    history = HistoricalRecords()

    class Meta:
        ordering = ["submission", "uploaded_at"]
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")

    def __str__(self):
        return self.original_name


class WorkflowEvent(models.Model):
    """Who did what to a form of the submit / approve / return workflow, and when: the audit row
    shared by the quarterly form (``SubmissionEvent``) and the self-assessment."""

    action = models.CharField(_("操作"), max_length=16, choices=EventAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    from_status = models.CharField(_("原状态"), max_length=16, choices=SubmissionStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, choices=SubmissionStatus.choices, blank=True)
    comment = models.TextField(_("意见 / 说明"), blank=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class SubmissionEvent(WorkflowEvent):
    """Who did what to a submission and when: the workflow's audit trail."""

    submission = models.ForeignKey(
        Submission, verbose_name=_("报送表"), on_delete=models.CASCADE, related_name="events"
    )

    class Meta:
        ordering = ["submission", "at", "pk"]
        verbose_name = _("操作记录")
        verbose_name_plural = _("操作记录")


class Notification(models.Model):
    """A message in the portal's bell (many intranets have no working e-mail)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=NotificationKind.choices)
    submission = models.ForeignKey(
        Submission,
        verbose_name=_("报送表"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # Written once per interface language (Chinese, the default, and English) when it is sent,
    # so that each reader sees it in the language of their pages, whoever caused it.
    message = models.TextField(_("内容"))
    message_en = models.TextField(_("内容（英文）"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("消息提醒")
        verbose_name_plural = _("消息提醒")
        indexes = [
            # the unread count in every page's bell
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
        ]

    def __str__(self):
        return self.message[:40]

    @property
    def text(self):
        """The message in the active language (the Chinese one when there is no English)."""
        if self.message_en and (get_language() or "").startswith("en"):
            return self.message_en
        return self.message


class ReminderLog(models.Model):
    """A reminder sent to a unit for a period; the unique constraint makes each one go once."""

    period = models.ForeignKey(Period, verbose_name=_("报送期"), on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), null=True, blank=True, on_delete=models.CASCADE)
    kind = models.CharField(_("类型"), max_length=16, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("提醒记录")
        verbose_name_plural = _("提醒记录")
        constraints = [
            # Each reminder goes once: to a unit, or (unit empty) the office's late list.
            models.UniqueConstraint(
                fields=["period", "unit", "kind"], condition=Q(unit__isnull=False), name="reminder_once"
            ),
            models.UniqueConstraint(
                fields=["period", "kind"], condition=Q(unit__isnull=True), name="late_list_once"
            ),
        ]

    def __str__(self):
        return f"{self.period} {self.unit} {self.kind}"


class OfficeReminder(models.Model):
    """催报: the office reminded a unit to report for a period. One row per unit, period and day (the
    unique constraint makes a second 催报 on the same day send nothing); the row is the audit record
    of who sent it and when."""

    period = models.ForeignKey(Period, verbose_name=_("报送期"), on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("日期"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("催报人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("催报记录")
        verbose_name_plural = _("催报记录")
        constraints = [
            models.UniqueConstraint(fields=["period", "unit", "day"], name="office_reminder_once_a_day")
        ]

    def __str__(self):
        return f"{self.period} {self.unit} {self.day}"


# Evaluations (中期评估 / 总结评估) and the units' self-assessments (自评) -------------------------


class EvaluationRound(models.Model):
    """An evaluation round (评估工作) the office opens: the 2023 mid-term or the final evaluation.

    Each member unit of the office fills one self-assessment per round. A plan has at most one
    round of each kind."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("实施方案"), on_delete=models.PROTECT, related_name="evaluation_rounds"
    )
    kind = models.CharField(_("评估类别"), max_length=16, choices=EvaluationKind.choices)
    year = models.PositiveSmallIntegerField(_("年度"))
    opens_on = models.DateField(_("开始填报日期"))
    deadline = models.DateField(_("报送截止日期"))
    state = models.CharField(_("状态"), max_length=16, choices=PeriodState.choices, default=PeriodState.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开启人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("开启时间"), default=timezone.now)

    # Who opened or closed the round, and when.
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "year", "kind"]
        verbose_name = _("评估工作")
        verbose_name_plural = _("评估工作")
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind"], name="evaluation_round_once_per_kind"),
            models.CheckConstraint(
                name="evaluation_deadline_after_opening", condition=Q(deadline__gte=models.F("opens_on"))
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return _("%(year)s年%(kind)s") % {"year": self.year, "kind": self.get_kind_display()}

    @property
    def is_open(self):
        return self.state == PeriodState.OPEN


class SelfAssessmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Self-assessments a user may read: as submissions (``units.policy.unit_scope``)."""
        from units.policy import unit_scope

        return self.filter(unit_scope(user, "unit"))


class SelfAssessment(WorkflowDocument):
    """A unit's self-assessment (自评) for an evaluation round: three narratives and a judgement
    of each assigned measure. Same workflow as the quarterly form (``SubmissionStatus``)."""

    round = models.ForeignKey(
        EvaluationRound, verbose_name=_("评估工作"), on_delete=models.PROTECT, related_name="self_assessments"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="self_assessments"
    )
    achievements = models.TextField(_("主要成效"), blank=True)
    problems = models.TextField(_("存在的问题"), blank=True)
    next_steps = models.TextField(_("下一步工作"), blank=True)

    objects = SelfAssessmentQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["round", "unit__sort_order"]
        verbose_name = _("单位自评")
        verbose_name_plural = _("单位自评")
        constraints = [
            models.UniqueConstraint(fields=["round", "unit"], name="one_self_assessment_per_unit_and_round")
        ]

    def __str__(self):
        return _("%(unit)s · %(round)s自评") % {"unit": self.unit, "round": self.round}


class MeasureJudgement(models.Model):
    """A self-assessment's judgement of one measure assigned to the unit, with a short note."""

    self_assessment = models.ForeignKey(
        SelfAssessment, verbose_name=_("单位自评"), on_delete=models.CASCADE, related_name="judgements"
    )
    measure = models.ForeignKey(
        Measure, verbose_name=_("工作措施"), on_delete=models.PROTECT, related_name="judgements"
    )
    judgement = models.CharField(_("完成情况"), max_length=16, choices=Judgement.choices, blank=True)
    note = models.TextField(_("简要说明"), blank=True)
    evidence_ref = models.CharField(_("佐证材料"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["self_assessment", "sort_order"]
        verbose_name = _("措施完成情况")
        verbose_name_plural = _("措施完成情况")
        constraints = [
            models.UniqueConstraint(fields=["self_assessment", "measure"], name="judgement_measure_unique")
        ]

    def __str__(self):
        return str(self.measure)


class SelfAssessmentEvent(WorkflowEvent):
    """Who did what to a self-assessment and when (as ``SubmissionEvent`` for the quarterly form)."""

    self_assessment = models.ForeignKey(
        SelfAssessment, verbose_name=_("单位自评"), on_delete=models.CASCADE, related_name="events"
    )

    class Meta:
        ordering = ["self_assessment", "at", "pk"]
        verbose_name = _("自评操作记录")
        verbose_name_plural = _("自评操作记录")
