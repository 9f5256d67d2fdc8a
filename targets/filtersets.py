import django_filters
from django.db.models import Q

from targets.choices import Combine, MeasureKind, TimeScope
from targets.models import Target


class TargetFilterSet(django_filters.FilterSet):
    """Filters shared by the targets page and the targets API."""

    plan = django_filters.CharFilter(field_name="plan__code")
    initiative = django_filters.CharFilter(field_name="initiative__code")
    combine = django_filters.ChoiceFilter(choices=Combine.choices)
    time_scope = django_filters.ChoiceFilter(choices=TimeScope.choices)
    measure_kind = django_filters.ChoiceFilter(choices=MeasureKind.choices)
    unit = django_filters.CharFilter(method="filter_unit", label="unit code")

    class Meta:
        model = Target
        fields = [
            "plan",
            "initiative",
            "combine",
            "time_scope",
            "measure_kind",
            "per_region",
            "external",
            "code",
        ]

    def filter_unit(self, queryset, name, value):
        """Targets the unit owns or reports on."""
        return queryset.filter(Q(owner_unit__code=value) | Q(reporting_units__code=value)).distinct()
