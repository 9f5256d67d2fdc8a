"""Account pages: locked accounts and the log-in trail (office), API tokens, the token endpoint."""

from collections.abc import Mapping

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from portal.mixins import PolicyRequiredMixin
from portal.security import ScopedRateThrottle
from units import policy
from units.auth import (
    issue_token,
    locked_accounts,
    lockout_message,
    revoke_token,
    unlock_account,
    unlock_address,
    unmapped_message,
)
from units.models import AuthEvent
from units.policy import directory_account_of, refused_for_want_of_mapping

EVENTS_SHOWN = 200


class OfficeOnly(PolicyRequiredMixin):
    permission = "can_manage_accounts"


class LockoutListView(OfficeOnly, TemplateView):
    """账号锁定: the accounts locked now, each with 解锁, and the latest log-in events."""

    template_name = "units/lockout_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            locked=list(locked_accounts()),
            events=AuthEvent.objects.all()[:EVENTS_SHOWN],
            events_shown=EVENTS_SHOWN,
            axes_limit=settings.AXES_FAILURE_LIMIT,
            address_limit=settings.AXES_ADDRESS_FAILURE_LIMIT,
            axes_minutes=settings.AXES_COOLOFF_MINUTES,
            **kwargs,
        )


class UnlockView(OfficeOnly, View):
    """解锁: forget a locked (username, address) pair's failed log-ins."""

    http_method_names = ["post"]

    def post(self, request):
        username = request.POST.get("username", "").strip()
        ip_address = request.POST.get("ip_address", "").strip()
        try:
            if ip_address:
                validate_ipv46_address(ip_address)
        except ValidationError:
            ip_address = None
            username = ""
        if not username and ip_address:  # an address locked across user names
            if unlock_address(ip_address, by=request.user):
                messages.success(request, _("已解锁地址 %(ip)s。") % {"ip": ip_address})
            else:
                messages.info(request, _("地址 %(ip)s 已不在锁定状态。") % {"ip": ip_address})
            return redirect("accounts:lockout_list")
        if not username:
            messages.error(request, _("无效的请求。"))
            return redirect("accounts:lockout_list")
        if unlock_account(username=username, ip_address=ip_address or None, by=request.user):
            messages.success(request, _("已解锁账号 %(username)s。") % {"username": username})
        else:
            messages.info(request, _("账号 %(username)s 已不在锁定状态。") % {"username": username})
        return redirect("accounts:lockout_list")


class TokenListView(PolicyRequiredMixin, TemplateView):
    """API令牌: whether the user has a token, with 撤销; the office sees and revokes everyone's."""

    template_name = "units/token_list.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = {
            "own_token": Token.objects.filter(user=user).first(),
            "office": policy.can_manage_accounts(user),
        }
        if context["office"]:
            context["tokens"] = Token.objects.select_related("user__membership__unit").order_by(
                "user__username"
            )
        return super().get_context_data(**context, **kwargs)


class TokenRevokeView(PolicyRequiredMixin, View):
    """撤销令牌: a user revokes their own token; the office anyone's (others get 404)."""

    http_method_names = ["post"]

    def post(self, request, user_id):
        if not policy.can_revoke_token(request.user, user_id):
            raise Http404
        owner = get_object_or_404(get_user_model(), pk=user_id)
        if revoke_token(owner, by=request.user):
            if owner.pk == request.user.pk:
                messages.success(request, _("已撤销您的API令牌，使用它的程序将无法再访问接口。"))
            else:
                messages.success(
                    request, _("已撤销 %(username)s 的API令牌。") % {"username": owner.get_username()}
                )
        else:
            messages.info(request, _("该用户没有API令牌。"))
        return redirect("accounts:token_list")


class UnmappedView(LoginRequiredMixin, TemplateView):
    """无法使用本平台: what a directory user whom the mapping gives no unit and role sees, and
    nothing else (units.middleware); why, and whom to ask. Others are sent home."""

    template_name = "units/unmapped.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not refused_for_want_of_mapping(request.user):
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        account = directory_account_of(self.request.user)
        return super().get_context_data(
            message=unmapped_message(),
            problem=account.mapping_problem if account is not None else "",
            contact=settings.DIRECTORY_CONTACT,
            **kwargs,
        )


class ObtainTokenView(ObtainAuthToken):
    """POST username and password, get the user's API token (/api/v1/auth/token/).

    Throttled per client address (rate "token"); failures count towards the django-axes
    lock-out like those of the log-in page, and a locked account gets 429 with the reason.
    """

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer("AuthTokenIssued", {"token": serializers.CharField()}),
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="Wrong user name or password, or a field missing: the problems by field; or the"
                " directory could not be asked (detail).",
            ),
            403: OpenApiResponse(
                inline_serializer("AuthTokenUnmapped", {"detail": serializers.CharField()}),
                description="A directory account that the office's mapping gives no unit and role.",
            ),
            429: OpenApiResponse(
                inline_serializer("AuthTokenRefused", {"detail": serializers.CharField()}),
                description="Too many requests from this address, or the account is locked after failed log-ins.",
            ),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if isinstance(request.data, Mapping) else None
        if isinstance(username, str) and len(username) > 150:  # Django's limit; axes stores 255
            return Response({"username": [_("用户名过长。")]}, status=400)
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # authenticate() got the DRF request, so axes marked that object, not request._request.
            if getattr(request, "axes_locked_out", False):
                return Response(
                    {"detail": lockout_message()},
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                    headers={"Retry-After": str(int(settings.AXES_COOLOFF_TIME.total_seconds()))},
                )
            if getattr(request, "directory_message", None):  # the directory is down, or refused the user
                return Response({"detail": request.directory_message}, status=status.HTTP_400_BAD_REQUEST)
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        if refused_for_want_of_mapping(serializer.validated_data["user"]):
            return Response({"detail": unmapped_message()}, status=status.HTTP_403_FORBIDDEN)
        token = issue_token(serializer.validated_data["user"], request=request)
        return Response({"token": token.key})
