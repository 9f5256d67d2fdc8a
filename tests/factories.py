"""Helpers that build reporting data for tests."""

from tasks.choices import PeriodState
from tasks.models import Period
from tasks.selectors import current_plan
from tasks.services import generate_periods


def open_period(year=2024, quarter=3):
    """Generate the plan's periods and open one of them."""
    generate_periods(current_plan())
    period = Period.objects.get(year=year, quarter=quarter)
    period.state = PeriodState.OPEN
    period.save()
    return period


def approved_figure(unit_code, year, quarter, target_code, status="approved", **values):
    """An approved (or other status) submission of a unit with one figure, without the workflow.

    For roll-up tests that need many periods of data; the workflow itself is tested elsewhere.
    """
    from django.utils import timezone

    from targets.models import Target, TargetFigure
    from tasks.models import Submission
    from units.models import Unit

    generate_periods(current_plan())
    period = Period.objects.get(year=year, quarter=quarter)
    unit = Unit.objects.get(code=unit_code)
    submission, _ = Submission.objects.get_or_create(
        unit=unit, period=period, defaults={"status": status, "first_submitted_at": timezone.now()}
    )
    if submission.status != status:
        submission.status = status
        submission.save()
    target = Target.objects.get(code=target_code)
    figure, _ = TargetFigure.objects.update_or_create(submission=submission, target=target, defaults=values)
    return figure


def region_figure(unit_code, year, quarter, funding, population, status="approved"):
    from django.utils import timezone

    from targets.models import RegionFigure
    from tasks.models import Submission
    from units.models import Unit

    generate_periods(current_plan())
    period = Period.objects.get(year=year, quarter=quarter)
    unit = Unit.objects.get(code=unit_code)
    submission, _ = Submission.objects.get_or_create(
        unit=unit, period=period, defaults={"status": status, "first_submitted_at": timezone.now()}
    )
    return RegionFigure.objects.update_or_create(
        submission=submission, defaults={"region": unit.region, "funding": funding, "population": population}
    )[0]
