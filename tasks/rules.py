"""The reporting cycle's rules, each in one function.

Pages, the API, Excel, the PDF reports and the selectors call these; none writes its own copy.
The roll-up (``reports.rollup.rollups._unit_snapshots``) repeats the deadline and timeliness rules in
SQL for speed; ``tests/test_rules.py`` checks it against these functions on random data. The office's
paged lists (the period overview, the review queue) filter, sort and count by the same two rules in
the database: their query-expression form is ``deadline_sql`` / ``timeliness_sql`` below, checked
the same way; no other code writes these rules in SQL.
"""

import datetime

from django.db.models import Case, CharField, DateField, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import GreaterThan, IsNull, LessThanOrEqual
from django.utils import timezone

from tasks.choices import Timeliness


def quarter_bounds(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    """(first day, last day) of a calendar quarter."""
    start = datetime.date(year, 3 * quarter - 2, 1)
    month = quarter * 3
    end = datetime.date(year + (month == 12), month % 12 + 1, 1) - datetime.timedelta(days=1)
    return start, end


def deadline_for(period, extension) -> datetime.date:
    """A unit's deadline for a period: the office's extension for the unit when there is one,
    else the period's. ``extension`` is the unit's ``DeadlineExtension`` for the period or None."""
    return extension.deadline if extension is not None else period.deadline


def local_day(moment):
    """The Asia/Shanghai day of a stored timestamp (None stays None): the day deadlines count."""
    return timezone.localdate(moment) if moment is not None else None


def timeliness(first_submitted_on, deadline, today) -> Timeliness:
    """按时 / 逾期 / 未报 / 未到期 of one unit and period.

    ``first_submitted_on`` is the local day of the form's first submission (None if never
    submitted). On time: first submitted on or before the (possibly extended) deadline; late:
    first submitted after it; missing: never submitted and the deadline has passed; pending:
    never submitted and the deadline is today or later. A later return or resubmission does not
    change it.
    """
    if first_submitted_on is not None:
        return Timeliness.ON_TIME if first_submitted_on <= deadline else Timeliness.LATE
    return Timeliness.MISSING if today > deadline else Timeliness.PENDING


def deadline_sql(period_deadline, extension_deadline):
    """``deadline_for`` as a query expression: the extension's deadline when there is one (the
    expression is NULL when the unit has none), else the period's."""
    return Coalesce(extension_deadline, period_deadline, output_field=DateField())


def timeliness_sql(first_submitted_at, deadline, today):
    """``timeliness`` as a query expression (a CASE giving the ``Timeliness`` value).

    ``first_submitted_at`` is the expression of the form's first submission timestamp (NULL when
    never submitted or no form), ``deadline`` that of the unit's deadline (``deadline_sql``);
    the timestamp's local day is taken in the current time zone, as ``local_day`` does."""
    first_day = TruncDate(first_submitted_at, tzinfo=timezone.get_current_timezone())
    today = Value(today, output_field=DateField())
    return Case(
        When(
            IsNull(first_submitted_at, False),
            then=Case(
                When(LessThanOrEqual(first_day, deadline), then=Value(Timeliness.ON_TIME.value)),
                default=Value(Timeliness.LATE.value),
            ),
        ),
        When(GreaterThan(today, deadline), then=Value(Timeliness.MISSING.value)),
        default=Value(Timeliness.PENDING.value),
        output_field=CharField(),
    )


def as_of_period(periods, day):
    """The period the portal stands at on ``day``: the latest of ``periods`` whose quarter has
    ended on or before ``day`` (None when none has). ``periods`` in any order.

    Callers choose the candidates (the dashboard only those the roll-up has written) and what
    to show when none has ended yet.
    """
    ended = [p for p in periods if p.ends_on <= day]
    return max(ended, key=lambda p: p.key) if ended else None
