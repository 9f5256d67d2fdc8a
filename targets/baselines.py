"""The targets' own state changes: the office's baselines (基期值), checked the same way for the
settings page and the API. The quarterly form's figures are saved by ``targets.submission.services``.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.numbers import number_text
from targets.models import Target


def baseline_errors(target, value, year, source):
    """{field: message} of what is wrong with a baseline for ``target`` (empty when it can be
    saved). One check for the office's page and the API."""
    errors = {}
    plan = target.plan
    if value is None:
        errors["value"] = _("请填写基期值。")
    elif value < 0:
        errors["value"] = _("基期值不能为负数。")
    elif target.unit == "%" and value > 100:
        errors["value"] = _("百分比不能超过 100。")
    elif target.ceiling is not None and value > target.ceiling:
        errors["value"] = _("基期值不能超过可能的最大值 %(ceiling)s。") % {
            "ceiling": number_text(target.ceiling)
        }
    if year is None:
        errors["year"] = _("请填写基期年份。")
    elif year > plan.start_year:
        errors["year"] = _("基期年份不能晚于方案起始年份（%(year)s年）：方案实施后的数值不是基期值。") % {
            "year": plan.start_year
        }
    elif year < plan.start_year - 10:
        errors["year"] = _("基期年份过早，请核对。")
    if not (source or "").strip():
        errors["source"] = _("请注明基期值的来源（如“2020年全国公民科学素质抽样调查”）。")
    if not target.needs_baseline:
        errors["target"] = _("该指标按增量、里程碑、每年或分地区考核，不需要基期值。")
    return errors


def set_baseline(target, *, value, year, source, by):
    """Enter (or correct) a target's baseline; kept with history (who, when, before and after).
    Raises ``ValidationError`` with the messages of ``baseline_errors`` and saves nothing then."""
    errors = baseline_errors(target, value, year, source)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        target = Target.objects.select_for_update().get(pk=target.pk)
        target.baseline_value = value
        target.baseline_year = year
        target.baseline_source = source.strip()
        target.baseline_demo = False
        target._history_user = by
        target.save(update_fields=["baseline_value", "baseline_year", "baseline_source", "baseline_demo"])
    return target
