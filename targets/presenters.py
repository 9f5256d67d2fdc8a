"""How a target and its standing are written, for pages, API labels, Excel and the PDF alike.

Each function takes a target (a ``Target`` or anything with the same attributes, such as a
report's frozen row wrapped by ``as_target``) and returns text; no template formats a target's
number its own way. Numbers come from ``portal.numbers`` (one rounding, no exponent notation).
"""

from types import SimpleNamespace

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from portal.numbers import TEN_THOUSAND, number_text, percent_text, plain, to_decimal, wan_text
from targets.choices import Bound, Combine, ProgressStatus, unit_label

WHOLE_KINDS = ("count", "persons", "person_times")
# At or above this, a target the plan states in 万 is written in 万 (50万人次); below it the
# plain number reads better (300人次, not 0.03万人次).
WAN_FROM = 1000


def as_target(row: dict):
    """A report's frozen target row as an object the presenters accept."""
    defaults = {"phrase": "", "aspiration": False, "ceiling": None, "value_max": None, "per_region": False}
    return SimpleNamespace(**{**defaults, **row})


def is_whole(target):
    """Counted in whole things or people (an expected 4.8 个市州 is written 5 个市州)."""
    return target.measure_kind in WHOLE_KINDS or (target.combine == Combine.COVERAGE and target.unit != "%")


def uses_wan(target):
    """The plan writes this target's numbers in 万 (50万人次以上, 0.43万名以上); English pages
    write the number out (500,000 person-times)."""
    language = get_language() or "zh-hans"
    return (
        language.startswith("zh") and "万" in (getattr(target, "phrase", "") or "") and target.unit != "万元"
    )


def _in_yuan(unit) -> bool:
    """English has no 万: an amount the plan counts in 万元 is written in yuan (250,000 yuan)."""
    return unit == "万元" and not (get_language() or "zh-hans").startswith("zh")


def _with_unit(text, unit):
    label = unit_label("元" if _in_yuan(unit) else unit) or ""
    if not label:
        return text
    # Chinese units follow the number directly (50万人次, 10%); English words need a space.
    gap = " " if label[0].isascii() and label != "%" else ""
    return f"{text}{gap}{label}"


def number_of(target, value):
    """The number alone, rounded as the target is counted: 5, 2.2, 50万, 1,234."""
    number = to_decimal(value)
    if number is None:
        return "—"
    if uses_wan(target) and abs(number) >= WAN_FROM:
        return wan_text(number, 2)
    if _in_yuan(target.unit):
        return number_text(number * TEN_THOUSAND, 0)
    return number_text(number, 0 if is_whole(target) else 2)


def amount_text(target, value):
    """A value with the target's unit: 50万人次, 5个市州, 2.14元/人, 8.56%."""
    if value is None:
        return "—"
    return _with_unit(number_of(target, value), target.unit)


def exact_text(target, value):
    """The stored value with its unit, unrounded (shown on hover beside a rounded count)."""
    if value is None:
        return "—"
    if _in_yuan(target.unit):
        return _with_unit(number_text(to_decimal(value) * TEN_THOUSAND, 0), target.unit)
    return _with_unit(number_text(value, 4), target.unit)


def bound_text(target):
    """The goal as the plan says it (the phrase), or built from the bound: 不低于2000名, 10—25个."""
    if getattr(target, "phrase", "") and (get_language() or "zh-hans").startswith("zh"):
        return target.phrase
    return rule_bound_text(target)  # English pages: the rule in English words


def rule_bound_text(target):
    """The bound as a short rule (不低于1.5元/人, 10—25个), for headers where the phrase is too long."""
    if getattr(target, "per_region", False) and not to_decimal(target.value):
        return _("不低于本地区“十三五”末水平")
    if target.bound == Bound.YEAR_ON_YEAR:
        return str(Bound.YEAR_ON_YEAR.label)
    if target.combine == Combine.MILESTONE:
        return _("建成（完成）")
    if target.bound == Bound.RANGE:
        return _with_unit(
            f"{number_of(target, target.value)}—{number_of(target, target.value_max)}", target.unit
        )
    label = str(Bound(target.bound).label)
    gap = " " if label[-1:].isascii() else ""  # 不低于10% / at least 10%
    return f"{label}{gap}{amount_text(target, target.value)}"


def status_label(status):
    """A status word of the glossary (已完成 / 超前 / 正常 / 滞后 / 严重滞后 / 无数据 / 基期值待录入)."""
    return str(ProgressStatus(status or ProgressStatus.NO_DATA).label)


def years_text(met, judged):
    """A per-year target's plan-level standing: 4/5 年达标."""
    if not judged:
        return "—"
    return _("%(met)s/%(judged)s 年达标") % {"met": met, "judged": judged}


def completion_text(share):
    """完成率 with one rounding (72%)."""
    return percent_text(share, 0)


def milestone_text(value):
    if value is None:
        return "—"
    return _("已完成") if to_decimal(value) >= 1 else _("未完成")


def standing_texts(target, snap):
    """Every number of a target's standing, as the targets table, the target page and the report
    show it. ``snap`` is a ``TargetSnapshot`` or a frozen row with the same names (or None)."""
    empty = {
        "baseline": "—",
        "actual": "—",
        "expected": "—",
        "expected_exact": "",
        "completion": "—",
        "forecast": "—",
        "years": "—",
        "status": status_label(None),
        "bound": bound_text(target),
    }
    if snap is None:
        return empty
    get = snap.get if isinstance(snap, dict) else lambda name: getattr(snap, name, None)
    texts = dict(empty, status=status_label(get("status")))
    texts["years"] = years_text(get("years_met"), get("years_judged"))
    if target.per_region:
        met, total = get("regions_met"), get("regions_total")
        if met is not None:
            texts["actual"] = _("达标地区 %(met)s/%(total)s") % {"met": met, "total": total}
        texts["expected"] = _("全部地区达标") if total else "—"
        texts["completion"] = completion_text(get("completion"))
        return texts
    if target.combine == Combine.MILESTONE:
        texts["actual"] = milestone_text(get("actual"))
        expected = get("expected")
        texts["expected"] = _("应完成") if expected is not None and to_decimal(expected) >= 1 else _("建设中")
        return texts
    baseline = get("baseline")
    texts["baseline"] = amount_text(target, baseline) if baseline is not None else "—"
    if baseline is None and getattr(target, "needs_baseline", False):
        texts["baseline"] = str(ProgressStatus.NO_BASELINE.label)
    texts["actual"] = amount_text(target, get("actual"))
    texts["expected"] = amount_text(target, get("expected"))
    if get("expected") is not None and is_whole(target):
        texts["expected_exact"] = exact_text(target, get("expected"))
    texts["completion"] = completion_text(get("completion"))
    texts["forecast"] = amount_text(target, get("forecast"))
    return texts


def api_number(value):
    """A Decimal for the API: a plain string (never "2E+3"), or None."""
    return plain(value)
