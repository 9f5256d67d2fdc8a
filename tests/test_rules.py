"""The reporting rules of ``tasks.rules``, and the roll-up's SQL that repeats two of them.

The roll-up (``reports.rollup.rollups._unit_snapshots``) computes every unit's deadline and timeliness
in SQL; here it is run on seeded random data (extensions, first submissions on both sides of
midnight in Asia/Shanghai, "today" on and around each deadline) and every row must equal what
``rules.deadline_for`` and ``rules.timeliness`` say. The office lists' query expressions
(``rules.deadline_sql`` / ``rules.timeliness_sql``) are checked on the same generator.
"""

import datetime
import random
from zoneinfo import ZoneInfo

import pytest

from reports.models import UnitPeriodSnapshot
from reports.rollup.rollups import _unit_snapshots
from tasks import office_filters, rules, selectors
from tasks.choices import SubmissionStatus, Timeliness
from tasks.models import DeadlineExtension, Period, Submission
from tasks.selectors import current_plan
from tasks.services import generate_periods
from units.models import Unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = datetime.UTC


def local_moment(day, hour=0, minute=0, second=0, micro=0):
    """An aware UTC timestamp of a wall-clock time in Asia/Shanghai."""
    return datetime.datetime(
        day.year, day.month, day.day, hour, minute, second, micro, tzinfo=SHANGHAI
    ).astimezone(UTC)


def boundary_moments(deadline):
    """Moments of a first submission on and around a deadline day, in Shanghai time."""
    before, after = deadline - datetime.timedelta(days=1), deadline + datetime.timedelta(days=1)
    return [
        local_moment(before, 12),
        local_moment(deadline),  # the deadline day's first instant (16:00 UTC the day before)
        local_moment(deadline, 7, 59, 59),  # 23:59:59 UTC the day before: still the deadline day
        local_moment(deadline, 23, 59, 59, 999999),  # the deadline day's last instant
        local_moment(after),  # 16:00 UTC on the deadline day: already late
        local_moment(after, 9),
    ]


# ------------------------------------------------------------------ the functions themselves


@pytest.mark.parametrize(
    ("submitted", "today", "expected"),
    [
        (datetime.date(2024, 10, 20), datetime.date(2024, 12, 1), Timeliness.ON_TIME),  # on the day
        (datetime.date(2024, 10, 21), datetime.date(2024, 12, 1), Timeliness.LATE),
        (None, datetime.date(2024, 10, 20), Timeliness.PENDING),  # the deadline day itself
        (None, datetime.date(2024, 10, 21), Timeliness.MISSING),
    ],
)
def test_timeliness_on_the_boundary_days(submitted, today, expected):
    assert rules.timeliness(submitted, datetime.date(2024, 10, 20), today) == expected


def test_quarter_bounds_and_the_period_end_agree():
    assert rules.quarter_bounds(2024, 1) == (datetime.date(2024, 1, 1), datetime.date(2024, 3, 31))
    assert rules.quarter_bounds(2024, 4) == (datetime.date(2024, 10, 1), datetime.date(2024, 12, 31))
    for quarter in range(1, 5):
        assert Period(year=2023, quarter=quarter).ends_on == rules.quarter_bounds(2023, quarter)[1]


def test_as_of_period_is_the_latest_ended_one():
    periods = [Period(pk=i, year=2024, quarter=q) for i, q in enumerate((3, 1, 2), start=1)]
    assert rules.as_of_period(periods, datetime.date(2024, 3, 30)) is None  # nothing has ended
    assert rules.as_of_period(periods, datetime.date(2024, 3, 31)).quarter == 1  # on the last day
    assert rules.as_of_period(periods, datetime.date(2024, 9, 29)).quarter == 2
    assert rules.as_of_period(periods, datetime.date(2025, 1, 1)).quarter == 3


# ------------------------------------------------------------------ SQL against Python


def random_forms(rng, office):
    """Seeded random forms and extensions in the 2023–2024 periods for up to 10 units, first
    submissions on and around each deadline: (periods, active units, the chosen units,
    {(unit_id, period_id): extension}, {(unit_id, period_id): submission})."""
    generate_periods(current_plan())
    periods = list(Period.objects.filter(year__in=(2023, 2024)).order_by("year", "quarter"))
    units = list(Unit.objects.active().order_by("pk"))
    chosen_units = rng.sample(units, min(len(units), 10))
    submissions, extensions = [], []
    for period in periods:
        for unit in chosen_units:
            extension = None
            if rng.random() < 0.35:
                extension = DeadlineExtension(
                    period=period,
                    unit=unit,
                    deadline=period.deadline + datetime.timedelta(days=rng.choice((1, 2, 7, 30))),
                    reason="系统故障",
                    granted_by=office,
                )
                extensions.append(extension)
            deadline = rules.deadline_for(period, extension)
            roll = rng.random()
            if roll < 0.2:
                continue  # no form at all
            if roll < 0.35:
                submissions.append(Submission(unit=unit, period=period, status=SubmissionStatus.DRAFT))
                continue
            moments = boundary_moments(deadline) + boundary_moments(period.deadline)
            moments.append(
                local_moment(deadline + datetime.timedelta(days=rng.randint(-40, 40)), rng.randint(0, 23))
            )
            submissions.append(
                Submission(
                    unit=unit,
                    period=period,
                    status=rng.choice(
                        (SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED, SubmissionStatus.RETURNED)
                    ),
                    first_submitted_at=rng.choice(moments),
                )
            )
    DeadlineExtension.objects.bulk_create(extensions)
    Submission.objects.bulk_create(submissions)
    stored_extensions = {(e.unit_id, e.period_id): e for e in DeadlineExtension.objects.all()}
    stored_submissions = {(s.unit_id, s.period_id): s for s in Submission.objects.all()}
    return periods, units, chosen_units, stored_extensions, stored_submissions


