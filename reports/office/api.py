"""API of the targets' baselines (基期值), the office's to read and enter as on its settings page
(``units.policy.can_manage_settings``).

The checks are ``targets.baselines.baseline_errors``, the same as the office's settings page; a
saved baseline queues a roll-up, so every judgement that depends on it is made again.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from portal.api import body_value
from reports.choices import RunTrigger
from reports.rollup.services import request_rollup
from targets.baselines import set_baseline
from targets.models import Target
from targets.presenters import api_number
from tasks.selectors import current_plan


class BaselineSerializer(serializers.ModelSerializer):
    target = serializers.CharField(source="code", read_only=True)
    baseline_value = serializers.SerializerMethodField()
    pending = serializers.SerializerMethodField()

    class Meta:
        model = Target
        fields = [
            "target",
            "name",
            "phrase",
            "baseline_value",
            "baseline_year",
            "baseline_source",
            "baseline_demo",
            "pending",
        ]

    def get_baseline_value(self, obj) -> str | None:
        return api_number(obj.baseline_value)

    def get_pending(self, obj) -> bool:
        """基期值待录入: the rule needs a baseline and none has been entered."""
        return obj.baseline_value is None


class BaselineViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Baselines of the targets whose rule measures progress from one (whole-plan level and
    coverage targets); POST {"target": "T01", "value": "7.2", "year": 2020, "source": "…"}."""

    serializer_class = BaselineSerializer
    # The office's settings, as on the 进度判定设置 page (units.policy); viewers read the
    # baselines on the target pages.
    permission = "can_manage_settings"
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        wanted = [t.pk for t in Target.objects.filter(plan=current_plan()) if t.needs_baseline]
        return Target.objects.filter(pk__in=wanted).order_by("sort_order")

    @extend_schema(
        request=inline_serializer(
            "BaselineEntry",
            {
                "target": serializers.CharField(),
                "value": serializers.DecimalField(max_digits=18, decimal_places=4),
                "year": serializers.IntegerField(),
                "source": serializers.CharField(),
            },
        ),
        responses={201: BaselineSerializer},
    )
    def create(self, request):
        code = body_value(request, "target")
        target = Target.objects.filter(plan=current_plan(), code=str(code or "")).first()
        if target is None:
            raise ValidationError({"target": [_("目标指标不存在。")]})
        errors = {}
        value = _decimal(request.data.get("value"), errors)
        year = _year(request.data.get("year"), errors)
        source = request.data.get("source")
        if source is not None and not isinstance(source, str):
            errors["source"] = _("数据来源应为文字。")
            source = None
        if errors:
            raise ValidationError({k: [v] for k, v in errors.items()})
        try:
            target = set_baseline(target, value=value, year=year, source=source or "", by=request.user)
        except DjangoValidationError as exc:
            raise ValidationError({k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from exc
        request_rollup(target.plan, trigger=RunTrigger.MANUAL, by=request.user)
        return Response(BaselineSerializer(target).data, status=status.HTTP_201_CREATED)


def _decimal(raw, errors):
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        errors["value"] = _("基期值应为数字。")
        return None
    if not value.is_finite() or abs(value) >= Decimal("1e14"):
        errors["value"] = _("基期值应为数字。")
        return None
    return value


def _year(raw, errors):
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    if not (text.isascii() and text.isdigit()) or len(text) != 4:
        errors["year"] = _("基期年份应为四位数字，如 2020。")
        return None
    return int(text)
