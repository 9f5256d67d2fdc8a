"""工作看板: the office's dashboard and its drill-downs (initiative, target, unit, region).

Pages only read the snapshot tables the roll-up job fills (``reports.rollup.rollups``); they never
compute a roll-up. Every page takes ``?period=<id>``, the as-of period; by default the latest
period that has ended and has snapshots. Charts are server-side SVG (``reports.dashboard.charts``).
"""

import datetime
from collections import Counter, defaultdict
from decimal import Decimal

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from portal import page_cache
from portal.mixins import PolicyRequiredMixin
from portal.names import display_name
from portal.numbers import percent_text
from portal.text import bracketed, clauses, labelled
from reports.choices import ProgressStatus
from reports.dashboard import charts, selectors
from reports.rollup import evaluation
from targets import presenters
from targets.choices import Combine, MeasureKind, TimeScope
from tasks import selectors as tasks_selectors
from tasks.choices import InitiativeKind, MeasureStatus, SubmissionStatus, Timeliness
from tasks.selectors import split_assignments
from units import policy
from units.choices import RegionLevel
from units.models import Region, Unit

HUNDRED = Decimal(100)


def _heat_labels():
    # Evaluated per request so that the active language applies.
    return {k.kind: str(k.label) for k in selectors.HEAT_LEGEND}


# A character in each heatmap cell, so that the map does not rely on colour alone.
HEAT_GLYPHS = {**{k.kind: k.glyph for k in selectors.HEAT_LEGEND}, "none": ""}


def heat_legend():
    return [(k.kind, str(k.label), k.glyph) for k in selectors.HEAT_LEGEND]


def heatmap_rows(unit_cells, shown, period):
    """(rows, Counter of timeliness at ``period``) of the heatmap, a row per unit, from
    ``selectors.compliance`` / ``county_compliance``."""
    labels = _heat_labels()
    rows, now = [], Counter()
    for unit, cells in unit_cells:
        row_cells, late, missing = [], 0, 0
        for p in shown:
            cell = cells.get(p.pk)
            kind = "none" if cell is None else selectors.heat_kind(*cell)
            label = labels.get(kind, "—")
            row_cells.append(
                {"kind": kind, "glyph": HEAT_GLYPHS[kind], "title": _heat_title(p, [(label, None)])}
            )
            if cell is None:
                continue
            late += cell[1] == Timeliness.LATE
            missing += cell[1] == Timeliness.MISSING
            if p.pk == period.pk:
                now[cell[1]] += 1
        rows.append(
            {
                "name": unit.short_name,
                "url": reverse("reports:unit_detail", args=[unit.code]),
                "cells": row_cells,
                "late": late,
                "missing": missing,
            }
        )
    return rows, now


def heatmap_group_rows(groups, shown, period):
    """(rows, Counter of timeliness at ``period``) of the heatmap, a row per prefecture for its
    county governments: a cell shows the most urgent state among them, with how many are in it
    (a tick when all are approved), and lists every state with its count in its title."""
    labels = _heat_labels()
    rows, now = [], Counter()
    for group in groups:
        row_cells, late, missing = [], 0, 0
        for p in shown:
            pairs = group.cells.get(p.pk)
            if not pairs:
                row_cells.append({"kind": "none", "glyph": "", "title": _heat_title(p, [("—", None)])})
                continue
            kinds = Counter()
            for (status, timeliness), n in pairs.items():
                kinds[selectors.heat_kind(status, timeliness)] += n
                late += n if timeliness == Timeliness.LATE else 0
                missing += n if timeliness == Timeliness.MISSING else 0
                if p.pk == period.pk:
                    now[timeliness] += n
            kind = next(k for k in selectors.HEAT_URGENCY if kinds[k])
            glyph = (
                HEAT_GLYPHS[kind] if kind.startswith("approved") or kind == "pending" else str(kinds[kind])
            )
            row_cells.append(
                {
                    "kind": kind,
                    "glyph": glyph,
                    "title": _heat_title(p, [(labels[k], kinds[k]) for k in labels if kinds[k]]),
                }
            )
        rows.append(
            {
                "name": _("%(prefecture)s所辖县（市、区）政府") % {"prefecture": group.name},
                "size": group.size,
                "url": reverse("reports:region_detail", args=[group.code]),
                "anchor": "#compliance",
                "cells": row_cells,
                "late": late,
                "missing": missing,
            }
        )
    return rows, now


def year_spans(shown):
    """The heatmap's year header: [{"year", "span"}] over the shown periods."""
    years = []
    for p in shown:
        if years and years[-1]["year"] == p.year:
            years[-1]["span"] += 1
        else:
            years.append({"year": p.year, "span": 1})
    return years


