"""The quarterly form: one page to fill in (unit staff), review (office) or read (viewers).

It lives in ``targets`` because it edits both the measure lines (tasks) and the figures
(targets); the workflow buttons post to the tasks app's action views.
"""

import json
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from targets.choices import Combine
from targets.models import RegionFigure, TargetFigure
from targets.services import FIGURE_FIELDS, REGION_FIELDS, save_form
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.choices import MeasureStatus, SubmissionStatus
from tasks.models import DeadlineExtension, MeasureLine, Period, Submission
from units.choices import Role
from units.models import Unit
from units.permissions import role_of, unit_of

LINE_FIELDS = task_services.LINE_FIELDS


def parse_form(post):
    """Split the posted fields into lines, figures and region figures by their name prefix."""
    lines, figures, region = {}, {}, {}
    for key, value in post.items():
        value = value.replace("\x00", "")  # a NUL is never meant, and PostgreSQL cannot store one
        parts = key.split("-")
        if parts[0] == "line" and len(parts) == 3 and parts[1].isdigit() and parts[2] in LINE_FIELDS:
            lines.setdefault(int(parts[1]), {})[parts[2]] = value.strip() if parts[2] != "status" else value
        elif parts[0] == "fig" and len(parts) == 3 and parts[1].isdigit() and parts[2] in FIGURE_FIELDS:
            figures.setdefault(int(parts[1]), {})[parts[2]] = value
        elif parts[0] == "region" and len(parts) == 2 and parts[1] in REGION_FIELDS:
            region[parts[1]] = value
    return lines, figures, region or None


class SubmissionStartView(LoginRequiredMixin, View):
    """Open (creating if need be) the unit's form for a period."""

    def get(self, request, unit_code, period_pk):
        unit = get_object_or_404(Unit, code=unit_code)
        period = get_object_or_404(Period, pk=period_pk)
        role = role_of(request.user)
        if role in (Role.REPORTER, Role.APPROVER):
            if unit_of(request.user) != unit:
                raise Http404
            existing = Submission.objects.filter(unit=unit, period=period).first()
            extension = DeadlineExtension.objects.filter(unit=unit, period=period).first()
            if existing is None and not task_selectors.can_start(period, extension, timezone.localdate()):
                messages.error(request, _("%(period)s 尚未开放填报或已关闭。") % {"period": period})
                return redirect("tasks:inbox")
            submission = existing or task_services.ensure_submission(unit, period, by=request.user)
            return redirect("targets:submission_detail", pk=submission.pk)
        submission = Submission.objects.visible_to(request.user).filter(unit=unit, period=period).first()
        if submission is None:
            raise Http404(_("该单位尚未填报本期报送表。"))
        return redirect("targets:submission_detail", pk=submission.pk)


