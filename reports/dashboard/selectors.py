"""Read queries of the dashboard: snapshot rows (written by the roll-up), never roll-ups.

Every function here issues a fixed number of queries, whatever the number of units, targets or
periods: the dashboard's query count is pinned in tests.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, JSONField, OuterRef, Prefetch, Q, Subquery
from django.utils.translation import gettext_lazy, pgettext_lazy

from portal.names import pick
from reports.choices import RunStatus
from reports.models import (
    ContributionSnapshot,
    InitiativeSnapshot,
    RegionSnapshot,
    RollupRun,
    TargetSnapshot,
    UnitPeriodSnapshot,
)
from targets.choices import MeasureKind
from targets.models import RegionBaseline, Target, TargetFigure
from tasks import rules
from tasks.choices import AssignmentRole, SubmissionStatus, Timeliness
from tasks.models import Assignment, Initiative, MeasureLine, Period, Plan, Submission
from tasks.selectors import current_plan
from tasks.services import assigned_measures
from units.choices import RegionLevel, UnitKind
from units.models import Region, Unit


@dataclass(frozen=True)
class HeatKind:
    """A cell kind of the compliance heatmap (dashboard, unit page, PDF reports): its label, the
    page's glyph and the PDF's mark (the map never relies on colour alone) and its urgency (a
    group of units shows its most urgent kind; 1 is the most urgent)."""

    kind: str
    label: str
    glyph: str
    mark: str
    urgency: int


# The heatmap's one definition, in legend order. Labels and marks are lazy: str() them per
# request or report, so that the active language applies.
HEAT_LEGEND = (
    HeatKind("approved_on_time", gettext_lazy("已通过（按时）"), "✓", "√", 7),
    HeatKind("approved_late", gettext_lazy("已通过（逾期）"), "✓", pgettext_lazy("compliance mark", "逾"), 6),
    HeatKind("submitted", gettext_lazy("已提交"), "↑", pgettext_lazy("compliance mark", "审"), 3),
    HeatKind("returned", gettext_lazy("已退回"), "↩", pgettext_lazy("compliance mark", "退"), 2),
    HeatKind("draft", gettext_lazy("草稿"), "…", pgettext_lazy("compliance mark", "草"), 4),
    HeatKind("missing", gettext_lazy("未报"), "✗", "×", 1),
    HeatKind("pending", gettext_lazy("未到期"), "", "", 5),
)
HEAT_KINDS = tuple(k.kind for k in HEAT_LEGEND)
# The heatmap's kinds from most to least urgent.
HEAT_URGENCY = tuple(k.kind for k in sorted(HEAT_LEGEND, key=lambda k: k.urgency))


def heat_kind(status, timeliness):
    """A unit's cell in the heatmap from its submission status and timeliness for a period."""
    if status == SubmissionStatus.APPROVED:
        return "approved_late" if timeliness == Timeliness.LATE else "approved_on_time"
    if status == SubmissionStatus.SUBMITTED:
        return "submitted"
    if status == SubmissionStatus.RETURNED:
        return "returned"
    if timeliness == Timeliness.MISSING:
        return "missing"
    if status == SubmissionStatus.DRAFT:
        return "draft"
    return "pending"


# ---------------------------------------------------------------- periods


def period_exists(requested: str) -> bool:
    """Whether ``?period=`` names a period that exists (a plain id of at most 12 digits)."""
    return (
        requested.isascii()
        and requested.isdigit()
        and len(requested) <= 12
        and Period.objects.filter(pk=int(requested)).exists()
    )


