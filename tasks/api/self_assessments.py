"""Units' self-assessments (自评) in the REST API: read (scoped as submissions) and the workflow
steps. Units fill them in on their page; the evaluation report reads the approved ones."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api import body_value
from tasks import services
from tasks.models import MeasureJudgement, SelfAssessment


class MeasureJudgementSerializer(serializers.ModelSerializer):
    measure = serializers.SlugRelatedField(slug_field="code", read_only=True)
    measure_title = serializers.CharField(source="measure.title", read_only=True)

    class Meta:
        model = MeasureJudgement
        fields = ["id", "measure", "measure_title", "judgement", "note", "evidence_ref"]
        read_only_fields = fields


class SelfAssessmentSerializer(serializers.ModelSerializer):
    """A unit's self-assessment for an evaluation round; texts are plain text."""

    unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    round_kind = serializers.CharField(source="round.kind", read_only=True)
    round_year = serializers.IntegerField(source="round.year", read_only=True)
    judgements = MeasureJudgementSerializer(many=True, read_only=True)

    class Meta:
        model = SelfAssessment
        fields = [
            "id",
            "round",
            "round_kind",
            "round_year",
            "unit",
            "status",
            "version",
            "achievements",
            "problems",
            "next_steps",
            "submitted_at",
            "reviewed_at",
            "review_comment",
            "judgements",
        ]
        read_only_fields = fields


class ReturnSerializer(serializers.Serializer):
    comment = serializers.CharField()


class SelfAssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Self-assessments (单位自评): the office and viewers read all, unit staff their unit's;
    the unit approver submits, the office approves or returns (409 with the message when refused
    by the workflow)."""

    serializer_class = SelfAssessmentSerializer

    def get_queryset(self):
        return (
            SelfAssessment.objects.visible_to(self.request.user)
            .select_related("unit", "round")
            .prefetch_related("judgements__measure")
            .order_by("round__year", "unit__sort_order", "pk")
        )

    def _step(self, request, step):
        assessment = self.get_object()
        try:
            assessment = step(assessment)
        except PermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from exc
        except services.WorkflowError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(SelfAssessmentSerializer(self.get_queryset().get(pk=assessment.pk)).data)

    @extend_schema(summary="Submit the self-assessment to the office (the unit approver)", request=None)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._step(request, lambda a: services.submit_self_assessment(a, by=request.user))

    @extend_schema(summary="Approve a submitted self-assessment (the office)", request=None)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._step(request, lambda a: services.approve_self_assessment(a, by=request.user))

    @extend_schema(
        summary="Return a submitted self-assessment with a comment (the office)", request=ReturnSerializer
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def send_back(self, request, pk=None):
        comment = str(body_value(request, "comment") or "")
        return self._step(
            request, lambda a: services.return_self_assessment(a, by=request.user, comment=comment)
        )
