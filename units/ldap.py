"""Log-in with the intranet's LDAP directory (OpenLDAP, Active Directory), and its daily check.

Built on ldap3, a pure-Python LDAP client: no libldap headers or compiler on the server, where
django-auth-ldap's python-ldap would need them (docs/admin-guide.md explains the choice). The
steps of a log-in, each bounded by LDAP_CONNECT_TIMEOUT / LDAP_TIMEOUT:

1. bind as the service account (LDAP_BIND_DN) and search LDAP_USER_BASE for exactly one entry that
   matches LDAP_USER_FILTER and has the typed name in LDAP_USERNAME_ATTR. A disabled account is
   one the filter excludes (Active Directory: the userAccountControl bit; OpenLDAP:
   pwdAccountLockedTime), so it is found nowhere;
2. bind as that entry's DN with the typed password (never with an empty password: LDAP would take
   that as an anonymous bind and succeed);
3. read the entry's groups (LDAP_GROUP_BASE searched with LDAP_GROUP_MEMBER_FILTER, and memberOf)
   and attributes, and hand them to units.directory, which places the person in a unit and role.

A directory that cannot be reached, answers too slowly or shows a certificate that does not verify
refuses directory users with a Chinese message within the timeouts; local accounts are checked
first by the model backend and never wait for the directory.
"""

import logging
import ssl

import ldap3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import escape_filter_chars

from units.auth import PortalModelBackend, record_event
from units.directory import (
    DirectoryIdentity,
    DirectoryRefused,
    apply_identity,
    disable_account,
    placement_for,
)
from units.models import AuthEventKind, AuthSource, DirectoryAccount, DirectoryMapping, DirectoryMappingKind

log = logging.getLogger("portal.auth")

SYNC_ACTOR = "目录同步"  # the actor of the daily check's audit rows (a name, like a username)


class DirectoryUnavailable(Exception):
    """The directory could not be asked: down, too slow, refused the service account, or showed a
    certificate that does not verify. ``message`` is for people, in Chinese."""

    def __init__(self, message: str, cause: str = ""):
        super().__init__(f"{message} ({cause})" if cause else message)
        self.message = message
        self.cause = cause


def unavailable_message() -> str:
    return _(
        "暂时无法连接统一身份认证目录，请稍后再试。如持续出现，请联系省纲要办或信息中心。"
        "（使用本平台本地账号的用户不受影响。）"
    )


def certificate_message() -> str:
    return _("统一身份认证目录的证书无法验证，为安全起见已停止登录。请联系信息中心检查目录服务器的证书。")


def enabled() -> bool:
    return bool(settings.LDAP_URLS)


def _tls():
    return ldap3.Tls(
        validate=ssl.CERT_REQUIRED,  # never without verification: there is no setting to turn it off
        ca_certs_file=settings.LDAP_CA_FILE or None,
        version=ssl.PROTOCOL_TLS_CLIENT,
    )


def _unavailable(error) -> DirectoryUnavailable:
    text = str(error)
    cert_words = ("certificate", "CERTIFICATE", "hostname", "handshake", "SSL")
    is_certificate = isinstance(error, ssl.SSLError) or any(word in text for word in cert_words)
    return DirectoryUnavailable(certificate_message() if is_certificate else unavailable_message(), text)


def _open(user: str | None, password: str | None):
    """A bound connection to the first directory server that answers, or DirectoryUnavailable.

    Returns (connection, None) or (None, "invalid") when the server answered that the credentials
    are wrong.
    """
    last_error = None
    for url in settings.LDAP_URLS:
        server = ldap3.Server(
            url,
            use_ssl=url.lower().startswith("ldaps://"),
            tls=_tls(),
            connect_timeout=settings.LDAP_CONNECT_TIMEOUT,
            get_info=ldap3.NONE,
        )
        connection = ldap3.Connection(
            server,
            user=user,
            password=password,
            receive_timeout=settings.LDAP_TIMEOUT,
            read_only=True,
            raise_exceptions=False,
            auto_referrals=False,
        )
        try:
            connection.open(read_server_info=False)
            if settings.LDAP_START_TLS and not server.ssl:
                if not connection.start_tls(read_server_info=False):
                    raise DirectoryUnavailable(certificate_message(), str(connection.result))
            if connection.bind(read_server_info=False):
                return connection, None
            result = connection.result or {}
            connection.unbind()
            if result.get("result") == 49:  # invalidCredentials
                return None, "invalid"
            raise DirectoryUnavailable(unavailable_message(), f"bind: {result.get('description')}")
        except DirectoryUnavailable as error:
            _close(connection)
            if error.message == certificate_message():
                raise  # another server would show the same certificate problem: say it now
            last_error = error
        except (ldap_errors.LDAPException, OSError) as error:  # OSError covers timeouts and TLS errors
            _close(connection)
            last_error = _unavailable(error)
            if last_error.message == certificate_message():
                raise last_error from error
    log.warning("directory unavailable: %s", last_error.cause if last_error else "no server")
    raise last_error or DirectoryUnavailable(unavailable_message(), "no LDAP_URL")


