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
from datetime import timedelta

from axes.models import AccessAttempt
from axes.signals import user_locked_out
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Sum
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from portal.security import client_ip
from units.models import AuthEvent, AuthEventKind, AuthSource
from units.policy import directory_account_of, membership_of, refused_for_want_of_mapping

log = logging.getLogger("portal.auth")

USERNAME_MAX = 150


def lockout_message() -> str:
    return _("登录失败次数过多，账号已暂时锁定，请%(minutes)s分钟后再试或联系省纲要办解锁。") % {
        "minutes": settings.AXES_COOLOFF_MINUTES
    }


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
    """What is locked now, newest first, with the failure count: (username, ip_address) pairs, and
    addresses locked across user names (username empty, see ``AddressLimitBackend``)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)
    pairs = (
        recent.values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    )
    addresses = (
        recent.exclude(ip_address=None)
        .values("ip_address")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_ADDRESS_FAILURE_LIMIT)
    )
    locked = list(pairs) + [{"username": "", **row} for row in addresses]
    return sorted(locked, key=lambda row: row["last_attempt"], reverse=True)


def address_failures(address: str) -> int:
    """Failed log-ins from ``address`` within the cool-off, whatever the user names."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return total or 0


class AddressLimitBackend:
    """Refuse every log-in from an address that failed ``AXES_ADDRESS_FAILURE_LIMIT`` times within
    the cool-off, across user names: one address trying many names (password spraying) is
    stopped, as django-axes stops many tries of one name from one address.

    First in AUTHENTICATION_BACKENDS: it answers nothing itself (None) unless the address is
    locked; then it raises PermissionDenied (the failure is recorded like any other) and marks
    the request so that django-axes' middleware, and the token endpoint, answer with the lock-out.
    No ``get_user``: sessions are never tied to it (as django-axes' backend).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        address = client_ip(request)
        if address is None or address_failures(address) < settings.AXES_ADDRESS_FAILURE_LIMIT:
            return None
        for marked in (request, getattr(request, "_request", None)):
            if marked is not None:
                marked.axes_locked_out = True
        log.warning("auth refused: address %s locked across user names", address, extra={"ip": address})
        raise PermissionDenied(lockout_message())


@transaction.atomic
def unlock_address(ip_address: str, *, by) -> int:
    """Forget every failed log-in from ``ip_address`` (an address locked across user names)."""
    removed = axes_reset(ip=ip_address)
    if removed:
        record_event(AuthEventKind.UNLOCKED, username="", actor=by)
    return removed


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


@transaction.atomic
def issue_token(user, *, request) -> Token:
    """A new API token for the user: each request for one replaces the previous key (which stops
    working at once), so a key is never handed out twice. Recorded as a token log-in."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    record_event(AuthEventKind.TOKEN_ISSUED, username=user.get_username(), request=request)
    return token


def token_expires_at(token):
    """When a token stops working: ``API_TOKEN_DAYS`` after it was issued."""
    return token.created + timedelta(days=settings.API_TOKEN_DAYS)


def token_expired(token, now=None) -> bool:
    return (now or timezone.now()) >= token_expires_at(token)


@transaction.atomic
def revoke_token(user, *, by) -> bool:
    """Delete the user's API token: calls with it get 401 from now on. False if they had none."""
    deleted, _details = Token.objects.filter(user=user).delete()
    if deleted:
        record_event(
            AuthEventKind.TOKEN_REVOKED, username=user.get_username(), actor=by if by.pk != user.pk else None
        )
    return bool(deleted)


# A token dies with the password it was obtained with, and with the account --------------------


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="units.auth.credentials_changing")
def _note_credentials_change(sender, instance, update_fields=None, **kwargs):
    """Before a user is saved: is their password changing, or the account being deactivated?"""
    instance._revoke_tokens = False
    if instance.pk is None or (
        update_fields is not None and not {"password", "is_active"} & set(update_fields)
    ):
        return  # a new user has no token; a last_login update changes neither
    stored = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is not None and (
        stored["password"] != instance.password or (stored["is_active"] and not instance.is_active)
    ):
        instance._revoke_tokens = True


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="units.auth.credentials_changed")
def _revoke_tokens_on_credentials_change(sender, instance, created, **kwargs):
    """A new password or a deactivated account: the API token stops working (a program using it
    must obtain a new one with the new password)."""
    if getattr(instance, "_revoke_tokens", False):
        instance._revoke_tokens = False
        if Token.objects.filter(user=instance).delete()[0]:
            record_event(AuthEventKind.TOKEN_REVOKED, username=instance.get_username())


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
        if token_expired(token):
            raise exceptions.AuthenticationFailed(
                _("API令牌已于 %(when)s 过期，请用用户名和密码重新获取（/api/v1/auth/token/）。")
                % {"when": timezone.localtime(token_expires_at(token)).strftime("%Y-%m-%d %H:%M")}
            )
        return (token.user, token)


def unmapped_message() -> str:
    return _(
        "您的统一身份认证账号还没有对应到本平台的单位和角色，暂时不能使用本平台。"
        "请联系省纲要办，由其在管理后台“目录映射”中为您所在的组设置单位和角色。"
    )
