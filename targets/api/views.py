from rest_framework import viewsets

from targets.api.serializers import TargetSerializer
from targets.filtersets import TargetFilterSet
from targets.models import Target


class TargetViewSet(viewsets.ReadOnlyModelViewSet):
    """Quantified targets of the plan with their source sentences."""

    queryset = Target.objects.with_related().select_related("plan").prefetch_related("sources")
    serializer_class = TargetSerializer
    filterset_class = TargetFilterSet