def _heat_title(period, parts):
    """A heatmap cell's tooltip: the period, then each state (with its count for a group)."""
    states = clauses(
        label if n is None else _("%(state)s %(n)s") % {"state": label, "n": n} for label, n in parts
    )
    return labelled(short_label(period), states)


def short_label(period):
    """A period on a chart's axis (``Period.axis_label``: 22年Q2)."""
    return period.axis_label


def percent(share, places=1):
    return percent_text(share, places)


def status_chips(counts):
    """[(status, label, n)] in the glossary's order, only statuses that occur."""
    counts = counts or {}
    return [(s.value, s.label, counts[s.value]) for s in ProgressStatus if counts.get(s.value)]


def measure_bar(lines_by_status, *, width=180):
    pairs = [(s.label, (lines_by_status or {}).get(s.value, 0)) for s in MeasureStatus]
    colors = [charts.MEASURE_STATUS_COLORS[s.value] for s in MeasureStatus]
    return charts.stacked_bar(pairs, colors, width=width, title=_("措施推进情况"))


def figure_text(target, figure):
    """An approved figure as the unit reported it."""
    if figure is None:
        return "—"
    if target.combine == Combine.COVERAGE:
        return _("%(covered)s / %(total)s") % {
            "covered": charts.fmt(figure.covered),
            "total": presenters.amount_text(target, figure.total),
        }
    if target.combine == Combine.MILESTONE:
        return _("已完成") if figure.done else _("未完成")
    return presenters.amount_text(target, figure.value)


def value_texts(target, snap):
    """The snapshot's numbers as the targets table shows them (one presenter for every page,
    Excel and the PDF: ``targets.presenters.standing_texts``)."""
    return presenters.standing_texts(target, snap)


class PeriodMixin:
    """Resolves the plan, its periods and the as-of period from ``?period=``."""

    def resolve_period(self):
        self.plan, self.periods = selectors.plan_and_periods()
        if self.plan is None:
            raise Http404(_("尚未载入实施方案。"))
        self.period, self.period_problem = selectors.choose_period(
            self.periods, self.request.GET.get("period"), timezone.localdate()
        )
        self.shown_periods = selectors.periods_up_to(self.periods, self.period)
        return self.period

    supports_knowledge_date = False  # the pages that judge targets as approved on a past day

    def knowledge_date(self):
        """?knowledge_date=YYYY-MM-DD: the targets judged from the figures as approved at the end
        of that day (None: as they stand now). A date that cannot be used is ignored with a note."""
        raw = (self.request.GET.get("knowledge_date") or "").strip()
        self.knowledge_problem = None
        if not raw:
            return None
        try:
            day = datetime.date.fromisoformat(raw)
        except ValueError:
            self.knowledge_problem = _(
                "数据认定日期格式不正确，应为 2024-01-15 这样的日期；已按现在的数据显示。"
            )
            return None
        if day > timezone.localdate() or (self.period is not None and day < self.period.ends_on):
            self.knowledge_problem = _("数据认定日期须在所选报送期结束之后、今天之前；已按现在的数据显示。")
            return None
        return day

    def period_context(self):
        problem = {
            "invalid": _("所选报送期不存在，已显示默认报送期。"),
            "no_snapshots": _("所选报送期尚未汇总，已显示最近一个已汇总的报送期。"),
        }.get(self.period_problem)
        return {
            "plan": self.plan,
            "period": self.period,
            "period_choices": [p for p in self.periods if p.has_snapshots],
            "period_problem": problem,
            "period_query": f"?period={self.period.pk}" if self.period else "",
            "knowledge_supported": self.supports_knowledge_date,
            "knowledge_date": getattr(self, "knowledge", None),
            "knowledge_problem": getattr(self, "knowledge_problem", None),
        }


class DashboardAccessMixin(PolicyRequiredMixin):
    """The office and viewers (leaders) read every page of the dashboard."""

    permission = "can_see_dashboard"


def _period_param(value):
    """The ``?period=`` of a request as part of a cache key: an id, empty, or "invalid" (every
    malformed value shows the same page)."""
    if not value:
        return ""
    return str(int(value)) if value.isascii() and value.isdigit() and len(value) <= 12 else "invalid"


