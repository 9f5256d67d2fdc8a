"""View mixins shared by every app's pages."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied

from units.permissions import role_of


class RoleRequiredMixin(LoginRequiredMixin):
    """Logged-in users with one of ``allowed_roles``; others get 403 (anonymous: log in)."""

    allowed_roles: tuple = ()

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and role_of(request.user) not in self.allowed_roles:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
