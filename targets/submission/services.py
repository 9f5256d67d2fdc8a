"""Figures in quarterly submissions: which targets a unit reports, checking and saving figures.

The form itself is saved through ``save_form``, which wraps the tasks app's edit lock
(version check) around both the measure lines and the figures, in one transaction.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils.translation import gettext as _

from portal.numbers import number_text
from targets.choices import Combine, MeasureKind
from targets.models import RegionFigure, Target, TargetFigure
from tasks import services as task_services
from tasks import signals
from tasks.choices import SubmissionStatus
from units.choices import UnitKind

# A figure more than this many times (or less than 1/this) the unit's previous approved one for
# the same target needs an explanation before the form can be submitted.
JUMP_RATIO = Decimal(str(getattr(settings, "REPORTING_JUMP_RATIO", 3)))
# Larger than any real figure of the plan (50万人次 is the largest target): a typo, not data.
MAX_VALUE = Decimal("1000000000")
WHOLE_NUMBER_KINDS = {MeasureKind.COUNT, MeasureKind.PERSONS, MeasureKind.PERSON_TIMES}


def reported_targets(unit, plan):
    """Targets the unit reports figures for (per-region and external targets are not among them)."""
    return (
        Target.objects.filter(plan=plan, reporting_units=unit, per_region=False, external=False)
        .select_related("initiative", "part")
        .order_by("sort_order")
    )


def reports_region_funding(unit):
    """Local governments report their region's funding and population (plan 三（三）)."""
    return unit.kind == UnitKind.LOCAL_GOVERNMENT and unit.region_id is not None


def planned_figures(unit, period):
    """The figure lines and the region's funding line a unit's form for the period has, unsaved
    (read only): ([TargetFigure], RegionFigure or None)."""
    figures = [TargetFigure(target=target) for target in reported_targets(unit, period.plan)]
    region = RegionFigure(region=unit.region) if reports_region_funding(unit) else None
    return figures, region


@receiver(signals.submission_created)
def add_figure_lines(sender, submission, **kwargs):
    """Give a new (or still editable) form a figure line per target the unit reports."""
    if not submission.is_editable:
        return
    have = set(submission.figures.values_list("target_id", flat=True))
    for target in reported_targets(submission.unit, submission.period.plan):
        if target.pk not in have:
            TargetFigure.objects.create(submission=submission, target=target)
    if (
        reports_region_funding(submission.unit)
        and not RegionFigure.objects.filter(submission=submission).exists()
    ):
        RegionFigure.objects.create(submission=submission, region_id=submission.unit.region_id)


