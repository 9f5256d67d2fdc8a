"""Quarterly submissions in the REST API: read them, fill them in, move them through the workflow.

It lives in ``targets`` for the reason the form page does: one form edits both the measure
lines (tasks) and the target figures (targets).

The rules are the pages' rules, asked in the same places:

- reading: ``Submission.objects.visible_to(user)`` (``units.policy.unit_scope``); another unit's
  form is a 404;
- writing: ``units.policy.can_edit`` says who may change a form (403 otherwise, with the policy's
  message), and the service functions do every write and refuse what the user may not do
  (``PermissionDenied`` → 403, ``WorkflowError`` → 409, ``ValidationError`` → 400, all with the
  services' messages).

Edits are guarded by the form's version: send it in the body (``"version": n``) or in an
``If-Match`` header (``W/"n"`` or ``n``, as the ``ETag`` of every GET and PATCH answer carries it).
A stale body version is a 409, a stale ``If-Match`` a 412; both answer ``current_version``.
"""

import django_filters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from portal.api import ERROR_SCHEMA, body_value
from targets.models import RegionFigure, TargetFigure
from targets.submission.services import FIGURE_FIELDS, REGION_FIELDS, save_form
from tasks import services
from tasks.choices import MeasureStatus, PeriodState, SubmissionStatus
from tasks.models import Evidence, MeasureLine, Period, Submission, SubmissionEvent
from units import policy
from units.models import Unit

# Filters ---------------------------------------------------------------------------------


class SubmissionFilterSet(django_filters.FilterSet):
    """?unit=<code>&period=<id>&status=<status>&year=<year>; within what the user may read."""

    unit = django_filters.CharFilter(field_name="unit__code", label="unit code")
    period = django_filters.NumberFilter(field_name="period", label="period id")
    status = django_filters.ChoiceFilter(
        choices=[
            (value, label)
            for value, label in SubmissionStatus.choices
            if value != SubmissionStatus.NOT_STARTED
        ]
    )
    year = django_filters.NumberFilter(field_name="period__year")

    class Meta:
        model = Submission
        fields = ["unit", "period", "status", "year"]


# Reading ---------------------------------------------------------------------------------


class SubmissionListSerializer(serializers.ModelSerializer):
    """A submission's header: whose, which period, where it stands in the workflow."""

    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    period_label = serializers.CharField(source="period.label", read_only=True)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    submitted_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Submission
        fields = [
            "id",
            "unit",
            "unit_name",
            "period",
            "period_label",
            "status",
            "version",
            "revision",
            "created_at",
            "updated_at",
            "updated_by",
            "submitted_at",
            "first_submitted_at",
            "submitted_by",
            "reviewed_at",
            "reviewed_by",
            "review_comment",
        ]
        read_only_fields = fields


class MeasureLineSerializer(serializers.ModelSerializer):
    """Progress on one measure (or one annual work point) this quarter."""

    measure = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    initiative = serializers.CharField(source="measure.initiative.code", read_only=True, allow_null=True)
    title = serializers.SerializerMethodField()

    class Meta:
        model = MeasureLine
        fields = [
            "id",
            "measure",
            "work_point",
            "initiative",
            "title",
            "status",
            "progress",
            "problems",
            "next_steps",
        ]
        read_only_fields = fields

    def get_title(self, line) -> str:
        return line.measure.title if line.measure_id else line.work_point.title


class TargetFigureSerializer(serializers.ModelSerializer):
    """A figure for one target; which of value / covered+total / done counts depends on ``combine``."""

    target = serializers.SlugRelatedField(slug_field="code", read_only=True)
    target_name = serializers.CharField(source="target.name", read_only=True)
    combine = serializers.CharField(source="target.combine", read_only=True)
    target_unit = serializers.CharField(source="target.unit", read_only=True)

    class Meta:
        model = TargetFigure
        fields = [
            "id",
            "target",
            "target_name",
            "combine",
            "target_unit",
            "value",
            "covered",
            "total",
            "done",
            "source_note",
            "explanation",
        ]
        read_only_fields = fields


class RegionFigureSerializer(serializers.ModelSerializer):
    """A local government's funding (万元) and population (万人); per capita is 元/人."""

    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    per_capita = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)

    class Meta:
        model = RegionFigure
        fields = ["region", "funding", "population", "per_capita", "source_note"]
        read_only_fields = fields


class EvidenceSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Evidence
        fields = [
            "id",
            "original_name",
            "kind",
            "size",
            "description",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, evidence) -> str:
        url = reverse("tasks:evidence_download", args=[evidence.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class SubmissionEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    # Blank where there is no status before (the form's creation): declared so the schema says so.
    from_status = serializers.ChoiceField(choices=SubmissionStatus.choices, allow_blank=True, read_only=True)
    to_status = serializers.ChoiceField(choices=SubmissionStatus.choices, allow_blank=True, read_only=True)

    class Meta:
        model = SubmissionEvent
        fields = ["action", "actor", "at", "from_status", "to_status", "comment"]
        read_only_fields = fields


class SubmissionDetailSerializer(SubmissionListSerializer):
    """The whole form: lines, figures, the region's funding, evidence files and the audit trail."""

    lines = MeasureLineSerializer(many=True, read_only=True)
    figures = TargetFigureSerializer(many=True, read_only=True)
    # A reverse one-to-one: DRF answers None when the form has none (not a local government).
    region_figure = RegionFigureSerializer(read_only=True, allow_null=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    events = SubmissionEventSerializer(many=True, read_only=True)
    can_edit = serializers.SerializerMethodField()

    class Meta(SubmissionListSerializer.Meta):
        fields = [
            *SubmissionListSerializer.Meta.fields,
            "can_edit",
            "lines",
            "figures",
            "region_figure",
            "evidence",
            "events",
        ]
        read_only_fields = fields

    def get_can_edit(self, submission) -> bool:
        request = self.context.get("request")
        return request is not None and policy.can_edit(request.user, submission)


# Writing ---------------------------------------------------------------------------------


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "number"}], "nullable": True})
class NumberText(serializers.CharField):
    """A number as the user typed it (string or JSON number); ``targets.submission.services`` checks it, so
    that "-5" or "abc" get the same Chinese messages as on the page."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, allow_blank=True, **kwargs)


@extend_schema_field({"oneOf": [{"type": "boolean"}, {"type": "string"}], "nullable": True})
class DoneField(serializers.Field):
    """A milestone's done flag: true/false, or the words the page and the Excel sheet accept."""

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return "true" if data else "false"
        return str(data)

    def to_representation(self, value):
        return value


class LineInputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=MeasureStatus.choices, required=False)
    progress = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    problems = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    next_steps = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class FigureInputSerializer(serializers.Serializer):
    """Fields left out keep their saved value; ``null`` or "" empties one."""

    id = serializers.IntegerField()
    value = NumberText()
    covered = NumberText()
    total = NumberText()
    done = DoneField()
    source_note = serializers.CharField(required=False, allow_blank=True)
    explanation = serializers.CharField(required=False, allow_blank=True)


class RegionInputSerializer(serializers.Serializer):
    funding = NumberText()
    population = NumberText()
    source_note = serializers.CharField(required=False, allow_blank=True)


def _unique_ids(rows):
    ids = [row["id"] for row in rows]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise serializers.ValidationError(
            _("同一行不能出现两次：%(ids)s") % {"ids": "、".join(str(i) for i in repeated)}
        )
    return rows


class SubmissionUpdateSerializer(serializers.Serializer):
    """One save of the form, as the page's 保存草稿: every row given is checked, and nothing is
    written when any of them is wrong."""

    version = serializers.IntegerField(required=False, min_value=1)
    lines = LineInputSerializer(many=True, required=False)
    figures = FigureInputSerializer(many=True, required=False)
    region = RegionInputSerializer(required=False)

    def validate_lines(self, rows):
        return _unique_ids(rows)

    def validate_figures(self, rows):
        return _unique_ids(rows)


class SubmissionCreateSerializer(serializers.Serializer):
    unit = serializers.SlugRelatedField(slug_field="code", queryset=Unit.objects.all())
    period = serializers.PrimaryKeyRelatedField(queryset=Period.objects.all())


