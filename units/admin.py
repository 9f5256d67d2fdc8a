from django.contrib import admin
from import_export import resources, widgets
from import_export.admin import ImportExportModelAdmin

from units.models import AuthEvent, Membership, Region, Unit


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

    list_display = ["at", "kind", "username", "actor", "ip_address", "path"]
    list_filter = ["kind"]
    search_fields = ["username", "actor", "ip_address"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
