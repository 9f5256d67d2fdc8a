"""Read queries over targets."""

from django.db.models import Prefetch

from targets.models import Target, TargetSource
from units import policy


def sees_open_questions(user) -> bool:
    """待明确事项 (``Target.questions``: the analysts' open questions about a target) are working
    notes for the office, not for the plan's other users. The one check pages and the API ask."""
    return policy.can_see_open_questions(user)


def targets_for_plan(plan):
    """Every target of a plan with what a list shows, in a fixed number of queries."""
    return (
        Target.objects.filter(plan=plan)
        .select_related("initiative", "part", "measure", "owner_unit")
        .prefetch_related(
            "reporting_units", Prefetch("sources", queryset=TargetSource.objects.order_by("sort_order"))
        )
        .order_by("sort_order")
    )


def group_by_initiative(targets):
    """{initiative_id or None: [targets]} preserving order."""
    grouped = {}
    for target in targets:
        grouped.setdefault(target.initiative_id, []).append(target)
    return grouped