def plan_and_periods():
    """(plan, periods) of the current plan in one query. Each period carries ``has_snapshots``
    and ``last_rollup`` (when the plan's last successful roll-up finished: the same value on
    every row, fetched in the same round trip to keep the dashboard's query count down)."""
    current = Plan.objects.order_by("-start_year").values("pk")[:1]
    last_run = (
        RollupRun.objects.filter(
            plan_id=OuterRef("plan_id"), status=RunStatus.SUCCEEDED, finished_at__isnull=False
        )
        .order_by("-finished_at")
        .values("finished_at")[:1]
    )
    periods = list(
        Period.objects.filter(plan_id=Subquery(current))
        .select_related("plan")
        .annotate(
            has_snapshots=Exists(TargetSnapshot.objects.filter(period=OuterRef("pk"))),
            last_rollup=Subquery(last_run),
        )
        .order_by("year", "quarter")
    )
    plan = periods[0].plan if periods else current_plan()
    return plan, periods


def default_period(periods, today):
    """The dashboard's period: ``rules.as_of_period`` among the periods the roll-up has written
    (None before any of them has ended)."""
    return rules.as_of_period([p for p in periods if p.has_snapshots], today)


def choose_period(periods, requested, today):
    """(period, problem): the requested period id when it has snapshots, else the default with
    a reason the page can show."""
    fallback = default_period(periods, today)
    if requested in (None, ""):
        return fallback, None
    try:
        wanted = int(requested)
    except (TypeError, ValueError):
        return fallback, "invalid"
    chosen = next((p for p in periods if p.pk == wanted), None)
    if chosen is None:
        return fallback, "invalid"
    if not chosen.has_snapshots:
        return fallback, "no_snapshots"
    return chosen, None


def periods_up_to(periods, period):
    return [p for p in periods if period is not None and p.key <= period.key]


# ---------------------------------------------------------------- the dashboard


def initiatives_at(plan, period):
    """The plan's initiatives, each with its snapshot's counts at ``period``, in one query."""
    snapshot = InitiativeSnapshot.objects.filter(initiative=OuterRef("pk"), period=period)
    return list(
        Initiative.objects.filter(plan=plan)
        .annotate(
            targets_by_status=Subquery(snapshot.values("targets_by_status")[:1], output_field=JSONField()),
            lines_by_status=Subquery(snapshot.values("lines_by_status")[:1], output_field=JSONField()),
            units_reported=Subquery(snapshot.values("units_reported")[:1]),
        )
        .order_by("sort_order")
    )


def target_series(target_ids, period_ids):
    """{target_id: {period_id: snapshot}} of the given targets and periods, in one query."""
    rows = TargetSnapshot.objects.filter(target_id__in=target_ids, period_id__in=period_ids).defer(
        "as_of", "figures"
    )
    series = defaultdict(dict)
    for row in rows:
        series[row.target_id][row.period_id] = row
    return series


@dataclass
class HeatUnit:
    """A heatmap row's unit, without a model instance (the dashboard reads thousands of cells)."""

    code: str
    short_name: str


@dataclass
class HeatGroup:
    """The county governments of one prefecture, one heatmap row: ``cells`` maps a period id to a
    Counter of (status, timeliness), ``size`` is the number of governments."""

    code: str  # the prefecture's region code (the region page lists each government)
    name: str
    size: int
    cells: dict = field(default_factory=dict)


def _county_units():
    return Q(unit__kind=UnitKind.LOCAL_GOVERNMENT, unit__region__level=RegionLevel.COUNTY)


def compliance(period_ids):
    """The heatmap of the dashboard, in two queries whatever the number of units: ``(units,
    groups)`` where ``units`` is [(HeatUnit, {period_id: (status, timeliness)})] for every unit
    but the county governments (provincial units, prefecture governments), in the units' order,
    and ``groups`` is [HeatGroup] with the county governments counted per prefecture."""
    units = _unit_cells(
        UnitPeriodSnapshot.objects.filter(period_id__in=period_ids)
        .exclude(_county_units())
        .order_by("unit__sort_order", "unit__code")
    )
    groups = {}
    county_rows = (
        UnitPeriodSnapshot.objects.filter(_county_units(), period_id__in=period_ids)
        .values_list(
            "unit__region__parent__code",
            "unit__region__parent__name",
            "unit__region__parent__name_en",
            "unit__region__parent__pinyin",
            "period_id",
            "status",
            "timeliness",
        )
        .annotate(n=Count("pk"))
        .order_by("unit__region__parent__code")
    )
    for code, name, name_en, pinyin, period_id, status, timeliness, n in county_rows:
        group = groups.setdefault(code, HeatGroup(code, pick(name, name_en, pinyin)[0], 0))
        group.cells.setdefault(period_id, Counter())[(status, timeliness)] += n
    for group in groups.values():
        group.size = max(sum(counter.values()) for counter in group.cells.values())
    return units, list(groups.values())


