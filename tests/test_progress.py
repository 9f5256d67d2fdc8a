"""Combination rules, expected values and statuses, with hand-computed expectations."""

import datetime
from decimal import Decimal as D

import pytest

from reports.choices import ProgressStatus
from reports.models import ContributionSnapshot, RegionSnapshot, TargetSnapshot
from reports.rollup import progress
from reports.rollup.rollups import rollup
from targets.models import Target
from tasks.models import Period
from tasks.selectors import current_plan
from tests.factories import approved_figure, region_figure

pytestmark = pytest.mark.django_db


def snapshot(code, year, quarter):
    return TargetSnapshot.objects.get(target__code=code, period__year=year, period__quarter=quarter)


def whole_plan_rule(**kw):
    base = dict(
        combine="increment",
        time_scope="whole_plan",
        bound="at_least",
        value=D(1000),
        value_max=None,
        start_year=2021,
        deadline_year=2025,
    )
    base.update(kw)
    return progress.TargetRule(**base)


def test_expected_is_linear_over_the_five_years_of_the_plan():
    rule = whole_plan_rule()
    # 2023-12-31 is 1094 of 1825 days after 2021-01-01: 59.95 % of 1000
    assert progress.expected_value(rule, datetime.date(2023, 12, 31)).quantize(D("0.01")) == D("599.45")
    assert progress.expected_value(rule, datetime.date(2025, 12, 31)) == D(1000)
    assert progress.expected_value(rule, datetime.date(2021, 1, 1)) == D(0)


def test_waypoints_bend_the_expected_line():
    rule = whole_plan_rule()
    waypoints = {2022: D(100), 2023: D(300)}
    assert progress.expected_value(rule, datetime.date(2022, 12, 31), waypoints) == D(100)
    assert progress.expected_value(rule, datetime.date(2023, 12, 31), waypoints) == D(300)
    # half way through 2024 and 2025 (from 300 at end-2023 to 1000 at end-2025)
    mid = progress.expected_value(rule, datetime.date(2024, 12, 31), waypoints)
    assert D(640) < mid < D(660)


def test_per_year_increment_is_expected_by_the_share_of_the_year():
    rule = whole_plan_rule(time_scope="per_year", value=D(400))
    # 2024-06-30 is day 182 of 366
    assert progress.expected_value(rule, datetime.date(2024, 6, 30)) == D(400) * D(182) / D(366)


def test_statuses_follow_the_thresholds():
    rule = whole_plan_rule()
    as_of = datetime.date(2023, 12, 31)  # expected 599.45
    thresholds = progress.Thresholds()
    judge = lambda actual: progress.judge(rule, D(actual), as_of, figures=1, thresholds=thresholds).status  # noqa: E731
    assert judge(1000) == ProgressStatus.ACHIEVED
    assert judge(700) == ProgressStatus.AHEAD  # 1.17
    assert judge(600) == ProgressStatus.ON_TRACK  # 1.00
    assert judge(500) == ProgressStatus.BEHIND  # 0.83
    assert judge(300) == ProgressStatus.FAR_BEHIND  # 0.50
    assert (
        progress.judge(rule, None, as_of, figures=0, thresholds=thresholds).status == ProgressStatus.NO_DATA
    )


def test_forecast_extends_the_pace_to_the_deadline():
    rule = whole_plan_rule()
    result = progress.judge(
        rule, D(300), datetime.date(2023, 12, 31), figures=1, thresholds=progress.Thresholds()
    )
    assert result.forecast.quantize(D("1")) == D(500)  # 300 / 0.5995


def test_range_target_is_met_between_its_ends():
    rule = whole_plan_rule(bound="range", value=D(10), value_max=D(25))
    assert progress.is_met(rule, D(10)) and progress.is_met(rule, D(25))
    assert not progress.is_met(rule, D(9)) and not progress.is_met(rule, D(26))


