"""Pages of the reporting cycle: the unit inbox, the office's review queue and period overview,
workflow actions, notifications and evidence files."""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from portal import page_cache
from portal.mixins import PolicyRequiredMixin
from tasks import office_filters, rules, selectors, services
from tasks.choices import EvaluationKind, Judgement, PeriodState, SubmissionStatus, Timeliness
from tasks.models import (
    DeadlineExtension,
    EvaluationRound,
    Evidence,
    Notification,
    Period,
    SelfAssessment,
    Submission,
)
from tasks.selectors import current_plan
from units import policy
from units.choices import UnitKind
from units.models import Unit


def _read_filters(params, shows, sorts):
    """The office filters a page offers (``shows``, ``sorts``), read from its GET parameters."""
    chosen, notices = office_filters.read_filters(params, sorts)
    if chosen["show"] and chosen["show"] not in shows:
        chosen["show"] = ""
        notices.append(_("“%(label)s”的取值无效，已忽略。") % {"label": _("筛选")})
    return chosen, notices


def _filter_context(chosen, notices, shows, sorts):
    return {
        "filters": chosen,
        "filter_notices": notices,
        "show_choices": list(shows.items()),
        "sort_choices": list(sorts.items()),
        "kind_choices": UnitKind.choices,
        "filtered": any(chosen.values()),
    }


def _messages_of(exc):
    if isinstance(exc, ValidationError):
        return exc.messages
    return [str(exc)]


class InboxView(PolicyRequiredMixin, TemplateView):
    """本期待办: every form the unit can act on, its missed quarters and its history, each with the
    unit's own deadline (see ``selectors.unit_inbox``)."""

    template_name = "tasks/inbox.html"
    permission = "is_unit_staff"

    def get_context_data(self, **kwargs):
        # The body changes only when a reporting record is written (the workflow version) or the
        # day changes; it is the user's own (their unit, the initiatives they lead).
        today = timezone.localdate()
        body = page_cache.cached(
            page_cache.key("inbox", self.request.user.pk, today, get_language()),
            lambda: self.render_body(today),
            scope=page_cache.WORKFLOW,
            timeout=page_cache.WORKFLOW_TIMEOUT,
        )
        return super().get_context_data(inbox_body=mark_safe(body), **kwargs)  # our own template

    def render_body(self, today):
        unit = policy.unit_of(self.request.user)
        plan = current_plan()  # read once for both selectors
        context = {
            "unit": unit,
            "today": today,
            "led_initiatives": selectors.led_initiatives(self.request.user),
            "evaluations": selectors.unit_evaluations(unit, plan),
            **selectors.unit_inbox(unit, today, plan),
        }
        return render_to_string("tasks/_inbox_body.html", context, request=self.request)


class ReviewQueueView(PolicyRequiredMixin, TemplateView):
    """待审核: submitted forms, the longest waiting first."""

    template_name = "tasks/review_queue.html"
    permission = "can_review"

    def get_context_data(self, **kwargs):
        # every form here is submitted: only 逾期 and the unit kind filter them, status does not sort
        shows = {"late": office_filters.show_choices()["late"]}
        sorts = {k: v for k, v in office_filters.sort_choices().items() if k != "status"}
        chosen, notices = _read_filters(self.request.GET, shows, sorts)
        today = timezone.localdate()
        # The table changes only when a reporting record is written (the workflow version) or the
        # day changes; every reviewer sees the same one for the same filters and page.
        table = page_cache.cached(
            page_cache.key("review", today, get_language(), params=self.request.GET),
            lambda: self.render_table(chosen, today),
            scope=page_cache.WORKFLOW,
            timeout=page_cache.WORKFLOW_TIMEOUT,
        )
        return super().get_context_data(
            table=mark_safe(table["html"]),  # our own template
            total=table["total"],
            **_filter_context(chosen, notices + table["notices"], shows, sorts),
            **kwargs,
        )

    def render_table(self, chosen, today):
        extension = DeadlineExtension.objects.filter(unit=OuterRef("unit_id"), period=OuterRef("period_id"))
        queue = (
            Submission.objects.pending_review()
            .select_related("unit", "period", "submitted_by")
            .annotate(
                row_deadline=rules.deadline_sql(
                    F("period__deadline"), Subquery(extension.values("deadline")[:1])
                )
            )
            .annotate(row_timeliness=rules.timeliness_sql(F("first_submitted_at"), F("row_deadline"), today))
        )
        condition = office_filters.filter_condition(chosen, unit="unit__")
        counts = queue.order_by().aggregate(
            total=Count("pk"), kept=Count("pk", filter=condition) if condition else Count("pk")
        )
        page, page_notices, page_query = office_filters.paginate(
            office_filters.apply_filters(
                queue, chosen, unit="unit__", submitted="submitted_at", order=("submitted_at", "pk")
            ),
            self.request.GET,
            count=counts["kept"],
        )
        page.object_list = [
            {
                "unit": submission.unit,
                "submission": submission,
                "status": submission.status,
                # the unit's deadline as rules.deadline_sql gave it (the extension's, else the period's)
                "timeliness": selectors.submission_timeliness(submission, submission.row_deadline, today),
            }
            for submission in page.object_list
        ]
        context = {
            "queue": page.object_list,
            "page_obj": page,
            "page_query": page_query,
            "filtered": any(chosen.values()),
            "total": counts["total"],
            "now": timezone.now(),
            "self_assessments": SelfAssessment.objects.filter(status=SubmissionStatus.SUBMITTED)
            .select_related("unit", "round", "submitted_by")
            .order_by("submitted_at"),
        }
        return {
            "html": render_to_string("tasks/_review_queue_table.html", context, request=self.request),
            "notices": [str(notice) for notice in page_notices],
            "total": counts["total"],
        }


