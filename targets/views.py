"""Pages that show the plan: its initiatives, measures, units and targets."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView, TemplateView

from portal.mixins import PolicyRequiredMixin
from targets.filtersets import TargetFilterSet
from targets.selectors import group_by_initiative, targets_for_plan
from tasks.choices import AssignmentRole, InitiativeKind
from tasks.selectors import assignments_of_unit, current_plan, initiatives_with_structure, split_assignments
from units.models import Unit


def _plan_or_404():
    plan = current_plan()
    if plan is None:
        raise Http404("No plan loaded: run manage.py load_plan")
    return plan


def _decorate(initiative, targets_by_initiative):
    """Attach what the templates show: lead/responsible lists per initiative or part, targets."""
    assignments = list(initiative.assignments.all())
    initiative.leads, initiative.responsibles = split_assignments(assignments)
    initiative.part_list = list(initiative.parts.all())
    for part in initiative.part_list:
        part.leads, part.responsibles = split_assignments(assignments, part)
        part.measure_list = [m for m in initiative.measures.all() if m.part_id == part.pk]
    initiative.measure_list = list(initiative.measures.all())
    initiative.target_list = targets_by_initiative.get(initiative.pk, [])
    return initiative


class PlanDetailView(PolicyRequiredMixin, TemplateView):
    """The plan at a glance: 13 initiatives with their measures, units and targets."""

    template_name = "targets/plan_detail.html"

    def get_context_data(self, **kwargs):
        plan = _plan_or_404()
        targets = list(targets_for_plan(plan))
        by_initiative = group_by_initiative(targets)
        initiatives = [_decorate(i, by_initiative) for i in initiatives_with_structure(plan)]
        return super().get_context_data(
            plan=plan,
            milestones=plan.milestones.all(),
            actions=[i for i in initiatives if i.kind == InitiativeKind.ACTION],
            projects=[i for i in initiatives if i.kind == InitiativeKind.PROJECT],
            general_targets=by_initiative.get(None, []),
            target_count=len(targets),
            measure_count=sum(len(i.measure_list) for i in initiatives),
            **kwargs,
        )


class InitiativeDetailView(PolicyRequiredMixin, TemplateView):
    template_name = "targets/initiative_detail.html"

    def get_context_data(self, **kwargs):
        plan = _plan_or_404()
        initiative = get_object_or_404(initiatives_with_structure(plan), code=self.kwargs["code"])
        targets = list(targets_for_plan(plan).filter(initiative=initiative))
        _decorate(initiative, {initiative.pk: targets})
        return super().get_context_data(plan=plan, initiative=initiative, **kwargs)


class TargetListView(PolicyRequiredMixin, ListView):
    template_name = "targets/target_list.html"
    context_object_name = "targets"

    def get_queryset(self):
        self.filterset = TargetFilterSet(self.request.GET or None, queryset=targets_for_plan(_plan_or_404()))
        return self.filterset.qs if self.filterset.is_valid() else self.filterset.queryset.none()

    def get_context_data(self, **kwargs):
        return super().get_context_data(filterset=self.filterset, **kwargs)


class TargetDetailView(PolicyRequiredMixin, DetailView):
    template_name = "targets/target_detail.html"
    context_object_name = "target"
    slug_field = "code"
    slug_url_kwarg = "code"

    def get_queryset(self):
        return targets_for_plan(_plan_or_404())


class UnitListView(PolicyRequiredMixin, ListView):
    template_name = "targets/unit_list.html"
    context_object_name = "units"

    def get_queryset(self):
        return Unit.objects.select_related("region").order_by("kind", "sort_order", "code")


class UnitDetailView(PolicyRequiredMixin, DetailView):
    """What a unit leads, what it is responsible for, and which targets it reports."""

    template_name = "targets/unit_detail.html"
    context_object_name = "unit"
    slug_field = "code"
    slug_url_kwarg = "code"
    queryset = Unit.objects.select_related("region")

    def get_context_data(self, **kwargs):
        unit = self.object
        plan = _plan_or_404()
        assignments = list(assignments_of_unit(unit).filter(initiative__plan=plan))
        targets = targets_for_plan(plan)
        return super().get_context_data(
            plan=plan,
            leads=[a for a in assignments if a.role == AssignmentRole.LEAD],
            responsibles=[a for a in assignments if a.role == AssignmentRole.RESPONSIBLE],
            reported_targets=list(targets.filter(reporting_units=unit)),
            owned_targets=list(targets.filter(owner_unit=unit)),
            regional_targets=list(targets.filter(per_region=True, region_level=unit.region.level))
            if unit.region_id
            else [],
            initiatives_count=len({a.initiative_id for a in assignments}),
            **kwargs,
        )
