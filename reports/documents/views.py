"""评估报告 pages: the office requests a milestone report (or a quarterly brief); the office and
viewers follow its progress and download the PDF.

The list polls ``status.json`` of unfinished runs from ``static/js/report_progress.js`` (no
inline script), so whoever requested a report sees it finish without reloading.
"""

import datetime
import io

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from portal.mixins import PolicyRequiredMixin
from reports.choices import ReportKind, RunStatus
from reports.documents import pdf
from reports.documents.services import NEXT_STEPS_MAX, OFFICE_FIELDS, check_request, request_report
from reports.models import ReportRun
from tasks.models import Period
from tasks.selectors import current_plan
from units import policy

RUNS_SHOWN = 50


class ReportRequestForm(forms.Form):
    """What the office chooses: the report, its cut-off, the quarter of a brief, the next steps."""

    kind = forms.ChoiceField(
        label=gettext_lazy("报告类型"),
        choices=ReportKind.choices,
        error_messages={
            "required": gettext_lazy("请选择报告类型。"),
            "invalid_choice": gettext_lazy("没有这种报告类型。"),
        },
    )
    cutoff = forms.DateField(
        label=gettext_lazy("数据截止日期"),
        # ISO dates: a browser's date field accepts nothing else (2026/12/07 showed empty)
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("请填写数据截止日期。"),
            "invalid": gettext_lazy("数据截止日期格式不正确，应为 2023-12-31 这样的日期。"),
        },
    )
    knowledge_date = forms.DateField(
        label=gettext_lazy("数据认定日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy(
            "按该日结束时已审核通过的数据生成，可重现当时上报的报告；留空为按现在的数据生成。"
        ),
        error_messages={"invalid": gettext_lazy("数据认定日期格式不正确，应为 2024-01-15 这样的日期。")},
    )
    period = forms.ModelChoiceField(
        label=gettext_lazy("报送期（季度简报）"),
        queryset=Period.objects.none(),
        required=False,
        empty_label=gettext_lazy("（季度简报时选择）"),
        error_messages={"invalid_choice": gettext_lazy("报送期不存在。")},
    )
    next_steps = forms.CharField(
        label=gettext_lazy("下一步工作安排"),
        required=False,
        max_length=NEXT_STEPS_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=gettext_lazy("写入报告“下一步工作安排”一节，随报告保存。"),
    )

    overall = forms.CharField(
        label=gettext_lazy("总体评价（省纲要办意见）"),
        required=False,
        max_length=NEXT_STEPS_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=gettext_lazy("写在报告“总体评价”一节系统计算的结论之后。"),
    )
    problems = forms.CharField(
        label=gettext_lazy("存在的问题（省纲要办意见）"),
        required=False,
        max_length=NEXT_STEPS_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        help_text=gettext_lazy("写在各单位反映的问题和滞后指标之后。"),
    )
    addressee = forms.CharField(label=gettext_lazy("主送机关"), required=False, max_length=100)
    document_number = forms.CharField(label=gettext_lazy("文号"), required=False, max_length=50)
    final = forms.BooleanField(
        label=gettext_lazy("定稿"),
        required=False,
        help_text=gettext_lazy("不勾选为征求意见稿（每页标注）；定稿须填写全部省纲要办意见。"),
    )

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.fields["period"].queryset = Period.objects.filter(plan=plan).order_by("year", "quarter")
        self.fields["period"].label_from_instance = lambda p: p.label

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        problems = check_request(
            self.plan,
            kind=cleaned.get("kind"),
            cutoff=cleaned.get("cutoff"),
            period=cleaned.get("period"),
            next_steps=cleaned.get("next_steps") or "",
            knowledge_date=cleaned.get("knowledge_date"),
            office={name: cleaned.get(name) for name in OFFICE_FIELDS},
        )
        for field, message in problems.items():
            self.add_error(field if field in self.fields else None, message)
        return cleaned


class ReportAccessMixin(PolicyRequiredMixin):
    """The office and viewers; the office alone requests reports."""

    permission = "can_see_reports"
    write_permission = "can_manage_reports"