class PeriodListView(PolicyRequiredMixin, TemplateView):
    template_name = "tasks/period_list.html"
    permission = "can_see_dashboard"

    def get_context_data(self, **kwargs):
        plan = current_plan()
        periods = (
            Period.objects.filter(plan=plan)
            .annotate(
                n_submitted=Count("submissions", filter=Q(submissions__status=SubmissionStatus.SUBMITTED)),
                n_approved=Count("submissions", filter=Q(submissions__status=SubmissionStatus.APPROVED)),
                n_returned=Count("submissions", filter=Q(submissions__status=SubmissionStatus.RETURNED)),
                n_draft=Count("submissions", filter=Q(submissions__status=SubmissionStatus.DRAFT)),
            )
            .order_by("-year", "-quarter")
        )
        return super().get_context_data(
            periods=periods, unit_count=Unit.objects.active().count(), states=PeriodState, **kwargs
        )


class PeriodStateView(PolicyRequiredMixin, View):
    permission = "can_manage_periods"

    def post(self, request, pk):
        period = get_object_or_404(Period, pk=pk)
        try:
            services.set_period_state(period, request.POST.get("state", ""), by=request.user)
            messages.success(
                request, _("%(period)s：%(state)s") % {"period": period, "state": period.get_state_display()}
            )
        except services.WorkflowError as exc:
            messages.error(request, str(exc))
        return redirect("tasks:period_list")


