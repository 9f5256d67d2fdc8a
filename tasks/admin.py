from django.contrib import admin

from tasks.models import Assignment, Initiative, InitiativePart, Measure, Milestone, Plan


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