@receiver(m2m_changed, sender=Target.reporting_units.through, dispatch_uid="targets.reporting_units")
def reporting_units_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A unit that starts reporting a target gets its figure line in its open editable forms."""
    if action == "post_add":  # reverse: unit.reported_targets.add(target), the unit is ``instance``
        task_services.sync_open_forms([instance.pk] if reverse else list(pk_set))


def _number(raw, label, errors, *, places=4, whole=False, maximum=None, positive=False):
    """Parse a number typed by a user (page, API and Excel alike); add a message to ``errors`` and
    return None when it is bad.

    The number is first rounded as the database will store it (``places``: the field's decimal
    places, half away from zero as PostgreSQL rounds), and every rule is checked on that: 0.004
    万人 is stored as 0.00, so it is refused as 0 here rather than by a database constraint.
    """
    if raw is None:
        return None
    text = str(raw).strip().replace(",", "").replace("，", "")
    if text == "":
        return None
    try:
        typed = Decimal(text)
    except InvalidOperation:
        errors.append(_("%(label)s：“%(raw)s”不是数字，请输入阿拉伯数字。") % {"label": label, "raw": raw})
        return None
    if not typed.is_finite():
        errors.append(_("%(label)s：请输入有效的数字。") % {"label": label})
        return None
    if typed < 0:
        errors.append(_("%(label)s：不能为负数。") % {"label": label})
        return None
    if typed > MAX_VALUE:
        errors.append(_("%(label)s：数值过大，请核对单位（如“万人次”应换算为人次）。") % {"label": label})
        return None
    if whole and typed != typed.to_integral_value():  # what was typed: 1e-30 人次 is no count
        errors.append(_("%(label)s：应为整数。") % {"label": label})
        return None
    value = typed.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if maximum is not None and value > maximum:
        errors.append(_("%(label)s：不能超过 %(max)s。") % {"label": label, "max": maximum})
        return None
    if positive and value == 0:
        if typed != 0:
            errors.append(
                _("%(label)s：“%(raw)s”保留 %(places)s 位小数后为 0，必须大于 0。")
                % {"label": label, "raw": text, "places": places}
            )
        else:
            errors.append(_("%(label)s必须大于 0。") % {"label": label})
        return None
    return value


def decimal_places(model, field) -> int:
    return model._meta.get_field(field).decimal_places


def clean_figure(target, data):
    """Check one figure as the target's rule asks; return (cleaned fields, error messages)."""
    errors = []
    label = f"{target.code} {target.name}"
    cleaned = {
        "source_note": (data.get("source_note") or "").strip(),
        "explanation": (data.get("explanation") or "").strip(),
    }
    for field, limit, name in (("source_note", 500, _("数据来源说明")), ("explanation", 2000, _("变动说明"))):
        if len(cleaned[field]) > limit:
            errors.append(
                _("%(label)s：%(field)s超过 %(limit)s 字。") % {"label": label, "field": name, "limit": limit}
            )
            cleaned[field] = cleaned[field][:limit]
    places = decimal_places(TargetFigure, "value")
    if target.combine == Combine.COVERAGE:
        covered = _number(data.get("covered"), label + _("（已覆盖）"), errors, places=places)
        total = _number(data.get("total"), label + _("（应覆盖总数）"), errors, places=places)
        if covered is not None and total is not None:
            if total == 0:
                errors.append(_("%(label)s：应覆盖总数必须大于 0。") % {"label": label})
            elif covered > total:
                errors.append(_("%(label)s：已覆盖数不能大于应覆盖总数。") % {"label": label})
        cleaned.update(covered=covered, total=total)
    elif target.combine == Combine.MILESTONE:
        given = data.get("done")
        raw = ("yes" if given else "no") if isinstance(given, bool) else str(given or "").strip().lower()
        if raw not in ("", "yes", "no", "true", "false", "1", "0", "是", "否", "已完成", "未完成"):
            errors.append(_("%(label)s：请选择“已完成”或“未完成”。") % {"label": label})
            done = None
        else:
            done = None if raw == "" else raw in ("yes", "true", "1", "是", "已完成")
        cleaned["done"] = done
    else:
        percent = target.measure_kind == MeasureKind.PERCENTAGE or target.unit == "%"
        cleaned["value"] = _number(
            data.get("value"),
            label,
            errors,
            places=places,
            whole=target.measure_kind in WHOLE_NUMBER_KINDS,
            maximum=Decimal(100) if percent else None,
        )
    return cleaned, errors


NARRATIVE_LIMIT = 4000  # characters of a local government's own work (RegionFigure.narrative)


def clean_region_figure(data):
    errors = []
    funding = _number(
        data.get("funding"),
        _("本年度科普经费（万元）"),
        errors,
        places=decimal_places(RegionFigure, "funding"),
    )
    # 万人: Qinghai has about 595万; the column holds up to 10^8. A bigger number is a typo.
    population = _number(
        data.get("population"),
        _("常住人口（万人）"),
        errors,
        places=decimal_places(RegionFigure, "population"),
        maximum=Decimal(100000),
        positive=True,
    )
    note = (data.get("source_note") or "").strip()
    if len(note) > 500:
        errors.append(_("地区科普经费：数据来源说明超过 500 字。"))
    cleaned = {"funding": funding, "population": population, "source_note": note[:500]}
    if "narrative" in data:  # absent from older Excel files: then the stored text is kept
        narrative = str(data.get("narrative") or "").replace("\x00", "").strip()
        if len(narrative) > NARRATIVE_LIMIT:
            errors.append(
                _("本地区工作进展超过 %(limit)s 字（现有 %(n)s 字），请精简后再保存。")
                % {"limit": NARRATIVE_LIMIT, "n": len(narrative)}
            )
        cleaned["narrative"] = narrative[:NARRATIVE_LIMIT]
    return cleaned, errors


