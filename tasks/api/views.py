from rest_framework import viewsets

from tasks.api.serializers import InitiativeSerializer, MeasureSerializer, PlanSerializer
from tasks.filtersets import InitiativeFilterSet, MeasureFilterSet
from tasks.models import Initiative, Measure, Plan


class PlanViewSet(viewsets.ReadOnlyModelViewSet):
    """Implementation plans with their milestones."""

    queryset = Plan.objects.prefetch_related("milestones")
    serializer_class = PlanSerializer
    lookup_field = "code"


class InitiativeViewSet(viewsets.ReadOnlyModelViewSet):
    """The 6 improvement actions and 7 key projects, with their parts and assignments."""

    queryset = Initiative.objects.select_related("plan").prefetch_related(
        "parts", "assignments__unit", "assignments__part"
    )
    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilterSet


class MeasureViewSet(viewsets.ReadOnlyModelViewSet):
    """Work measures (工作措施) with their full text."""

    queryset = Measure.objects.select_related("initiative", "part")
    serializer_class = MeasureSerializer
    filterset_class = MeasureFilterSet
