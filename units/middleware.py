"""A directory user whom the office's mapping gives no unit and role may use only the page that
says so (and log out, switch language): every other page sends them there."""

from django.shortcuts import redirect
from django.urls import reverse

from units.policy import refused_for_want_of_mapping

ALLOWED_PREFIXES = ("/static/", "/i18n/", "/healthz", "/accounts/logout/", "/accounts/login/")


class DirectoryMappingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and refused_for_want_of_mapping(user):
            page = reverse("accounts:unmapped")
            if request.path != page and not request.path.startswith(ALLOWED_PREFIXES):
                if request.path.startswith("/api/"):
                    from django.http import JsonResponse

                    from units.auth import unmapped_message

                    return JsonResponse({"detail": unmapped_message()}, status=403)
                return redirect(page)
        return self.get_response(request)