def save_figures(submission, rows, region=None, *, by=None, merge=None):
    """Write figures: ``rows`` maps figure id → raw fields. Raises ValidationError listing every
    problem; nothing is written when any row is wrong (the caller's transaction rolls back).
    With ``merge``, only the fields it lets through are written (see ``FieldMerge``)."""
    figures = {f.pk: f for f in submission.figures.select_related("target")}
    unknown = set(rows) - set(figures)
    if unknown:
        raise ValidationError(_("表中有不属于这张报送表的指标行，请刷新页面后重试。"))
    errors, updates = [], []
    for figure_id, data in rows.items():
        figure = figures[figure_id]
        cleaned, problems = clean_figure(figure.target, data)
        errors.extend(problems)
        updates.append((figure, cleaned))
    region_update = None
    if region is not None:
        region_figure = RegionFigure.objects.filter(submission=submission).first()
        if region_figure is None:
            errors.append(_("本单位不报送地区科普经费。"))
        else:
            cleaned, problems = clean_region_figure(region)
            errors.extend(problems)
            region_update = (region_figure, cleaned)
    if errors:
        raise ValidationError(errors)
    changed = 0
    rows = [("figure", figure, cleaned) for figure, cleaned in updates]
    if region_update:
        rows.append(("region", *region_update))
    for kind, row, cleaned in rows:
        dirty = False
        for field, value in cleaned.items():
            if getattr(row, field) == value:
                continue
            if merge is None or merge.take(kind, row, field, value):
                setattr(row, field, value)
                dirty = True
        if dirty:
            row._history_user = by
            row.save()
            changed += 1
    return changed


FIGURE_FIELDS = ("value", "covered", "total", "done", "source_note", "explanation")
REGION_FIELDS = ("funding", "population", "source_note", "narrative")


def merge_base(submission, base):
    """{(kind, row id, field): cleaned value} of the values a page was loaded with: ``base`` is
    (lines, figures, region) as the form's fields parse, cleaned exactly as a posted value is, so
    that 120 and 120.0000 compare equal. One or two queries."""
    lines, figures, region = base
    cleaned = {}
    for line_id, fields in lines.items():
        for field, value in fields.items():
            cleaned[("line", line_id, field)] = value
    if figures:
        for figure in submission.figures.select_related("target").filter(pk__in=list(figures)):
            values, _problems = clean_figure(figure.target, figures[figure.pk])
            for field in figures[figure.pk]:
                if field in values:
                    cleaned[("figure", figure.pk, field)] = values[field]
    if region:
        region_figure = RegionFigure.objects.filter(submission=submission).first()
        if region_figure is not None:
            values, _problems = clean_region_figure(region)
            for field in region:
                if field in values:
                    cleaned[("region", region_figure.pk, field)] = values[field]
    return cleaned