def county_compliance(prefecture, period_ids):
    """[(unit, {period_id: (status, timeliness)})] of the county governments of a prefecture (the
    region page's heatmap), in one query."""
    return _unit_cells(
        UnitPeriodSnapshot.objects.filter(
            _county_units(), unit__region__parent=prefecture, period_id__in=period_ids
        ).order_by("unit__region__code", "unit__sort_order", "unit__code")
    )


def _unit_cells(snapshots):
    """[(HeatUnit, {period_id: (status, timeliness)})] of ordered unit snapshots, in one query."""
    units, cells = {}, defaultdict(dict)
    for unit_id, code, short_name, short_en, name_en, period_id, status, timeliness in snapshots.values_list(
        "unit_id",
        "unit__code",
        "unit__short_name",
        "unit__short_name_en",
        "unit__name_en",
        "period_id",
        "status",
        "timeliness",
    ):
        if unit_id not in units:
            units[unit_id] = HeatUnit(code, pick(short_name, short_en, name_en)[0])
        cells[unit_id][period_id] = (status, timeliness)
    return [(unit, cells[unit_id]) for unit_id, unit in units.items()]


def dashboard_series(plan, period_ids):
    """(targets, {target_id: {period_id: snapshot}}) from the snapshots alone, in one query.

    The targets are those the roll-up has written rows for: it writes every target of the plan
    for every period it covers, so a target added after the last roll-up appears after the next.
    """
    rows = (
        TargetSnapshot.objects.filter(target__plan=plan, period_id__in=period_ids)
        .select_related("target")
        .defer("as_of", "figures", "target__questions", "target__notes")
        .order_by("target__sort_order", "target_id")
    )
    targets, series = {}, defaultdict(dict)
    for row in rows:
        targets.setdefault(row.target_id, row.target)
        series[row.target_id][row.period_id] = row
    return list(targets.values()), series


def dashboard_data(plan, periods, period):
    """Everything the dashboard shows at ``period``, in four queries (with ``plan_and_periods``,
    five), whatever the number of units, targets and periods."""
    shown = periods_up_to(periods, period)
    targets, series = dashboard_series(plan, [p.pk for p in shown])
    return {
        "initiatives": initiatives_at(plan, period),
        "targets": targets,
        "series": series,
        "compliance": compliance([p.pk for p in shown]),
        "last_rollup": periods[0].last_rollup if periods else None,
        "shown_periods": shown,
    }


# ---------------------------------------------------------------- an initiative


def initiative_structure(plan, code):
    """An initiative with its parts, measures and assignments (units joined), or None."""
    return (
        Initiative.objects.filter(plan=plan, code=code)
        .prefetch_related(
            "parts",
            "measures",
            Prefetch("assignments", queryset=Assignment.objects.select_related("unit", "part")),
        )
        .first()
    )


def approved_lines(initiative, period):
    """The approved lines of an initiative's measures in a period, with unit and measure."""
    return list(
        MeasureLine.objects.filter(
            measure__initiative=initiative,
            submission__period=period,
            submission__status=SubmissionStatus.APPROVED,
        )
        .select_related("measure", "submission__unit")
        .order_by("measure__number", "submission__unit__sort_order", "submission__unit__code")
    )


def contributions_at(target_ids, period):
    """{target_id: [contribution snapshots, largest first]} at one period, units joined."""
    grouped = defaultdict(list)
    for row in (
        ContributionSnapshot.objects.filter(target_id__in=target_ids, period=period)
        .select_related("unit")
        .order_by("-value", "unit__sort_order")
    ):
        grouped[row.target_id].append(row)
    return grouped


