from rest_framework import serializers

from targets.models import Target
from targets.selectors import sees_open_questions


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

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if "questions" in data and not sees_open_questions(request.user if request else None):
            data["questions"] = []  # the office's working notes (see sees_open_questions)
        return data
