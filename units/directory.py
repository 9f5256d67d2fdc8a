"""Accounts from the intranet's directory: what the directory says about a person, which unit and
role that gives in the portal, and applying it to the portal's user.

The LDAP log-in and the daily check (units/ldap.py) and the OpenID Connect log-in (units/oidc.py)
each turn what they read into a ``DirectoryIdentity``; everything after that is here, the same for
both:

- ``placement_for`` matches the identity against the office's ``DirectoryMapping`` rules. The rules
  a person matches must agree on one unit and one role; anything else (no rule, two units, two
  roles, a unit without a role, a reporter without a unit) places them nowhere, with a Chinese
  reason, and they get no access at all.
- ``apply_identity`` copies name, e-mail, unit and role onto the portal's user in one transaction and
  writes an audit row (``AuthEvent``) for each change of unit or role.
- ``disable_account`` shuts out someone the directory removed or disabled: inactive, no API token,
  no role.

A local account (a user with no ``DirectoryAccount``) is never touched: the directory cannot take
over the office's administrator by naming someone "admin".
"""

import dataclasses
import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from portal.text import enumeration
from units.choices import Role
from units.models import (
    AuthEventKind,
    DirectoryAccount,
    DirectoryMapping,
    DirectoryMappingKind,
    Membership,
)

log = logging.getLogger("portal.auth")

UNIT_ROLES = (Role.REPORTER, Role.APPROVER)  # roles that report for a unit and so need one


class DirectoryRefused(Exception):
    """The directory knows the person, but the portal will not let them in; ``message`` says why,
    in Chinese, to them and to the audit trail."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def normalise(value) -> str:
    """How group names, DNs and attribute values are compared: case and spaces after commas do not
    count (LDAP compares DNs and most attributes without case)."""
    text = str(value or "").strip().casefold()
    return ", ".join(part.strip() for part in text.split(",")) if "=" in text else text


@dataclasses.dataclass(frozen=True)
class DirectoryIdentity:
    """What the directory says about one person."""

    source: str  # AuthSource.LDAP or AuthSource.OIDC
    identifier: str  # LDAP: the entry's DN; OpenID Connect: the "sub" claim
    username: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    groups: frozenset = frozenset()  # normalised group DNs or names
    attributes: dict = dataclasses.field(
        default_factory=dict
    )  # lower-case name -> frozenset of normalised values

    @classmethod
    def build(
        cls,
        *,
        source,
        identifier,
        username,
        first_name="",
        last_name="",
        email="",
        groups=(),
        attributes=None,
    ):
        values = {}
        for name, raw in (attributes or {}).items():
            items = raw if isinstance(raw, list | tuple | set | frozenset) else [raw]
            values[str(name).lower()] = frozenset(normalise(item) for item in items if item not in (None, ""))
        return cls(
            source=source,
            identifier=str(identifier),
            username=str(username).strip(),
            first_name=_fit(first_name, "first_name"),
            last_name=_fit(last_name, "last_name"),
            email=_fit(email, "email"),
            groups=frozenset(normalise(group) for group in groups if group),
            attributes=values,
        )


def _fit(value, field_name) -> str:
    """A directory value cut to the user model's field (characters, not bytes: a name may hold
    characters outside the basic plane, which PostgreSQL stores as one character each)."""
    text = str(value or "").strip()
    return text[: get_user_model()._meta.get_field(field_name).max_length]


@dataclasses.dataclass(frozen=True)
class Placement:
    """Where the rules put a person: a unit (or None) and a role, or nowhere with ``problem``."""

    unit: object = None
    role: str = ""
    problem: str = ""

    @property
    def placed(self) -> bool:
        return not self.problem


def _describe(unit, role) -> str:
    if not role:
        return _("无角色")
    label = Role(role).label
    return f"{unit.short_name} · {label}" if unit is not None else str(label)


def matching_rules(identity: DirectoryIdentity):
    rules = DirectoryMapping.objects.filter(source=identity.source).select_related("unit")
    for rule in rules:
        value = normalise(rule.value)
        if rule.kind == DirectoryMappingKind.GROUP:
            if value in identity.groups:
                yield rule
        elif value in identity.attributes.get(rule.attribute.lower(), ()):
            yield rule


def placement_for(identity: DirectoryIdentity) -> Placement:
    """The unit and role the office's rules give ``identity``, or the reason they give none."""
    rules = list(matching_rules(identity))
    units = {rule.unit for rule in rules if rule.unit is not None}
    roles = {rule.role for rule in rules if rule.role}
    if not rules:
        return Placement(problem=_("您在统一身份认证中所属的组和单位还没有对应到本平台的单位和角色。"))
    if len(roles) > 1:
        names = enumeration(sorted(str(Role(role).label) for role in roles))
        return Placement(
            problem=_("您同时属于对应不同角色（%(roles)s）的组，平台无法确定您的角色。") % {"roles": names}
        )
    if not roles:
        names = enumeration(sorted(unit.short_name for unit in units))
        return Placement(problem=_("您的账号对应到单位（%(units)s），但没有对应的角色。") % {"units": names})
    role = roles.pop()
    if role not in UNIT_ROLES:
        return Placement(role=role)  # the office and viewers belong to no unit
    if len(units) > 1:
        names = enumeration(sorted(unit.short_name for unit in units))
        return Placement(
            problem=_("您同时属于多个单位（%(units)s）的组，平台无法确定您代表哪个单位填报。")
            % {"units": names}
        )
    if not units:
        return Placement(problem=_("您的角色是%(role)s，但没有对应的单位。") % {"role": Role(role).label})
    unit = units.pop()
    if not unit.is_active:
        return Placement(
            problem=_("您对应的单位（%(unit)s）已不再参与本平台的报送。") % {"unit": unit.short_name}
        )
    return Placement(unit=unit, role=role)


