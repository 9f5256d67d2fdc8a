import django_filters
from django.db.models import Q

from tasks.choices import InitiativeKind
from tasks.models import Initiative, Measure
from units.models import Unit


class InitiativeFilterSet(django_filters.FilterSet):
    plan = django_filters.CharFilter(field_name="plan__code")
    kind = django_filters.ChoiceFilter(choices=InitiativeKind.choices)
    unit = django_filters.CharFilter(method="filter_unit", label="unit code")

    class Meta:
        model = Initiative
        fields = ["plan", "kind", "code"]

    def filter_unit(self, queryset, name, value):
        """Initiatives the unit leads or is responsible for, including as an office member."""
        condition = Q(assignments__unit__code=value)
        if Unit.objects.office_members().filter(code=value).exists():
            condition |= Q(assignments__all_members=True)
        return queryset.filter(condition).distinct()


class MeasureFilterSet(django_filters.FilterSet):
    initiative = django_filters.CharFilter(field_name="initiative__code")
    plan = django_filters.CharFilter(field_name="initiative__plan__code")

    class Meta:
        model = Measure
        fields = ["initiative", "plan", "code"]
