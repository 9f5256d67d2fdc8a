"""Template context shared by every page."""

from functools import cached_property

from django.conf import settings
from django.db import connection


class _Badges:
    """The menu's counts (unread notifications; forms waiting for review, for the office), read in
    one query the first time a page shows one of them."""

    def __init__(self, user, office):
        self.user = user
        self.office = office

    @cached_property
    def counts(self):
        from tasks.models import Notification, Submission

        parts = [Notification.objects.filter(user=self.user, read_at__isnull=True)]
        if self.office:
            parts.append(Submission.objects.pending_review())
        sql, params = [], []
        for queryset in parts:
            part_sql, part_params = queryset.order_by().values("pk").query.sql_with_params()
            sql.append(f"(SELECT COUNT(*) FROM ({part_sql}) AS counted)")
            params.extend(part_params)
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(sql), params)
            return cursor.fetchone()

    def unread(self):
        return self.counts[0]

    def review(self):
        return self.counts[1]


def portal(request):
    """The site's name and the user's role, for the navigation bar."""
    from units.choices import Role
    from units.permissions import role_of

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"PORTAL_DEBUG": settings.DEBUG, "user_role": None}
    role = role_of(user)
    badges = _Badges(user, office=role == Role.OFFICE)
    context = {"PORTAL_DEBUG": settings.DEBUG, "user_role": role, "unread_count": badges.unread}
    if role == Role.OFFICE:
        context["review_count"] = badges.review
    return context
