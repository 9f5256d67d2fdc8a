"""Regions, units and who belongs to which unit."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from units.choices import RegionLevel, Role, UnitKind


class Region(models.Model):
    """An administrative division of Qinghai: the province, a prefecture or a county."""

    code = models.CharField(_("统计用区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    name_en = models.CharField(_("英文名称"), max_length=128, blank=True)
    pinyin = models.CharField(_("拼音"), max_length=128, blank=True)
    level = models.CharField(_("层级"), max_length=16, choices=RegionLevel.choices)
    division_type = models.CharField(_("区划类型"), max_length=64, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("地区")
        verbose_name_plural = _("地区")

    def __str__(self):
        return self.name


class UnitQuerySet(models.QuerySet):
    def active(self):
        """Units that still take part in the plan."""
        return self.filter(is_active=True)

    def office_members(self):
        """The member units of the office: what "省纲要办各成员单位" resolves to."""
        return self.filter(is_active=True, office_member=True)

    def provincial(self):
        """Provincial departments and organisations (not local governments)."""
        return self.exclude(kind=UnitKind.LOCAL_GOVERNMENT)

    def local_governments(self):
        return self.filter(kind=UnitKind.LOCAL_GOVERNMENT)


class Unit(models.Model):
    """A reporting unit: a provincial department or organisation, or a local government."""

    code = models.SlugField(
        _("单位代码"), max_length=32, unique=True, help_text=_("小写字母，用于网址和账号名")
    )
    name = models.CharField(_("单位全称"), max_length=128, unique=True)
    short_name = models.CharField(_("简称"), max_length=64)
    short_name_en = models.CharField(_("英文简称"), max_length=100, blank=True)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    kind = models.CharField(_("单位类别"), max_length=32, choices=UnitKind.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("所辖地区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="governments",
        help_text=_("地方人民政府所辖的地区"),
    )
    office_member = models.BooleanField(_("省纲要办成员单位"), default=False)
    is_active = models.BooleanField(_("在用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    objects = UnitQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        constraints = [
            models.CheckConstraint(
                name="unit_local_government_has_region",
                condition=Q(kind=UnitKind.LOCAL_GOVERNMENT, region__isnull=False)
                | (~Q(kind=UnitKind.LOCAL_GOVERNMENT) & Q(region__isnull=True)),
            ),
        ]

    def __str__(self):
        return self.short_name


class Membership(models.Model):
    """A user's place in the portal: a role, and for unit staff the unit they belong to.

    The office is a role, not ``is_superuser``. One membership per user keeps the rules simple.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="membership"
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices)

    class Meta:
        ordering = ["unit__sort_order", "user__username"]
        verbose_name = _("用户角色")
        verbose_name_plural = _("用户角色")
        constraints = [
            models.CheckConstraint(
                name="membership_unit_staff_have_unit",
                condition=~Q(role__in=[Role.REPORTER, Role.APPROVER]) | Q(unit__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"


class AuthEventKind(models.TextChoices):
    # Kept here rather than in choices.py only because this model is its single user.
    LOGIN = "login", _("登录")
    LOGOUT = "logout", _("退出")
    LOGIN_FAILED = "login_failed", _("登录失败")  # wrong password, unknown user, or while locked
    LOCKED_OUT = "locked_out", _("账号锁定")  # the failure that reached the limit, and later ones
    UNLOCKED = "unlocked", _("解锁")  # by the office, before the cool-off ended
    TOKEN_ISSUED = "token_issued", _("获取API令牌")
    TOKEN_REVOKED = "token_revoked", _("撤销API令牌")
    # Accounts from the intranet's directory (LDAP) or identity provider (OpenID Connect).
    ROLE_CHANGED = "role_changed", _("单位或角色变更")  # the directory moved the user
    DISABLED = "disabled", _("目录账号停用")  # removed or disabled in the directory
    ENABLED = "enabled", _("目录账号恢复")  # back in the directory after being disabled
    DIRECTORY_SYNC = "directory_sync", _("目录同步")  # one run of the daily check, with its counts


class AuthSource(models.TextChoices):
    LOCAL = "local", _("本地账号")
    LDAP = "ldap", _("LDAP目录")
    OIDC = "oidc", _("OpenID Connect")


class AuthEvent(models.Model):
    """One log-in, log-out, failed log-in, lock-out, unlock or API token change, and for directory
    accounts each change of unit or role, each disabling and each daily check: the accounts' audit trail.

    Names, not foreign keys: the trail outlives a deleted account, and a failed log-in may name
    a user who does not exist. Never holds a password.
    """

    kind = models.CharField(_("事件"), max_length=16, choices=AuthEventKind.choices)
    username = models.CharField(_("用户名"), max_length=150, blank=True)
    actor = models.CharField(
        _("操作人"), max_length=150, blank=True, help_text=_("替他人解锁或撤销令牌的纲要办用户")
    )
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    path = models.CharField(_("页面"), max_length=255, blank=True)
    source = models.CharField(_("账号来源"), max_length=8, choices=AuthSource.choices, blank=True)
    detail = models.TextField(_("说明"), blank=True, help_text=_("拒绝的原因，或单位、角色的变化"))
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("登录记录")
        verbose_name_plural = _("登录记录")
        indexes = [
            # the office's list of the latest events
            models.Index(fields=["-at"], name="authevent_latest"),
            # one user's history
            models.Index(fields=["username", "-at"], name="authevent_user_latest"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.username} · {self.at:%Y-%m-%d %H:%M}"


class DirectoryAccount(models.Model):
    """A portal user whose name, e-mail, unit and role come from the directory (LDAP) or the
    identity provider (OpenID Connect), never from the portal: its password is unusable.

    A user without one is a local account, which the directory can never take over.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="directory_account",
    )
    source = models.CharField(_("账号来源"), max_length=8, choices=AuthSource.choices)
    # LDAP: the entry's DN; OpenID Connect: the provider's "sub" claim.
    identifier = models.CharField(_("目录标识"), max_length=512)
    disabled_by_directory = models.BooleanField(
        _("已被目录停用"), default=False, help_text=_("目录中已删除或停用该账号；目录恢复后下次登录自动恢复")
    )
    mapping_problem = models.TextField(
        _("映射问题"), blank=True, help_text=_("最近一次登录或同步时未能对应单位和角色的原因")
    )
    checked_at = models.DateTimeField(_("最近核对时间"), null=True, blank=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("目录账号")
        verbose_name_plural = _("目录账号")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "identifier"], name="directoryaccount_unique_identifier"
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_source_display()}"


class DirectoryMappingKind(models.TextChoices):
    GROUP = "group", _("组")
    ATTRIBUTE = "attribute", _("属性")


class DirectoryMapping(models.Model):
    """One rule: members of a directory group, or users whose attribute has a value, belong to a
    unit, have a role, or both. A user's unit and role are what all the rules they match give;
    rules that disagree leave the user without access (units/directory.py).
    """

    source = models.CharField(
        _("账号来源"),
        max_length=8,
        choices=[(AuthSource.LDAP, AuthSource.LDAP.label), (AuthSource.OIDC, AuthSource.OIDC.label)],
        default=AuthSource.LDAP,
    )
    kind = models.CharField(_("依据"), max_length=16, choices=DirectoryMappingKind.choices)
    attribute = models.CharField(
        _("属性名"),
        max_length=64,
        blank=True,
        help_text=_("依据为“属性”时填写，如 departmentNumber；OpenID Connect 填声明名"),
    )
    value = models.CharField(
        _("组或属性值"),
        max_length=512,
        help_text=_(
            "组：LDAP 填组的 DN（如 cn=jyt-reporters,ou=groups,dc=qh,dc=gov,dc=cn），OpenID Connect 填组名；属性：属性值"
        ),
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="directory_mappings",
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["source", "kind", "attribute", "value"]
        verbose_name = _("目录映射")
        verbose_name_plural = _("目录映射")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "attribute", "value"], name="directorymapping_unique_rule"
            ),
            models.CheckConstraint(
                name="directorymapping_gives_something", condition=Q(unit__isnull=False) | ~Q(role="")
            ),
            models.CheckConstraint(
                name="directorymapping_attribute_named",
                condition=Q(kind="group", attribute="") | (Q(kind="attribute") & ~Q(attribute="")),
            ),
        ]

    def __str__(self):
        target = " · ".join(str(part) for part in (self.unit, self.get_role_display()) if part)
        return f"{self.get_kind_display()} {self.attribute + '=' if self.attribute else ''}{self.value} → {target}"

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        self.value = (self.value or "").strip()
        self.attribute = (self.attribute or "").strip()
        if self.unit_id is None and not self.role:
            errors["role"] = _("请至少填写单位或角色之一。")
        if self.kind == DirectoryMappingKind.ATTRIBUTE and not self.attribute:
            errors["attribute"] = _("依据为“属性”时必须填写属性名。")
        if self.kind == DirectoryMappingKind.GROUP and self.attribute:
            errors["attribute"] = _("依据为“组”时不填属性名。")
        if self.role in (Role.OFFICE, Role.VIEWER) and self.unit_id is not None:
            errors["unit"] = _("纲要办审核员和查阅人员不属于单位，请不要填写单位。")
        if errors:
            raise ValidationError(errors)