class SubmissionDetailView(LoginRequiredMixin, TemplateView):
    """The form: editable for the unit's staff while it is a draft or returned, read-only otherwise."""

    template_name = "targets/submission_form.html"

    def get_submission(self):
        queryset = Submission.objects.visible_to(self.request.user).select_related(
            "unit", "period__plan", "submitted_by", "reviewed_by", "updated_by"
        )
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        self.submission = self.get_submission()
        if task_services.can_edit(request.user, self.submission):
            task_services.ensure_submission(self.submission.unit, self.submission.period, by=request.user)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, posted=None, errors=None, changes=None, **kwargs):
        # Before reading the form: a refused save lists what others changed after this moment.
        loaded_at = timezone.now().isoformat()
        submission = self.submission
        user = self.request.user
        role = role_of(user)
        lines = list(
            submission.lines.select_related("measure__initiative", "measure__part", "work_point").order_by(
                "sort_order"
            )
        )
        figures = list(submission.figures.select_related("target").order_by("target__sort_order"))
        region_figure = RegionFigure.objects.filter(submission=submission).select_related("region").first()
        # The stored values the page is loaded with, posted back with every save: the base of the
        # field-by-field merge when someone saved the form in between (targets.services.save_form).
        form_base = json.dumps(form_values(lines, figures, region_figure), ensure_ascii=False)
        if posted is not None:  # re-show what the user typed after a refused save
            for line in lines:
                for field, value in posted[0].get(line.pk, {}).items():
                    setattr(line, field, value)
            for figure in figures:
                for field, value in posted[1].get(figure.pk, {}).items():
                    setattr(figure, "posted_" + field, value)
            if region_figure is not None and posted[2]:
                for field, value in posted[2].items():
                    setattr(region_figure, "posted_" + field, value)
        groups = []
        for line in lines:
            title = line.measure.initiative.title if line.measure else _("年度重点工作任务")
            if not groups or groups[-1][0] != title:
                groups.append((title, []))
            groups[-1][1].append(line)
        can_edit = task_services.can_edit(user, submission)
        is_unit_approver = role == Role.APPROVER and unit_of(user) == submission.unit
        extension = DeadlineExtension.objects.filter(period=submission.period, unit=submission.unit).first()
        return super().get_context_data(
            submission=submission,
            deadline=extension.deadline if extension else submission.period.deadline,
            extension=extension,
            line_groups=groups,
            figures=figures,
            region_figure=region_figure,
            evidence=list(submission.evidence.select_related("uploaded_by")),
            events=list(submission.events.select_related("actor")),
            can_edit=can_edit,
            can_submit=can_edit and is_unit_approver,
            can_review=role == Role.OFFICE and submission.status == SubmissionStatus.SUBMITTED,
            can_reopen=role == Role.OFFICE and submission.status == SubmissionStatus.APPROVED,
            statuses=MeasureStatus.choices,
            combine=Combine,
            loaded_at=loaded_at,
            form_base=form_base,
            form_errors=errors or [],
            changes=changes or [],
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        self.submission = self.get_submission()
        if not task_services.can_edit(request.user, self.submission):
            raise PermissionDenied(_("这张报送表您不能修改。"))
        autosave = request.headers.get("X-Autosave") == "1"
        lines, figures, region = parse_form(request.POST)
        try:
            version = int(request.POST.get("version", "0"))
        except ValueError:
            version = 0
        since = _loaded_at(request.POST.get("loaded_at"))
        try:
            submission = save_form(
                self.submission.pk,
                by=request.user,
                version=version,
                base=_posted_base(request.POST.get("base")),
                lines=lines,
                figures=figures,
                region=region,
            )
        except task_services.StaleEdit as exc:
            changes = changes_since(self.submission, since, request.user)
            if autosave:
                return JsonResponse({"ok": False, "stale": True, "message": str(exc)}, status=409)
            self.submission.refresh_from_db()
            # Show the others' newer values where the user had left the field alone.
            for kind, row_id, field in exc.kept:
                typed = region if kind == "region" else (lines if kind == "line" else figures).get(row_id)
                if typed is not None:
                    typed.pop(field, None)
            context = self.get_context_data(
                posted=(lines, figures, region), errors=[str(exc)], changes=changes
            )
            context["stale_version"] = version
            return self.render_to_response(context, status=409)
        except (ValidationError, task_services.WorkflowError) as exc:
            problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            if autosave:
                return JsonResponse({"ok": False, "errors": problems}, status=400)
            return self.render_to_response(
                self.get_context_data(posted=(lines, figures, region), errors=problems), status=400
            )
        merged = bool(submission.merged)
        if autosave:
            # After a merge the page still shows the others' fields as they were: it keeps its old
            # version, so that its next save is merged again and cannot undo their changes.
            return JsonResponse(
                {
                    "ok": True,
                    "version": version if merged else submission.version,
                    "saved_at": timezone.localtime().strftime("%H:%M:%S"),
                    "merged": merged,
                    "message": _("已自动保存，并保留了其他人同时所做的修改；刷新页面可看到这些修改。")
                    if merged
                    else "",
                }
            )
        if merged:
            messages.info(request, _("保存时已保留其他人同时所做的修改（见“修改记录”）。"))
        if request.POST.get("then") == "submit":
            try:
                task_services.submit_submission(submission, by=request.user)
                messages.success(request, _("已保存并提交，等待省纲要办审核。"))
            except (ValidationError, task_services.WorkflowError) as exc:
                problems = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                messages.warning(request, _("草稿已保存，但还不能提交："))
                for problem in problems:
                    messages.error(request, problem)
        else:
            messages.success(request, _("草稿已保存。"))
        return redirect("targets:submission_detail", pk=submission.pk)


def _text(value):
    return "" if value is None else str(value.normalize() if isinstance(value, Decimal) else value)


def form_values(lines, figures, region_figure):
    """{field name: stored value as the form shows it} of a form's editable fields."""
    values = {}
    for line in lines:
        for field in LINE_FIELDS:
            values[f"line-{line.pk}-{field}"] = _text(getattr(line, field))
    for figure in figures:
        for field in FIGURE_FIELDS:
            value = getattr(figure, field)
            if field == "done":
                value = "" if value is None else ("yes" if value else "no")
            values[f"fig-{figure.pk}-{field}"] = _text(value)
    if region_figure is not None:
        for field in REGION_FIELDS:
            values[f"region-{field}"] = _text(getattr(region_figure, field))
    return values


def _posted_base(raw):
    """The page's base values (lines, figures, region) parsed like the form, or None when the
    page sent none or something unreadable (the save is then refused if stale, as before)."""
    try:
        data = json.loads(raw or "")
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    lines, figures, region = parse_form(data)
    return lines, figures, region or {}


def _loaded_at(raw):
    """When the form was loaded (a hidden field the page fills in), or None if unreadable."""
    try:
        when = parse_datetime(raw or "")
    except ValueError:
        return None
    if when is not None and timezone.is_naive(when):
        return None
    return when


def field_labels():
    """The history's field names as the form shows them."""
    return {
        "status": _("推进状态"),
        "progress": _("工作进展"),
        "problems": _("存在问题"),
        "next_steps": _("下一步计划"),
        "value": _("数值"),
        "covered": _("已覆盖"),
        "total": _("应覆盖总数"),
        "done": _("已完成"),
        "source_note": _("数据来源说明"),
        "explanation": _("变动说明"),
        "funding": _("本年度科普经费（万元）"),
        "population": _("常住人口（万人）"),
        "narrative": _("本地区工作进展"),
    }


def submission_changes(submission):
    """Every change to a submission's lines and figures, newest first (one query per table)."""
    labels = field_labels()
    measures = {line.pk: str(line) for line in submission.lines.select_related("measure", "work_point")}
    targets = {f.pk: f"{f.target.code} {f.target.name}" for f in submission.figures.select_related("target")}
    rows = (
        _history_rows(MeasureLine, submission.pk, lambda r: measures.get(r.id, "—"), LINE_FIELDS, labels)
        + _history_rows(TargetFigure, submission.pk, lambda r: targets.get(r.id, "—"), FIGURE_FIELDS, labels)
        + _history_rows(
            RegionFigure,
            submission.pk,
            lambda r: _("地区科普经费"),
            REGION_FIELDS,
            labels,
        )
    )
    rows.sort(key=lambda r: r["when"], reverse=True)
    return rows


def changes_since(submission, since, exclude_user):
    """What others changed in the form after ``since``: for the stale-edit message."""
    if since is None:
        return []
    others = [
        row
        for row in submission_changes(submission)
        if row["when"] > since and (exclude_user is None or row["who"] != exclude_user)
    ]
    return sorted(others, key=lambda r: r["when"])


# Empty values a row is created with: its first history record shows no change for them.
BLANK_VALUES = (None, "", "not_started")


def _field_changes(model, submission_id, fields):
    """Every change to the given fields of ``model``'s rows in one submission, oldest first per
    row, from django-simple-history (one query): [(history record, field, old, new)]. A row's
    first record counts as a change from nothing for the fields it fills in."""
    records = (
        model.history.filter(submission_id=submission_id)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    changes, previous = [], {}
    for record in records:
        before = previous.get(record.id)
        for field in fields:
            new = getattr(record, field)
            old = getattr(before, field) if before is not None else None
            if (before is None and new in BLANK_VALUES) or (before is not None and old == new):
                continue
            changes.append((record, field, old, new))
        previous[record.id] = record
    return changes


def _history_rows(model, submission_id, describe, fields, labels):
    """Every change to rows of ``model`` in one submission: who, when, before, after (one query)."""
    return [
        {
            "when": record.history_date,
            "who": record.history_user,
            "what": describe(record),
            "field": labels.get(field, field),
            "old": old,
            "new": new,
        }
        for record, field, old, new in _field_changes(model, submission_id, fields)
    ]


class SubmissionHistoryView(SubmissionDetailView):
    """Every change to every line and figure of a submission, newest first."""

    template_name = "targets/submission_history.html"

    def get(self, request, *args, **kwargs):
        self.submission = self.get_submission()
        return TemplateView.get(self, request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        submission = self.submission
        rows = submission_changes(submission)
        return {"submission": submission, "rows": rows, "view": self}
