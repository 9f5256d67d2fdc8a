from rest_framework import serializers

from tasks.models import Assignment, Initiative, InitiativePart, Measure, Milestone, Plan


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["year", "code", "name", "name_en", "evaluates"]


class PlanSerializer(serializers.ModelSerializer):
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "issuer",
            "issued_on",
            "start_year",
            "end_year",
            "milestones",
        ]


class AssignmentSerializer(serializers.ModelSerializer):
    unit = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)  # all members
    part = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Assignment
        fields = ["role", "unit", "all_members", "part"]


class PartSerializer(serializers.ModelSerializer):
    class Meta:
        model = InitiativePart
        fields = ["code", "title", "title_en", "heading"]


class InitiativeSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="code", read_only=True)
    parts = PartSerializer(many=True, read_only=True)
    assignments = AssignmentSerializer(many=True, read_only=True)

    class Meta:
        model = Initiative
        fields = ["id", "plan", "code", "kind", "number", "title", "title_en", "aim", "parts", "assignments"]


class MeasureSerializer(serializers.ModelSerializer):
    initiative = serializers.SlugRelatedField(slug_field="code", read_only=True)
    part = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Measure
        fields = ["id", "initiative", "part", "code", "number", "title", "title_en", "text"]