def initiative_snapshot(initiative, period):
    return InitiativeSnapshot.objects.filter(initiative=initiative, period=period).first()


# ---------------------------------------------------------------- a target


def target_with_related(plan, code):
    return (
        Target.objects.filter(plan=plan, code=code)
        .select_related("initiative", "part", "measure", "owner_unit")
        .prefetch_related("reporting_units")
        .first()
    )


def contribution_history(target, period_ids):
    """[(period_id, unit, value)] of a target across periods, units joined."""
    return list(
        ContributionSnapshot.objects.filter(target=target, period_id__in=period_ids)
        .select_related("unit")
        .order_by("period__year", "period__quarter", "unit__sort_order")
    )


def regional_standing(target, period):
    """For a per-region target: every region of its level with its snapshot at ``period``, its
    government and its bound (``region.bound``), in two or three queries:
    [(region, snapshot | None, unit | None)]."""
    levels = target.judged_region_levels
    regions = list(
        Region.objects.filter(level__in=levels)
        .prefetch_related(Prefetch("governments", queryset=Unit.objects.filter(is_active=True)))
        .order_by("code")
    )
    snapshots = {
        row.region_id: row
        for row in RegionSnapshot.objects.filter(period=period, region__level__in=levels).only(
            "region_id", "funding", "population", "per_capita"
        )
    }
    # Each region's bound: the plan's value, or the region's own baseline (T32; None when the
    # office has not entered it, and the region is then not judged).
    if target.own_region_bounds:
        own = dict(RegionBaseline.objects.filter(target=target).values_list("region_id", "value"))
        for region in regions:
            region.bound = own.get(region.pk)
    else:
        for region in regions:
            region.bound = target.value
    return [(r, snapshots.get(r.pk), next(iter(r.governments.all()), None)) for r in regions]


def latest_figures(target, unit_ids, period_ids):
    """{unit_id: the unit's latest approved figure for ``target`` up to the given periods}."""
    latest = {}
    rows = (
        TargetFigure.objects.approved()
        .filter(target=target, submission__unit_id__in=unit_ids, submission__period_id__in=period_ids)
        .select_related("submission__period")
        .order_by("submission__period__year", "submission__period__quarter")
    )
    for figure in rows:
        latest[figure.submission.unit_id] = figure
    return latest


def latest_problems(unit_ids, period_ids, initiative=None):
    """{unit_id: (period, [lines with problems])} from each unit's latest approved submission
    that reported problems (on the initiative's measures when given)."""
    lines = (
        MeasureLine.objects.filter(
            submission__unit_id__in=unit_ids,
            submission__period_id__in=period_ids,
            submission__status=SubmissionStatus.APPROVED,
        )
        .exclude(problems="")
        .select_related("measure", "work_point", "submission__period")
        .order_by("-submission__period__year", "-submission__period__quarter", "sort_order")
    )
    if initiative is not None:
        lines = lines.filter(measure__initiative=initiative)
    result = {}
    for line in lines:
        unit_id = line.submission.unit_id
        found = result.get(unit_id)
        if found is None:
            result[unit_id] = (line.submission.period, [line])
        elif found[0].pk == line.submission.period_id:
            found[1].append(line)
    return result


# ---------------------------------------------------------------- a unit


def unit_measures(unit, plan):
    """The measures assigned to a unit (``tasks.services.assigned_measures``), in plan order,
    each with ``role`` (its label: lead or responsible) and ``initiative_ref``."""
    measures = assigned_measures(unit, plan)
    for measure in measures:
        measure.role = AssignmentRole(measure.role).label
        measure.initiative_ref = measure.initiative
    return measures


def unit_submission(unit, period):
    return (
        Submission.objects.filter(unit=unit, period=period)
        .prefetch_related(
            Prefetch("lines", queryset=MeasureLine.objects.select_related("measure", "work_point"))
        )
        .first()
    )