def test_increments_are_summed_across_years_and_units():
    """T09 补贴性职业技能培训 (500000 人次, whole plan): 人社厅 reports increments each quarter."""
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    approved_figure("rst", 2022, 4, "T09", value=D(60000))
    approved_figure("rst", 2023, 2, "T09", value=D(50000))
    rollup(current_plan())
    assert snapshot("T09", 2022, 3).actual == D(40000)
    assert snapshot("T09", 2023, 4).actual == D(150000)
    assert snapshot("T09", 2025, 4).actual == D(150000)
    assert snapshot("T09", 2023, 4).status == ProgressStatus.FAR_BEHIND  # 150000 of ~299725 expected


def test_a_level_target_takes_the_latest_value_even_when_it_falls():
    """T20 医养结合 (70 %, level): 72 % then 68 % → 68 %, never 140 %."""
    approved_figure("mzt", 2023, 1, "T20", value=D(72))
    approved_figure("mzt", 2023, 2, "T20", value=D(68))
    rollup(current_plan())
    assert snapshot("T20", 2023, 1).actual == D(72)
    assert snapshot("T20", 2023, 1).status == ProgressStatus.ACHIEVED
    assert snapshot("T20", 2023, 2).actual == D(68)
    assert snapshot("T20", 2023, 2).status != ProgressStatus.ACHIEVED


def test_a_per_year_target_counts_within_each_year():
    """T12 每年培训不低于400名科学教师: 2023 sums its own quarters; 2024 starts again."""
    approved_figure("jyt", 2023, 1, "T12", value=D(150))
    approved_figure("jyt", 2023, 3, "T12", value=D(260))
    approved_figure("jyt", 2024, 1, "T12", value=D(90))
    rollup(current_plan())
    assert snapshot("T12", 2023, 4).actual == D(410)
    assert snapshot("T12", 2023, 4).status == ProgressStatus.ACHIEVED
    assert snapshot("T12", 2024, 1).actual == D(90)
    # 2024 Q1: 90 of 400 × 91/366 ≈ 99.45 expected → 0.905: 滞后
    assert snapshot("T12", 2024, 1).status == ProgressStatus.BEHIND


def test_a_range_target_counts_as_achieved_inside_the_range():
    approved_figure("mzt", 2022, 2, "T18", value=D(6))
    approved_figure("mzt", 2023, 2, "T18", value=D(6))
    rollup(current_plan())
    assert snapshot("T18", 2022, 4).actual == D(6)
    assert snapshot("T18", 2023, 4).actual == D(12)
    assert snapshot("T18", 2023, 4).status == ProgressStatus.ACHIEVED


def test_a_returned_submission_does_not_count():
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    approved_figure("rst", 2022, 2, "T09", status="returned", value=D(99999))
    approved_figure("rst", 2022, 3, "T09", status="submitted", value=D(88888))
    rollup(current_plan())
    assert snapshot("T09", 2022, 4).actual == D(40000)


def test_a_correction_after_reopening_replaces_the_old_figure(reporter, approver, office):
    """Through the workflow: approved 150 → reopened → corrected to 100 → approved again."""
    from targets.submission.services import save_form
    from tasks import services
    from tests.factories import open_period
    from tests.test_workflow import fill_everything
    from units.models import Unit

    period = open_period(2024, 3)
    submission = services.ensure_submission(Unit.objects.get(code="jyt"), period, by=reporter)
    fill_everything(submission, reporter)
    figure = submission.figures.get(target__code="T12")
    submission.refresh_from_db()
    save_form(submission.pk, by=reporter, version=submission.version, figures={figure.pk: {"value": "150"}})
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)
    rollup(current_plan())
    assert snapshot("T12", 2024, 3).actual == D(150)
    services.reopen_submission(submission, by=office, reason="数字有误")
    submission.refresh_from_db()
    save_form(submission.pk, by=reporter, version=submission.version, figures={figure.pk: {"value": "100"}})
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)
    rollup(current_plan())
    assert snapshot("T12", 2024, 3).actual == D(100)


