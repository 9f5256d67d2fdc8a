"""How a target's figures combine, what is expected by a date, and the resulting status.

Pure functions over plain values (no database), so each rule can be checked by hand:

- increment: the sum of approved increments (whole plan: since the plan started; per year:
  within the year);
- level: the latest approved value, never a sum;
- coverage: covered over total (as a percentage when the target is in %);
- milestone: done or not.

Expected value (序时进度): whole-plan targets run linearly from the baseline at the start of the
plan's first year to the target at the end of the deadline year, or through the office's
yearly waypoints; per-year increments against the share of the year elapsed.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from reports.choices import ProgressStatus
from targets.choices import Bound, Combine, TimeScope

ZERO = Decimal(0)
HUNDRED = Decimal(100)


def q4(value):
    """Round to 4 decimals, as stored."""
    return None if value is None else Decimal(value).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass
class Thresholds:
    ahead: Decimal = Decimal("1.10")
    on_track: Decimal = Decimal("0.95")
    behind: Decimal = Decimal("0.80")


@dataclass
class TargetRule:
    """The parts of a target the arithmetic needs."""

    combine: str
    time_scope: str
    bound: str
    value: Decimal
    value_max: Decimal | None
    start_year: int
    deadline_year: int
    percent: bool = False  # a coverage target stated in % (covered / total × 100)
    baseline: Decimal | None = None
    # Progress is measured from the baseline (whole-plan level and coverage targets): without
    # one, no expected value, ratio or forecast is made up (status 基期值待录入).
    needs_baseline: bool = False
    aspiration: bool = False  # 力争: missing it is "not reached", never worse than 滞后
    ceiling: Decimal | None = None  # the most that can exist (8 市州, 100 %)


@dataclass
class Progress:
    actual: Decimal | None
    expected: Decimal | None
    baseline: Decimal | None
    completion: Decimal | None
    forecast: Decimal | None
    status: str
    figures: int
    years_met: int | None = None  # per-year targets: completed years met …
    years_judged: int | None = None  # … of completed years with data


def year_fraction(as_of: datetime.date) -> Decimal:
    """Share of the calendar year elapsed at the end of ``as_of``."""
    start = datetime.date(as_of.year, 1, 1)
    days = (datetime.date(as_of.year + 1, 1, 1) - start).days
    return Decimal((as_of - start).days + 1) / Decimal(days)


def plan_fraction(rule: TargetRule, as_of: datetime.date) -> Decimal:
    """Share of the plan's window [1 Jan of the start year, 31 Dec of the deadline year] elapsed."""
    start = datetime.date(rule.start_year, 1, 1)
    end = datetime.date(rule.deadline_year, 12, 31)
    if as_of >= end:
        return Decimal(1)
    if as_of <= start:
        return ZERO
    return Decimal((as_of - start).days) / Decimal((end - start).days)


def expected_value(rule: TargetRule, as_of: datetime.date, waypoints: dict | None = None) -> Decimal | None:
    """Where the target should be by ``as_of`` (序时进度目标值), never beyond what can exist;
    None where the rule needs a baseline that has not been entered."""
    return _within(rule, _expected_value(rule, as_of, waypoints))


def _within(rule, value):
    """``value`` held within [0, ceiling]: a count over a fixed set or a share never exceeds it."""
    if value is None:
        return None
    if rule.ceiling is not None and value > rule.ceiling:
        return rule.ceiling
    return max(value, ZERO)


def _expected_value(rule, as_of, waypoints):
    if rule.time_scope == TimeScope.PER_YEAR:
        if rule.combine == Combine.INCREMENT:
            return rule.value * year_fraction(as_of)
        return rule.value  # a yearly level must hold every year
    if rule.combine == Combine.MILESTONE:
        return Decimal(1) if as_of >= datetime.date(rule.deadline_year, 12, 31) else None
    if rule.needs_baseline and rule.baseline is None:
        return None
    baseline = rule.baseline if rule.baseline is not None else ZERO
    # Knots of the expected line: (date, value); waypoints are year-end values.
    knots = [(datetime.date(rule.start_year, 1, 1), baseline)]
    for year in sorted(waypoints or {}):
        if rule.start_year <= year < rule.deadline_year:
            knots.append((datetime.date(year, 12, 31), Decimal(waypoints[year])))
    knots.append((datetime.date(rule.deadline_year, 12, 31), rule.value))
    if as_of <= knots[0][0]:
        return knots[0][1]
    for (d0, v0), (d1, v1) in pairwise(knots):
        if as_of <= d1:
            share = Decimal((as_of - d0).days) / Decimal((d1 - d0).days)
            return v0 + (v1 - v0) * share
    return rule.value


def combine_increments(values) -> Decimal | None:
    """Sum of approved increments; None when there are none."""
    values = [v for v in values if v is not None]
    return sum(values, ZERO) if values else None


def coverage_value(covered, total, percent: bool):
    if covered is None or not total:
        return None
    return covered / total * HUNDRED if percent else covered


