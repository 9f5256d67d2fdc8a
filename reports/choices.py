"""Choices of the reports app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from targets.choices import ProgressStatus  # noqa: F401  (re-exported: the vocabulary lives with targets)


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    SUCCEEDED = "succeeded", pgettext_lazy("run status", "已完成")
    FAILED = "failed", _("失败")


class RunTrigger(models.TextChoices):
    APPROVAL = "approval", _("审核通过后")
    NIGHTLY = "nightly", _("每晚定时")
    MANUAL = "manual", _("手动")


class ReportKind(models.TextChoices):
    MOBILISATION = "mobilisation", _("2021年宣传动员报告")
    MIDTERM = "midterm", _("中期评估报告")
    FINAL = "final", _("总结评估报告")
    QUARTERLY = "quarterly", _("季度简报")