def _close(connection):
    try:
        connection.unbind()
    except Exception:  # closing a broken socket may fail in many ways; nothing to do
        pass


def service_connection():
    """A connection bound as the service account (or anonymously when LDAP_BIND_DN is empty)."""
    connection, problem = _open(settings.LDAP_BIND_DN or None, settings.LDAP_BIND_PASSWORD or None)
    if problem:
        raise DirectoryUnavailable(unavailable_message(), "the service account's password was refused")
    return connection


def _search(connection, base, search_filter, attributes, size_limit=0):
    ok = connection.search(
        base, search_filter, search_scope=ldap3.SUBTREE, attributes=attributes, size_limit=size_limit
    )
    result = connection.result or {}
    code = result.get("result")
    if not ok and code not in (0, 4, 32):  # success, sizeLimitExceeded, noSuchObject
        if code is None or code in (51, 52, 80, 81):  # busy, unavailable, other, server down
            raise DirectoryUnavailable(unavailable_message(), str(result))
        raise DirectoryUnavailable(unavailable_message(), f"search: {result.get('description')}")
    return [entry for entry in connection.response or [] if entry.get("type") == "searchResEntry"]


def _mapping_attributes():
    names = DirectoryMapping.objects.filter(source=AuthSource.LDAP, kind=DirectoryMappingKind.ATTRIBUTE)
    return sorted(set(names.values_list("attribute", flat=True)))


def _user_attributes():
    return sorted(
        {
            settings.LDAP_USERNAME_ATTR,
            settings.LDAP_FIRST_NAME_ATTR,
            settings.LDAP_LAST_NAME_ATTR,
            settings.LDAP_EMAIL_ATTR,
            "memberOf",
            *_mapping_attributes(),
        }
        - {""}
    )


def find_entry(connection, username: str):
    """The one entry for ``username`` that LDAP_USER_FILTER lets in, or None. Two entries with the
    same name are a directory error: nobody logs in with an ambiguous name."""
    search_filter = (
        f"(&{settings.LDAP_USER_FILTER}({settings.LDAP_USERNAME_ATTR}={escape_filter_chars(username)}))"
    )
    entries = _search(connection, settings.LDAP_USER_BASE, search_filter, _user_attributes(), size_limit=2)
    if len(entries) > 1:
        raise DirectoryRefused(_("统一身份认证目录中有多个同名账号，请联系信息中心。"))
    return entries[0] if entries else None


def _first(attributes, name):
    if not name:
        return ""
    value = attributes.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return "" if value is None else str(value)


def _groups(connection, entry) -> list[str]:
    groups = [str(group) for group in entry["attributes"].get("memberOf") or []]
    if settings.LDAP_GROUP_BASE:
        username = _first(entry["attributes"], settings.LDAP_USERNAME_ATTR)
        search_filter = settings.LDAP_GROUP_MEMBER_FILTER.format(
            dn=escape_filter_chars(entry["dn"]), username=escape_filter_chars(username)
        )
        search_filter = f"(&{settings.LDAP_GROUP_FILTER}{search_filter})"
        groups += [
            found["dn"] for found in _search(connection, settings.LDAP_GROUP_BASE, search_filter, ["cn"])
        ]
    return groups


def identity_of(connection, entry) -> DirectoryIdentity:
    attributes = entry["attributes"]
    return DirectoryIdentity.build(
        source=AuthSource.LDAP,
        identifier=entry["dn"],
        username=_first(attributes, settings.LDAP_USERNAME_ATTR),
        first_name=_first(attributes, settings.LDAP_FIRST_NAME_ATTR),
        last_name=_first(attributes, settings.LDAP_LAST_NAME_ATTR),
        email=_first(attributes, settings.LDAP_EMAIL_ATTR),
        groups=_groups(connection, entry),
        attributes={name: attributes.get(name) for name in _mapping_attributes()},
    )


def refuse(request, reason: str, *, message: str | None = None):
    """Note why the directory refused a log-in: ``reason`` goes to the audit row (the failed log-in
    signal reads it), ``message``, if given, to the log-in page instead of the usual one."""
    if request is not None:
        request.directory_refusal = (AuthSource.LDAP, reason, "")
        if message:
            request.directory_message = message


def is_local_account(username: str) -> bool:
    """A portal user with that name that is not a directory account: the directory never answers for it."""
    user_model = get_user_model()
    return (
        user_model.objects.filter(username=username)
        .exclude(directory_account__source=AuthSource.LDAP)
        .exists()
    )


