"""View mixins shared by every app's pages."""

from django.contrib.auth.mixins import LoginRequiredMixin

from units import policy

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class PolicyRequiredMixin(LoginRequiredMixin):
    """A page that asks the access policy (``units.policy``) before anything else.

    ``permission`` names the question every request must pass (``"can_see_dashboard"``);
    ``write_permission``, if set, the one a POST must pass as well (a page the office and viewers
    read but only the office changes). Anonymous users are sent to log in; others get 403 with the
    question's refusal message (``units.policy.REFUSAL_OF``).
    """

    permission = "is_logged_in"
    write_permission = None

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            policy.ask(self.permission, request.user)
            if self.write_permission and request.method not in SAFE_METHODS:
                policy.ask(self.write_permission, request.user)
        return super().dispatch(request, *args, **kwargs)
