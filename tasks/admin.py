from django.contrib import admin
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from tasks.models import (
    Assignment,
    DeadlineExtension,
    EvaluationRound,
    Evidence,
    Initiative,
    InitiativePart,
    Measure,
    Milestone,
    Notification,
    Period,
    Plan,
    SelfAssessment,
    Submission,
    WorkPoint,
)
from units.admin import UnitCodesWidget


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "issuer", "issued_on", "start_year", "end_year"]
    inlines = [MilestoneInline]


class PartInline(admin.TabularInline):
    model = InitiativePart
    extra = 0


class MeasureInline(admin.StackedInline):
    model = Measure
    extra = 0


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    autocomplete_fields = ["unit"]


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "kind", "number", "plan"]
    list_filter = ["plan", "kind"]
    inlines = [PartInline, AssignmentInline, MeasureInline]


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "initiative", "part"]
    list_filter = ["initiative__plan", "initiative"]
    search_fields = ["title", "text"]
    list_select_related = ["initiative", "part"]


class WorkPointResource(resources.ModelResource):
    """Import of a year's work points from Excel: 年度, 序号, 工作任务, 行动/工程编号, 责任单位代码（逗号分隔）."""

    plan = fields.Field(
        attribute="plan", column_name="plan", widget=widgets.ForeignKeyWidget(Plan, field="code")
    )
    initiative = fields.Field(
        attribute="initiative",
        column_name="initiative",
        widget=widgets.ForeignKeyWidget(Initiative, field="code"),
    )
    units = fields.Field(
        attribute="units",
        column_name="units",
        widget=UnitCodesWidget(),
    )

    class Meta:
        model = WorkPoint
        import_id_fields = ["plan", "year", "number"]
        fields = ["plan", "year", "number", "title", "initiative", "units"]


@admin.register(WorkPoint)
class WorkPointAdmin(ImportExportModelAdmin):
    resource_classes = [WorkPointResource]
    list_display = ["year", "number", "title", "initiative"]
    list_filter = ["plan", "year", "initiative"]
    search_fields = ["title"]
    filter_horizontal = ["units"]


@admin.register(Period)
class PeriodAdmin(SimpleHistoryAdmin):  # "历史": who opened or closed it, when
    list_display = ["__str__", "opens_on", "deadline", "state", "is_baseline"]
    list_filter = ["plan", "state", "year"]


@admin.register(DeadlineExtension)
class DeadlineExtensionAdmin(SimpleHistoryAdmin):  # "历史": every extension granted, with its reason
    list_display = ["period", "unit", "deadline", "reason", "granted_by", "granted_at"]
    list_select_related = ["period", "unit", "granted_by"]


@admin.register(Submission)
class SubmissionAdmin(SimpleHistoryAdmin):
    """Read-mostly: the workflow runs through the portal's pages, which keep the audit trail."""

    list_display = ["unit", "period", "status", "version", "revision", "submitted_at", "reviewed_at"]
    list_filter = ["status", "period"]
    search_fields = ["unit__name", "unit__code"]
    list_select_related = ["unit", "period"]
    # Listed (not read from _meta): the workflow's fields come from WorkflowDocument, and the page
    # keeps the form's own fields first.
    readonly_fields = [
        "id",
        "unit",
        "period",
        "status",
        "version",
        "revision",
        "created_at",
        "updated_at",
        "updated_by",
        "submitted_at",
        "first_submitted_at",
        "submitted_by",
        "reviewed_at",
        "reviewed_by",
        "review_comment",
    ]


@admin.register(Evidence)
class EvidenceAdmin(SimpleHistoryAdmin):
    """Read-only: files are added and removed on the form's page; "历史" shows who did, also for
    files deleted since (the history list of the model)."""

    list_display = ["original_name", "submission", "kind", "size", "uploaded_by", "uploaded_at"]
    list_select_related = ["submission__unit", "submission__period", "uploaded_by"]
    readonly_fields = [f.name for f in Evidence._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["user"]


@admin.register(EvaluationRound)
class EvaluationRoundAdmin(SimpleHistoryAdmin):  # "历史": who opened or closed it, and when
    list_display = ["plan", "kind", "year", "opens_on", "deadline", "state", "opened_by"]
    list_filter = ["plan", "kind", "state"]


@admin.register(SelfAssessment)
class SelfAssessmentAdmin(SimpleHistoryAdmin):
    """Read only: the workflow runs through the portal's pages, which keep the audit trail."""

    list_display = ["unit", "round", "status", "version", "submitted_at", "reviewed_at"]
    list_filter = ["status", "round"]
    search_fields = ["unit__name", "unit__code"]
    list_select_related = ["unit", "round"]
    readonly_fields = [
        "id",
        "round",
        "unit",
        "status",
        "achievements",
        "problems",
        "next_steps",
        "version",
        "created_at",
        "updated_at",
        "updated_by",
        "submitted_at",
        "submitted_by",
        "reviewed_at",
        "reviewed_by",
        "review_comment",
    ]