@transaction.atomic
def save_form(submission_id, *, by, version, base=None, lines=None, figures=None, region=None, action=None):
    """Save a quarterly form (lines and figures) as one edit.

    A stale ``version`` (someone saved the form since it was loaded) is refused, unless the
    caller sends the values the form was loaded with (``base``, parsed like the fields): then the
    save is merged field by field (``FieldMerge``) and refused only when the page changed a field
    that was also changed since it was loaded. The returned submission's ``merged`` is the set of
    (kind, row id, field) whose newer stored value was kept (empty when not stale).
    """
    submission = task_services.begin_edit(submission_id, by=by, version=version, allow_stale=base is not None)
    merge = None
    if int(version) != submission.version:
        merge = task_services.FieldMerge(merge_base(submission, base))
    changed = 0
    if lines:
        changed += len(task_services.save_lines(submission, lines, by=by, merge=merge))
    if figures or region:
        changed += save_figures(submission, figures or {}, region, by=by, merge=merge)
    if merge is not None and merge.conflicts:
        # rolls the edit back; the page re-shows the user's text and the others' untouched fields
        raise task_services.StaleEdit(submission, changes=merge.conflicts, kept=merge.kept)
    kwargs = {"action": action} if action else {}
    saved = task_services.finish_edit(submission, by=by, changed=bool(changed), **kwargs)
    saved.merged = merge.kept if merge is not None else set()
    return saved


def previous_approved_values(submission):
    """{target_id: value} of the unit's latest approved figure before this period, per target."""
    rows = (
        TargetFigure.objects.filter(
            submission__unit_id=submission.unit_id,
            submission__status=SubmissionStatus.APPROVED,
            submission__period__plan_id=submission.period.plan_id,
            value__isnull=False,
        )
        .exclude(submission=submission)
        .filter(
            submission__period__year__lte=submission.period.year,
        )
        .order_by("target_id", "-submission__period__year", "-submission__period__quarter")
        .values_list("target_id", "value", "submission__period__year", "submission__period__quarter")
    )
    previous = {}
    key = submission.period.year * 10 + submission.period.quarter
    for target_id, value, year, quarter in rows:
        if year * 10 + quarter < key and target_id not in previous:
            previous[target_id] = value
    return previous


def jump_problems(submission):
    """Figures far from the unit's previous approved one that lack an explanation."""
    previous = previous_approved_values(submission)
    problems = []
    for figure in submission.figures.select_related("target"):
        before = previous.get(figure.target_id)
        if figure.value is None or before is None or figure.explanation:
            continue
        if before == 0:
            jumped = figure.value > 0 and figure.target.combine == Combine.LEVEL
        else:
            ratio = figure.value / before
            jumped = ratio > JUMP_RATIO or ratio < 1 / JUMP_RATIO
        if jumped:
            problems.append(
                _("%(label)s：本期数值 %(now)s 与上期 %(before)s 相差较大，请在“变动说明”中说明原因。")
                % {
                    "label": f"{figure.target.code} {figure.target.name}",
                    "now": number_text(figure.value, 4),
                    "before": number_text(before, 4),
                }
            )
    return problems


def missing_problems(submission):
    problems = []
    for figure in submission.figures.select_related("target"):
        target = figure.target
        label = f"{target.code} {target.name}"
        if target.combine == Combine.COVERAGE and (figure.covered is None or figure.total is None):
            problems.append(_("%(label)s：请填写已覆盖数和应覆盖总数。") % {"label": label})
        elif target.combine == Combine.MILESTONE and figure.done is None:
            problems.append(_("%(label)s：请选择是否已完成。") % {"label": label})
        elif target.combine in (Combine.INCREMENT, Combine.LEVEL) and figure.value is None:
            if target.combine == Combine.INCREMENT:
                problems.append(_("%(label)s：请填写本季度新增数（没有新增请填 0）。") % {"label": label})
            else:
                problems.append(_("%(label)s：请填写当前值。") % {"label": label})
    region_figure = RegionFigure.objects.filter(submission=submission).first()
    if region_figure is not None and (region_figure.funding is None or region_figure.population is None):
        problems.append(_("请填写本地区本年度科普经费和常住人口。"))
    return problems


@task_services.register_submit_check
def figure_problems(submission) -> list[str]:
    """Why the form's figures stop a submit: missing figures, unexplained jumps."""
    return missing_problems(submission) + jump_problems(submission)
