from django.contrib import admin
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin

from targets.models import Target, TargetSource
from units.admin import UnitCodesWidget
from units.models import Unit


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
