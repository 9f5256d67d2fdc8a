"""Template context shared by every page."""

import functools
from functools import cached_property

from django.conf import settings
from django.db import connection


@functools.cache
def _badge_sql(office: bool) -> tuple[str, tuple]:
    """The menu counts' SQL, built once per process (the querysets cost more to compile than the
    query takes to run); the user's id is its first parameter. ``pending_review()`` is compiled
    once with its parameters: it must not depend on the time or the user."""
    from tasks.models import Notification, Submission

    notification = Notification._meta
    sql = [
        f"(SELECT COUNT(*) FROM {notification.db_table}"
        f" WHERE {notification.get_field('user').column} = %s"
        f" AND {notification.get_field('read_at').column} IS NULL)"
    ]
    params = ()
    if office:
        part_sql, params = Submission.objects.pending_review().order_by().values("pk").query.sql_with_params()
        sql.append(f"(SELECT COUNT(*) FROM ({part_sql}) AS counted)")
    return "SELECT " + ", ".join(sql), tuple(params)


class _Badges:
    """The menu's counts (unread notifications; forms waiting for review, for the office), read in
    one query the first time a page shows one of them."""

    def __init__(self, user, office):
        self.user = user
        self.office = office

    @cached_property
    def counts(self):
        sql, params = _badge_sql(self.office)
        with connection.cursor() as cursor:
            cursor.execute(sql, (self.user.pk, *params))
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
