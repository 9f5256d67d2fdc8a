"""撰写评估报告: the office writes a milestone report's sections beside what the data says, saves
them as a draft, previews (征求意见稿) and finalises (定稿). The rules are in ``reports.documents.drafts``;
the facts beside each section come from the functions that build the report itself
(``report_data.build_snapshot`` and ``pdf.report_context``), so the page and the PDF agree.
"""

import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from portal.mixins import PolicyRequiredMixin
from reports.choices import ReportKind
from reports.documents import data as report_data
from reports.documents import drafts, highlights, pdf
from reports.documents.services import NEXT_STEPS_MAX, office_labels
from reports.documents.views import status_payload
from reports.models import ReportRun
from tasks.selectors import current_plan

RUNS_SHOWN = 20
HISTORY_SHOWN = 10


def default_editors(plan):
    """(kind, cut-off, label) of the milestone reports the office writes, for the list page."""
    if plan is None:
        return []
    return [
        (ReportKind.MOBILISATION, datetime.date(plan.start_year, 12, 31)),
        (ReportKind.MIDTERM, datetime.date(2023, 12, 31)),
        (ReportKind.FINAL, datetime.date(plan.end_year, 12, 31)),
    ]


def editor_url(kind, cutoff):
    return reverse("reports_pdf:editor", args=[kind, cutoff.isoformat()])


def facts(plan, kind, cutoff):
    """What the data says for each section, from the report's own functions (as of now)."""
    snapshot = report_data.build_snapshot(plan=plan, kind=kind, cutoff=cutoff, office={})
    c = pdf.report_context(snapshot)
    return {
        "judgement": c["judgement"],
        "lagging": c["lagging"],
        "problem_initiatives": c["problem_initiatives"],
        "next_by_owner": c["next_by_owner"],
        "final": c["final"],
        "as_of": c["as_of"],
    }


class ReportEditorView(PolicyRequiredMixin, TemplateView):
    """One milestone report (kind, cut-off): the office's sections, picks, preview and final."""

    permission = "can_manage_reports"
    template_name = "reports/report_editor.html"

    def setup_report(self, kind, cutoff):
        if kind not in drafts.EDITOR_KINDS:
            raise Http404(_("没有这种报告类型。"))
        try:
            self.cutoff = datetime.date.fromisoformat(cutoff)
        except ValueError as exc:
            raise Http404(_("数据截止日期格式不正确。")) from exc
        self.kind = ReportKind(kind)
        self.plan = current_plan()
        if self.plan is None:
            raise Http404(_("尚未载入实施方案。"))

    def get(self, request, kind, cutoff):
        self.setup_report(kind, cutoff)
        return super().get(request)

    def get_context_data(self, *, values=None, picks=None, errors=None, version=None, **kwargs):
        draft = drafts.draft_for(self.plan, self.kind, self.cutoff)
        if values is None:
            values = {
                name: getattr(draft, name, "") if draft else ""
                for name in (*drafts.TEXT_FIELDS, *drafts.ISSUE_FIELDS)
            }
            picks = list(draft.picks) if draft else []
            version = draft.version if draft else 0
        errors = errors or {}
        labels = office_labels()
        help_texts = {
            "overall": _("写在报告“总体评价”一节系统计算的结论之后。"),
            "problems": _("写在各单位反映的问题和滞后指标之后。"),
            "next_steps": _("写入报告“下一步工作”一节，在针对滞后指标的工作之后。"),
        }
        sections = [
            {
                "name": name,
                "label": labels[name],
                "value": values.get(name, ""),
                "error": errors.get(name),
                "help": help_texts[name],
            }
            for name in drafts.sections(self.kind)
        ]
        groups = highlights.candidates(self.plan, self.kind, self.cutoff, keep=picks)
        offered = {item["key"] for group in groups for item in group["items"]}
        runs = list(
            ReportRun.objects.filter(plan=self.plan, kind=self.kind, cutoff=self.cutoff, period=None)
            .select_related("requested_by")
            .order_by("-created_at", "-pk")[:RUNS_SHOWN]
        )
        history = []
        if draft is not None:
            history = list(draft.history.select_related("history_user").order_by("-version")[:HISTORY_SHOWN])
        return super().get_context_data(
            kind=self.kind,
            kind_label=self.kind.label,
            cutoff=self.cutoff,
            evaluation=drafts.evaluation(self.kind),
            draft=draft,
            version=version,
            sections=sections,
            issue={
                name: {"value": values.get(name, ""), "error": errors.get(name), "max": limit}
                for name, limit in drafts.ISSUE_FIELDS.items()
            },
            errors=errors,
            general_errors=[m for f, m in errors.items() if f in (None, "final")],
            picks_error=errors.get("picks"),
            facts=facts(self.plan, self.kind, self.cutoff),
            groups=groups,
            picked=set(picks or []),
            lost_picks=[p for p in (picks or []) if p not in offered],
            runs=[(run, status_payload(run)) for run in runs],
            history=history,
            limit=NEXT_STEPS_MAX,
            **kwargs,
        )

    def post(self, request, kind, cutoff):
        self.setup_report(kind, cutoff)
        action = request.POST.get("action", "save")
        if action not in ("save", "preview", "final"):
            action = "save"
        data = {name: request.POST.get(name, "") for name in (*drafts.TEXT_FIELDS, *drafts.ISSUE_FIELDS)}
        picks = request.POST.getlist("picks")
        version = request.POST.get("version")
        try:
            if action == "save":
                draft = drafts.save_draft(
                    self.plan,
                    self.kind,
                    self.cutoff,
                    data=data,
                    picks=picks,
                    version=version,
                    by=request.user,
                )
                messages.success(request, _("已保存为第 %(version)s 版草稿。") % {"version": draft.version})
            else:
                draft, run = drafts.issue(
                    self.plan,
                    self.kind,
                    self.cutoff,
                    data=data,
                    picks=picks,
                    version=version,
                    by=request.user,
                    final=action == "final",
                )
                if run.final:
                    messages.success(
                        request,
                        _(
                            "已保存第 %(version)s 版草稿，并排队生成定稿（第 %(n)s 版，#%(id)s），完成后可在下表下载。"
                        )
                        % {"version": draft.version, "n": run.final_number, "id": run.pk},
                    )
                else:
                    messages.success(
                        request,
                        _(
                            "已保存第 %(version)s 版草稿，并排队生成征求意见稿（#%(id)s），完成后可在下表下载。"
                        )
                        % {"version": draft.version, "id": run.pk},
                    )
        except drafts.DraftRefused as refused:
            context = self.get_context_data(values=data, picks=picks, errors=refused.errors, version=version)
            return self.render_to_response(context, status=409 if refused.stale else 400)
        return redirect(editor_url(self.kind, self.cutoff))
