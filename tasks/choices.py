"""Choices of the tasks app (the plan's structure)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class InitiativeKind(models.TextChoices):
    ACTION = "action", _("提升行动")  # the six actions for target groups
    PROJECT = "project", _("重点工程")  # the seven key projects


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("牵头单位")  # owns the initiative or part and consolidates its reporting
    RESPONSIBLE = "responsible", _("责任单位")  # contributes to it
