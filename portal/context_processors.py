"""Template context shared by every page."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.functional import SimpleLazyObject

from portal import page_cache
from units import policy

# The policy's answers the menu and the pages' links show (``{% if may.can_review %}``).
MENU_QUESTIONS = (
    "is_unit_staff",
    "leads_initiatives",
    "can_see_dashboard",
    "can_see_reports",
    "can_review",
    "can_manage_periods",
    "can_send_reminders",
    "can_manage_settings",
    "can_manage_accounts",
    "can_run_rollups",
)


def _count(queryset, group):
    """``queryset``'s row count as a subquery (0 when empty); ``group`` is a field every row
    shares, so that the subquery is one row."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def badge_counts(user, review: bool) -> dict:
    """The menu's counts in one query: the user's unread messages and, if ``review``, the forms
    waiting for review."""
    from tasks.models import Notification, Submission

    counts = {
        "unread": _count(Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True), "user")
    }
    if review:
        counts["review"] = _count(Submission.objects.pending_review(), "status")
    return get_user_model().objects.filter(pk=user.pk).values(**counts).get()


def portal(request):
    """The site's name, the policy's answers for the menu, and the menu's badge counts (read in
    one query the first time a page shows one of them)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"PORTAL_DEBUG": settings.DEBUG, "may": {}}
    may = {question: policy.answer(question, user) for question in MENU_QUESTIONS}
    # cached per user until a reporting record (a message, a form) is written: see page_cache
    counts = SimpleLazyObject(
        lambda: page_cache.cached(
            page_cache.key("badges", user.pk, may["can_review"]),
            lambda: badge_counts(user, review=may["can_review"]),
            scope=page_cache.WORKFLOW,
            timeout=page_cache.WORKFLOW_TIMEOUT,
        )
    )
    return {
        "PORTAL_DEBUG": settings.DEBUG,
        "may": may,
        "unread_count": lambda: counts["unread"],
        "review_count": lambda: counts.get("review", 0),
    }
