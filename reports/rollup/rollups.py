"""Roll-ups: approved figures into the snapshot tables, per target, unit, region, initiative and
period. Idempotent: a run makes the snapshot rows of the periods it covers equal to what the
approved data gives, under a lock on the plan's row, so running it twice, or two at once, leaves
the same rows.

A run writes only the differences: rows that are new, changed or no longer produced. A nightly
run over unchanged data reads and compares but writes nothing, and an approval rewrites only
the rows it moves (no dead rows for the vacuum, no index or foreign-key work for the rest).

The large tables (a unit per period, a region per period) are synchronised by SQL statements
that compute, compare and write in the database, so the worker's memory does not grow with the
data. The target tables are small (targets × periods) and computed in Python from grouped rows.
"""

import datetime
import logging
from collections import defaultdict
from decimal import Decimal
from itertools import repeat

from django.db import connection, transaction
from django.utils import timezone

from portal import page_cache
from portal.sql import convert, converters_for
from reports.choices import ProgressStatus
from reports.models import (
    ContributionSnapshot,
    InitiativeSnapshot,
    RegionSnapshot,
    StatusThresholds,
    TargetSnapshot,
    UnitPeriodSnapshot,
)
from reports.rollup import progress
from targets.choices import Bound, Combine, MeasureKind, TimeScope
from targets.models import ExternalFigure, RegionBaseline, Target, TargetFigure, TargetWaypoint
from tasks.choices import SubmissionStatus
from tasks.models import Measure, MeasureLine, Period, Plan, Submission
from units.models import Region

logger = logging.getLogger(__name__)

BATCH = 2000


def thresholds_for(plan):
    row = StatusThresholds.objects.filter(plan=plan).first()
    if row is None:
        return progress.Thresholds()
    return progress.Thresholds(ahead=row.ahead, on_track=row.on_track, behind=row.behind)


def rule_for(target, plan):
    return progress.TargetRule(
        combine=target.combine,
        time_scope=target.time_scope,
        bound=target.bound,
        value=target.value,
        value_max=target.value_max,
        start_year=plan.start_year,
        deadline_year=target.deadline_year,
        percent=target.unit == "%" or target.measure_kind == MeasureKind.PERCENTAGE,
        baseline=target.baseline_value,
        needs_baseline=target.needs_baseline,
        aspiration=target.aspiration,
        ceiling=target.ceiling
        if target.ceiling is not None
        else (Decimal(100) if target.unit == "%" else None),
    )


def year_ends(periods):
    """{year: the year's last period} (the 2021 baseline period ends 2021)."""
    ends = {}
    for period in periods:
        ends[period.year] = period
    return ends


def completed_years(plan, year_end_periods, as_of):
    """The plan's years that have ended by ``as_of`` and have a last period, in order."""
    return [
        year
        for year in range(plan.start_year, plan.end_year + 1)
        if year in year_end_periods and datetime.date(year, 12, 31) <= as_of
    ]