def _record(kind, account_or_user, *, detail, request=None, actor_label="", source=""):
    # Imported here: units.auth imports this module for the token check.
    from units.auth import record_event

    user = account_or_user
    return record_event(
        kind,
        username=user.get_username(),
        request=request,
        source=source,
        detail=detail,
        actor_label=actor_label,
    )


def _find_account(identity: DirectoryIdentity):
    """The DirectoryAccount for ``identity``, or None for a new person.

    An LDAP entry is found by its DN, then by user name (a person moved to another OU has a new
    DN but the same name); an OpenID Connect subject only by "sub".
    """
    accounts = DirectoryAccount.objects.select_related("user").select_for_update(of=("self",))
    account = accounts.filter(source=identity.source, identifier=identity.identifier).first()
    if account is None and identity.source == "ldap":
        account = accounts.filter(source=identity.source, user__username=identity.username).first()
    return account


@transaction.atomic
def apply_identity(identity: DirectoryIdentity, placement: Placement, *, request=None, actor_label=""):
    """Bring the portal's user for ``identity`` in step with the directory; return the user and
    whether their unit or role changed (or a disabled account came back).

    Creates the user at their first log-in (no usable password: they always log in through the
    directory). Raises DirectoryRefused, changing nothing, when the name belongs to a local account
    or the office has disabled the user in the portal.
    """
    user_model = get_user_model()
    account = _find_account(identity)
    if account is None:
        if user_model.objects.filter(username=identity.username).exists():
            raise DirectoryRefused(
                _(
                    "用户名“%(username)s”已是本平台的本地账号，不能用统一身份认证登录。请用本地密码登录，或联系省纲要办。"
                )
                % {"username": identity.username}
            )
        user = user_model(username=identity.username)
        user.set_unusable_password()
        account = DirectoryAccount(user=user, source=identity.source, identifier=identity.identifier)
    user = account.user
    if user.pk is not None and not user.is_active and not account.disabled_by_directory:
        raise DirectoryRefused(_("您的账号已被本平台停用，请联系省纲要办。"))
    if user.pk is not None and user.username != identity.username:
        if user_model.objects.filter(username=identity.username).exclude(pk=user.pk).exists():
            raise DirectoryRefused(
                _("用户名“%(username)s”已被本平台的其他账号使用，请联系省纲要办。")
                % {"username": identity.username}
            )

    re_enabled = account.disabled_by_directory
    user.username = identity.username
    user.first_name, user.last_name, user.email = identity.first_name, identity.last_name, identity.email
    user.is_active = True
    user.save()
    account.user = user
    account.identifier = identity.identifier
    account.disabled_by_directory = False
    account.mapping_problem = placement.problem
    account.checked_at = timezone.now()
    account.save()
    if re_enabled:
        _record(
            AuthEventKind.ENABLED,
            user,
            request=request,
            source=identity.source,
            detail=_("目录中的账号已恢复"),
            actor_label=actor_label,
        )
    moved = _place(user, placement, request=request, source=identity.source, actor_label=actor_label)
    return user, moved or re_enabled


def _place(user, placement: Placement, *, request, source, actor_label):
    """Give ``user`` the placement's unit and role (none if it places them nowhere); audit a change."""
    membership = (
        Membership.objects.select_for_update(of=("self",)).filter(user=user).select_related("unit").first()
    )
    before = (membership.unit, membership.role) if membership is not None else (None, "")
    after = (placement.unit, placement.role) if placement.placed else (None, "")
    if before == after:
        return False
    if not placement.placed:
        membership.delete()
    elif membership is None:
        Membership.objects.create(user=user, unit=placement.unit, role=placement.role)
    else:
        membership.unit, membership.role = placement.unit, placement.role
        membership.save(update_fields=["unit", "role"])
    # Forget a membership cached on the user object, so the caller reads the new one.
    relation = type(user).membership.related
    if relation.is_cached(user):
        relation.delete_cached_value(user)
    detail = _("%(before)s → %(after)s") % {"before": _describe(*before), "after": _describe(*after)}
    if placement.problem:
        detail = f"{detail}（{placement.problem}）"
    _record(
        AuthEventKind.ROLE_CHANGED,
        user,
        request=request,
        source=source,
        detail=detail,
        actor_label=actor_label,
    )
    return True


@transaction.atomic
def disable_account(account: DirectoryAccount, *, reason: str, request=None, actor_label=""):
    """Shut out a user the directory no longer lists: inactive (sessions end at their next
    request), API token deleted, unit and role removed. Returns False if already disabled."""
    user = account.user
    if account.disabled_by_directory and not user.is_active:
        return False
    user.is_active = False
    user.save(update_fields=["is_active"])
    Token.objects.filter(user=user).delete()
    Membership.objects.filter(user=user).delete()
    account.disabled_by_directory = True
    account.mapping_problem = reason
    account.checked_at = timezone.now()
    account.save(update_fields=["disabled_by_directory", "mapping_problem", "checked_at"])
    _record(
        AuthEventKind.DISABLED,
        user,
        request=request,
        source=account.source,
        detail=reason,
        actor_label=actor_label,
    )
    log.warning("directory account disabled: %s", user.get_username())
    return True
