"""Pages for Excel: the quarterly form as a workbook (download and upload) and the office's
exports of approved figures. The work itself is done in ``targets.submission.excel``."""

from urllib.parse import quote

from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from portal.mixins import PolicyRequiredMixin
from targets.submission import excel
from tasks.models import Submission
from units import policy


def content_disposition(filename, fallback):
    """An attachment header that keeps a Chinese file name (RFC 6266 / RFC 5987), with an ASCII
    name for the rare client that does not read ``filename*``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _visible_submission(request, pk):
    queryset = Submission.objects.visible_to(request.user).select_related(
        "unit", "period__plan", "updated_by"
    )
    return get_object_or_404(queryset, pk=pk)


class SubmissionExcelView(PolicyRequiredMixin, View):
    """The form as an xlsx workbook, for anyone who can see the submission (others: 404)."""

    def get(self, request, pk):
        submission = _visible_submission(request, pk)
        editable = policy.can_edit(request.user, submission)
        content = excel.build_form_workbook(submission, user=request.user, editable=editable)
        response = HttpResponse(content, content_type=excel.XLSX_CONTENT_TYPE)
        fallback = (
            f"submission-{submission.unit.code}-{submission.period.year}Q{submission.period.quarter}.xlsx"
        )
        response["Content-Disposition"] = content_disposition(excel.form_filename(submission), fallback)
        response["Cache-Control"] = "no-store"
        return response


class SubmissionExcelUploadView(PolicyRequiredMixin, TemplateView):
    """Upload a filled-in workbook: every row is checked, and nothing is saved unless all are fine.

    Only the unit's reporters and approver, while the form is a draft or returned (others who can
    see the form: 403; those who cannot: 404).
    """

    template_name = "targets/excel_upload.html"

    def load(self, request, pk):
        self.submission = _visible_submission(request, pk)
        policy.require(policy.can_edit(request.user, self.submission), "excel_upload")

    def get(self, request, pk):
        self.load(request, pk)
        return self.render_to_response(self.get_context_data())

    def get_context_data(self, errors=None, filename="", **kwargs):
        return super().get_context_data(
            submission=self.submission,
            errors=errors or [],
            filename=filename,
            max_mb=excel.MAX_UPLOAD_BYTES // (1024 * 1024),
            **kwargs,
        )

    def post(self, request, pk):
        self.load(request, pk)
        upload = request.FILES.get("file")
        if upload is None:
            context = self.get_context_data(errors=[_("请选择要上传的 Excel 文件。")])
            return self.render_to_response(context, status=400)
        try:
            n_lines, n_figures = excel.import_form_workbook(self.submission, upload, by=request.user)
        except excel.ExcelRejected as exc:
            self.submission.refresh_from_db()
            context = self.get_context_data(errors=exc.messages, filename=upload.name)
            return self.render_to_response(context, status=exc.status)
        messages.success(
            request,
            _("已从 Excel 导入：%(lines)s 行工作措施、%(figures)s 项指标数据")
            % {"lines": n_lines, "figures": n_figures},
        )
        return redirect("targets:submission_detail", pk=self.submission.pk)


class FiguresExportMixin(PolicyRequiredMixin):
    """The office and viewers export approved figures; ?year=&quarter=&target= narrow it down."""

    permission = "can_see_dashboard"

    def get(self, request):
        try:
            filters = excel.export_filters(request.GET)
        except ValueError as exc:
            return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
        return self.export(filters)


class FiguresExportXlsxView(FiguresExportMixin, View):
    def export(self, filters):
        response = HttpResponse(excel.write_figures_xlsx(filters), content_type=excel.XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition(
            excel.export_filename(filters, "xlsx"), "figures.xlsx"
        )
        return response


class FiguresExportCsvView(FiguresExportMixin, View):
    def export(self, filters):
        response = StreamingHttpResponse(
            excel.iter_figures_csv(filters), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition(
            excel.export_filename(filters, "csv"), "figures.csv"
        )
        return response
