from django.contrib import admin
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin

from targets.models import RegionBaseline, Target, TargetSource
from units.admin import UnitCodesWidget
from units.models import Region, Unit


class TargetResource(resources.ModelResource):
    owner_unit = fields.Field(
        attribute="owner_unit", column_name="owner_unit", widget=widgets.ForeignKeyWidget(Unit, field="code")
    )
    reporting_units = fields.Field(
        attribute="reporting_units",
        column_name="reporting_units",
        widget=UnitCodesWidget(),
    )

    class Meta:
        model = Target
        import_id_fields = ["plan", "code"]
        fields = [
            "plan",
            "code",
            "name",
            "measure_kind",
            "combine",
            "time_scope",
            "bound",
            "value",
            "value_max",
            "unit",
            "baseline_value",
            "baseline_year",
            "deadline_year",
            "per_region",
            "region_level",
            "external",
            "owner_unit",
            "reporting_units",
            "notes",
        ]


class SourceInline(admin.TabularInline):
    model = TargetSource
    extra = 0


@admin.register(Target)
class TargetAdmin(ImportExportModelAdmin):
    resource_classes = [TargetResource]
    list_display = [
        "code",
        "name",
        "value",
        "value_max",
        "unit",
        "combine",
        "time_scope",
        "bound",
        "owner_unit",
    ]
    list_filter = ["plan", "combine", "time_scope", "measure_kind", "per_region", "external"]
    search_fields = ["code", "name"]
    list_select_related = ["owner_unit"]
    filter_horizontal = ["reporting_units"]
    inlines = [SourceInline]


class RegionBaselineResource(resources.ModelResource):
    """The regions' own baselines (T32) as a spreadsheet: one row per region, by statistical code."""

    target = fields.Field(
        attribute="target",
        column_name="目标指标",
        widget=widgets.ForeignKeyWidget(Target, field="code"),
    )
    region = fields.Field(
        attribute="region",
        column_name="统计用区划代码",
        widget=widgets.ForeignKeyWidget(Region, field="code"),
    )
    value = fields.Field(attribute="value", column_name="基期值", widget=widgets.DecimalWidget())
    source = fields.Field(attribute="source", column_name="数据来源")

    class Meta:
        model = RegionBaseline
        import_id_fields = ["target", "region"]
        fields = ["target", "region", "value", "source"]


@admin.register(RegionBaseline)
class RegionBaselineAdmin(ImportExportModelAdmin):
    """Also on the office's settings page; here for a whole spreadsheet at once. An import takes
    effect at the next roll-up (after an approval, nightly, or started on the roll-up page)."""

    resource_classes = [RegionBaselineResource]
    list_display = ["target", "region", "value", "source", "entered_by", "entered_at"]
    list_filter = ["target", "region__level"]
    search_fields = ["region__name", "region__code"]
    readonly_fields = ["entered_by", "entered_at"]

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)