def unit_figures(unit, period_ids):
    """The unit's approved figures in the given periods, targets and periods joined."""
    return list(
        TargetFigure.objects.approved()
        .filter(submission__unit=unit, submission__period_id__in=period_ids)
        .select_related("target", "submission__period")
        .order_by("target__sort_order", "submission__period__year", "submission__period__quarter")
    )


def unit_history(unit, period_ids):
    return {
        row.period_id: row
        for row in UnitPeriodSnapshot.objects.filter(unit=unit, period_id__in=period_ids).only(
            "period_id", "status", "timeliness", "submitted_on"
        )
    }


# ---------------------------------------------------------------- a region


def funding_targets(plan, level):
    """The targets that set the bounds for a region level: per-capita funding and, for
    counties, the funding floor."""
    return list(
        Target.objects.filter(plan=plan, region_level=level)
        .filter(Q(measure_kind=MeasureKind.MONEY_PER_CAPITA) | Q(measure_kind=MeasureKind.MONEY))
        .exclude(value=0)
        .order_by("sort_order")
    )


def region_baseline(plan, region):
    """The region's own baseline (T32: its 2020 per-capita funding), or None if not entered."""
    return RegionBaseline.objects.filter(target__plan=plan, region=region).select_related("target").first()


def region_history(region, period_ids):
    return {
        row.period_id: row
        for row in RegionSnapshot.objects.filter(region=region, period_id__in=period_ids).only(
            "period_id", "funding", "population", "per_capita"
        )
    }


def region_narratives(region, period_ids, limit=8):
    """The region's government's own account of its work (``RegionFigure.narrative``) from its
    approved forms of ``period_ids``, latest first: [(period, narrative)]. One query."""
    from targets.models import RegionFigure

    rows = (
        RegionFigure.objects.filter(
            region=region,
            submission__period_id__in=period_ids,
            submission__status=SubmissionStatus.APPROVED,
        )
        .exclude(narrative="")
        .select_related("submission__period")
        .order_by("-submission__period__year", "-submission__period__quarter")[:limit]
    )
    return [(row.submission.period, row.narrative) for row in rows]


def children_at(region, period):
    """The region's sub-regions with their snapshot at ``period``: [(region, snapshot | None)]."""
    children = list(region.children.order_by("code"))
    snapshots = {
        row.region_id: row
        for row in RegionSnapshot.objects.filter(period=period, region__parent=region).only(
            "region_id", "funding", "population", "per_capita"
        )
    }
    return [(child, snapshots.get(child.pk)) for child in children]


def judged_series(plan, periods, shown, knowledge_date, *, contributions_of=None):
    """{target_id: {period_id: standing}} as ``target_series`` gives it, judged from the figures
    as approved at the end of ``knowledge_date`` (``reports.rollup.knowledge``) instead of the snapshots.
    With ``contributions_of`` (a target), also that target's contributions as
    ``contribution_history`` gives them: (series, contributions)."""
    from types import SimpleNamespace

    from reports.rollup.knowledge import DataAsOf, end_of_day
    from reports.rollup.rollups import judge_targets

    rows, contributions, _initiatives = judge_targets(
        plan, periods, shown, DataAsOf(end_of_day(knowledge_date))
    )
    series = defaultdict(dict)
    for row in rows:
        series[row["target_id"]][row["period_id"]] = SimpleNamespace(**row)
    if contributions_of is None:
        return series
    mine = [c for c in contributions if c["target_id"] == contributions_of.pk]
    units = Unit.objects.in_bulk({c["unit_id"] for c in mine})
    order = {p.pk: p.key for p in shown}
    history = [
        SimpleNamespace(
            period_id=c["period_id"], unit_id=c["unit_id"], unit=units[c["unit_id"]], value=c["value"]
        )
        for c in mine
        if c["unit_id"] in units
    ]
    history.sort(key=lambda c: (order.get(c.period_id, 0), c.unit.sort_order))
    return series, history
