"""Reporting periods in the REST API (read only: the office opens and closes them on its pages).

Submissions, which also carry target figures, live in ``targets/submission/api.py``.
"""

import django_filters
from rest_framework import serializers, viewsets

from tasks.choices import PeriodState
from tasks.models import Period


class PeriodFilterSet(django_filters.FilterSet):
    year = django_filters.NumberFilter(field_name="year")
    state = django_filters.ChoiceFilter(choices=PeriodState.choices)

    class Meta:
        model = Period
        fields = ["year", "state"]


class PeriodSerializer(serializers.ModelSerializer):
    """A quarter of the plan (or the 2021 baseline) with its dates and whether it is open."""

    label = serializers.CharField(read_only=True)  # 2024年第3季度, or 2021年（基期）

    class Meta:
        model = Period
        fields = ["id", "year", "quarter", "label", "is_baseline", "opens_on", "deadline", "state"]
        read_only_fields = fields


class PeriodViewSet(viewsets.ReadOnlyModelViewSet):
    """Reporting periods (报送期): every logged-in user may read them, to know what is open."""

    queryset = Period.objects.order_by("year", "quarter", "pk")
    serializer_class = PeriodSerializer
    filterset_class = PeriodFilterSet