ReturnSerializer = inline_serializer(
    "SubmissionReturnRequest", {"comment": serializers.CharField(required=False, allow_blank=True)}
)
ReopenSerializer = inline_serializer(
    "SubmissionReopenRequest", {"reason": serializers.CharField(required=False, allow_blank=True)}
)
EvidenceUploadSerializer = inline_serializer(
    "EvidenceUploadRequest",
    {"file": serializers.FileField(), "description": serializers.CharField(required=False, allow_blank=True)},
)
ErrorSerializer = inline_serializer("SubmissionError", {"detail": serializers.CharField()})
# 400s come from several places (the form's checks, DRF's field validation, a body that is not
# JSON), so they are documented with the API's general error shape, not one serializer.
ProblemsSerializer = ERROR_SCHEMA
StaleSerializer = inline_serializer(
    "SubmissionStaleVersion",
    {"detail": serializers.CharField(), "current_version": serializers.IntegerField()},
)

ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    response=[200, 201],
    description='The form\'s version as a weak ETag: W/"<version>".',
)
IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description='The version the edit is based on: W/"<version>", "<version>" or <version>. '
    "A different current version answers 412.",
)
WORKFLOW_RESPONSES = {
    200: OpenApiResponse(SubmissionDetailSerializer),
    400: OpenApiResponse(ProblemsSerializer, description="The form is not complete (the list of problems)."),
    403: OpenApiResponse(ErrorSerializer, description="The user may not take this step."),
    404: OpenApiResponse(ErrorSerializer, description="No such submission among those the user may read."),
    409: OpenApiResponse(ErrorSerializer, description="The step does not apply to the form's status."),
}


def _permission_denied(exc):
    """The service's Chinese message, not DRF's generic one."""
    return exceptions.PermissionDenied(str(exc) or None)


