"""API of the reports app: targets with their progress, and roll-up runs."""

import datetime
from types import SimpleNamespace

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from portal import page_cache
from portal.api import body_value
from reports.choices import ProgressStatus, RunTrigger
from reports.models import RollupRun, TargetSnapshot
from reports.rollup.knowledge import DataAsOf, end_of_day
from reports.rollup.rollups import judge_targets
from reports.rollup.services import request_rollup
from targets.api.serializers import TargetSerializer
from targets.api.views import TargetViewSet
from targets.presenters import api_number, standing_texts, status_label
from targets.selectors import sees_open_questions
from tasks import rules
from tasks.models import Period
from tasks.selectors import current_plan
from units import policy


def as_of_period(request):
    """The period named by ?period=<id>, else ``rules.as_of_period`` today (None before any
    quarter has ended: the progress fields are then null)."""
    plan = current_plan()
    raw = request.query_params.get("period")
    periods = Period.objects.filter(plan=plan)
    if raw:
        # ASCII digits only: "²".isdigit() is true, but the database lookup would fail on it
        if not (raw.isascii() and raw.isdigit()) or not periods.filter(pk=raw).exists():
            raise ValidationError({"period": _("报送期不存在。")})
        return periods.get(pk=raw)
    return rules.as_of_period(periods, timezone.localdate())


# The fields the progress endpoint adds to a target (null for those who may not see progress).
PROGRESS_FIELDS = (
    "as_of",
    "baseline",
    "actual",
    "expected",
    "completion",
    "status",
    "status_label",
    "forecast",
    "years_met",
    "years_judged",
    "regions_met",
    "regions_total",
    "texts",
)


class TargetProgressSerializer(TargetSerializer):
    """A target with its standing at the as-of period, in the same words and numbers as the pages
    (``targets.presenters``): decimals as plain strings (never "2E+3"), the glossary's status."""

    as_of = serializers.SerializerMethodField()
    baseline = serializers.SerializerMethodField()
    actual = serializers.SerializerMethodField()
    expected = serializers.SerializerMethodField()
    completion = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    status_label = serializers.SerializerMethodField()
    forecast = serializers.SerializerMethodField()
    years_met = serializers.SerializerMethodField()
    years_judged = serializers.SerializerMethodField()
    regions_met = serializers.SerializerMethodField()
    regions_total = serializers.SerializerMethodField()
    texts = serializers.SerializerMethodField()

    class Meta(TargetSerializer.Meta):
        fields = [*TargetSerializer.Meta.fields, *PROGRESS_FIELDS]

    def _snap(self, obj):
        judged = self.context.get("judged")
        if judged is not None:  # rebuilt "as approved on" a knowledge date
            return judged.get(obj.pk)
        snaps = getattr(obj, "current_snapshot", [])
        return snaps[0] if snaps else None

    def _field(self, obj, name):
        snap = self._snap(obj)
        return getattr(snap, name) if snap else None

    def get_as_of(self, obj) -> str | None:
        snap = self._snap(obj)
        return snap.as_of.isoformat() if snap else None

    def get_baseline(self, obj) -> str | None:
        return api_number(self._field(obj, "baseline"))

    def get_actual(self, obj) -> str | None:
        return api_number(self._field(obj, "actual"))

    def get_expected(self, obj) -> str | None:
        return api_number(self._field(obj, "expected"))

    def get_completion(self, obj) -> str | None:
        return api_number(self._field(obj, "completion"))

    def get_forecast(self, obj) -> str | None:
        return api_number(self._field(obj, "forecast"))

    def get_status(self, obj) -> str | None:
        return self._field(obj, "status") or ProgressStatus.NO_DATA.value

    def get_status_label(self, obj) -> str | None:
        return status_label(self.get_status(obj))

    def get_years_met(self, obj) -> int | None:
        return self._field(obj, "years_met")

    def get_years_judged(self, obj) -> int | None:
        return self._field(obj, "years_judged")

    def get_regions_met(self, obj) -> int | None:
        return self._field(obj, "regions_met")

    def get_regions_total(self, obj) -> int | None:
        return self._field(obj, "regions_total")

    @extend_schema_field(serializers.DictField(child=serializers.CharField(), allow_null=True))
    def get_texts(self, obj) -> dict | None:
        """Every number as the pages write it (e.g. {"actual": "15万人次", "status": "滞后"})."""
        return standing_texts(obj, self._snap(obj))

    def to_representation(self, obj):
        """The target; its progress only where the access policy lets the user see it (the office
        and viewers every target, a lead unit's staff the targets of the initiatives it leads):
        elsewhere the progress fields are null, as the dashboard's pages are closed to them."""
        data = super().to_representation(obj)
        request = self.context.get("request")
        if request is None or not policy.can_see_progress(request.user, obj):
            for name in PROGRESS_FIELDS:
                data[name] = None
        return data