def rollup(plan: Plan, from_period: Period | None = None, *, today: datetime.date | None = None) -> int:
    """Recompute every snapshot from ``from_period`` on (all periods when None); return the number
    of snapshot rows inserted, changed or deleted (0 when the snapshots were already up to date)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        # One roll-up of a plan at a time: the second waits, then recomputes the same rows.
        Plan.objects.select_for_update().get(pk=plan.pk)
        transaction.on_commit(page_cache.bump)  # the dashboard's cached bodies are now stale
        periods = list(Period.objects.filter(plan=plan).order_by("year", "quarter"))
        if from_period is not None:
            chosen = [p for p in periods if p.key >= from_period.key]
        else:
            chosen = periods
        if not chosen:
            return 0
        ids = [p.pk for p in chosen]
        written = _unit_snapshots(ids, today)
        written += _region_snapshots(ids)
        target_rows, contributions, initiative_of = judge_targets(plan, periods, chosen)
        written += _sync(TargetSnapshot, ("target_id", "period_id"), target_rows, ids)
        written += _sync(ContributionSnapshot, ("target_id", "period_id", "unit_id"), contributions, ids)
        initiative_rows = _initiative_snapshots(plan, chosen, target_rows, initiative_of)
        written += _sync(InitiativeSnapshot, ("initiative_id", "period_id"), initiative_rows, ids)
        return written


def _sync(model, key, rows, period_ids):
    """Make ``model``'s rows of ``period_ids`` equal ``rows`` (dicts of column → value, every
    column but the id): insert the new, update the changed, delete the ones no longer produced.
    The stored rows are read as tuples with plain SQL (the ORM's per-row machinery cost more
    than the query here); only rows written become model instances. Returns the number of rows
    written. (Tried and dropped: sending the rows to PostgreSQL as JSON and comparing them there,
    as ``_sync_sql`` does for the large tables; at a few hundred rows it was no faster.)"""
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    value_fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in key]
    fields = [model._meta.pk, *(by_name[k] for k in key), *value_fields]  # as each row is read
    values = [f.attname for f in value_fields]
    converters = converters_for(fields, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(f.column for f in fields)} FROM {model._meta.db_table}"
            f" WHERE period_id IN ({_in(period_ids)})"
        )
        stored = cursor.fetchall()
    existing = {}
    for row in stored:
        row = tuple(convert(list(row), converters, connection)) if converters else row
        existing[row[1 : 1 + len(key)]] = row
    create, update = [], []
    for row in rows:
        old = existing.pop(tuple(row[k] for k in key), None)
        if old is None:
            create.append(model(**row))
        elif old[1 + len(key) :] != tuple(row[v] for v in values):
            update.append(model(pk=old[0], **row))
    if existing:
        model.objects.filter(pk__in=[row[0] for row in existing.values()]).delete()
    model.objects.bulk_create(create, batch_size=BATCH)
    model.objects.bulk_update(update, values, batch_size=BATCH // 4)
    return len(create) + len(update) + len(existing)


def _sync_sql(table, columns, key, select, params, period_ids):
    """Make ``table``'s rows of ``period_ids`` equal the rows of ``select`` (which yields
    ``columns`` for those periods only), in the database. A full join of the computed rows with
    the stored ones keeps only the differences (none when nothing changed); then the stale rows
    are deleted, the new inserted and the changed updated. Returns the number of rows written.

    PostgreSQL does it in one statement: the differences are a common table expression that the
    DELETE, INSERT and UPDATE expressions beside it read (they touch disjoint rows, and all see
    the table as it was). SQLite, the embedded default, has no data-modifying WITH, FULL JOIN
    (before 3.39) or UPDATE … FROM (before 3.33): it keeps the differences in a temporary table,
    found by a left join plus the stored rows with no computed row, and updates row by row; its
    tables are small."""
    names = ", ".join(columns)
    values = [c for c in columns if c not in key]
    stored = f"(SELECT * FROM {table} WHERE period_id IN ({_in(period_ids)}))"
    same_key = " AND ".join(f"n.{k} = t.{k}" for k in key)
    if connection.vendor == "postgresql":
        changed = " OR ".join(f"n.{c} IS DISTINCT FROM t.{c}" for c in values)
        sql = f"""
            WITH diff AS (
                SELECT {", ".join(f"n.{c}" for c in columns)}, t.id AS old_id
                FROM ({select}) n FULL JOIN {stored} t ON {same_key}
                WHERE t.id IS NULL OR n.{key[0]} IS NULL OR {changed}
            ), deleted AS (
                DELETE FROM {table} WHERE id IN (SELECT old_id FROM diff WHERE {key[0]} IS NULL)
                RETURNING 1
            ), inserted AS (
                INSERT INTO {table} ({names}) SELECT {names} FROM diff WHERE old_id IS NULL
                RETURNING 1
            ), updated AS (
                UPDATE {table} SET {", ".join(f"{c} = d.{c}" for c in values)} FROM diff d
                WHERE {table}.id = d.old_id AND d.{key[0]} IS NOT NULL
                RETURNING 1
            )
            SELECT (SELECT COUNT(*) FROM deleted) + (SELECT COUNT(*) FROM inserted)
                   + (SELECT COUNT(*) FROM updated)
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
    temp = f"diff_{table}"
    changed = " OR ".join(f"n.{c} IS NOT t.{c}" for c in values)
    diff = f"""
        SELECT {", ".join(f"n.{c}" for c in columns)}, t.id AS old_id
        FROM ({select}) n LEFT JOIN {stored} t ON {same_key}
        WHERE t.id IS NULL OR {changed}
        UNION ALL
        SELECT {", ".join("NULL" for _c in columns)}, t.id FROM {stored} t
        WHERE NOT EXISTS (SELECT 1 FROM ({select}) n WHERE {same_key})
    """
    statements = (
        f"DELETE FROM {table} WHERE id IN (SELECT old_id FROM {temp} WHERE {key[0]} IS NULL)",
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {temp} WHERE old_id IS NULL",
        f"""UPDATE {table} SET {
            ", ".join(f"{c} = (SELECT d.{c} FROM {temp} d WHERE d.old_id = {table}.id)" for c in values)
        } WHERE id IN (SELECT old_id FROM {temp} WHERE {key[0]} IS NOT NULL)""",
    )
    written = 0
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} AS {diff}", [*params, *params])
        if cursor.rowcount:
            for statement in statements:
                cursor.execute(statement)
                written += max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {temp}")
    return written