class DashboardView(DashboardAccessMixin, PeriodMixin, TemplateView):
    """工作看板: targets by status, the 13 initiatives, the targets table and compliance."""

    template_name = "reports/dashboard.html"
    supports_knowledge_date = True

    def get(self, request, *args, **kwargs):
        # Only existing periods are cached: ?period=<anything else> would store a body per value.
        requested = request.GET.get("period")
        if requested and not selectors.period_exists(requested):
            return render(
                request,
                "portal/not_found.html",
                {"title": _("报送期不存在"), "message": _("所选报送期不存在，请从看板的报送期列表中选择。")},
                status=404,
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        # The body only changes when a roll-up commits (which bumps the pages cache's version) or
        # the day changes (the default period): it is cached per requested period, day, language
        # and role with the version it was computed at, so a leader's refresh costs no dashboard
        # query at all, and one cache round trip.
        key = "dashboard:{}:{}:{}:{}".format(
            _period_param(self.request.GET.get("period")),
            timezone.localdate().isoformat(),
            get_language(),
            "office" if policy.can_run_rollups(self.request.user) else "reader",  # the body's links
        )
        as_approved = bool(self.request.GET.get("knowledge_date"))  # judged on request, never cached
        version, body = (None, None) if as_approved else page_cache.lookup(key)
        if body is None:
            period = self.resolve_period()
            self.knowledge = self.knowledge_date() if as_approved else None
            context = self.period_context()
            if period is not None:
                context = self.dashboard_context(context, period)
            body = render_to_string("reports/_dashboard_body.html", context, request=self.request)
            if not as_approved:
                page_cache.store(key, version, body, timeout=600)
        return super().get_context_data(dashboard_body=mark_safe(body), **kwargs)  # our own template

    def dashboard_context(self, context, period):
        data = selectors.dashboard_data(self.plan, self.periods, period)
        shown = data["shown_periods"]
        if getattr(self, "knowledge", None) is not None:
            data["series"] = selectors.judged_series(self.plan, self.periods, shown, self.knowledge)
        rows = []
        status_counts = Counter()
        for target in data["targets"]:
            snaps = data["series"].get(target.pk, {})
            snap = snaps.get(period.pk)
            status = snap.status if snap else ProgressStatus.NO_DATA
            status_counts[status] += 1
            history = [snaps.get(p.pk) for p in shown]
            rows.append(
                {
                    "target": target,
                    "snap": snap,
                    "status": status,
                    "status_label": ProgressStatus(status).label,
                    "texts": value_texts(target, snap),
                    "spark": charts.sparkline(
                        [h.actual if h else None for h in history],
                        [h.expected if h else None for h in history] if not target.per_region else None,
                        title=_("%(code)s 趋势") % {"code": target.code},
                    ),
                }
            )
        initiatives = []
        for initiative in data["initiatives"]:
            initiative.chips = status_chips(initiative.targets_by_status)
            initiative.bar = measure_bar(initiative.lines_by_status)
            initiative.line_total = sum((initiative.lines_by_status or {}).values())
            initiatives.append(initiative)
        unit_cells, groups = data["compliance"]
        heat_rows, timeliness_now = heatmap_rows(unit_cells, shown, period)
        group_rows, group_now = heatmap_group_rows(groups, shown, period)
        timeliness_now.update(group_now)
        context.update(
            status_summary=[(s.value, s.label, status_counts.get(s.value, 0)) for s in ProgressStatus],
            target_total=len(rows),
            timeliness_summary=[(t.value, t.label, timeliness_now.get(t.value, 0)) for t in Timeliness],
            last_rollup=data["last_rollup"],
            actions=[i for i in initiatives if i.kind == InitiativeKind.ACTION],
            projects=[i for i in initiatives if i.kind == InitiativeKind.PROJECT],
            rows=rows,
            heat_rows=heat_rows + group_rows,
            heat_periods=shown,
            heat_years=year_spans(shown),
            heat_legend=heat_legend(),
            measure_legend=[(s.label, charts.MEASURE_STATUS_COLORS[s.value]) for s in MeasureStatus],
        )
        return context


class LedInitiativesView(PolicyRequiredMixin, TemplateView):
    """牵头行动: the initiatives the user's unit leads, each linked to its progress page (the lead
    unit's view, read only)."""

    template_name = "reports/led_initiatives.html"
    permission = "leads_initiatives"

    def get_context_data(self, **kwargs):
        initiatives = tasks_selectors.led_initiatives(self.request.user)
        return super().get_context_data(initiatives=initiatives, **kwargs)


class InitiativeView(PolicyRequiredMixin, PeriodMixin, TemplateView):
    """An initiative: its targets with small trend charts, its measures' progress, its units and
    the approved narratives of the chosen period. The office and viewers see it; so do the
    staff of a lead unit (牵头单位视图, read only)."""

    template_name = "reports/initiative.html"

    def get(self, request, *args, **kwargs):
        self.resolve_period()
        initiative = selectors.initiative_structure(self.plan, kwargs["code"])
        if initiative is None:
            raise Http404(_("没有这个行动或工程。"))
        policy.require(policy.can_see_initiative(request.user, initiative))
        self.lead_view = policy.is_lead_view(request.user, initiative)
        self.initiative = initiative
        return self.render_to_response(self.get_context_data(**kwargs))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.period_context())
        initiative, period = self.initiative, self.period
        assignments = list(initiative.assignments.all())
        initiative.leads, initiative.responsibles = split_assignments(assignments)
        parts = list(initiative.parts.all())
        for part in parts:
            part.leads, part.responsibles = split_assignments(assignments, part)
        context.update(
            initiative=initiative, parts=parts, lead_view=self.lead_view, link_units=not self.lead_view
        )
        if period is None:
            return context
        targets = list(initiative.targets.order_by("sort_order"))
        shown = self.shown_periods
        series = selectors.target_series([t.pk for t in targets], [p.pk for p in shown])
        contributions = selectors.contributions_at([t.pk for t in targets], period)
        labels = [short_label(p) for p in shown]
        target_rows = []
        for target in targets:
            snaps = series.get(target.pk, {})
            snap = snaps.get(period.pk)
            status = snap.status if snap else ProgressStatus.NO_DATA
            texts = value_texts(target, snap)
            history = [snaps.get(p.pk) for p in shown]
            chart = charts.line_chart(
                [h.actual if h else None for h in history],
                [h.expected if h else None for h in history],
                target.value if target.combine != Combine.MILESTONE else None,
                labels,
                target.unit,
                _("%(code)s %(name)s：实际完成值与序时进度目标值")
                % {"code": target.code, "name": display_name(target)},
                _("截至%(period)s，实际完成值 %(actual)s，序时进度目标值 %(expected)s，目标值 %(target)s。")
                % {
                    "period": period.label,
                    "actual": texts["actual"],
                    "expected": texts["expected"],
                    "target": target.bound_text,
                },
                width=420,
                height=220,
            )
            target_rows.append(
                {
                    "target": target,
                    "snap": snap,
                    "status": status,
                    "status_label": ProgressStatus(status).label,
                    "texts": texts,
                    "chart": chart,
                    "contributions": [
                        (display_name(c.unit), presenters.amount_text(target, c.value))
                        for c in contributions.get(target.pk, [])
                    ],
                }
            )
        lines = selectors.approved_lines(initiative, period)
        by_measure = defaultdict(list)
        for line in lines:
            by_measure[line.measure_id].append(line)
        measures = []
        for measure in initiative.measures.all():
            measure_lines = by_measure.get(measure.pk, [])
            counts = Counter(line.status for line in measure_lines)
            measure.bar = measure_bar(counts, width=160)
            measure.approved_lines = measure_lines
            measure.part_title = next((display_name(p) for p in parts if p.pk == measure.part_id), "")
            measures.append(measure)
        snapshot = selectors.initiative_snapshot(initiative, period)
        context.update(
            target_rows=target_rows,
            measures=measures,
            snapshot=snapshot,
            chips=status_chips(snapshot.targets_by_status if snapshot else {}),
            overall_bar=measure_bar(snapshot.lines_by_status if snapshot else {}, width=320),
            measure_legend=[(s.label, charts.MEASURE_STATUS_COLORS[s.value]) for s in MeasureStatus],
            line_count=len(lines),
        )
        return context