class PeriodOverviewView(PolicyRequiredMixin, TemplateView):
    """Every unit's status and timeliness for one period; deadline extensions."""

    template_name = "tasks/period_overview.html"
    permission = "can_see_dashboard"

    def get_context_data(self, **kwargs):
        period = get_object_or_404(Period, pk=self.kwargs["pk"])
        shows, sorts = office_filters.show_choices(), office_filters.sort_choices()
        chosen, notices = _read_filters(self.request.GET, shows, sorts)
        today = timezone.localdate()
        can_send_reminders = policy.can_send_reminders(self.request.user)
        can_manage_periods = policy.can_manage_periods(self.request.user)
        # The counts and the table change only when a reporting record is written (the workflow
        # version) or the day changes; they differ between users only by the two permissions.
        params = _without(self.request.GET, EXTENSION_FIELDS)
        key = page_cache.key(
            "overview",
            today,
            get_language(),
            period.pk,
            can_send_reminders,
            can_manage_periods,
            params=params,
        )
        table = page_cache.cached(
            key,
            lambda: self.render_table(period, chosen, params, today, can_send_reminders, can_manage_periods),
            scope=page_cache.WORKFLOW,
            timeout=page_cache.WORKFLOW_TIMEOUT,
        )
        return super().get_context_data(
            period=period,
            stats=mark_safe(table["stats"]),  # our own templates
            table=mark_safe(table["html"]),
            back=table["back"],
            can_manage_periods=can_manage_periods,
            can_send_reminders=can_send_reminders,
            # a refused extension comes back with what was typed (ExtensionCreateView)
            extension_form={field: self.request.GET.get(field, "")[:300] for field in EXTENSION_FIELDS},
            **_filter_context(chosen, notices + table["notices"], shows, sorts),
            **kwargs,
        )

    def render_table(self, period, chosen, params, today, can_send_reminders, can_manage_periods):
        # read again after the cache's version: a change of the period (its deadline) committed
        # since the page read it is in the body stored under that version
        period = Period.objects.get(pk=period.pk)
        units = selectors.period_overview_units(period, today)
        # the chips count every unit of the period, whatever the filters and the page show
        status_counts, timeliness_counts, total, kept = selectors.overview_counts(
            units, office_filters.filter_condition(chosen)
        )
        page, page_notices, page_query = office_filters.paginate(
            office_filters.apply_filters(units, chosen, order=("sort_order", "code")), params, count=kept
        )
        rows = selectors.overview_rows(period, page.object_list, today)
        page.object_list = rows
        for row in rows:
            row["remindable"] = row["status"] in office_filters.UNREPORTED
        counts = {
            "status_counts": [(s, status_counts.get(s.value, 0)) for s in SubmissionStatus],
            "timeliness_counts": [(t, timeliness_counts.get(t.value, 0)) for t in Timeliness],
        }
        context = {
            "period": period,
            "rows": rows,
            "page_obj": page,
            "page_query": page_query,
            "filtered": any(chosen.values()),
            "total": total,
            "can_manage_periods": can_manage_periods,
            "can_send_reminders": can_send_reminders,
        }
        # where the extension form comes back to: this page of the list, as filtered
        back = page_query + (("&" if page_query else "") + f"page={page.number}" if page.number > 1 else "")
        return {
            "stats": render_to_string("tasks/_period_overview_stats.html", counts),
            "html": render_to_string("tasks/_period_overview_table.html", context, request=self.request),
            "notices": [str(notice) for notice in page_notices],
            "back": f"?{back}" if back else "",
        }


EXTENSION_FIELDS = ("ext_unit", "ext_deadline", "ext_reason")


def _without(params, keys):
    kept = params.copy()
    for key in keys:
        kept.pop(key, None)
    return kept


def _overview_url(request, period, **typed):
    """The period overview as the user left it (the ``back`` query the forms post), optionally with
    the extension form's typed values to show again."""
    url = reverse("tasks:period_overview", args=[period.pk])
    query = request.POST.get("back", "")
    if query.startswith("?") and len(query) < 500 and "\n" not in query:
        params = _without(QueryDict(query[1:], mutable=True), EXTENSION_FIELDS)
    else:
        params = QueryDict(mutable=True)
    for key, value in typed.items():
        params[key] = value
    return url + ("?" + params.urlencode() if params else "")


class PeriodRemindView(PolicyRequiredMixin, View):
    """催报: the office reminds the units it selected on the period overview."""

    permission = "can_send_reminders"

    def post(self, request, pk):
        period = get_object_or_404(Period, pk=pk)
        codes = [code for code in request.POST.getlist("unit") if code]
        back = _overview_url(request, period)
        if not codes:
            messages.error(request, _("请先勾选要催报的单位。"))
            return redirect(back)
        units = list(Unit.objects.active().filter(code__in=codes[:500]))
        unknown = sorted(set(codes) - {unit.code for unit in units})
        if unknown:
            messages.error(request, _("没有这些单位，未催报：%(codes)s") % {"codes": "、".join(unknown[:10])})
        sent, refused = services.remind_units(period, units, by=request.user)
        for problem in refused:
            messages.warning(request, problem)
        if sent:
            messages.success(
                request,
                _("已向 %(n)s 个单位发出催报：%(units)s")
                % {"n": len(sent), "units": "、".join(unit.short_name for unit in sent)},
            )
        return redirect(back)