def _local_date(column):
    """SQL for the local (Asia/Shanghai, no daylight saving) date of a timestamp column."""
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE 'Asia/Shanghai')::date"
    return f"date({column}, '+8 hours')"


def _in(ids):
    return ",".join(str(int(i)) for i in ids)


def _unit_snapshots(period_ids, today):
    """Status and timeliness of every active unit in every chosen period.

    The SQL repeats ``tasks.rules.deadline_for`` (the COALESCE) and ``tasks.rules.timeliness``
    (the CASE) for speed; ``tests/test_rules.py`` checks every row against them on random data."""
    local = _local_date("s.first_submitted_at")
    deadline = "COALESCE(e.deadline, p.deadline)"
    select = f"""
        SELECT u.id AS unit_id, p.id AS period_id, COALESCE(s.status, 'not_started') AS status,
               CASE WHEN s.first_submitted_at IS NOT NULL THEN
                        CASE WHEN {local} <= {deadline} THEN 'on_time' ELSE 'late' END
                    WHEN %s > {deadline} THEN 'missing'
                    ELSE 'pending' END AS timeliness,
               CASE WHEN s.first_submitted_at IS NOT NULL THEN {local} END AS submitted_on
        FROM units_unit u
        CROSS JOIN tasks_period p
        LEFT JOIN tasks_submission s ON s.unit_id = u.id AND s.period_id = p.id
        LEFT JOIN tasks_deadlineextension e ON e.unit_id = u.id AND e.period_id = p.id
        WHERE u.is_active AND p.id IN ({_in(period_ids)})
    """
    return _sync_sql(
        UnitPeriodSnapshot._meta.db_table,
        ("unit_id", "period_id", "status", "timeliness", "submitted_on"),
        ("unit_id", "period_id"),
        select,
        [today],
        period_ids,
    )


def _region_snapshots(period_ids):
    """Each region's latest approved funding figure of the year up to each chosen period: a
    figure of quarter q holds for the periods of its year from q up to the next approved one."""
    select = f"""
        SELECT f.region_id AS region_id, p.id AS period_id, f.funding AS funding, f.population AS population,
               CASE WHEN f.population > 0 THEN ROUND(f.funding * 1.0 / f.population, 2) END AS per_capita
        FROM (
            SELECT rf.region_id, p2.plan_id, p2.year, p2.quarter, rf.funding, rf.population,
                   LEAD(p2.quarter, 1, 5) OVER (
                       PARTITION BY rf.region_id, p2.plan_id, p2.year ORDER BY p2.quarter
                   ) AS next_quarter
            FROM targets_regionfigure rf
            JOIN tasks_submission s ON s.id = rf.submission_id AND s.status = %s
            JOIN tasks_period p2 ON p2.id = s.period_id
            WHERE rf.funding IS NOT NULL AND rf.population IS NOT NULL
              AND p2.year IN (SELECT year FROM tasks_period WHERE id IN ({_in(period_ids)}))
        ) f
        JOIN tasks_period p ON p.plan_id = f.plan_id AND p.year = f.year
             AND p.quarter >= f.quarter AND p.quarter < f.next_quarter
        WHERE p.id IN ({_in(period_ids)})
    """
    return _sync_sql(
        RegionSnapshot._meta.db_table,
        ("region_id", "period_id", "funding", "population", "per_capita"),
        ("region_id", "period_id"),
        select,
        [SubmissionStatus.APPROVED.value],
        period_ids,
    )