def _year_ends(shown):
    """{year: the last shown period of that year}."""
    ends = {}
    for p in shown:
        ends[p.year] = p
    return ends


def explain_rule(target, period, shown, snaps, history, regional=None):
    """(rule sentence, worked example from the target's own snapshots) for the target page."""
    current = snaps.get(period.pk)
    label = period.label
    if target.external:
        rule = _("外部数据：由省纲要办依据抽样调查或监测结果录入，取截至该期最近一次的结果，不累加。")
        if current and current.actual is not None:
            return rule, _("截至%(period)s为 %(value)s。") % {
                "period": label,
                "value": presenters.amount_text(target, current.actual),
            }
        return rule, _("截至%(period)s尚无调查（监测）结果。") % {"period": label}
    if target.per_region:
        money = target.measure_kind == MeasureKind.MONEY
        if money:
            rule = _("分地区考核：逐个地区比较本年度科普经费与目标值，统计达标地区数。")
        else:
            rule = _(
                "分地区考核：逐个地区用本年度科普经费（万元）除以常住人口（万人）得出人均科普经费（元/人），与目标值比较，统计达标地区数。"
            )
        judged = [(r, s) for r, s, _u in (regional or []) if r.bound is not None]
        reported = [(r, s) for r, s in judged if s is not None and s.funding is not None]
        if target.own_region_bounds:
            rule = _(
                "分地区考核：逐个地区用本年度人均科普经费（元/人）与本地区“十三五”末（2020年）人均科普经费比较，不低于基期值为达标；基期值由省纲要办录入，只考核已录入的地区。"
            )
            if not judged:
                return rule, _("省纲要办尚未录入各地区的“十三五”末人均科普经费基期值。")
        if not reported:
            return rule, _("截至%(period)s尚无审核通过的地区经费数据。") % {"period": label}
        region, snap = reported[0]
        met = sum(1 for r, s in reported if _region_met(target, r, s))
        total = len(judged)
        if money:
            sample = _("%(region)s %(funding)s万元，%(verdict)s") % {
                "region": display_name(region),
                "funding": charts.fmt(snap.funding),
                "verdict": _("达标") if _region_met(target, region, snap) else _("未达标"),
            }
        else:
            sample = _("%(region)s %(funding)s万元 ÷ %(population)s万人 = %(pc)s 元/人，%(verdict)s") % {
                "region": display_name(region),
                "funding": charts.fmt(snap.funding),
                "population": charts.fmt(snap.population),
                "pc": charts.fmt(snap.per_capita),
                "verdict": _("达标") if _region_met(target, region, snap) else _("未达标"),
            }
        return rule, _("截至%(period)s：%(sample)s；%(total)s 个地区中 %(met)s 个达标。") % {
            "period": label,
            "sample": sample,
            "total": total,
            "met": met,
        }
    if target.combine == Combine.INCREMENT:
        return _explain_increment(target, period, shown, current, history)
    if target.combine == Combine.LEVEL:
        rule = _("现值：取最近一期审核通过的数值，不累加。")
        if current is None or current.actual is None:
            return rule, _("截至%(period)s尚无审核通过的数据。") % {"period": label}
        previous = None
        for p in reversed([p for p in shown if p.key < period.key]):
            snap = snaps.get(p.pk)
            if snap is not None and snap.actual is not None:
                previous = snap.actual
                break
            if target.time_scope == TimeScope.PER_YEAR and p.year != period.year:
                break
        text = _("%(period)s为 %(value)s") % {
            "period": label,
            "value": presenters.amount_text(target, current.actual),
        }
        if previous is not None:
            text += _("（上期 %(value)s）") % {"value": presenters.amount_text(target, previous)}
        return rule, text + "。"
    if target.combine == Combine.COVERAGE:
        rule = _("覆盖率：取最近一期审核通过的已覆盖数与应覆盖总数，不累加。")
        if current is None or current.actual is None:
            return rule, _("截至%(period)s尚无审核通过的数据。") % {"period": label}
        return rule, _("截至%(period)s：已覆盖 %(value)s，目标 %(target)s。") % {
            "period": label,
            "value": presenters.amount_text(target, current.actual),
            "target": target.bound_text,
        }
    rule = _("里程碑：任一报送单位报告已完成即视为完成。")
    done = current is not None and current.actual is not None and current.actual >= 1
    return rule, (_("截至%(period)s：已完成。") if done else _("截至%(period)s：尚未完成。")) % {
        "period": label
    }