class ExtensionCreateView(PolicyRequiredMixin, View):
    permission = "can_manage_periods"

    def post(self, request, pk):
        period = get_object_or_404(Period, pk=pk)
        reason = request.POST.get("reason", "")  # NUL is refused by portal.security before views
        typed = {  # shown again in the form when the extension is refused
            "ext_reason": reason[:300],
            "ext_unit": request.POST.get("unit", "").strip()[:100],
            "ext_deadline": request.POST.get("deadline", "")[:20],
        }
        unit = _unit_named(typed["ext_unit"])
        if unit is None:
            if typed["ext_unit"]:
                messages.error(
                    request,
                    _("没有代码或名称为“%(unit)s”的单位，未延期。请从列表中选择单位。")
                    % {"unit": typed["ext_unit"]},
                )
            else:
                messages.error(request, _("请填写要延期的单位。"))
            return redirect(_overview_url(request, period, **typed))
        try:
            deadline = datetime.date.fromisoformat(typed["ext_deadline"])
        except ValueError:
            messages.error(request, _("请输入有效的日期（如 2024-10-20）。"))
            return redirect(_overview_url(request, period, **typed))
        try:
            services.extend_deadline(period, unit, deadline=deadline, reason=reason, by=request.user)
            messages.success(request, _("已为%(unit)s延期至 %(date)s。") % {"unit": unit, "date": deadline})
        except services.WorkflowError as exc:
            messages.error(request, str(exc))
            return redirect(_overview_url(request, period, **typed))
        return redirect(_overview_url(request, period))


def _unit_named(text):
    """The active unit whose code, short name or name is ``text`` (the extension form's field,
    filled from the page's datalist or typed); None when there is none or more than one."""
    if not text:
        return None
    units = Unit.objects.active()
    unit = units.filter(code=text).first()
    if unit is None:
        found = list(units.filter(Q(short_name=text) | Q(name=text))[:2])
        unit = found[0] if len(found) == 1 else None
    return unit


class WorkflowActionView(PolicyRequiredMixin, View):
    """POST one action of the submit / approve / return workflow on a form the user can see, then
    back to its page with the service's message. ``actions`` maps the action to the service (called
    with the posted ``comment``) and the success message; the URLs name the action."""

    action = None
    model = None
    detail_url = None
    actions = {}

    def post(self, request, pk):
        document = get_object_or_404(self.model.objects.visible_to(request.user), pk=pk)
        if self.action not in self.actions:  # pragma: no cover - URLs name only the known actions
            raise Http404
        perform, done = self.actions[self.action]
        try:
            perform(document, by=request.user, comment=request.POST.get("comment", ""))
            messages.success(request, done)
        except (services.WorkflowError, ValidationError) as exc:
            for message in _messages_of(exc):
                messages.error(request, message)
        # PermissionDenied propagates: the page only offers what the user may do, so a refused
        # action is a crafted request and gets a plain 403.
        return redirect(self.detail_url, pk=pk)


class SubmissionActionView(WorkflowActionView):
    """POST submit / approve / return / reopen on one submission."""

    model = Submission
    detail_url = "targets:submission_detail"
    actions = {
        "submit": (
            lambda s, by, comment: services.submit_submission(s, by=by),
            gettext_lazy("已提交，等待省纲要办审核。"),
        ),
        "approve": (
            lambda s, by, comment: services.approve_submission(s, by=by),
            gettext_lazy("已审核通过。"),
        ),
        "return": (
            lambda s, by, comment: services.return_submission(s, by=by, comment=comment),
            gettext_lazy("已退回修改。"),
        ),
        "reopen": (
            lambda s, by, comment: services.reopen_submission(s, by=by, reason=comment),
            gettext_lazy("已重新开放，等待单位更正。"),
        ),
    }


class NotificationListView(PolicyRequiredMixin, TemplateView):
    template_name = "tasks/notification_list.html"

    def get_context_data(self, **kwargs):
        items = Notification.objects.filter(user=self.request.user).select_related("submission")[:100]
        return super().get_context_data(items=items, **kwargs)


class NotificationReadView(PolicyRequiredMixin, View):
    def post(self, request):
        ids = request.POST.getlist("id")
        # ASCII digits only ("²".isdigit() is true but int() refuses it), and ids a database holds
        ids = [int(i) for i in ids if i.isascii() and i.isdigit() and len(i) < 19] if ids else None
        services.mark_read(request.user, ids)
        # Only back to a page of the portal: "next" comes from the form, so a crafted one could
        # otherwise send the user to another site.
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("tasks:notification_list")
        return redirect(next_url)


class EvidenceUploadView(PolicyRequiredMixin, View):
    def post(self, request, pk):
        submission = get_object_or_404(Submission.objects.visible_to(request.user), pk=pk)
        files = request.FILES.getlist("file")
        if not files:
            messages.error(request, _("请选择要上传的文件。"))
        for upload in files:
            try:
                services.add_evidence(
                    submission,
                    upload,
                    by=request.user,
                    description=request.POST.get("description", ""),
                )
                messages.success(request, _("已上传：%(name)s") % {"name": upload.name})
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
        return redirect(reverse("targets:submission_detail", args=[pk]) + "#evidence")