def status_payload(run):
    """What the list page (and its polling script) shows of a run."""
    done = run.status == RunStatus.SUCCEEDED and bool(run.file)
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "progress": run.progress,
        "progress_note": run.progress_note,
        "error": run.error,
        "finished": run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED),
        "finished_at": timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M:%S")
        if run.finished_at
        else None,
        "pages": run.pages,
        "size": run.size,
        "checksum": run.checksum,
        "download_url": reverse("reports_pdf:download", args=[run.pk]) if done else None,
        "docx_url": reverse("reports_pdf:download_docx", args=[run.pk]) if done else None,
    }


def default_request(plan):
    """The form's first choice: the latest milestone evaluation whose year has ended (the final
    evaluation once 2025 is over), cut off at its milestone's year end."""
    today = timezone.localdate()
    year = plan.end_year if plan is not None else today.year
    if today <= datetime.date(year, 12, 31):
        year = 2023  # the mid-term evaluation until the plan has ended
    kind = ReportKind.FINAL if plan is not None and year == plan.end_year else ReportKind.MIDTERM
    return {"kind": kind, "cutoff": datetime.date(year, 12, 31)}


def _editors(plan):
    from reports.documents.editor import default_editors, editor_url

    return [
        (kind, cutoff, ReportKind(kind).label, editor_url(kind, cutoff))
        for kind, cutoff in default_editors(plan)
    ]


class ReportListView(ReportAccessMixin, TemplateView):
    """评估报告: the request form (office) and the runs with their progress and downloads."""

    template_name = "reports/report_list.html"

    def get_context_data(self, **kwargs):
        plan = current_plan()
        form = kwargs.pop("form", None) or ReportRequestForm(plan=plan, initial=default_request(plan))
        runs = list(ReportRun.objects.select_related("period", "requested_by")[:RUNS_SHOWN])
        return super().get_context_data(
            form=form,
            can_request=policy.can_manage_reports(self.request.user),
            editors=_editors(plan),
            runs=[(run, status_payload(run)) for run in runs],
            **kwargs,
        )

    def post(self, request):
        plan = current_plan()
        form = ReportRequestForm(request.POST, plan=plan)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data
        try:
            run, created = request_report(
                plan,
                kind=data["kind"],
                cutoff=data["cutoff"],
                period=data.get("period"),
                next_steps=data.get("next_steps") or "",
                by=request.user,
                knowledge_date=data.get("knowledge_date"),
                office={name: data.get(name) for name in OFFICE_FIELDS},
            )
        except DjangoValidationError as exc:
            for field, message_list in exc.message_dict.items():
                for message in message_list:
                    form.add_error(field if field in form.fields else None, message)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        if created:
            messages.success(
                request,
                _("已排队生成%(kind)s（#%(id)s），完成后可在下表下载。")
                % {
                    "kind": run.get_kind_display(),
                    "id": run.pk,
                },
            )
        else:
            messages.info(
                request,
                _("相同的报告（#%(id)s，%(status)s）正在生成，未重复排队。")
                % {"id": run.pk, "status": run.get_status_display()},
            )
        return redirect("reports_pdf:list")


class ReportStatusView(ReportAccessMixin, View):
    """status.json of one run, for the list page's polling."""

    def get(self, request, pk):
        run = get_object_or_404(ReportRun, pk=pk)
        return JsonResponse(status_payload(run))


class ReportDocxView(ReportAccessMixin, View):
    """The same report as an editable Word document, built from the run's frozen snapshot."""

    def get(self, request, pk):
        from reports.documents.docx import build_docx

        run = get_object_or_404(ReportRun.objects.select_related("period"), pk=pk)
        if not run.snapshot or run.status != RunStatus.SUCCEEDED:
            raise Http404(_("该报告尚未生成文件。"))
        name = pdf.download_name(run).removesuffix(".pdf") + ".docx"
        return FileResponse(
            io.BytesIO(build_docx(run.snapshot)),
            as_attachment=True,
            filename=name,
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )


class ReportDownloadView(ReportAccessMixin, View):
    """The PDF of a finished run (404 while there is none)."""

    def get(self, request, pk):
        run = get_object_or_404(ReportRun.objects.select_related("period"), pk=pk)
        return pdf.file_response(run)
