"""Choices of the targets app: what a target measures and how its figures combine (DESIGN §3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MeasureKind(models.TextChoices):
    COUNT = "count", _("数量")  # 个, 家, 部
    PERSONS = "persons", _("人数")
    PERSON_TIMES = "person_times", _("人次")
    PERCENTAGE = "percentage", _("百分比")
    MONEY = "money", _("金额")
    MONEY_PER_CAPITA = "money_per_capita", _("人均金额")
    COVERAGE = "coverage", _("覆盖（x / y）")
    MILESTONE = "milestone", _("完成与否")


class Combine(models.TextChoices):
    # Units report what was added in the quarter; progress is the sum of approved increments.
    INCREMENT = "increment", _("增量累计")
    # Units report the current value; progress is the latest approved value, never a sum.
    LEVEL = "level", _("现值")
    # Covered over total, e.g. prefectures with a science museum out of 8.
    COVERAGE = "coverage", _("覆盖率")
    # Done or not, e.g. the provincial elderly-care big-data platform.
    MILESTONE = "milestone", _("里程碑")


class TimeScope(models.TextChoices):
    WHOLE_PLAN = "whole_plan", _("规划期内")  # by the deadline (2025)
    PER_YEAR = "per_year", _("每年")  # each year on its own, e.g. 每年培训不低于400名科学教师


class Bound(models.TextChoices):
    AT_LEAST = "at_least", _("不低于")  # 以上, 达到, 提高到: the value itself meets it
    MORE_THAN = "more_than", _("多于")  # 20多个, 100余个: the value itself does not
    AT_MOST = "at_most", _("不高于")
    RANGE = "range", _("区间")  # e.g. 智慧养老社区10—25个
    EXACT = "exact", _("等于")
    # 逐年提高: each year above the year before, per region (科普经费列入同级财政预算，并逐年提高)
    YEAR_ON_YEAR = "year_on_year", _("逐年提高")


class ProgressStatus(models.TextChoices):
    """A target's standing (the glossary's one vocabulary, used by pages, API, Excel and reports)."""

    ACHIEVED = "achieved", pgettext_lazy("target status", "已完成")  # the target itself is met
    AHEAD = "ahead", _("超前")
    ON_TRACK = "on_track", _("正常")
    BEHIND = "behind", _("滞后")
    FAR_BEHIND = "far_behind", _("严重滞后")
    NO_DATA = "no_data", _("无数据")
    # The rule measures progress from a baseline the office has not entered: no expected value,
    # ratio or forecast is made up (DESIGN §3, "no baseline, no ratio").
    NO_BASELINE = "no_baseline", _("基期值待录入")


# The plan's units of measure as the pages show them in the active language; the plan's own
# word (Target.unit) stays in the database and in the PDF reports.
UNIT_NAMES = {
    "个": pgettext_lazy("unit of measure", "个"),
    "%": "%",
    "元/人": pgettext_lazy("unit of measure", "元/人"),
    "人次": pgettext_lazy("unit of measure", "人次"),
    "名": pgettext_lazy("unit of measure", "名"),
    "项": pgettext_lazy("unit of measure", "项"),
    "家": pgettext_lazy("unit of measure", "家"),
    "个行业": pgettext_lazy("unit of measure", "个行业"),
    "个工种": pgettext_lazy("unit of measure", "个工种"),
    "个市州": pgettext_lazy("unit of measure", "个市州"),
    "个县（市、区）": pgettext_lazy("unit of measure", "个县（市、区）"),
    "部": pgettext_lazy("unit of measure", "部"),
    "家电视台": pgettext_lazy("unit of measure", "家电视台"),
    "万元": pgettext_lazy("unit of measure", "万元"),
    "元": pgettext_lazy("unit of measure", "元"),  # English writes 万元 amounts in yuan
}


def unit_label(unit):
    """A unit of measure in the active language (an unknown one as it is written)."""
    return str(UNIT_NAMES.get(unit, unit)) if unit else unit