def _approved_figures(plan):
    """{target_id: [(period_key, year, unit_id, value, covered, total, done)]} of approved figures."""
    rows = (
        TargetFigure.objects.approved()
        .filter(submission__period__plan=plan)
        .values_list(
            "target_id",
            "submission__period__year",
            "submission__period__quarter",
            "submission__unit_id",
            "value",
            "covered",
            "total",
            "done",
        )
        .order_by("target_id", "submission__period__year", "submission__period__quarter")
    )
    grouped = defaultdict(list)
    for target_id, year, quarter, unit_id, value, covered, total, done in rows:
        grouped[target_id].append((year * 10 + quarter, year, unit_id, value, covered, total, done))
    return grouped


def _figure_value(target, rule, row):
    _key, _year, _unit, value, covered, total, done = row
    if target.combine == Combine.COVERAGE:
        return progress.coverage_value(covered, total, rule.percent)
    if target.combine == Combine.MILESTONE:
        return None if done is None else Decimal(1 if done else 0)
    return value


def figure_values(target, rule, rows):
    """[(period_key, year, unit_id, value)] of a target's approved figures that carry a value."""
    valued = ((row, _figure_value(target, rule, row)) for row in rows)
    return [(row[0], row[1], row[2], value) for row, value in valued if value is not None]


def actual_at(target, rows, period):
    """(actual, {unit_id: contribution}, figures counted) of a target at the end of ``period``,
    from its ``figure_values``."""
    key = period.key
    per_year = target.time_scope == TimeScope.PER_YEAR
    per_unit = defaultdict(list)
    for row_key, year, unit_id, value in rows:
        if row_key <= key and (not per_year or year == period.year):
            per_unit[unit_id].append((row_key, value))
    if not per_unit:
        return None, {}, 0
    counted = sum(len(v) for v in per_unit.values())
    if target.combine == Combine.INCREMENT:
        contributions = {unit: sum((v for _k, v in values), Decimal(0)) for unit, values in per_unit.items()}
        return sum(contributions.values(), Decimal(0)), contributions, counted
    latest = {unit: max(values, key=lambda kv: kv[0]) for unit, values in per_unit.items()}
    return _latest_actual(target, latest), {unit: kv[1] for unit, kv in latest.items()}, counted


def actuals_through(target, rows, periods):
    """``actual_at`` of each of ``periods`` (ascending and consecutive, as a roll-up takes them),
    in one pass over the rows, which ``figure_values`` gives in period order: running sums per unit
    for increments, the latest value per unit otherwise. Yields what ``actual_at`` returns."""
    per_year = target.time_scope == TimeScope.PER_YEAR
    increment = target.combine == Combine.INCREMENT
    index, year = 0, None
    sums, latest, counted = {}, {}, 0
    for period in periods:
        if per_year and period.year != year:  # a new year: the per-year figures start again
            year, sums, latest, counted = period.year, {}, {}, 0
        while index < len(rows) and rows[index][0] <= period.key:
            row_key, row_year, unit_id, value = rows[index]
            index += 1
            if per_year and row_year != period.year:
                continue
            counted += 1
            if increment:
                sums[unit_id] = sums.get(unit_id, progress.ZERO) + value
            else:
                latest[unit_id] = (row_key, value)
        if not counted:
            yield None, {}, 0
        elif increment:
            yield sum(sums.values(), progress.ZERO), dict(sums), counted
        else:
            yield _latest_actual(target, latest), {unit: kv[1] for unit, kv in latest.items()}, counted


def _latest_actual(target, latest):
    """A level's or milestone's actual from each unit's latest (period key, value)."""
    if target.combine == Combine.MILESTONE:
        return Decimal(1) if any(v == 1 for _k, v in latest.values()) else Decimal(0)
    # A level has one reporter per scope: the owner's figure when it reports, otherwise the most
    # recent one (the larger on a tie). Levels are never summed.
    if target.owner_unit_id in latest:
        return latest[target.owner_unit_id][1]
    return max(latest.values(), key=lambda kv: (kv[0], kv[1]))[1]


def _external_at(figures, as_of):
    chosen = [f for f in figures if f[0] <= as_of]
    return (chosen[-1][1], len(chosen)) if chosen else (None, 0)


