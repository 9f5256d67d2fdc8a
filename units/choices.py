"""Choices of the units app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    PREFECTURE = "prefecture", _("市州")
    COUNTY = "county", _("县（市、区）")


class UnitKind(models.TextChoices):
    PARTY = "party", _("党委部门")
    GOVERNMENT = "government", _("政府部门")
    ORGANISATION = "organisation", _("人民团体")
    INSTITUTION = "institution", _("事业单位及直属机构")
    LOCAL_GOVERNMENT = "local_government", _("地方人民政府")  # a prefecture or county government


class Role(models.TextChoices):
    REPORTER = "reporter", _("填报员")  # fills in the unit's quarterly form
    APPROVER = "approver", _("单位审核员")  # checks the form and submits it to the office
    OFFICE = "office", _("纲要办审核员")  # reviews every unit's submissions; not tied to a unit
    VIEWER = "viewer", _("查阅人员")  # reads dashboards and reports, changes nothing
