from rest_framework import viewsets

from targets.api.serializers import TargetSerializer
from targets.filtersets import TargetFilterSet
from targets.models import Target


class TargetViewSet(viewsets.ReadOnlyModelViewSet):
    """Quantified targets of the plan with their source sentences."""

    # The plan only for its code: not its source text (12 kB, once per target row)
    queryset = (
        Target.objects.with_related()
        .select_related("plan")
        .defer("plan__source_text")
        .prefetch_related("sources")
    )
    serializer_class = TargetSerializer
    filterset_class = TargetFilterSet
