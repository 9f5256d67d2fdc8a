from django.contrib import admin
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin

from units.models import AuthEvent, DirectoryAccount, DirectoryMapping, Membership, Region, Unit


class RegionResource(resources.ModelResource):
    class Meta:
        model = Region
        import_id_fields = ["code"]
        fields = ["code", "name", "name_en", "pinyin", "level", "division_type", "parent"]


class UnitResource(resources.ModelResource):
    class Meta:
        model = Unit
        import_id_fields = ["code"]
        fields = [
            "code",
            "name",
            "short_name",
            "name_en",
            "kind",
            "region",
            "office_member",
            "is_active",
            "sort_order",
        ]


@admin.register(Region)
class RegionAdmin(ImportExportModelAdmin):
    resource_classes = [RegionResource]
    list_display = ["code", "name", "level", "division_type", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name", "pinyin"]
    list_select_related = ["parent"]


@admin.register(Unit)
class UnitAdmin(ImportExportModelAdmin):
    resource_classes = [UnitResource]
    list_display = ["code", "name", "short_name", "kind", "region", "office_member", "is_active"]
    list_filter = ["kind", "office_member", "is_active"]
    search_fields = ["code", "name", "short_name"]
    list_select_related = ["region"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "unit"]
    list_filter = ["role"]
    search_fields = ["user__username", "unit__name"]
    autocomplete_fields = ["unit"]
    list_select_related = ["user", "unit"]


class UnitCodesWidget(widgets.ManyToManyWidget):
    """Unit codes separated by commas; an unknown code is an error, never silently dropped."""

    def __init__(self):
        super().__init__(Unit, field="code", separator=",")

    def clean(self, value, row=None, **kwargs):
        if not value:
            return Unit.objects.none()
        codes = [code.strip() for code in str(value).replace("，", ",").split(",") if code.strip()]
        found = Unit.objects.filter(code__in=codes)
        missing = sorted(set(codes) - set(found.values_list("code", flat=True)))
        if missing:
            raise ValueError(f"未知的单位代码：{'、'.join(missing)}")
        return found


@admin.register(AuthEvent)
class AuthEventAdmin(admin.ModelAdmin):
    """The log-in trail, read only: nobody edits an audit record."""

    list_display = ["at", "kind", "source", "username", "actor", "detail", "ip_address", "path"]
    list_filter = ["kind", "source"]
    search_fields = ["username", "actor", "ip_address", "detail"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DirectoryMappingResource(resources.ModelResource):
    """Mapping rules in Excel: the unit by its code (an unknown code is an error), the role by its
    value (reporter, approver, office, viewer). Re-importing a rule updates it."""

    unit = fields.Field(
        attribute="unit", column_name="unit", widget=widgets.ForeignKeyWidget(Unit, field="code")
    )

    class Meta:
        model = DirectoryMapping
        import_id_fields = ["source", "kind", "attribute", "value"]
        fields = ["source", "kind", "attribute", "value", "unit", "role", "note"]
        clean_model_instances = True  # choices, "unit or role", "attribute for attribute rules"
        skip_unchanged = True
        report_skipped = False

    def before_import_row(self, row, **kwargs):
        for name in ("source", "kind", "attribute", "value", "role", "note", "unit"):
            if row.get(name) is None:
                row[name] = ""
            elif isinstance(row[name], str):
                row[name] = row[name].strip()
        row["source"] = row["source"] or "ldap"


@admin.register(DirectoryMapping)
class DirectoryMappingAdmin(ImportExportModelAdmin):
    """目录映射: which directory group or attribute gives which unit and role (units/directory.py)."""

    resource_classes = [DirectoryMappingResource]
    list_display = ["value", "kind", "attribute", "source", "unit", "role", "note"]
    list_filter = ["source", "kind", "role"]
    search_fields = ["value", "attribute", "unit__code", "unit__short_name", "note"]
    autocomplete_fields = ["unit"]
    list_select_related = ["unit"]


@admin.register(DirectoryAccount)
class DirectoryAccountAdmin(admin.ModelAdmin):
    """目录账号: who logs in through the directory, and why someone has no unit and role. Read only:
    the directory, not the admin, says who they are."""

    list_display = ["user", "source", "identifier", "disabled_by_directory", "mapping_problem", "checked_at"]
    list_filter = ["source", "disabled_by_directory"]
    search_fields = ["user__username", "identifier", "mapping_problem"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
