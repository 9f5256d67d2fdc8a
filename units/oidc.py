"""Log-in with an OpenID Connect provider (the province's unified identity service, where it runs
one), through mozilla-django-oidc: the library does the code flow and checks the ID token; this
backend turns the provider's claims into a ``DirectoryIdentity`` and places the person with the
same mapping rules as LDAP (units/directory.py), source "oidc".

Claims used: "sub" (the account's lasting identifier), OIDC_USERNAME_CLAIM (default
preferred_username), given_name, family_name (or name), email, OIDC_GROUPS_CLAIM (default groups);
every other claim can be matched by an attribute rule.
"""

import logging

import requests
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from units.auth import PortalModelBackend
from units.directory import DirectoryIdentity, DirectoryRefused, apply_identity, placement_for
from units.models import AuthSource

log = logging.getLogger("portal.auth")


def identity_from_claims(claims: dict) -> DirectoryIdentity:
    """The identity the claims describe; SuspiciousOperation when "sub" or the user name is missing."""
    subject = str(claims.get("sub") or "").strip()
    username = str(claims.get(settings.OIDC_USERNAME_CLAIM) or "").strip()
    if not subject or not username or len(username) > 150:
        raise SuspiciousOperation("OIDC claims lack sub or a usable user name")
    groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    attributes = {
        name: value
        for name, value in claims.items()
        if isinstance(value, str | int)
        or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    }
    first_name = claims.get("given_name") or ""
    last_name = claims.get("family_name") or ("" if first_name else claims.get("name") or "")
    return DirectoryIdentity.build(
        source=AuthSource.OIDC,
        identifier=subject,
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=claims.get("email") or "",
        groups=[str(group) for group in groups if isinstance(group, str | int)],
        attributes=attributes,
    )


def refuse(request, reason, username=""):
    """Leave the reason for the failed log-in's audit row (units.auth._on_login_failed)."""
    if request is not None:
        request.directory_refusal = (AuthSource.OIDC, reason, username)


class OIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, with users found by "sub" and placed by the mapping."""

    def authenticate(self, request, **kwargs):
        """The library's code flow; a provider that cannot be reached, or a token that does not
        verify, refuses the log-in (to the log-in page with a message) instead of an error page."""
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, requests.RequestException) as error:
            unreachable = isinstance(error, requests.RequestException)
            detail = _("无法连接统一身份认证服务") if unreachable else _("统一身份认证返回的令牌未通过校验")
            refuse(request, detail)
            log.warning("OIDC log-in failed: %s", error)
            return None

    def verify_claims(self, claims):
        return bool(claims.get("sub")) and bool(claims.get(settings.OIDC_USERNAME_CLAIM))

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            raise SuspiciousOperation("Claims verification failed")
        identity = identity_from_claims(claims)
        request = getattr(self, "request", None)
        try:
            user, _changed = apply_identity(identity, placement_for(identity), request=request)
        except DirectoryRefused as error:
            refuse(request, error.message, identity.username)
            log.warning("OIDC log-in of %s refused: %s", identity.username, error.message)
            return None
        return user

    def get_user(self, user_id):
        """As the model backend loads a user: with membership and unit, active users only."""
        return PortalModelBackend().get_user(user_id)