def _regional(counts, total):
    """(met, total) of regions meeting a per-region target at one period, from the database's
    (met, reported) counts; met is None when no region reported."""
    met, reported = counts
    return (met if reported else None), total


def _regional_counts(targets, period_ids):
    """({target_id: {period_id: (regions meeting the target, regions reporting)}}, {target_id:
    regions judged}) of the per-region targets, counted by the database in one statement over the
    region snapshots just written: per target, one part counting per period and one counting the
    regions judged (period NULL). A target bounded by the plan's value judges every region of its
    levels; one bounded by each region's own baseline (``Target.own_region_bounds``) only the regions whose
    baseline has been entered, each against its own."""
    parts, params = [], []
    for target in targets:
        metric = "funding" if target.measure_kind == MeasureKind.MONEY else "per_capita"
        levels = target.judged_region_levels
        in_levels = f"r.level IN ({', '.join('%s' for _level in levels)})"
        if target.own_region_bounds:
            baseline = f"JOIN {RegionBaseline._meta.db_table} b ON b.region_id = r.id AND b.target_id = %s"
            bound, bound_params = "b.value", []
        else:
            baseline, bound, bound_params = "", "%s", [target.value]
        joined = [target.pk] if baseline else []
        parts.append(
            f"""SELECT %s, rs.period_id, SUM(CASE WHEN rs.{metric} >= {bound} THEN 1 ELSE 0 END),
                       COUNT(rs.{metric})
                FROM {RegionSnapshot._meta.db_table} rs JOIN {Region._meta.db_table} r ON r.id = rs.region_id
                {baseline}
                WHERE rs.period_id IN ({_in(period_ids)}) AND {in_levels}
                GROUP BY rs.period_id"""
        )
        params += [target.pk, *bound_params, *joined, *levels]
        parts.append(
            f"SELECT %s, NULL, COUNT(*), NULL FROM {Region._meta.db_table} r {baseline} WHERE {in_levels}"
        )
        params += [target.pk, *joined, *levels]
    counts, totals = defaultdict(dict), {}
    if not parts:
        return counts, totals
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for target_id, period_id, met, reported in cursor.fetchall():
            if period_id is None:
                totals[target_id] = met
            else:
                counts[target_id][period_id] = (int(met or 0), reported)
    return counts, totals


class CurrentData:
    """What a roll-up judges from: the approved figures, survey results, targets (with their
    baselines) and region funding as they stand now. ``reports.rollup.knowledge.DataAsOf`` gives the same
    as they stood at an earlier moment, for a report rebuilt "as approved on" a past day."""

    def figures(self, plan):
        return _approved_figures(plan)

    def targets(self, plan):
        return list(Target.objects.filter(plan=plan).order_by("sort_order"))

    def external(self, plan):
        external = defaultdict(list)
        for target_id, measured_on, value in (
            ExternalFigure.objects.filter(target__plan=plan)
            .order_by("measured_on")
            .values_list("target_id", "measured_on", "value")
        ):
            external[target_id].append((measured_on, value))
        return external

    def regional_counts(self, targets, period_ids, periods):
        return _regional_counts(targets, period_ids)

    def year_end_funding(self, end_ids):
        """[(region_id, period_id, funding)] at the given periods."""
        return list(
            RegionSnapshot.objects.filter(period_id__in=end_ids).values_list(
                "region_id", "period_id", "funding"
            )
        )