class EvidenceDownloadView(PolicyRequiredMixin, View):
    def get(self, request, pk):
        evidence = get_object_or_404(Evidence.objects.visible_to(request.user), pk=pk)
        try:
            handle = evidence.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404(_("文件已不存在。")) from exc
        return FileResponse(handle, as_attachment=True, filename=evidence.original_name)


class EvidenceDeleteView(PolicyRequiredMixin, View):
    def post(self, request, pk):
        evidence = get_object_or_404(Evidence.objects.visible_to(request.user), pk=pk)
        services.remove_evidence(evidence, by=request.user)
        messages.success(request, _("已删除：%(name)s") % {"name": evidence.original_name})
        return redirect(reverse("targets:submission_detail", args=[evidence.submission_id]) + "#evidence")


# Evaluation rounds and self-assessments (自评) ----------------------------------------------


class RoundListView(PolicyRequiredMixin, TemplateView):
    """评估工作: the plan's evaluation rounds; the office opens (POST) and closes them."""

    template_name = "tasks/round_list.html"
    permission = "can_see_dashboard"
    write_permission = "can_manage_periods"

    def get_context_data(self, **kwargs):
        plan = current_plan()
        rounds = (
            EvaluationRound.objects.filter(plan=plan)
            .annotate(
                n_submitted=Count(
                    "self_assessments", filter=Q(self_assessments__status=SubmissionStatus.SUBMITTED)
                ),
                n_approved=Count(
                    "self_assessments", filter=Q(self_assessments__status=SubmissionStatus.APPROVED)
                ),
            )
            .order_by("year", "kind")
        )
        return super().get_context_data(
            rounds=rounds,
            kinds=EvaluationKind.choices,
            unit_count=Unit.objects.office_members().count(),
            **kwargs,
        )

    def post(self, request):
        try:
            deadline = datetime.date.fromisoformat(request.POST.get("deadline", ""))
        except ValueError:
            messages.error(request, _("请输入有效的日期（如 2024-10-20）。"))
            return redirect("tasks:round_list")
        try:
            evaluation = services.open_round(
                current_plan(), request.POST.get("kind", ""), deadline=deadline, by=request.user
            )
            messages.success(request, _("已开启%(round)s。") % {"round": evaluation})
        except services.WorkflowError as exc:
            messages.error(request, str(exc))
        return redirect("tasks:round_list")


class RoundStateView(PolicyRequiredMixin, View):
    permission = "can_manage_periods"

    def post(self, request, pk):
        evaluation = get_object_or_404(EvaluationRound, pk=pk)
        try:
            services.set_round_state(evaluation, request.POST.get("state", ""), by=request.user)
            messages.success(
                request,
                _("%(round)s：%(state)s") % {"round": evaluation, "state": evaluation.get_state_display()},
            )
        except services.WorkflowError as exc:
            messages.error(request, str(exc))
        return redirect("tasks:round_list")


class RoundDetailView(PolicyRequiredMixin, TemplateView):
    """A round's self-assessments: every member unit with its status; the office reviews from here."""

    template_name = "tasks/round_detail.html"
    permission = "can_see_dashboard"

    def get_context_data(self, **kwargs):
        evaluation = get_object_or_404(EvaluationRound, pk=self.kwargs["pk"])
        rows = selectors.round_overview(evaluation)
        counts = {}
        for row in rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return super().get_context_data(
            round=evaluation,
            rows=rows,
            status_counts=[(s, counts.get(s.value, 0)) for s in SubmissionStatus],
            **kwargs,
        )


class SelfAssessmentMineView(PolicyRequiredMixin, View):
    """The unit's self-assessment for a round: shown unsaved until the first save creates it."""

    permission = "is_unit_staff"

    def _round(self, pk):
        return get_object_or_404(EvaluationRound, pk=pk)

    def get(self, request, pk):
        evaluation = self._round(pk)
        unit = policy.unit_of(request.user)
        existing = SelfAssessment.objects.filter(round=evaluation, unit=unit).first()
        if existing is not None:
            return redirect("tasks:self_assessment_detail", pk=existing.pk)
        assessment = SelfAssessment(round=evaluation, unit=unit)
        return render(
            request,
            "tasks/self_assessment.html",
            {
                "sa": assessment,
                "rows": services.planned_judgements(assessment),
                "judgement_choices": Judgement.choices,
                "can_edit": policy.can_edit_self_assessment(request.user, assessment),
                "limit": services.NARRATIVE_LIMIT,
                "unsaved": True,
            },
        )

    def post(self, request, pk):
        evaluation = self._round(pk)
        unit = policy.unit_of(request.user)
        assessment = services.ensure_self_assessment(evaluation, unit, by=request.user)
        return _save_posted(request, assessment)


