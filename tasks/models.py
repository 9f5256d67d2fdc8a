"""The plan's structure: plan, initiatives (and parts), measures, assignments, milestones."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tasks.choices import AssignmentRole, InitiativeKind
from units.models import Unit


class Plan(models.Model):
    """An implementation plan, such as the 2021-2025 Qinghai plan. A later plan loads as data."""

    code = models.SlugField(_("方案代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=200)
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
        return self.title

    @property
    def label(self):
        """The way the plan numbers it, e.g. 提升行动 1 or 重点工程 3."""
        return f"{self.get_kind_display()}{self.number}"


class InitiativePart(models.Model):
    """A part (子项) of a key project with its own units, e.g. 精品科普工程's 生态科普."""

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("行动 / 工程"), on_delete=models.CASCADE, related_name="parts"
    )
    code = models.CharField(_("编号"), max_length=8)
    title = models.CharField(_("名称"), max_length=50)
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
            models.UniqueConstraint(
                fields=["initiative", "part", "role", "unit"],
                name="assignment_unique",
                nulls_distinct=False,
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
