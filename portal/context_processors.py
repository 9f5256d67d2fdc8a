"""Template context shared by every page."""

from django.conf import settings


def portal(request):
    """The site's name and the user's role, for the navigation bar."""
    from units.permissions import role_of

    user = getattr(request, "user", None)
    return {
        "PORTAL_DEBUG": settings.DEBUG,
        "user_role": role_of(user) if user is not None and user.is_authenticated else None,
    }