def _region_met(target, region, snap):
    """Whether a region meets a per-region target (None when it has no bound: T32 without its
    baseline)."""
    if region.bound is None:
        return None
    metric = snap.funding if target.measure_kind == MeasureKind.MONEY else snap.per_capita
    return metric is not None and metric >= region.bound


def _explain_increment(target, period, shown, current, history):
    per_year = target.time_scope == TimeScope.PER_YEAR
    if per_year:
        rule = _("增量累计（每年）：将各单位当年各季度审核通过的新增数相加，每年重新计算。")
        steps = [p for p in shown if p.year == period.year]
    else:
        rule = _("增量累计：将各单位各季度审核通过的新增数相加。")
        steps = list(_year_ends(shown).values())
    if current is None or current.actual is None:
        return rule, _("截至%(period)s尚无审核通过的数据。") % {"period": period.label}
    values = {(row.unit_id, row.period_id): row.value or Decimal(0) for row in history}
    units = {}
    for row in history:
        units.setdefault(row.unit_id, row.unit)
    terms = []
    for unit_id, unit_obj in units.items():
        before = Decimal(0)
        for step in steps:
            now = values.get((unit_id, step.pk), before)
            if now != before:
                step_label = (
                    (_("第%(q)s季度") % {"q": step.quarter})
                    if per_year
                    else (_("%(year)s年") % {"year": step.year})
                )
                terms.append((display_name(unit_obj), step_label, now - before))
            before = now
    prefix = (
        _("%(year)s年截至第%(q)s季度") % {"year": period.year, "q": period.quarter}
        if per_year
        else _("截至%(period)s") % {"period": period.label}
    )
    total = presenters.amount_text(target, current.actual)
    by_unit = defaultdict(list)
    for name, step, amount in terms:
        by_unit[name].append((step, amount))
    if len(by_unit) == 1 or len(terms) > 8:
        if len(terms) > 8:  # too long to read: one term per unit
            parts = [
                f"{name} {presenters.number_of(target, sum(a for _s, a in items))}"
                for name, items in by_unit.items()
            ]
        else:
            name, items = next(iter(by_unit.items()))
            parts = [
                f"{name} "
                + " + ".join(f"{step} {presenters.number_of(target, amount)}" for step, amount in items)
            ]
        text = _("%(prefix)s：%(terms)s = %(total)s。") % {
            "prefix": prefix,
            "terms": " + ".join(parts) if parts else "0",
            "total": total,
        }
    else:
        groups = [
            f"{name} "
            + " + ".join(f"{step} {presenters.number_of(target, amount)}" for step, amount in items)
            for name, items in by_unit.items()
        ]
        text = _("%(prefix)s：%(terms)s；合计 %(total)s。") % {
            "prefix": prefix,
            "terms": "；".join(groups),
            "total": total,
        }
    return rule, text