class LDAPBackend(PortalModelBackend):
    """Django authentication backend for directory accounts; sessions load users as the model
    backend does (membership and unit in the same query)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not enabled() or not isinstance(username, str) or not isinstance(password, str):
            return None
        username = username.strip()
        if not username or len(username) > 150 or not password or "\x00" in username + password:
            return None  # an empty password would be an anonymous bind, which LDAP accepts
        if is_local_account(username):
            return None  # the model backend has answered for it already
        try:
            connection = service_connection()
            try:
                entry = find_entry(connection, username)
                if entry is None:
                    self._gone(username, request)
                    refuse(request, _("目录中没有该账号，或账号已停用"))
                    return None
                checked, problem = _open(entry["dn"], password)
                if problem:
                    refuse(request, _("密码不正确"))
                    return None
                _close(checked)
                identity = identity_of(connection, entry)
            finally:
                _close(connection)
            user, _changed = apply_identity(identity, placement_for(identity), request=request)
        except DirectoryUnavailable as error:
            log.warning("LDAP log-in of %s: %s", username, error.cause)
            refuse(request, error.message, message=error.message)
            return None
        except DirectoryRefused as error:
            refuse(request, error.message, message=error.message)
            return None
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def _gone(username, request):
        """The directory has no (enabled) entry for a known directory user: shut them out now,
        rather than at the next daily check."""
        account = (
            DirectoryAccount.objects.filter(source=AuthSource.LDAP, user__username=username)
            .select_related("user")
            .first()
        )
        if account is not None:
            disable_account(account, reason=_("目录中已没有该账号，或账号已停用"), request=request)


def sync_directory() -> dict:
    """Check every directory account against the directory: names, e-mail, unit and role follow it;
    accounts it no longer lists (or lists as disabled) are shut out. Each change is an audit row and
    the run one more, with its counts.

    All or nothing: the directory is read first, then every change is written in one transaction.
    A directory that cannot be reached changes nothing; neither does one that lists none of several
    accounts (a wrong LDAP_USER_BASE or filter, not everyone leaving at once).
    """
    counts = {"checked": 0, "changed": 0, "disabled": 0, "unmapped": 0}
    if not enabled():
        return counts
    accounts = list(DirectoryAccount.objects.filter(source=AuthSource.LDAP).select_related("user"))
    found = {}
    try:
        connection = service_connection()
        try:
            for account in accounts:
                try:
                    entry = find_entry(connection, account.user.username)
                except DirectoryRefused:
                    entry = None
                found[account.pk] = identity_of(connection, entry) if entry is not None else None
        finally:
            _close(connection)
    except DirectoryUnavailable as error:
        detail = _("目录不可用，未做任何更改：%(cause)s") % {"cause": error.cause}
        record_event(
            AuthEventKind.DIRECTORY_SYNC, actor_label=SYNC_ACTOR, source=AuthSource.LDAP, detail=detail
        )
        counts["error"] = error.cause
        return counts
    if len(accounts) >= 2 and not any(found.values()):
        detail = _("目录中找不到任何一个已有账号，可能是目录配置有误，未做任何更改。")
        record_event(
            AuthEventKind.DIRECTORY_SYNC, actor_label=SYNC_ACTOR, source=AuthSource.LDAP, detail=detail
        )
        counts["error"] = "no account found"
        return counts

    with transaction.atomic():
        for account in accounts:
            counts["checked"] += 1
            identity = found[account.pk]
            if identity is None:
                if disable_account(
                    account, reason=_("目录中已没有该账号，或账号已停用"), actor_label=SYNC_ACTOR
                ):
                    counts["disabled"] += 1
                continue
            if not account.user.is_active and not account.disabled_by_directory:
                continue  # disabled by the office in the portal: the directory does not re-enable it
            placement = placement_for(identity)
            try:
                _user, changed = apply_identity(identity, placement, actor_label=SYNC_ACTOR)
            except DirectoryRefused as error:
                record_event(
                    AuthEventKind.DIRECTORY_SYNC,
                    username=account.user.username,
                    actor_label=SYNC_ACTOR,
                    source=AuthSource.LDAP,
                    detail=error.message,
                )
                continue
            counts["changed"] += changed
            counts["unmapped"] += not placement.placed
        detail = (
            _(
                "核对 %(checked)s 个目录账号：单位或角色变更 %(changed)s 个，停用 %(disabled)s 个，未对应单位和角色 %(unmapped)s 个。"
            )
            % counts
        )
        record_event(
            AuthEventKind.DIRECTORY_SYNC, actor_label=SYNC_ACTOR, source=AuthSource.LDAP, detail=detail
        )
    log.info("directory sync: %s", counts)
    return counts