def _as_text(value):
    """A saved field as the text a user would type, so the services can check it again."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "as_tuple"):  # Decimal: plain notation, never 1E+2
        return format(value, "f")
    return value


def _parse_if_match(header):
    """(any version, {versions}) from an If-Match header: W/"3", "3", 3, a list of them, or *."""
    versions, anything = set(), False
    for token in header.split(","):
        token = token.strip()
        if token == "*":
            anything = True
            continue
        token = token.removeprefix("W/").strip('"')
        if token.isascii() and token.isdigit():
            versions.add(int(token))
    return anything, versions


def _version_mismatch(current, status_code, message):
    return Response({"detail": message, "current_version": current}, status=status_code)


@extend_schema_view(
    list=extend_schema(summary="Submissions the user may read"),
    retrieve=extend_schema(
        summary="One submission with its lines, figures, evidence and events", parameters=[ETAG_HEADER]
    ),
)
class SubmissionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Quarterly progress forms (季度进展报送): read, create, fill in, submit and review them."""

    serializer_class = SubmissionDetailSerializer
    filterset_class = SubmissionFilterSet
    # No PUT (a form is never replaced whole) and no DELETE (a form is never deleted): 405.
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        """The forms the user may read: everything else is a 404, as on the pages."""
        queryset = Submission.objects.visible_to(self.request.user).select_related(
            "unit", "period", "updated_by", "submitted_by", "reviewed_by"
        )
        if self.action == "retrieve":
            queryset = self._with_contents(queryset)
        return queryset

    def get_serializer_class(self):
        return SubmissionListSerializer if self.action == "list" else SubmissionDetailSerializer

    @staticmethod
    def _with_contents(queryset):
        """Everything the detail shows, in a fixed number of queries."""
        return queryset.select_related("region_figure__region").prefetch_related(
            Prefetch(
                "lines",
                queryset=MeasureLine.objects.select_related("measure__initiative", "work_point").order_by(
                    "sort_order"
                ),
            ),
            Prefetch(
                "figures",
                queryset=TargetFigure.objects.select_related("target").order_by("target__sort_order"),
            ),
            Prefetch("evidence", queryset=Evidence.objects.select_related("uploaded_by")),
            Prefetch("events", queryset=SubmissionEvent.objects.select_related("actor")),
        )

    def _detail_response(self, pk, status_code=status.HTTP_200_OK, headers=None):
        """The form as it is now, with its version as the ETag."""
        submission = self._with_contents(
            Submission.objects.select_related("unit", "period", "updated_by", "submitted_by", "reviewed_by")
        ).get(pk=pk)
        data = SubmissionDetailSerializer(submission, context=self.get_serializer_context()).data
        response = Response(data, status=status_code, headers=headers)
        response["ETag"] = f'W/"{submission.version}"'
        return response

    def retrieve(self, request, *args, **kwargs):
        submission = self.get_object()
        response = Response(self.get_serializer(submission).data)
        response["ETag"] = f'W/"{submission.version}"'
        return response

    @extend_schema(
        summary="Start (or find) a unit's form for a period",
        description="Only the unit's own reporters and approver, and only for an open period. "
        "An existing form answers 200 (with any newly assigned lines added while it is editable), "
        "a new one 201.",
        request=SubmissionCreateSerializer,
        responses={
            200: OpenApiResponse(SubmissionDetailSerializer, description="The form already existed."),
            201: OpenApiResponse(SubmissionDetailSerializer, description="The form was created."),
            400: OpenApiResponse(
                ProblemsSerializer, description="Bad unit or period, or the period is not open."
            ),
            403: OpenApiResponse(ErrorSerializer, description="Not a reporter or approver of this unit."),
        },
        parameters=[ETAG_HEADER],
    )
    def create(self, request, *args, **kwargs):
        serializer = SubmissionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unit, period = serializer.validated_data["unit"], serializer.validated_data["period"]
        # A form not yet created is a draft of that unit: can_edit answers who may start it.
        if not policy.can_edit(request.user, Submission(unit=unit, period=period)):
            raise exceptions.PermissionDenied(policy.refusal("start"))
        existed = Submission.objects.filter(unit=unit, period=period).exists()
        if not existed and period.state != PeriodState.OPEN:
            raise ValidationError(_("%(period)s 尚未开放填报或已关闭。") % {"period": period})
        submission = services.ensure_submission(unit, period, by=request.user)
        if existed:
            return self._detail_response(submission.pk)
        location = request.build_absolute_uri(reverse("submission-detail", args=[submission.pk]))
        return self._detail_response(submission.pk, status.HTTP_201_CREATED, {"Location": location})

    @extend_schema(
        summary="Save the form (lines, figures, the region's funding)",
        description="Give the version the edit is based on, in the body or in If-Match. Only the rows "
        "and fields given change; every row is checked and nothing is saved when any is wrong.",
        request=SubmissionUpdateSerializer,
        parameters=[IF_MATCH_HEADER, ETAG_HEADER],
        responses={
            200: OpenApiResponse(SubmissionDetailSerializer),
            400: OpenApiResponse(ProblemsSerializer, description="Bad values: every problem, in Chinese."),
            403: OpenApiResponse(ErrorSerializer, description="The user may not edit this unit's form."),
            404: OpenApiResponse(ErrorSerializer),
            409: OpenApiResponse(
                StaleSerializer, description="Saved by someone else since (or locked: submitted, approved)."
            ),
            412: OpenApiResponse(StaleSerializer, description="If-Match does not name the current version."),
        },
    )
    def partial_update(self, request, *args, **kwargs):
        submission = self.get_object()
        user = request.user
        # Strangers to the form are refused before their input is even read. A locked form
        # (submitted, approved) goes on to the service, which refuses it with its own words.
        if submission.is_editable and not policy.can_edit(user, submission):
            raise exceptions.PermissionDenied(policy.refusal("edit"))
        serializer = SubmissionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        from_header = "If-Match" in request.headers
        if from_header:
            anything, versions = _parse_if_match(request.headers["If-Match"])
            if not anything and submission.version not in versions:
                return _version_mismatch(
                    submission.version,
                    status.HTTP_412_PRECONDITION_FAILED,
                    _("版本不符：这张报送表的当前版本为 %(version)s，请重新读取后再保存。")
                    % {"version": submission.version},
                )
            version = data.get("version", submission.version)
        elif "version" in data:
            version = data["version"]
        elif not submission.is_editable:
            version = submission.version  # locked anyway: let the service say so
        else:
            raise exceptions.ValidationError(
                {"version": [_("请提供报送表的版本号（version），或在 If-Match 请求头中提供。")]}
            )

        lines, figures, region = self._rows(submission, data)
        try:
            saved = save_form(
                submission.pk, by=user, version=version, lines=lines, figures=figures, region=region
            )
        except PermissionDenied as exc:
            raise _permission_denied(exc) from exc
        except services.StaleEdit as exc:
            code = status.HTTP_412_PRECONDITION_FAILED if from_header else status.HTTP_409_CONFLICT
            return _version_mismatch(exc.submission.version, code, str(exc))
        except services.WorkflowError as exc:  # locked (submitted, approved): 409, as documented
            return _version_mismatch(submission.version, status.HTTP_409_CONFLICT, str(exc))
        # A Django ValidationError (bad figures) goes to portal.api's handler: 400 with the messages.
        return self._detail_response(saved.pk)

    def _rows(self, submission, data):
        """The validated body as ``save_form`` takes it: {id: fields} for lines and figures.

        The figure and region checks read every field of a row, so the fields a PATCH leaves
        out are filled in from what is saved. That read happens before the service locks the
        form; it is safe because any save in between bumps the version, and save_form then
        refuses this one as stale.
        """
        line_ids = set(submission.lines.values_list("pk", flat=True))
        lines = {}
        for row in data.get("lines", []):
            if row["id"] not in line_ids:
                raise ValidationError(_("表中有不属于这张报送表的行，请刷新页面后重试。"))
            lines[row["id"]] = {field: value for field, value in row.items() if field != "id"}

        saved_figures = {figure.pk: figure for figure in submission.figures.all()}
        figures = {}
        for row in data.get("figures", []):
            figure = saved_figures.get(row["id"])
            if figure is None:
                raise ValidationError(_("表中有不属于这张报送表的指标行，请刷新页面后重试。"))
            merged = {field: _as_text(getattr(figure, field)) for field in FIGURE_FIELDS}
            merged.update({field: value for field, value in row.items() if field != "id"})
            figures[figure.pk] = merged

        region = None
        if "region" in data:
            region = dict(data["region"])
            saved_region = RegionFigure.objects.filter(submission=submission).first()
            if saved_region is not None:  # else the service answers 本单位不报送地区科普经费
                region = {field: _as_text(getattr(saved_region, field)) for field in REGION_FIELDS} | region
        return lines or None, figures or None, region

    def _workflow_step(self, request, step):
        submission = self.get_object()
        try:
            step(submission)
        except PermissionDenied as exc:
            raise _permission_denied(exc) from exc
        except services.WorkflowError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        # ValidationError (missing figures, unexplained jumps) → portal.api's handler: 400.
        return self._detail_response(submission.pk)

    @extend_schema(
        summary="Submit the form to the office (the unit approver)",
        request=None,
        responses=WORKFLOW_RESPONSES,
        parameters=[ETAG_HEADER],
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._workflow_step(request, lambda s: services.submit_submission(s, by=request.user))

    @extend_schema(
        summary="Approve a submitted form (the office)",
        request=None,
        responses=WORKFLOW_RESPONSES,
        parameters=[ETAG_HEADER],
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._workflow_step(request, lambda s: services.approve_submission(s, by=request.user))

    @extend_schema(
        summary="Return a submitted form for correction, with a comment (the office)",
        description="The comment (退回意见) is required; without one the answer is 409 with the message.",
        request=ReturnSerializer,
        responses=WORKFLOW_RESPONSES,
        parameters=[ETAG_HEADER],
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def send_back(self, request, pk=None):
        comment = str(body_value(request, "comment") or "")
        return self._workflow_step(
            request, lambda s: services.return_submission(s, by=request.user, comment=comment)
        )

    @extend_schema(
        summary="Reopen an approved form for a correction, with a reason (the office)",
        description="The reason is required; without one the answer is 409 with the message.",
        request=ReopenSerializer,
        responses=WORKFLOW_RESPONSES,
        parameters=[ETAG_HEADER],
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        reason = str(body_value(request, "reason") or "")
        return self._workflow_step(
            request, lambda s: services.reopen_submission(s, by=request.user, reason=reason)
        )

    @extend_schema(
        summary="Upload an evidence file (佐证材料)",
        description="PDF, PNG, JPG, Word or Excel; the content must match the file name's extension.",
        request={"multipart/form-data": EvidenceUploadSerializer},
        responses={
            201: OpenApiResponse(EvidenceSerializer),
            400: OpenApiResponse(ProblemsSerializer, description="No file, or a file refused (the reason)."),
            403: OpenApiResponse(ErrorSerializer, description="Not an editable form of the user's unit."),
            404: OpenApiResponse(ErrorSerializer),
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def evidence(self, request, pk=None):
        submission = self.get_object()
        if not policy.can_edit(request.user, submission):
            raise exceptions.PermissionDenied(policy.refusal("add_evidence"))
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError(_("请选择要上传的文件。"))
        try:
            evidence = services.add_evidence(
                submission,
                upload,
                by=request.user,
                description=str(body_value(request, "description") or ""),
            )
        except PermissionDenied as exc:
            raise _permission_denied(exc) from exc
        # A refused file (ValidationError) → portal.api's handler: 400 with the reason.
        data = EvidenceSerializer(evidence, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)
