"""The API's one permission class (DRF's DEFAULT_PERMISSION_CLASSES).

Its own module, importing nothing of DRF's views: DRF imports it while ``rest_framework.views``
is still loading.
"""

from rest_framework import permissions

from units import policy


class PolicyPermission(permissions.BasePermission):
    """Every endpoint asks the access policy (``units.policy``), as the pages do through
    ``portal.mixins.PolicyRequiredMixin``: a view's ``permission`` names the question a request
    must pass (default: any logged-in user), its ``write_permission`` the one a POST or PATCH must
    pass (default: the same), each refused with the question's message
    (``units.policy.REFUSAL_OF``). Which object a user may touch is then the scoped querysets' and
    the services' business."""

    def has_permission(self, request, view):
        if not policy.is_logged_in(request.user):
            return False  # 401 with the authenticators' challenge
        question = getattr(view, "permission", "is_logged_in")
        if request.method not in permissions.SAFE_METHODS and getattr(view, "write_permission", None):
            question = view.write_permission
        if policy.answer(question, request.user):
            return True
        self.message = policy.refusal_for(question) or self.message
        return False
