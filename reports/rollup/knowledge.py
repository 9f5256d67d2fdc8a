"""Judgements "as approved on" a past day: the knowledge date (DESIGN §3, "two dates").

The cut-off says which quarters count; the knowledge date says which approvals count. A report
rebuilt with a knowledge date shows exactly what was known at the end of that day: the forms
that were approved then (a form reopened and corrected later counts with its values of that day),
the survey results entered by then and the baselines as they stood.

``DataAsOf`` reads the same things as ``rollups.CurrentData`` from the history tables
(django-simple-history keeps every version of submissions, figures, region figures and targets)
and hands them to the roll-up's own judging code, so a past day is judged by the same rules.
"""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from reports.rollup.rollups import CurrentData
from targets.choices import MeasureKind
from targets.models import ExternalFigure, RegionBaseline, RegionFigure, Target, TargetFigure
from tasks.choices import SubmissionStatus
from tasks.models import Period, Submission
from units.models import Region


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The last moment of ``day`` in the portal's time zone."""
    start = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(start) - datetime.timedelta(microseconds=1)


def _latest_versions(model, moment, **filters):
    """{id: historical row} of each object's last version saved by ``moment`` (deleted ones left out)."""
    rows = (
        model.history.model.objects.filter(history_date__lte=moment, **filters)
        .order_by("id", "history_date", "history_id")
        .iterator()
    )
    latest = {}
    for row in rows:
        latest[row.id] = row
    return {pk: row for pk, row in latest.items() if row.history_type != "-"}


class DataAsOf(CurrentData):
    """The roll-up's inputs as they stood at ``moment``."""

    def __init__(self, moment: datetime.datetime):
        self.moment = moment
        self._approved = None
        self._regions = None

    def approved(self, plan):
        """{submission id: (unit id, period)} of the forms that were approved at the moment."""
        if self._approved is None:
            periods = {p.pk: p for p in Period.objects.filter(plan=plan)}
            versions = _latest_versions(Submission, self.moment, period_id__in=list(periods))
            self._approved = {
                pk: (row.unit_id, periods[row.period_id])
                for pk, row in versions.items()
                if row.status == SubmissionStatus.APPROVED
            }
        return self._approved

    def figures(self, plan):
        approved = self.approved(plan)
        grouped = defaultdict(list)
        rows = _latest_versions(TargetFigure, self.moment, submission_id__in=list(approved))
        for row in sorted(rows.values(), key=lambda r: (r.target_id, approved[r.submission_id][1].key)):
            unit_id, period = approved[row.submission_id]
            grouped[row.target_id].append(
                (period.key, period.year, unit_id, row.value, row.covered, row.total, row.done)
            )
        return grouped

    def targets(self, plan):
        """The targets with the baselines they had at the moment."""
        targets = super().targets(plan)
        versions = _latest_versions(Target, self.moment, plan_id=plan.pk)
        for target in targets:
            row = versions.get(target.pk)
            if row is not None:
                target.baseline_value = row.baseline_value
                target.baseline_year = row.baseline_year
                target.baseline_source = row.baseline_source
        return targets

    def external(self, plan):
        external = defaultdict(list)
        rows = _latest_versions(ExternalFigure, self.moment, target__plan=plan)
        for row in sorted(rows.values(), key=lambda r: r.measured_on):
            external[row.target_id].append((row.measured_on, row.value))
        return external

    def region_snapshots(self, periods):
        """{(region id, period id): (funding, population, per capita)}: each region's latest
        approved funding figure of the year up to each period, as ``rollups._region_snapshots``
        computes it in SQL."""
        if self._regions is None:
            plan_periods = list(periods)
            approved = self.approved(plan_periods[0].plan) if plan_periods else {}
            by_region_year = defaultdict(list)
            for row in _latest_versions(RegionFigure, self.moment, submission_id__in=list(approved)).values():
                if row.funding is None or row.population is None:
                    continue
                period = approved[row.submission_id][1]
                by_region_year[(row.region_id, period.year)].append(
                    (period.quarter, row.funding, row.population)
                )
            snapshots = {}
            for (region_id, year), figures in by_region_year.items():
                figures.sort()
                for period in plan_periods:
                    if period.year != year:
                        continue
                    known = [f for f in figures if f[0] <= period.quarter]
                    if known:
                        _q, funding, population = known[-1]
                        per_capita = (
                            (funding / population).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                            if population > 0
                            else None
                        )
                        snapshots[(region_id, period.pk)] = (funding, population, per_capita)
            self._regions = snapshots
        return self._regions

    def regional_counts(self, targets, period_ids, periods):
        snapshots = self.region_snapshots(periods)
        levels = dict(Region.objects.values_list("id", "level"))
        own = defaultdict(dict)
        for target_id, region_id, value in RegionBaseline.objects.values_list(
            "target_id", "region_id", "value"
        ):
            own[target_id][region_id] = value
        counts, totals = defaultdict(dict), {}
        for target in targets:
            judged = set(target.judged_region_levels)
            regions = [r for r, level in levels.items() if level in judged]
            if target.own_region_bounds:
                regions = [r for r in regions if r in own[target.pk]]
            totals[target.pk] = len(regions)
            index = 0 if target.measure_kind == MeasureKind.MONEY else 2
            for period_id in period_ids:
                met = reported = 0
                for region_id in regions:
                    snap = snapshots.get((region_id, period_id))
                    if snap is None or snap[index] is None:
                        continue
                    reported += 1
                    bound = own[target.pk][region_id] if target.own_region_bounds else target.value
                    met += snap[index] >= bound
                if reported:
                    counts[target.pk][period_id] = (met, reported)
        return counts, totals

    def year_end_funding(self, end_ids):
        periods = list(Period.objects.filter(pk__in=end_ids).select_related("plan"))
        if not periods:
            return []
        plan_periods = Period.objects.filter(plan=periods[0].plan).order_by("year", "quarter")
        snapshots = self.region_snapshots(plan_periods)
        wanted = set(end_ids)
        return [(r, p, values[0]) for (r, p), values in snapshots.items() if p in wanted]
