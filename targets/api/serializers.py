from rest_framework import serializers

from targets.models import Target


class TargetSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    initiative = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    part = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    owner_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    reporting_units = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    sources = serializers.SlugRelatedField(slug_field="text", many=True, read_only=True)

    class Meta:
        model = Target
        fields = [
            "id",
            "plan",
            "code",
            "name",
            "name_en",
            "initiative",
            "part",
            "measure",
            "measure_kind",
            "combine",
            "time_scope",
            "bound",
            "value",
            "value_max",
            "unit",
            "phrase",
            "aspiration",
            "ceiling",
            "baseline_value",
            "baseline_year",
            "baseline_source",
            "baseline_demo",
            "deadline_year",
            "per_region",
            "region_level",
            "external",
            "owner_unit",
            "reporting_units",
            "sources",
            "questions",
            "notes",
        ]