def days_around(period, stored_extensions):
    """ "today" on, before and after the period's deadline and each of its extensions."""
    days = {period.deadline, period.deadline - datetime.timedelta(days=1)}
    days |= {e.deadline for (_u, p), e in stored_extensions.items() if p == period.pk}
    days |= {d + datetime.timedelta(days=1) for d in list(days)}
    return sorted(days)


@pytest.mark.django_db
def test_the_rollups_timeliness_equals_the_rule_on_random_data(office):
    rng = random.Random(20261206)
    periods, units, chosen_units, stored_extensions, stored_submissions = random_forms(rng, office)

    checked, seen = 0, set()
    for period in periods:
        for today in days_around(period, stored_extensions):
            _unit_snapshots([period.pk], today)
            sql = dict(UnitPeriodSnapshot.objects.filter(period=period).values_list("unit_id", "timeliness"))
            page = {row["unit"].pk: row["timeliness"] for row in selectors.period_overview(period, today)}
            assert set(sql) == {u.pk for u in units}
            for unit_id, got in sql.items():
                submission = stored_submissions.get((unit_id, period.pk))
                deadline = rules.deadline_for(period, stored_extensions.get((unit_id, period.pk)))
                first = submission.first_submitted_at if submission else None
                expected = rules.timeliness(rules.local_day(first), deadline, today)
                assert got == expected, (unit_id, period, today, first, deadline)
                assert page[unit_id] == expected
                if unit_id in {u.pk for u in chosen_units}:
                    checked += 1
                    seen.add(expected)
    assert checked >= 200
    assert seen == set(Timeliness)  # every outcome was exercised


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [20261207, 7])
def test_the_office_lists_sql_deadline_and_timeliness_equal_the_rule_on_random_data(office, seed):
    """``rules.deadline_sql`` / ``rules.timeliness_sql``, as the period overview
    (``selectors.period_overview_units``, filtered and counted by them) and the review queue use
    them, give for every unit and form what ``rules.deadline_for`` / ``rules.timeliness`` say."""
    from django.db.models import F, OuterRef, Subquery

    rng = random.Random(seed)
    periods, units, chosen_units, stored_extensions, stored_submissions = random_forms(rng, office)
    checked, seen = 0, set()
    for period in periods:
        for today in days_around(period, stored_extensions):
            annotated = selectors.period_overview_units(period, today)
            got = {u.pk: (u.row_deadline, u.row_timeliness) for u in annotated}
            assert set(got) == {u.pk for u in units}
            expected_counts = {}
            for unit_id, (deadline, timeliness) in got.items():
                extension = stored_extensions.get((unit_id, period.pk))
                submission = stored_submissions.get((unit_id, period.pk))
                expected = rules.deadline_for(period, extension)
                first = submission.first_submitted_at if submission else None
                rule = rules.timeliness(rules.local_day(first), expected, today)
                assert (deadline, timeliness) == (expected, rule), (unit_id, period, today, first)
                expected_counts[rule] = expected_counts.get(rule, 0) + 1
                checked += unit_id in {u.pk for u in chosen_units}
                seen.add(rule)
            # the chips' counts and the 只看未报 / 只看逾期 filters come from the same CASE
            assert selectors.overview_counts(annotated)[1] == expected_counts
            for show, value in (("missing", Timeliness.MISSING), ("late", Timeliness.LATE)):
                chosen = {"show": show, "kind": "", "sort": "", "q": ""}
                kept = office_filters.apply_filters(annotated, chosen, order=("sort_order", "code"))
                assert {u.pk for u in kept} == {k for k, (_d, t) in got.items() if t == value}

    # the review queue's form: a correlated extension on each form
    extension = DeadlineExtension.objects.filter(unit=OuterRef("unit_id"), period=OuterRef("period_id"))
    today = periods[-1].deadline
    forms = Submission.objects.annotate(
        row_deadline=rules.deadline_sql(F("period__deadline"), Subquery(extension.values("deadline")[:1]))
    ).annotate(row_timeliness=rules.timeliness_sql(F("first_submitted_at"), F("row_deadline"), today))
    for form in forms.select_related("period"):
        deadline = rules.deadline_for(form.period, stored_extensions.get((form.unit_id, form.period_id)))
        expected = rules.timeliness(rules.local_day(form.first_submitted_at), deadline, today)
        assert (form.row_deadline, form.row_timeliness) == (deadline, expected)
    assert checked >= 200
    assert seen == set(Timeliness)  # every outcome was exercised