class TargetView(PolicyRequiredMixin, PeriodMixin, TemplateView):
    """A target: trend chart, contributions by unit (and by region), the combination rule with
    a worked example, and the units behind a lagging target. The office and viewers see every
    target; the staff of a lead unit those of the initiatives it leads (without drill-downs)."""

    template_name = "reports/target.html"
    supports_knowledge_date = True

    def get_context_data(self, **kwargs):
        period = self.resolve_period()
        self.knowledge = self.knowledge_date() if period is not None else None
        target = selectors.target_with_related(self.plan, self.kwargs["code"])
        if target is None:
            raise Http404(_("没有这个目标指标。"))
        policy.require(policy.can_see_progress(self.request.user, target), "see_dashboard")
        kwargs["link_units"] = policy.can_see_dashboard(self.request.user)
        context = super().get_context_data(target=target, **self.period_context(), **kwargs)
        if period is None:
            return context
        shown = self.shown_periods
        ids = [p.pk for p in shown]
        judged_contributions = None
        if self.knowledge is not None:
            series, judged_contributions = selectors.judged_series(
                self.plan, self.periods, shown, self.knowledge, contributions_of=target
            )
            snaps = series.get(target.pk, {})
        else:
            snaps = selectors.target_series([target.pk], ids).get(target.pk, {})
        snap = snaps.get(period.pk)
        status = snap.status if snap else ProgressStatus.NO_DATA
        texts = value_texts(target, snap)
        history = [snaps.get(p.pk) for p in shown]
        labels = [short_label(p) for p in shown]
        table = [
            {
                "period": p,
                "texts": value_texts(target, h),
                "status_label": ProgressStatus(h.status).label if h else "—",
            }
            for p, h in zip(shown, history, strict=True)
        ]
        chart = charts.line_chart(
            [h.actual if h else None for h in history],
            [h.expected if h else None for h in history] if not target.per_region else None,
            (snap.regions_total if snap else None)
            if target.per_region
            else (target.value if target.combine != Combine.MILESTONE else None),
            labels,
            _("个地区") if target.per_region else target.unit,
            _("%(code)s %(name)s：实际完成值、序时进度目标值与目标值")
            % {"code": target.code, "name": display_name(target)}
            if not target.per_region
            else _("%(code)s %(name)s：达标地区数") % {"code": target.code, "name": display_name(target)},
            _(
                "截至%(period)s，实际完成值 %(actual)s，序时进度目标值 %(expected)s，目标值 %(target)s，状态 %(status)s。"
            )
            % {
                "period": period.label,
                "actual": texts["actual"],
                "expected": texts["expected"],
                "target": target.bound_text,
                "status": ProgressStatus(status).label,
            },
            baseline=(snap.baseline if snap and snap.baseline is not None else target.baseline_value)
            if not target.per_region
            else None,
            width=960,
            height=360,
        )
        contribution_rows = (
            judged_contributions
            if judged_contributions is not None
            else selectors.contribution_history(target, ids)
        )
        current_contributions = sorted(
            (c for c in contribution_rows if c.period_id == period.pk),
            key=lambda c: (-(c.value or 0), c.unit.sort_order),
        )
        total = sum((c.value or 0) for c in current_contributions)
        for c in current_contributions:
            c.text = presenters.amount_text(target, c.value)
            c.share = (
                percent(c.value / total)
                if target.combine == Combine.INCREMENT and total and c.value is not None
                else None
            )
        contribution_chart = charts.hbar_chart(
            [(display_name(c.unit), c.value) for c in current_contributions],
            target.unit,
            _("%(code)s 各单位贡献（截至%(period)s）") % {"code": target.code, "period": period.label},
        )
        regional = selectors.regional_standing(target, period) if target.per_region else None
        region_rows = []
        if regional:
            for region, region_snap, government in regional:
                region_rows.append(
                    {
                        "region": region,
                        "snap": region_snap,
                        "unit": government,
                        "met": _region_met(target, region, region_snap) if region_snap else None,
                    }
                )
        # Regions below the bound first: the office reads down from the problems.
        region_rows.sort(key=lambda r: {False: 0, None: 1, True: 2}[r["met"]])
        rule, example = explain_rule(target, period, shown, snaps, contribution_rows, regional)
        lagging = status in (ProgressStatus.BEHIND, ProgressStatus.FAR_BEHIND)
        behind = self.units_behind(target, ids, region_rows)
        context.update(
            snap=snap,
            status=status,
            status_label=ProgressStatus(status).label,
            texts=texts,
            chart=chart,
            history_table=table,
            contributions=current_contributions,
            contribution_chart=contribution_chart,
            contribution_total=presenters.amount_text(target, total),
            show_share=target.combine == Combine.INCREMENT,
            region_rows=region_rows,
            rule=rule,
            example=example,
            lagging=lagging,
            behind=behind,
        )
        return context

    def units_behind(self, target, period_ids, region_rows):
        """The reporting units with their latest approved figure and the problems they reported
        (for a per-region target: the governments of the regions below the bound)."""
        if target.per_region:
            # regions below their bound or not reporting; a region without a bound (T32 with no
            # baseline entered) is not judged, so not behind
            rows = [
                r
                for r in region_rows
                if r["met"] is not True and r["unit"] is not None and r["region"].bound is not None
            ]
            units = [r["unit"] for r in rows]
            figures = {
                r["unit"].pk: (
                    presenters.amount_text(
                        target,
                        r["snap"].funding
                        if target.measure_kind == MeasureKind.MONEY
                        else r["snap"].per_capita,
                    )
                    if r["snap"]
                    else "—"
                )
                for r in rows
            }
            problems = selectors.latest_problems([u.pk for u in units], period_ids)
        else:
            units = list(target.reporting_units.all()) or [target.owner_unit]
            latest = selectors.latest_figures(target, [u.pk for u in units], period_ids)
            figures = {
                u.pk: (
                    figure_text(target, latest[u.pk]) + bracketed(latest[u.pk].submission.period.label)
                    if u.pk in latest
                    else _("尚无审核通过的数据")
                )
                for u in units
            }
            problems = selectors.latest_problems([u.pk for u in units], period_ids, target.initiative)
        return [
            {
                "unit": u,
                "figure": figures.get(u.pk, "—"),
                "problems_period": problems[u.pk][0] if u.pk in problems else None,
                "problems": problems[u.pk][1] if u.pk in problems else [],
            }
            for u in units
        ]