def test_contributions_show_each_units_share():
    """T04 省级科研科普基地 is reported by 省科协 and 省科技厅: each reports only its own bases."""
    approved_figure("kx", 2022, 2, "T04", value=D(3))
    approved_figure("kjt", 2022, 3, "T04", value=D(2))
    approved_figure("kx", 2023, 1, "T04", value=D(1))
    rollup(current_plan())
    assert snapshot("T04", 2023, 1).actual == D(6)
    shares = dict(
        ContributionSnapshot.objects.filter(
            target__code="T04", period__year=2023, period__quarter=1
        ).values_list("unit__code", "value")
    )
    assert shares == {"kx": D(4), "kjt": D(2)}


def test_coverage_counts_covered_over_total():
    """T25 市州级科技馆（室）全覆盖 (8 prefectures): 5 of 8 then 8 of 8."""
    approved_figure("kx", 2023, 2, "T25", covered=D(5), total=D(8))
    approved_figure("kx", 2025, 2, "T25", covered=D(8), total=D(8))
    rollup(current_plan())
    assert snapshot("T25", 2023, 4).actual == D(5)
    assert snapshot("T25", 2025, 4).actual == D(8)
    assert snapshot("T25", 2025, 4).status == ProgressStatus.ACHIEVED


def test_per_region_funding_is_checked_region_by_region():
    """T30 市州级人均科普经费 ≥ 1.5 元: 西宁 500万元 / 248万人 = 2.02; 海东 180 / 135 = 1.33."""
    region_figure("xiningshi", 2024, 2, D(500), D(248))
    region_figure("haidongshi", 2024, 2, D(180), D(135))
    region_figure("haidongshi", 2024, 3, D(220), D(135), status="returned")
    rollup(current_plan())
    period = Period.objects.get(year=2024, quarter=3)
    per_capita = dict(RegionSnapshot.objects.filter(period=period).values_list("region__code", "per_capita"))
    assert per_capita == {"630100": D("2.02"), "630200": D("1.33")}
    t30 = snapshot("T30", 2024, 3)
    assert (t30.regions_met, t30.regions_total) == (1, 8)
    assert t30.status == ProgressStatus.FAR_BEHIND
    # a new year starts empty: 2025 Q1 has no 2025 figure yet
    assert not RegionSnapshot.objects.filter(period__year=2025, period__quarter=1).exists()


def test_running_the_rollup_twice_gives_identical_rows():
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    approved_figure("mzt", 2023, 1, "T20", value=D(72))
    plan = current_plan()
    rollup(plan)
    first = list(
        TargetSnapshot.objects.order_by("target_id", "period_id").values_list(
            "target_id", "period_id", "actual", "expected", "status", "forecast"
        )
    )
    rollup(plan)
    second = list(
        TargetSnapshot.objects.order_by("target_id", "period_id").values_list(
            "target_id", "period_id", "actual", "expected", "status", "forecast"
        )
    )
    assert first == second
    assert len(first) == Target.objects.count() * 17 == 36 * 17


def test_an_incremental_rollup_matches_the_full_one():
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    plan = current_plan()
    rollup(plan)
    approved_figure("rst", 2024, 2, "T09", value=D(10000))
    rollup(plan, Period.objects.get(year=2024, quarter=2))
    incremental = list(
        TargetSnapshot.objects.order_by("target_id", "period_id").values_list("actual", "status")
    )
    rollup(plan)
    full = list(TargetSnapshot.objects.order_by("target_id", "period_id").values_list("actual", "status"))
    assert incremental == full


