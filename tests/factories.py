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
