"""Accounts: the log-in audit trail, lock-outs and API tokens.

django-axes counts failed log-ins and refuses a (username, address) pair after
``AXES_FAILURE_LIMIT`` failures for ``AXES_COOLOFF_TIME``. This module

- records every log-in, log-out, failure and lock-out as an ``AuthEvent`` (and logs it at INFO,
  with the username, never the password), through the auth signals connected below;
- renders the lock-out page (``AXES_LOCKOUT_CALLABLE``) and finds the client's address
  (``AXES_CLIENT_IP_CALLABLE``);
- holds the services the pages call: unlock an account, issue and revoke an API token.

The receivers are connected when this module is imported (see units/admin.py).
"""

import logging

from axes.models import AccessAttempt
from axes.signals import user_locked_out
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db import transaction
from django.db.models import Max, Sum
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from units.models import AuthEvent, AuthEventKind, AuthSource
from units.policy import directory_account_of, membership_of, refused_for_want_of_mapping

log = logging.getLogger("portal.auth")

USERNAME_MAX = 150


def lockout_message() -> str:
    return _("登录失败次数过多，账号已暂时锁定，请%(minutes)s分钟后再试或联系省纲要办解锁。") % {
        "minutes": settings.AXES_COOLOFF_MINUTES
    }


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind our proxy the address it appended last.

    Only the last X-Forwarded-For entry is trusted: the client can write anything before it.
    """
    address = request.META.get("REMOTE_ADDR")
    if settings.BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded and forwarded[-1]:
            address = forwarded[-1]
    try:
        validate_ipv46_address(address or "")
    except ValidationError:
        return None
    return address


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out log-in gets: a page in the user's language (JSON on the API), 429."""
    message = lockout_message()
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    wants_json = (
        request.path.startswith("/api/") or request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )
    if wants_json:
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "units/lockout.html", {"message": message}, status=429)
    response["Retry-After"] = retry_after
    return response


def record_event(kind, *, username="", request=None, actor=None, actor_label="", source="", detail=""):
    """Write one AuthEvent and log it (INFO; a lock-out or a refusal by the directory at WARNING).

    ``actor`` is the user who acted on someone else's account; ``actor_label`` names a job instead
    (the daily directory check). ``source`` and ``detail``: see AuthEvent.
    """
    username = (username or "")[:USERNAME_MAX]
    event = AuthEvent.objects.create(
        kind=kind,
        username=username,
        actor=actor.get_username() if actor is not None else actor_label[:USERNAME_MAX],
        ip_address=client_ip(request) if request is not None else None,
        path=(getattr(request, "path", "") or "")[:255],
        source=source,
        detail=detail,
    )
    level = logging.WARNING if kind in (AuthEventKind.LOCKED_OUT, AuthEventKind.DISABLED) else logging.INFO
    log.log(
        level,
        "auth %s: %s%s",
        kind,
        username,
        f" ({detail})" if detail else "",
        extra={
            "event": str(kind),
            "username": username,
            "actor": event.actor,
            "ip": event.ip_address,
            "source": source,
        },
    )
    return event


@receiver(user_logged_in, dispatch_uid="units.auth.logged_in")
def _on_logged_in(sender, request, user, **kwargs):
    account = directory_account_of(user)
    if account is None:
        record_event(
            AuthEventKind.LOGIN, username=user.get_username(), request=request, source=AuthSource.LOCAL
        )
    else:  # a directory log-in: the unit and role it gave, or why it gave none
        membership = membership_of(user)
        detail = account.mapping_problem or (str(membership) if membership is not None else "")
        record_event(
            AuthEventKind.LOGIN,
            username=user.get_username(),
            request=request,
            source=account.source,
            detail=detail,
        )


@receiver(user_logged_out, dispatch_uid="units.auth.logged_out")
def _on_logged_out(sender, request, user, **kwargs):
    record_event(AuthEventKind.LOGOUT, username=user.get_username() if user else "", request=request)


@receiver(user_login_failed, dispatch_uid="units.auth.login_failed")
def _on_login_failed(sender, credentials, request=None, **kwargs):
    # Django has already replaced the password in ``credentials`` with stars; only the name is kept.
    # The directory's backends leave their reason on the request (units.ldap.refuse, units.oidc).
    source, detail, username = getattr(request, "directory_refusal", None) or ("", "", "")
    record_event(
        AuthEventKind.LOGIN_FAILED,
        username=str(credentials.get("username") or username or ""),
        request=request,
        source=source,
        detail=detail,
    )


@receiver(user_locked_out, dispatch_uid="units.auth.locked_out")
def _on_locked_out(sender, request, username, ip_address, **kwargs):
    # axes signals every failure at or past the limit; the trail keeps the one that locked.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None or failures <= settings.AXES_FAILURE_LIMIT:
        record_event(AuthEventKind.LOCKED_OUT, username=str(username or ""), request=request)


def locked_accounts():
    """The (username, ip_address) pairs locked now, newest first, with their failure count."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return (
        AccessAttempt.objects.filter(attempt_time__gte=since)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last_attempt")
    )


@transaction.atomic
def unlock_account(*, username: str, ip_address: str | None, by) -> int:
    """Forget the failed log-ins of ``username`` (from ``ip_address``, or from anywhere if None).

    Returns how many attempt records were removed: 0 when the lock had already ended.
    """
    if not username:
        raise ValueError("unlock_account needs a username")  # never reset every account at once
    removed = axes_reset(ip=ip_address or None, username=username)
    if removed:
        record_event(AuthEventKind.UNLOCKED, username=username, actor=by)
    return removed


def issue_token(user, *, request) -> Token:
    """The user's API token, created if they have none; recorded as a token log-in."""
    token, _created = Token.objects.get_or_create(user=user)
    record_event(AuthEventKind.TOKEN_ISSUED, username=user.get_username(), request=request)
    return token


@transaction.atomic
def revoke_token(user, *, by) -> bool:
    """Delete the user's API token: calls with it get 401 from now on. False if they had none."""
    deleted, _details = Token.objects.filter(user=user).delete()
    if deleted:
        record_event(
            AuthEventKind.TOKEN_REVOKED, username=user.get_username(), actor=by if by.pk != user.pk else None
        )
    return bool(deleted)


class PortalModelBackend(ModelBackend):
    """Django's model backend, loading the user's membership and unit with the user (every page
    asks for the role): one query per request instead of three."""

    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("membership__unit").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class PortalTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with the user's membership and unit in the same query."""

    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = model.objects.select_related("user__membership__unit").get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if refused_for_want_of_mapping(token.user):
            raise exceptions.AuthenticationFailed(unmapped_message())
        return (token.user, token)


def unmapped_message() -> str:
    return _(
        "您的统一身份认证账号还没有对应到本平台的单位和角色，暂时不能使用本平台。"
        "请联系省纲要办，由其在管理后台“目录映射”中为您所在的组设置单位和角色。"
    )
