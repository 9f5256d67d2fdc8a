"""Template context shared by every page."""

from django.conf import settings


def portal(request):
    """The site's name and the user's role, for the navigation bar."""
    from tasks.models import Notification, Submission
    from units.choices import Role
    from units.permissions import role_of

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"PORTAL_DEBUG": settings.DEBUG, "user_role": None}
    role = role_of(user)
    context = {
        "PORTAL_DEBUG": settings.DEBUG,
        "user_role": role,
        # the bell: one indexed COUNT per page
        "unread_count": Notification.objects.filter(user=user, read_at__isnull=True).count,
    }
    if role == Role.OFFICE:
        context["review_count"] = Submission.objects.pending_review().count
    return context
