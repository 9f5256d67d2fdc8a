"""The evaluation rules of every target, written out with a worked example each.

One table, two renderings: the portal's page (``reports:evaluation_rules``, linked from each
target page) and ``docs/evaluation.md`` (``manage.py evaluation_table``; a test keeps the file
equal to what this module writes). The worked examples are computed by ``reports.rollup.progress`` itself
on illustrative figures, so the text cannot drift from the arithmetic.
"""

import datetime
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from portal.names import display_name
from portal.numbers import percent_text
from reports.rollup import progress
from reports.rollup.rollups import rule_for
from targets.choices import Bound, Combine, TimeScope
from targets.models import Target
from targets.presenters import amount_text, bound_text, status_label

MIDTERM = datetime.date(2023, 12, 31)


def _baseline_text(target):
    if not target.needs_baseline:
        return _("不需要（按%(rule)s考核）") % {"rule": _rule_kind(target)}
    if target.baseline_value is None:
        return _("基期值待录入（也可由2021年基期报送数据代替）")
    text = _("%(amount)s（%(year)s年，%(source)s）") % {
        "amount": amount_text(target, target.baseline_value),
        "year": target.baseline_year,
        "source": target.baseline_source or "—",
    }
    if target.baseline_demo:
        text += _("【演示数据】")
    return text


def _rule_kind(target):
    if target.bound == Bound.YEAR_ON_YEAR:
        return _("逐年、逐个地区比较")
    if target.per_region:
        return _("逐个地区")
    if target.time_scope == TimeScope.PER_YEAR:
        return _("逐年")
    if target.combine == Combine.MILESTONE:
        return _("完成与否")
    return _("增量累计")


def _rule_sentence(target):
    parts = [
        str(Combine(target.combine).label),
        str(TimeScope(target.time_scope).label),
        str(Bound(target.bound).label),
    ]
    if target.aspiration:
        parts.append(_("力争（未达到记为未实现，不视为违约，状态不低于“滞后”）"))
    if target.ceiling is not None:
        parts.append(_("上限 %(c)s") % {"c": amount_text(target, target.ceiling)})
    return pgettext("semicolon", "；").join(parts)


def _example(target, plan):
    rule = rule_for(target, plan)
    thresholds = progress.Thresholds()
    if target.bound == Bound.YEAR_ON_YEAR:
        return _(
            "例：某县2022年科普经费 80万元、2023年 90万元，2023年该县达标；当年全部已报送地区均高于上一年，该年才算达标；5年中4年达标记为“4/5 年达标”。"
        )
    if target.per_region:
        return _(
            "例：8个市州中7个达到目标，达标地区 7/8：全部达标为“已完成”，达标占80%及以上为“滞后”，否则“严重滞后”；每年单独考核，某年未全部达标即该年未达标。"
        )
    if target.combine == Combine.MILESTONE:
        if target.time_scope == TimeScope.PER_YEAR:
            return _(
                "例：2022、2023年开展，2024年未开展：2024年未达标，此后一直计入（2/3 年达标 → 严重滞后）。"
            )
        return _("例：到2025年底报送“已完成”即已完成；到期未完成为“严重滞后”，期间为“正常”。")
    if target.time_scope == TimeScope.PER_YEAR:
        missed = target.value * Decimal("0.9")
        return _(
            "例：某年实际 %(a)s，低于“%(b)s”，该年未达标；5年中4年达标记为“4/5 年达标”，按阈值 0.80 判定为“滞后”，3/5 为“严重滞后”。"
        ) % {
            "a": amount_text(target, missed),
            "b": bound_text(target),
        }
    baseline = rule.baseline
    assumed = ""
    if target.needs_baseline and baseline is None:
        baseline = (target.value * Decimal("0.6")).quantize(Decimal("0.01"))
        rule.baseline = baseline
        assumed = _("（假设基期值为 %(b)s；未录入时不计算序时进度）") % {"b": amount_text(target, baseline)}
    start = baseline or Decimal(0)
    actual = start + (target.value - start) * Decimal("0.45")
    result = progress.judge(rule, actual, MIDTERM, figures=1, thresholds=thresholds)
    return _(
        "例%(assumed)s：2023年底实际 %(actual)s，序时进度 %(expected)s，完成率 %(rate)s，状态“%(status)s”，按此速度预计2025年底 %(forecast)s。"
    ) % {
        "assumed": assumed,
        "actual": amount_text(target, result.actual),
        "expected": amount_text(target, result.expected),
        "rate": percent_text(result.completion, 0),
        "status": status_label(result.status),
        "forecast": amount_text(target, result.forecast),
    }


def evaluation_rows(plan):
    """One row per target: code, name, the plan's phrase, how it is judged, its baseline and a
    worked example."""
    rows = []
    for target in Target.objects.filter(plan=plan).select_related("plan").order_by("sort_order"):
        rows.append(
            {
                "code": target.code,
                "name": display_name(target),
                "phrase": bound_text(target),
                "rule": _rule_sentence(target),
                "scope": str(TimeScope(target.time_scope).label),
                "baseline": _baseline_text(target),
                "example": _example(target, plan),
            }
        )
    return rows


def as_markdown(plan):
    """docs/evaluation.md: the table of every target's rule."""
    lines = [
        "# 目标指标评估口径 (how each target is judged)",
        "",
        "Written by `manage.py evaluation_table` from the plan's data and `reports/rollup/progress.py`;",
        "`tests/test_evaluation_doc.py` fails when this file and the code disagree. Status words follow",
        "GLOSSARY.md: 已完成 / 超前 / 正常 / 滞后 / 严重滞后 / 无数据 / 基期值待录入. Default thresholds:",
        "超前 ≥ 1.10, 正常 ≥ 0.95, 滞后 ≥ 0.80 of the progress expected (序时进度), measured from the baseline.",
        "",
        "Rules (DESIGN §3): no baseline, no ratio; the plan's phrase is the bound (力争 = aspiration,",
        "多/余 = more than, 逐年提高 = each year above the last, per region); a count over a fixed set or a",
        "share never expects or forecasts beyond the set; per-year targets are judged year by year and a",
        "missed year stays missed (N/M 年达标).",
        "",
        "| 编号 | 指标 | 原文表述 | 考核方式 | 时间范围 | 基期值 | 算例 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in evaluation_rows(plan):
        cells = [
            row[k].replace("|", "｜")
            for k in ("code", "name", "phrase", "rule", "scope", "baseline", "example")
        ]
        lines.append(f'| <a id="{row["code"]}"></a>' + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
