"""评估报告 in the REST API: list and read report runs; the office requests one with POST.

POST /api/v1/reports/ {"kind", "cutoff", "period"?, "next_steps"?} → 202 with the run (a new
one, or the one already queued or running for the same report and cut-off: ``reused`` says
which). GET shows status, progress and, once done, ``download_url``. The same policy questions
as the pages: the office and viewers read, only the office requests.
"""

import datetime

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from portal.api import body_value
from reports.choices import ReportKind, RunStatus
from reports.documents import pdf
from reports.documents.services import OFFICE_FIELDS, check_request, request_report
from reports.models import ReportRun
from tasks.models import Period
from tasks.selectors import current_plan


class ReportRunFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ReportKind.choices)
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = ReportRun
        fields = ["kind", "status"]


class ReportRunSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    period_label = serializers.SerializerMethodField()
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportRun
        fields = [
            "id",
            "kind",
            "kind_label",
            "cutoff",
            "knowledge_date",
            "final",
            "addressee",
            "document_number",
            "period",
            "period_label",
            "next_steps",
            "status",
            "status_label",
            "progress",
            "progress_note",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "checksum",
            "pages",
            "size",
            "download_url",
        ]
        read_only_fields = fields

    def get_period_label(self, obj) -> str | None:
        return str(obj.period.label) if obj.period_id else None

    def get_download_url(self, obj) -> str | None:
        if obj.status != RunStatus.SUCCEEDED or not obj.file:
            return None
        url = reverse("report-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


def _parse_date(raw):
    if isinstance(raw, datetime.date):
        return raw
    try:
        return datetime.date.fromisoformat(str(raw).strip()) if raw not in (None, "") else None
    except ValueError:
        return None


class ReportRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Report runs (评估报告): status, progress and the PDF once it is written."""

    queryset = ReportRun.objects.select_related("period", "requested_by")
    serializer_class = ReportRunSerializer
    permission = "can_see_reports"  # asked by portal.permissions.PolicyPermission
    write_permission = "can_manage_reports"
    filterset_class = ReportRunFilterSet

    @extend_schema(
        request=inline_serializer(
            "ReportRequest",
            {
                "kind": serializers.ChoiceField(choices=ReportKind.choices),
                "cutoff": serializers.DateField(),
                "period": serializers.IntegerField(required=False, allow_null=True),
                "next_steps": serializers.CharField(required=False, allow_blank=True),
                "knowledge_date": serializers.DateField(required=False, allow_null=True),
                "overall": serializers.CharField(required=False, allow_blank=True),
                "problems": serializers.CharField(required=False, allow_blank=True),
                "addressee": serializers.CharField(required=False, allow_blank=True),
                "document_number": serializers.CharField(required=False, allow_blank=True),
                "final": serializers.BooleanField(required=False),
            },
        ),
        responses={202: ReportRunSerializer},
    )
    def create(self, request):
        plan = current_plan()
        body_value(request, "kind")  # a body that is not a JSON object is a 400
        data = request.data
        kind = str(data.get("kind") or "")
        raw_cutoff = data.get("cutoff")
        cutoff = _parse_date(raw_cutoff)
        period = None
        errors = {}
        raw_period = data.get("period")
        if raw_period not in (None, ""):
            if not str(raw_period).isdigit() or not Period.objects.filter(plan=plan, pk=raw_period).exists():
                errors["period"] = _("报送期不存在。")
            else:
                period = Period.objects.get(pk=raw_period)
        raw_knowledge = data.get("knowledge_date")
        knowledge_date = _parse_date(raw_knowledge)
        if raw_knowledge not in (None, "") and knowledge_date is None:
            errors["knowledge_date"] = _("数据认定日期格式不正确，应为 2024-01-15 这样的日期。")
        next_steps = data.get("next_steps") or ""
        if not isinstance(next_steps, str):
            errors["next_steps"] = _("下一步工作安排须为文字。")
            next_steps = ""
        office = {}
        for name in OFFICE_FIELDS:
            value = data.get(name)
            if name == "final":
                if value not in (None, "", True, False, "true", "false"):
                    errors["final"] = _("定稿须为 true 或 false。")
                office["final"] = value in (True, "true")
            elif value is not None and not isinstance(value, str):
                errors[name] = _("须为文字。")
            else:
                office[name] = value or ""
        problems = check_request(
            plan,
            kind=kind,
            cutoff=cutoff,
            period=period,
            next_steps=next_steps,
            knowledge_date=knowledge_date,
            office=office,
        )
        problems.update(errors)  # an unknown period is that, not a missing one
        if raw_cutoff not in (None, "") and cutoff is None:
            problems["cutoff"] = _("数据截止日期格式不正确，应为 2023-12-31 这样的日期。")
        if problems:
            raise ValidationError({field: [message] for field, message in problems.items()})
        try:
            run, created = request_report(
                plan,
                kind=kind,
                cutoff=cutoff,
                period=period,
                next_steps=next_steps,
                by=request.user,
                knowledge_date=knowledge_date,
                office=office,
            )
        except DjangoValidationError as exc:  # the date changed between the two checks
            raise ValidationError(exc.message_dict) from exc
        run.refresh_from_db()
        body = ReportRunSerializer(run, context={"request": request}).data
        body["reused"] = not created
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The PDF (404 until the run has written one)."""
        run = self.get_object()
        return pdf.file_response(run)