def is_met(rule: TargetRule, actual: Decimal) -> bool:
    """Whether ``actual`` meets the target's bound (a range counts from its lower end up to its upper)."""
    if rule.bound == Bound.AT_MOST:
        return actual <= rule.value
    if rule.bound == Bound.MORE_THAN:  # 20多个, 100余个: more than the number written
        return actual > rule.value
    if rule.bound == Bound.RANGE:
        return rule.value <= actual <= (rule.value_max if rule.value_max is not None else actual)
    if rule.bound == Bound.EXACT:
        return actual == rule.value
    return actual >= rule.value


def judge(
    rule: TargetRule,
    actual: Decimal | None,
    as_of: datetime.date,
    *,
    figures: int,
    thresholds: Thresholds,
    waypoints: dict | None = None,
) -> Progress:
    """Expected value, completion rate, status and forecast of a target from its actual value."""
    expected = expected_value(rule, as_of, waypoints)
    baseline = rule.baseline
    if actual is None or figures == 0:
        return Progress(None, q4(expected), q4(baseline), None, None, ProgressStatus.NO_DATA, figures)
    completion = None
    if rule.value:
        completion = rule.value / actual if rule.bound == Bound.AT_MOST and actual else actual / rule.value
    forecast = _forecast(rule, actual, as_of)
    # A per-year commitment (每年组织开展劳动和技能竞赛) is due at each year's end.
    due_year = as_of.year if rule.time_scope == TimeScope.PER_YEAR else rule.deadline_year
    deadline_passed = as_of >= datetime.date(due_year, 12, 31)
    if rule.combine == Combine.MILESTONE:
        done = actual >= 1
        status = (
            ProgressStatus.ACHIEVED
            if done
            else (ProgressStatus.FAR_BEHIND if deadline_passed else ProgressStatus.ON_TRACK)
        )
        return Progress(q4(actual), q4(expected), q4(baseline), q4(completion), None, status, figures)
    if is_met(rule, actual):
        status = ProgressStatus.ACHIEVED
    elif expected is None:  # the rule needs a baseline the office has not entered
        return Progress(q4(actual), None, None, q4(completion), None, ProgressStatus.NO_BASELINE, figures)
    else:
        status = _status_from_ratio(rule, actual, expected, thresholds)
        if rule.aspiration and status == ProgressStatus.FAR_BEHIND:
            status = ProgressStatus.BEHIND  # an aspiration not reached is not a breach
    return Progress(
        q4(actual), q4(expected), q4(baseline), q4(completion), q4(_within(rule, forecast)), status, figures
    )


def judge_years(
    current: Progress,
    year_results: list,
    thresholds: Thresholds,
    *,
    plan_over: bool,
    aspiration: bool = False,
) -> Progress:
    """A per-year target's standing: every completed year is met or missed on its own, and a
    missed year stays missed.

    ``year_results`` holds True / False / None (no data) per completed year; ``current`` is the
    judgement of the year in progress (or of the last year when the plan is over). All completed
    years met: the current year's status (已完成 once the plan is over). Any year missed: the
    share of years met against the office's thresholds (4/5 → 滞后 at the default 0.80), and
    never better than the current year's status.
    """
    met = sum(1 for r in year_results if r is True)
    judged = sum(1 for r in year_results if r is not None)
    result = Progress(**{**current.__dict__, "years_met": met, "years_judged": judged})
    if not judged:
        return result
    if met == judged:
        if plan_over:
            result.status = ProgressStatus.ACHIEVED
        elif current.status == ProgressStatus.NO_DATA:
            result.status = ProgressStatus.ON_TRACK  # every year so far met, none reported yet this year
        return result
    ratio = Decimal(met) / Decimal(judged)
    years_status = ProgressStatus.BEHIND if ratio >= thresholds.behind else ProgressStatus.FAR_BEHIND
    order = [s.value for s in ProgressStatus]
    if current.status in (ProgressStatus.NO_DATA, ProgressStatus.ACHIEVED) or order.index(
        years_status
    ) > order.index(current.status):
        result.status = years_status
    if aspiration and result.status == ProgressStatus.FAR_BEHIND:
        result.status = ProgressStatus.BEHIND  # 力争: years not reached are not a breach
    return result


def _status_from_ratio(rule, actual, expected, thresholds):
    """Compare progress made with progress expected, both measured from the baseline."""
    start = rule.baseline if (rule.baseline is not None and rule.time_scope == TimeScope.WHOLE_PLAN) else ZERO
    if rule.bound == Bound.AT_MOST:
        needed, made = start - expected, start - actual
    else:
        needed, made = expected - start, actual - start
    if needed <= 0:
        ratio = Decimal(1) if made >= needed else Decimal(0)
    else:
        ratio = made / needed
    if ratio >= thresholds.ahead:
        return ProgressStatus.AHEAD
    if ratio >= thresholds.on_track:
        return ProgressStatus.ON_TRACK
    if ratio >= thresholds.behind:
        return ProgressStatus.BEHIND
    return ProgressStatus.FAR_BEHIND


def _forecast(rule, actual, as_of):
    """The deadline value at the pace so far (预计完成值)."""
    if rule.time_scope == TimeScope.PER_YEAR:
        if rule.combine == Combine.INCREMENT:
            return actual / year_fraction(as_of)
        return actual
    fraction = plan_fraction(rule, as_of)
    if fraction <= 0 or (rule.needs_baseline and rule.baseline is None):
        return None
    start = rule.baseline if rule.baseline is not None else ZERO
    return start + (actual - start) / fraction
