"""Choices of the tasks app (the plan's structure)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class InitiativeKind(models.TextChoices):
    # one initiative's kind (singular in English); the plan page's headings are plural
    ACTION = "action", pgettext_lazy("initiative kind", "提升行动")  # the six actions for target groups
    PROJECT = "project", pgettext_lazy("initiative kind", "重点工程")  # the seven key projects


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("牵头单位")  # owns the initiative or part and consolidates its reporting
    RESPONSIBLE = "responsible", _("责任单位")  # contributes to it


class PeriodState(models.TextChoices):
    PLANNED = "planned", _("未开放")
    OPEN = "open", _("开放填报")
    CLOSED = "closed", _("已关闭")


class SubmissionStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未填报")  # no row yet; used only in overviews
    DRAFT = "draft", _("草稿")  # editable by the unit's reporters and approver
    SUBMITTED = "submitted", _("已提交")  # locked until the office reviews
    APPROVED = "approved", _("已通过")  # locked; counts in roll-ups
    RETURNED = "returned", _("已退回")  # back with the office's comment; editable again


class MeasureStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未启动")
    IN_PROGRESS = "in_progress", _("推进中")
    DONE = "done", pgettext_lazy("measure status", "已完成")
    ONGOING = "ongoing", _("常态化")


class Timeliness(models.TextChoices):
    ON_TIME = "on_time", _("按时")
    LATE = "late", _("逾期")
    MISSING = "missing", _("未报")
    PENDING = "pending", _("未到期")


class EventAction(models.TextChoices):
    CREATED = "created", _("创建")
    SAVED = "saved", _("保存草稿")
    IMPORTED = "imported", _("Excel导入")
    SUBMITTED = "submitted", _("提交")
    APPROVED = "approved", _("审核通过")
    RETURNED = "returned", _("退回修改")
    REOPENED = "reopened", _("重新开放")


class NotificationKind(models.TextChoices):
    RETURNED = "returned", _("报送表被退回")
    APPROVED = "approved", _("报送表审核通过")
    REOPENED = "reopened", _("报送表重新开放")
    SUBMITTED = "submitted", _("报送表已提交")
    REMINDER = "reminder", _("报送提醒")
    LATE_LIST = "late_list", _("逾期未报名单")


class ReminderKind(models.TextChoices):
    WEEK_BEFORE = "week_before", _("截止前7天")
    DAY_BEFORE = "day_before", _("截止前1天")
    DAY_AFTER = "day_after", _("截止后1天")


class EvaluationKind(models.TextChoices):
    MIDTERM = "midterm", _("中期评估")  # 2023, the plan's mid-term evaluation
    FINAL = "final", _("总结评估")  # the plan's last year, the final evaluation


class Judgement(models.TextChoices):
    """A unit's own judgement of one assigned measure in its self-assessment (自评)."""

    DONE = "done", pgettext_lazy("self-assessment", "已完成")
    MOSTLY = "mostly", _("基本完成")
    NOT_DONE = "not_done", _("未完成")