def _save_posted(request, assessment):
    """Save the posted page: narratives by name, judgement fields named after their measure
    (``m-<measure id>-judgement``), so that the unsaved first page posts the same names."""
    texts = {
        field: request.POST.get(field, "") for field in services.NARRATIVE_FIELDS if field in request.POST
    }
    judgements = {}
    for row in assessment.judgements.all():
        prefix = f"m-{row.measure_id}-"
        data = {
            field: request.POST.get(prefix + field, "")
            for field in ("judgement", "note", "evidence_ref")
            if prefix + field in request.POST
        }
        if data:
            judgements[row.pk] = data
    try:
        services.save_self_assessment(
            assessment.pk,
            by=request.user,
            version=request.POST.get("version") or assessment.version,
            texts=texts,
            judgements=judgements,
        )
        messages.success(request, _("自评已保存。"))
    except (services.WorkflowError, ValidationError) as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
        # Nothing was written: show the page again with what the user typed.
        return _render_self_assessment(request, assessment, posted=(texts, judgements))
    return redirect("tasks:self_assessment_detail", pk=assessment.pk)


def _render_self_assessment(request, assessment, posted=None):
    """The self-assessment page; after a refused save (``posted``), with what was typed (400)."""
    rows = list(assessment.judgements.select_related("measure__initiative", "measure__part"))
    can_edit = policy.can_edit_self_assessment(request.user, assessment)
    if can_edit:  # measures assigned since it was created: shown unsaved, written by the next save
        have = {row.measure_id for row in rows}
        rows += [row for row in services.planned_judgements(assessment) if row.measure_id not in have]
    status = 200
    if posted is not None:  # a refused save: keep what was typed
        texts, judgements = posted
        for field, text in texts.items():
            setattr(assessment, field, text)
        for row in rows:
            for field, value in judgements.get(row.pk, {}).items():
                setattr(row, field, value)
        status = 400
    return render(
        request,
        "tasks/self_assessment.html",
        {
            "sa": assessment,
            "rows": rows,
            "judgement_choices": Judgement.choices,
            "can_edit": can_edit,
            "can_submit": policy.can_submit_self_assessment(request.user, assessment),
            "can_review": policy.can_review(request.user, assessment),
            "events": assessment.events.select_related("actor"),
            "limit": services.NARRATIVE_LIMIT,
        },
        status=status,
    )


class SelfAssessmentDetailView(PolicyRequiredMixin, View):
    """A self-assessment: the unit's staff fill it in (POST saves), the office and viewers read it,
    the office approves or returns it."""

    def get_object(self, request, pk):
        return get_object_or_404(
            SelfAssessment.objects.visible_to(request.user).select_related("unit", "round__plan"), pk=pk
        )

    def get(self, request, pk):
        return _render_self_assessment(request, self.get_object(request, pk))

    def post(self, request, pk):
        assessment = self.get_object(request, pk)
        policy.require(policy.can_edit_self_assessment(request.user, assessment), "edit_self_assessment")
        # gives it the rows of measures assigned since it was created
        assessment = services.ensure_self_assessment(assessment.round, assessment.unit, by=request.user)
        return _save_posted(request, assessment)


class SelfAssessmentActionView(WorkflowActionView):
    """POST submit / approve / return on one self-assessment."""

    model = SelfAssessment
    detail_url = "tasks:self_assessment_detail"
    actions = {
        "submit": (
            lambda a, by, comment: services.submit_self_assessment(a, by=by),
            gettext_lazy("自评已提交，等待省纲要办审核。"),
        ),
        "approve": (
            lambda a, by, comment: services.approve_self_assessment(a, by=by),
            gettext_lazy("已审核通过。"),
        ),
        "return": (
            lambda a, by, comment: services.return_self_assessment(a, by=by, comment=comment),
            gettext_lazy("已退回修改。"),
        ),
    }