def judge_targets(plan, periods, chosen, data=None):
    """Rows of ``TargetSnapshot`` (as dicts) for the ``chosen`` periods, and the contributions."""
    data = data or CurrentData()
    thresholds = thresholds_for(plan)
    figures = data.figures(plan)
    targets = data.targets(plan)
    waypoints = defaultdict(dict)
    for target_id, year, value in TargetWaypoint.objects.filter(target__plan=plan).values_list(
        "target_id", "year", "value"
    ):
        waypoints[target_id][year] = value
    external = data.external(plan)
    baseline_period = next((p for p in periods if p.is_baseline), None)
    ends = year_ends(periods)
    regional = [t for t in targets if t.per_region and t.bound != Bound.YEAR_ON_YEAR]
    counted_ids = list(dict.fromkeys([p.pk for p in chosen] + [p.pk for p in ends.values()]))
    region_counts, region_totals = data.regional_counts(regional, counted_ids, periods)
    increases = _year_on_year(plan, [t for t in targets if t.bound == Bound.YEAR_ON_YEAR], ends, data)

    spans = [(p.pk, p.ends_on) for p in chosen]
    rows, contributions = [], []
    for target in targets:
        target_id = target.pk
        rule = rule_for(target, plan)
        target_rows = figure_values(target, rule, figures.get(target_id, []))
        if (
            rule.baseline is None
            and baseline_period is not None
            and target.needs_baseline
            and not target.external
        ):
            # The units' approved 2021 baseline report (基期报送) is the baseline until the office
            # enters one.
            rule.baseline, _c, _n = actual_at(target, target_rows, baseline_period)
        region_total = region_totals.get(target_id, 0)
        from_figures = not (target.external or target.per_region)
        actuals = actuals_through(target, target_rows, chosen) if from_figures else repeat((None, {}, 0))
        for (period_id, as_of), (actual, unit_values, counted) in zip(spans, actuals, strict=from_figures):
            met = total = None
            if target.bound == Bound.YEAR_ON_YEAR:
                result, met, total = _judge_increase(
                    plan, increases.get(target_id, {}), ends, as_of, thresholds
                )
            else:
                if target.external:
                    actual, counted = _external_at(external.get(target_id, []), as_of)
                elif target.per_region:
                    counts = region_counts.get(target_id, {})
                    met, total = _regional(counts.get(period_id, (0, 0)), region_total)
                    actual, counted = met, (1 if met is not None else 0)
                if target.per_region:
                    result = _judge_regional(met, total)
                else:
                    result = progress.judge(
                        rule,
                        actual,
                        as_of,
                        figures=counted,
                        thresholds=thresholds,
                        waypoints=waypoints.get(target_id),
                    )
                if target.time_scope == TimeScope.PER_YEAR:
                    years = completed_years(plan, ends, as_of)
                    if target.per_region:
                        counts = region_counts.get(target_id, {})
                        results = [_region_year_met(counts.get(ends[y].pk), region_total) for y in years]
                    else:
                        results = [_year_met(target, rule, target_rows, ends[y]) for y in years]
                    plan_over = as_of >= datetime.date(target.deadline_year, 12, 31)
                    result = progress.judge_years(
                        result, results, thresholds, plan_over=plan_over, aspiration=target.aspiration
                    )
            rows.append(
                {
                    "target_id": target_id,
                    "period_id": period_id,
                    "as_of": as_of,
                    "actual": result.actual,
                    "expected": result.expected,
                    "baseline": result.baseline,
                    "completion": result.completion,
                    "forecast": result.forecast,
                    "status": str(result.status),
                    "figures": result.figures,
                    "regions_met": met,
                    "regions_total": total,
                    "years_met": result.years_met,
                    "years_judged": result.years_judged,
                }
            )
            contributions.extend(
                {
                    "target_id": target_id,
                    "period_id": period_id,
                    "unit_id": unit_id,
                    "value": progress.q4(value),
                    "figures": 0,
                }
                for unit_id, value in unit_values.items()
            )
    return rows, contributions, {t.pk: t.initiative_id for t in targets}


def _year_met(target, rule, rows, year_end):
    """Whether a per-year target was met in the year ending with ``year_end`` (None: no data)."""
    actual, _values, counted = actual_at(target, rows, year_end)
    if not counted or actual is None:
        return None
    return progress.is_met(rule, actual)


def _region_year_met(counts, total):
    """Whether every region judged met a per-region, per-year target in a year (None: none reported)."""
    if not counts or not counts[1]:
        return None
    return counts[0] == total


def _year_on_year(plan, targets, ends, data):
    """{target_id: {year: (regions increased, regions with both years' funding)}} of the 逐年提高
    commitments: each region's funding in a year's last period against the year before's."""
    if not targets:
        return {}
    end_ids = {p.pk: year for year, p in ends.items()}
    funding = defaultdict(dict)  # region_id → {year: funding}
    levels = {}
    for region_id, period_id, amount in data.year_end_funding(list(end_ids)):
        if amount is not None:
            funding[region_id][end_ids[period_id]] = amount
    for region_id, level in Region.objects.values_list("id", "level"):
        levels[region_id] = level
    result = {}
    for target in targets:
        judged_levels = set(target.judged_region_levels)
        per_year = {}
        for year in range(plan.start_year + 1, plan.end_year + 1):
            increased = compared = 0
            for region_id, by_year in funding.items():
                if levels.get(region_id) not in judged_levels:
                    continue
                if year in by_year and year - 1 in by_year:
                    compared += 1
                    increased += by_year[year] > by_year[year - 1]
            per_year[year] = (increased, compared)
        result[target.pk] = per_year
    return result


