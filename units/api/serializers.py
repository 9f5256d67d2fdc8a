from rest_framework import serializers

from units.models import Region, Unit


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Region
        fields = ["id", "code", "name", "name_en", "pinyin", "level", "division_type", "parent"]


class UnitSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Unit
        fields = [
            "id",
            "code",
            "name",
            "short_name",
            "name_en",
            "short_name_en",
            "kind",
            "region",
            "office_member",
            "is_active",
        ]
