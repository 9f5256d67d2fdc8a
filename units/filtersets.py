import django_filters

from units.choices import RegionLevel, UnitKind
from units.models import Region, Unit


class RegionFilterSet(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices)
    parent = django_filters.CharFilter(field_name="parent__code")

    class Meta:
        model = Region
        fields = ["level", "parent", "code"]


class UnitFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=UnitKind.choices)
    region = django_filters.CharFilter(field_name="region__code")

    class Meta:
        model = Unit
        fields = ["kind", "region", "office_member", "is_active", "code"]