class UnitView(DashboardAccessMixin, PeriodMixin, TemplateView):
    """A unit: its measures and their status in the chosen period, its approved figures over
    time, and its submission history."""

    template_name = "reports/unit.html"

    def get_context_data(self, **kwargs):
        period = self.resolve_period()
        unit = get_object_or_404(Unit.objects.select_related("region"), code=self.kwargs["code"])
        context = super().get_context_data(unit=unit, **self.period_context(), **kwargs)
        if period is None:
            return context
        shown = self.shown_periods
        ids = [p.pk for p in shown]
        submission = selectors.unit_submission(unit, period)
        lines = (
            {line.measure_id: line for line in submission.lines.all() if line.measure_id}
            if submission
            else {}
        )
        measures = selectors.unit_measures(unit, self.plan)
        for measure in measures:
            measure.line = lines.get(measure.pk)
        work_lines = [line for line in submission.lines.all() if line.work_point_id] if submission else []
        figures = selectors.unit_figures(unit, ids)
        by_target = defaultdict(dict)
        targets = {}
        for figure in figures:
            targets.setdefault(figure.target_id, figure.target)
            by_target[figure.target_id][figure.submission.period_id] = figure
        figure_periods = [p for p in shown if any(p.pk in f for f in by_target.values())]
        figure_rows = [
            {
                "period": p,
                "cells": [figure_text(t, by_target[t.pk].get(p.pk)) for t in targets.values()],
            }
            for p in figure_periods
        ]
        history = selectors.unit_history(unit, ids)
        heat_labels = _heat_labels()
        history_rows = []
        for p in reversed(shown):
            row = history.get(p.pk)
            kind = selectors.heat_kind(row.status, row.timeliness) if row else "none"
            history_rows.append(
                {
                    "period": p,
                    "row": row,
                    "kind": kind,
                    "status_label": SubmissionStatus(row.status).label if row else "—",
                    "timeliness_label": Timeliness(row.timeliness).label if row else "—",
                }
            )
        late = sum(1 for r in history.values() if r.timeliness == Timeliness.LATE)
        missing = sum(1 for r in history.values() if r.timeliness == Timeliness.MISSING)
        context.update(
            submission=submission,
            measures=measures,
            work_lines=work_lines,
            figure_targets=list(targets.values()),
            figure_rows=figure_rows,
            history_rows=history_rows,
            late_count=late,
            missing_count=missing,
            heat_labels=heat_labels,
        )
        return context