def _judge_increase(plan, per_year, ends, as_of, thresholds):
    """(Progress, regions met, regions compared) of a 逐年提高 commitment at ``as_of``: the last
    completed year's regions, and every completed year met only if all regions compared rose."""
    years = [y for y in completed_years(plan, ends, as_of) if y > plan.start_year]
    if not years:
        return progress.Progress(None, None, None, None, None, ProgressStatus.NO_DATA, 0), None, None
    met, compared = per_year.get(years[-1], (0, 0))
    current = _judge_regional(met if compared else None, compared)
    results = [(per_year[y][0] == per_year[y][1]) if per_year.get(y, (0, 0))[1] else None for y in years]
    plan_over = as_of >= datetime.date(plan.end_year, 12, 31)
    result = progress.judge_years(current, results, thresholds, plan_over=plan_over)
    return result, (met if compared else None), (compared or None)


def _judge_regional(met, total):
    if met is None or not total:
        return progress.Progress(None, None, None, None, None, ProgressStatus.NO_DATA, 0)
    share = Decimal(met) / Decimal(total)
    if met == total:
        status = ProgressStatus.ACHIEVED
    elif share >= Decimal("0.8"):
        status = ProgressStatus.BEHIND
    else:
        status = ProgressStatus.FAR_BEHIND
    return progress.Progress(Decimal(met), Decimal(total), None, progress.q4(share), None, status, 1)


def _initiative_snapshots(plan, chosen, target_rows, initiative_of):
    """Per initiative and period: its targets by status, its measures' approved lines by status
    and how many units reported on them (one grouped query)."""
    from tasks.models import Initiative

    ids = [p.pk for p in chosen]
    by_status = defaultdict(dict)
    units = {}
    # One row per initiative, period and status (lines), and one with no status per initiative
    # and period (the units that reported on it): GROUPING SETS on PostgreSQL, a UNION on SQLite,
    # which has none. Plain SQL, read as tuples: no per-value ORM converters.
    lines = f"""
        FROM {MeasureLine._meta.db_table} l
        JOIN {Submission._meta.db_table} s ON s.id = l.submission_id
        JOIN {Measure._meta.db_table} m ON m.id = l.measure_id
        WHERE s.status = %s AND s.period_id IN ({_in(ids)})
    """
    columns = "m.initiative_id, s.period_id"
    if connection.vendor == "postgresql":
        sql = f"""SELECT {columns}, l.status, COUNT(*), COUNT(DISTINCT s.unit_id) {lines}
            GROUP BY GROUPING SETS (({columns}, l.status), ({columns}))"""
        params = [SubmissionStatus.APPROVED.value]
    else:
        sql = f"""SELECT {columns}, l.status, COUNT(*), 0 {lines} GROUP BY {columns}, l.status
            UNION ALL SELECT {columns}, NULL, 0, COUNT(DISTINCT s.unit_id) {lines} GROUP BY {columns}"""
        params = [SubmissionStatus.APPROVED.value] * 2
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        grouped = cursor.fetchall()
    for initiative_id, period_id, status, n, reported in grouped:
        if status is None:
            units[(initiative_id, period_id)] = reported
        else:
            by_status[(initiative_id, period_id)][status] = n
    targets_status = defaultdict(lambda: defaultdict(int))
    for row in target_rows:
        initiative_id = initiative_of.get(row["target_id"])
        if initiative_id:
            targets_status[(initiative_id, row["period_id"])][row["status"]] += 1
    return [
        {
            "initiative_id": initiative_id,
            "period_id": period_id,
            "targets_by_status": dict(targets_status.get((initiative_id, period_id), {})),
            "lines_by_status": dict(by_status.get((initiative_id, period_id), {})),
            "units_reported": units.get((initiative_id, period_id), 0),
        }
        for initiative_id in Initiative.objects.filter(plan=plan).values_list("pk", flat=True)
        for period_id in ids
    ]
