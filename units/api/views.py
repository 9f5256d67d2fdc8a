from rest_framework import viewsets

from units.api.serializers import RegionSerializer, UnitSerializer
from units.filtersets import RegionFilterSet, UnitFilterSet
from units.models import Region, Unit


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Qinghai's province, 8 prefectures and 44 counties."""

    queryset = Region.objects.select_related("parent")
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "code"


class UnitViewSet(viewsets.ReadOnlyModelViewSet):
    """Reporting units: provincial departments and organisations, and local governments."""

    queryset = Unit.objects.select_related("region")
    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet
    lookup_field = "code"