def knowledge_date_of(request, period):
    """?knowledge_date=YYYY-MM-DD: judge the figures as approved at the end of that day (None: now)."""
    raw = request.query_params.get("knowledge_date")
    if not raw:
        return None
    try:
        day = datetime.date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ValidationError(
            {"knowledge_date": _("数据认定日期格式不正确，应为 2024-01-15 这样的日期。")}
        ) from exc
    if day > timezone.localdate():
        raise ValidationError({"knowledge_date": _("数据认定日期不能晚于今天。")})
    if period is not None and day < period.ends_on:
        raise ValidationError(
            {
                "knowledge_date": _("数据认定日期不能早于该报送期的结束日期（%(end)s）。")
                % {"end": period.ends_on.isoformat()}
            }
        )
    return day


@extend_schema(
    parameters=[
        OpenApiParameter("period", int, description="as-of period id (default: latest ended)"),
        OpenApiParameter(
            "knowledge_date",
            datetime.date,
            description="judge the figures as approved at the end of this day",
        ),
    ]
)
class TargetProgressViewSet(TargetViewSet):
    """Targets with actual, expected (序时进度), status, forecast and as-of date from the roll-ups.

    Every logged-in user reads the targets (as the plan's pages); the progress fields are filled
    in only for those the access policy lets see the target's progress (null for the others)."""

    serializer_class = TargetProgressSerializer
    extra_query_params = frozenset({"period", "knowledge_date"})  # not filters: the two dates

    def list(self, request, *args, **kwargs):
        """The page as the roll-up left it, cached until a roll-up or a reporting record commits (the
        pages cache's two versions) or the day changes; judged as approved on a given day
        (``knowledge_date``), it is computed each time."""
        if request.query_params.get("knowledge_date"):
            return super().list(request, *args, **kwargs)
        data = page_cache.cached(
            self.cache_key(request),
            lambda: super(TargetProgressViewSet, self).list(request, *args, **kwargs).data,
            scope=(page_cache.ROLLUP, page_cache.WORKFLOW),
            timeout=page_cache.WORKFLOW_TIMEOUT,
        )
        return Response(data)

    @staticmethod
    def cache_key(request):
        """What the page depends on besides the data: the query (filters, page, period), the host
        (the page links), the day (the default period), the language (the labels), and what the
        user may see (progress, the office's open questions)."""
        user = request.user
        sees = "all" if policy.can_see_dashboard(user) else sorted(policy.led_initiative_ids(user))
        return page_cache.key(
            "api-targets",
            request.build_absolute_uri("/"),
            timezone.localdate(),
            get_language(),
            sees,
            sees_open_questions(user),
            params=request.query_params,
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not self.request.query_params.get("knowledge_date"):
            return context  # judged now: the roll-up's snapshots, prefetched by get_queryset
        period = as_of_period(self.request)
        knowledge = knowledge_date_of(self.request, period)
        if knowledge is not None and period is not None:
            plan = current_plan()
            periods = list(Period.objects.filter(plan=plan).order_by("year", "quarter"))
            rows, _contributions, _initiatives = judge_targets(
                plan, periods, [period], DataAsOf(end_of_day(knowledge))
            )
            context["judged"] = {row["target_id"]: SimpleNamespace(**row) for row in rows}
        return context

    def get_queryset(self):
        period = as_of_period(self.request)
        return (
            super()
            .get_queryset()
            .prefetch_related(
                Prefetch(
                    "snapshots",
                    queryset=TargetSnapshot.objects.filter(period=period),
                    to_attr="current_snapshot",
                )
            )
        )


class RollupRunSerializer(serializers.ModelSerializer):
    from_period = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = RollupRun
        fields = [
            "id",
            "trigger",
            "status",
            "from_period",
            "created_at",
            "started_at",
            "finished_at",
            "seconds",
            "rows_written",
            "error",
        ]


class RollupRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Roll-up runs (read by the office and viewers); the office triggers one with POST
    {"period": id | null}."""

    queryset = RollupRun.objects.select_related("from_period")
    serializer_class = RollupRunSerializer
    filterset_fields = ["status", "trigger"]
    permission = "can_see_dashboard"  # as the 汇总任务 page; asked by portal.permissions.PolicyPermission
    write_permission = "can_run_rollups"

    @extend_schema(
        request=inline_serializer(
            "RollupTrigger", {"period": serializers.IntegerField(required=False, allow_null=True)}
        ),
        responses={202: RollupRunSerializer},
    )
    def create(self, request):
        plan = current_plan()
        period = None
        raw = body_value(request, "period")
        if raw not in (None, ""):
            raw = str(raw)
            if not (raw.isascii() and raw.isdigit()) or not Period.objects.filter(plan=plan, pk=raw).exists():
                raise ValidationError({"period": _("报送期不存在。")})
            period = Period.objects.get(pk=raw)
        run = request_rollup(plan, from_period=period, trigger=RunTrigger.MANUAL, by=request.user)
        run.refresh_from_db()
        return Response(RollupRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