class RegionView(DashboardAccessMixin, PeriodMixin, TemplateView):
    """A region: per-capita funding per year against its bound (1.5 元 for prefectures and
    counties, 2.2 元 for the province) and, for counties, funding against the 25万元 floor."""

    template_name = "reports/region.html"

    def get_context_data(self, **kwargs):
        period = self.resolve_period()
        region = get_object_or_404(
            Region.objects.select_related("parent").prefetch_related("governments"), code=self.kwargs["code"]
        )
        context = super().get_context_data(region=region, **self.period_context(), **kwargs)
        if period is None:
            return context
        shown = self.shown_periods
        bounds = selectors.funding_targets(self.plan, region.level)
        per_capita_target = next((t for t in bounds if t.measure_kind == MeasureKind.MONEY_PER_CAPITA), None)
        funding_target = next((t for t in bounds if t.measure_kind == MeasureKind.MONEY), None)
        ends = _year_ends(shown)
        history = selectors.region_history(region, [p.pk for p in ends.values()])
        baseline = selectors.region_baseline(self.plan, region)
        province_values = {}
        if region.level == RegionLevel.PROVINCE and per_capita_target is not None:
            # The province's figure is T29, which 省财政厅 reports as a target figure.
            province_values = {
                pid: s.actual
                for pid, s in selectors.target_series([per_capita_target.pk], [p.pk for p in ends.values()])
                .get(per_capita_target.pk, {})
                .items()
            }
        years = []
        for year, p in ends.items():
            snap = history.get(p.pk)
            per_capita = snap.per_capita if snap else province_values.get(p.pk)
            years.append(
                {
                    "year": year,
                    "period": p,
                    "funding": snap.funding if snap else None,
                    "population": snap.population if snap else None,
                    "per_capita": per_capita,
                    "per_capita_met": (per_capita >= per_capita_target.value)
                    if per_capita is not None and per_capita_target
                    else None,
                    "funding_met": (snap.funding >= funding_target.value)
                    if snap and snap.funding is not None and funding_target
                    else None,
                    "baseline_met": (per_capita >= baseline.value)
                    if baseline is not None and per_capita is not None
                    else None,
                }
            )
        per_capita_chart = charts.hbar_chart(
            [(_("%(year)s年") % {"year": y["year"]}, y["per_capita"]) for y in years],
            _("元/人"),
            _("%(region)s 人均科普经费（元/人）") % {"region": display_name(region)},
            reference=per_capita_target.value if per_capita_target else None,
            reference_label=_("目标值 %(v)s 元/人") % {"v": charts.fmt(per_capita_target.value)}
            if per_capita_target
            else None,
        )
        funding_chart = None
        if funding_target is not None:
            funding_chart = charts.hbar_chart(
                [(_("%(year)s年") % {"year": y["year"]}, y["funding"]) for y in years],
                _("万元"),
                _("%(region)s 年度科普经费（万元）") % {"region": display_name(region)},
                reference=funding_target.value,
                reference_label=_("目标值 %(v)s 万元") % {"v": charts.fmt(funding_target.value)},
            )
        children, child_target = [], None
        child_level = {
            RegionLevel.PROVINCE: RegionLevel.PREFECTURE,
            RegionLevel.PREFECTURE: RegionLevel.COUNTY,
        }
        if region.level in child_level:
            child_target = next(
                (
                    t
                    for t in selectors.funding_targets(self.plan, child_level[region.level])
                    if t.measure_kind == MeasureKind.MONEY_PER_CAPITA
                ),
                None,
            )
            for child, child_snap in selectors.children_at(region, period):
                children.append(
                    {
                        "region": child,
                        "snap": child_snap,
                        "met": (child_snap.per_capita >= child_target.value)
                        if child_target and child_snap and child_snap.per_capita is not None
                        else None,
                    }
                )
        county_rows = []
        if region.level == RegionLevel.PREFECTURE:
            county_rows, _now = heatmap_rows(
                selectors.county_compliance(region, [p.pk for p in shown]), shown, period
            )
        context.update(
            baseline=baseline,
            heat_rows=county_rows,
            heat_periods=shown,
            heat_years=year_spans(shown),
            heat_legend=heat_legend(),
            years=years,
            per_capita_target=per_capita_target,
            funding_target=funding_target,
            per_capita_chart=per_capita_chart,
            funding_chart=funding_chart,
            children=children,
            child_target=child_target,
            governments=list(region.governments.all()),
            narratives=selectors.region_narratives(region, [p.pk for p in shown]),
        )
        return context


class EvaluationRulesView(PolicyRequiredMixin, TemplateView):
    """目标指标评估口径: how every target is judged, with a worked example (docs/evaluation.md)."""

    template_name = "reports/evaluation_rules.html"

    def get_context_data(self, **kwargs):
        plan, _periods = selectors.plan_and_periods()
        if plan is None:
            raise Http404(_("尚未载入实施方案。"))
        return super().get_context_data(plan=plan, rows=evaluation.evaluation_rows(plan), **kwargs)