def test_a_rollup_writes_only_what_changed():
    """A second run over the same data writes nothing; a new approval rewrites only the rows it
    moves; a region whose form is no longer approved loses its snapshot rows."""
    from reports.models import UnitPeriodSnapshot

    plan = current_plan()
    approved_figure("rst", 2024, 1, "T09", value=D(40000))
    region_figure("xiningshi", 2024, 2, D(500), D(248))
    assert rollup(plan) > 0
    units_before = set(UnitPeriodSnapshot.objects.values_list("unit_id", "period_id", "status", "timeliness"))
    assert rollup(plan) == 0
    assert set(UnitPeriodSnapshot.objects.values_list("unit_id", "period_id", "status", "timeliness")) == (
        units_before
    )

    # 人社厅 adds 10000 in 2025 Q1: T09 moves in 2025 Q1–Q4 (4 target rows and 人社厅's 4
    # contribution rows, 40000 → 50000) and 人社厅's 2025 Q1 unit row turns approved: 9 rows.
    # T09's status stays the same, so no initiative row changes.
    approved_figure("rst", 2025, 1, "T09", value=D(10000))
    assert rollup(plan) == 4 + 4 + 1
    assert snapshot("T09", 2025, 4).actual == D(50000)
    assert snapshot("T09", 2024, 4).actual == D(40000)

    # 西宁's 2024 Q2 form is returned: its funding no longer counts in 2024 Q2–Q4.
    region_periods = Period.objects.filter(year=2024, quarter__gte=2)
    assert RegionSnapshot.objects.filter(region__code="630100", period__in=region_periods).count() == 3
    from tasks.models import Submission

    Submission.objects.filter(unit__code="xiningshi", period__year=2024, period__quarter=2).update(
        status="returned"
    )
    rollup(plan)
    assert not RegionSnapshot.objects.filter(region__code="630100").exists()
    assert snapshot("T30", 2024, 4).regions_met is None


# --- one pass over the figures gives what each period computed alone gives ----------------------


@pytest.mark.parametrize("combine", ["increment", "level", "coverage", "milestone"])
@pytest.mark.parametrize("time_scope", ["whole_plan", "per_year"])
def test_the_roll_ups_single_pass_equals_computing_each_period_alone(combine, time_scope):
    """``actuals_through`` (what a roll-up uses: running sums / latest values over the periods in
    order) against ``actual_at`` (each period from scratch, the rule as written), on random
    figures of five units over five years, from the first period and from a later one."""
    import random
    from types import SimpleNamespace

    from reports.rollup.rollups import actual_at, actuals_through

    rng = random.Random(f"{combine}-{time_scope}")
    periods = [
        SimpleNamespace(year=y, quarter=q, key=y * 10 + q) for y in range(2021, 2026) for q in range(1, 5)
    ]
    for trial in range(40):
        target = SimpleNamespace(
            combine=combine, time_scope=time_scope, owner_unit_id=rng.choice([None, 1, 9])
        )
        rows = sorted(
            (p.key, p.year, unit, D(rng.choice([0, 1])) if combine == "milestone" else D(rng.randint(-5, 50)))
            for p in periods
            for unit in range(1, 6)
            if rng.random() < 0.3
        )
        chosen = periods[rng.choice([0, 0, 5, 11]) :]
        expected = [actual_at(target, rows, p) for p in chosen]
        assert list(actuals_through(target, rows, chosen)) == expected, (trial, target, rows)


def test_an_initiative_snapshot_counts_approved_lines_by_status_and_the_units_behind_them():
    """Two units' approved forms carry three lines on one initiative's measures (two in progress,
    one done); a returned form's line does not count. Hand count: {in_progress: 2, done: 1}, 2 units."""
    from reports.models import InitiativeSnapshot
    from tasks.models import Measure, MeasureLine

    rst = approved_figure("rst", 2024, 2, "T09", value=D(1))
    jyt = approved_figure("jyt", 2024, 2, "T09", value=D(1))
    returned = approved_figure("kjt", 2024, 2, "T09", status="returned", value=D(1))
    first = Measure.objects.get(code="A3.3")
    second = Measure.objects.filter(initiative=first.initiative).exclude(pk=first.pk).first()
    for figure, measure, status in (
        (rst, first, "in_progress"),
        (rst, second, "done"),
        (jyt, first, "in_progress"),
        (returned, first, "done"),
    ):
        MeasureLine.objects.create(submission=figure.submission, measure=measure, status=status)
    rollup(current_plan())
    snap = InitiativeSnapshot.objects.get(initiative=first.initiative, period__year=2024, period__quarter=2)
    assert snap.lines_by_status == {"in_progress": 2, "done": 1}
    assert snap.units_reported == 2
    other = InitiativeSnapshot.objects.get(initiative=first.initiative, period__year=2024, period__quarter=3)
    assert other.lines_by_status == {} and other.units_reported == 0
