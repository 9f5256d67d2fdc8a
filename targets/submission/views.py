"""The quarterly form: one page to fill in (unit staff), review (office) or read (viewers).

It lives in ``targets`` because it edits both the measure lines (tasks) and the figures
(targets); the workflow buttons post to the tasks app's action views.
"""

import json
import re
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from portal.mixins import PolicyRequiredMixin
from portal.numbers import number_text, plain
from targets.choices import Combine
from targets.models import RegionFigure, TargetFigure
from targets.submission.services import FIGURE_FIELDS, REGION_FIELDS, planned_figures, save_form
from tasks import rules
from tasks import selectors as task_selectors
from tasks import services as task_services
from tasks.choices import EventAction, MeasureStatus
from tasks.models import DeadlineExtension, Evidence, MeasureLine, Period, Submission
from units import policy
from units.models import Unit
from units.people import person_name

LINE_FIELDS = task_services.LINE_FIELDS


# A row of a form not yet saved has no id: its fields are named after what it reports instead,
# m<measure id>, w<work point id> (lines) and t<target id> (figures).
NEW_ROW_KEY = re.compile(r"[mwt][0-9]{1,18}\Z")


def _row_key(raw):
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return raw if NEW_ROW_KEY.match(raw) else None


def parse_form(post):
    """Split the posted fields into lines, figures and region figures by their name prefix."""
    lines, figures, region = {}, {}, {}
    for key, value in post.items():
        parts = key.split("-")
        row = _row_key(parts[1]) if len(parts) == 3 else None
        if parts[0] == "line" and row is not None and parts[2] in LINE_FIELDS:
            lines.setdefault(row, {})[parts[2]] = value.strip() if parts[2] != "status" else value
        elif parts[0] == "fig" and row is not None and parts[2] in FIGURE_FIELDS:
            figures.setdefault(row, {})[parts[2]] = value
        elif parts[0] == "region" and len(parts) == 2 and parts[1] in REGION_FIELDS:
            region[parts[1]] = value
    return lines, figures, region or None


def _new_row_key(row):
    """The field-name key of an unsaved line or figure (see NEW_ROW_KEY)."""
    if isinstance(row, TargetFigure):
        return f"t{row.target_id}"
    return f"m{row.measure_id}" if row.measure_id else f"w{row.work_point_id}"


def _to_row_ids(submission, rows_by_key, kind):
    """Posted rows keyed m…/w…/t… (a form saved for the first time) keyed by the ids of the rows
    just created; rows that are not (or no longer) in the form are dropped."""
    if not rows_by_key:
        return rows_by_key
    saved = submission.lines.all() if kind == "line" else submission.figures.all()
    ids = {_new_row_key(row): row.pk for row in saved}
    result = {}
    for key, fields in rows_by_key.items():
        row_id = ids.get(key) if isinstance(key, str) else None
        if row_id is not None:
            result[row_id] = fields
    return result


class SubmissionDetailView(PolicyRequiredMixin, TemplateView):
    """The form: editable for the unit's staff while it is a draft or returned, read-only otherwise.

    Viewing it never writes: lines assigned since the form was created join it when the
    assignment is made (``tasks.services.sync_open_forms``)."""

    template_name = "targets/submission_form.html"

    def get_submission(self):
        # not the period's plan: the form does not show it (its row holds the plan's 12 kB text)
        queryset = Submission.objects.visible_to(self.request.user).select_related(
            "unit", "period", "submitted_by", "reviewed_by", "updated_by"
        )
        return get_object_or_404(queryset, pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        self.submission = self.get_submission()
        return super().get(request, *args, **kwargs)

    def form_rows(self):
        """(lines, figures, region figure, evidence, events) of the form as stored."""
        submission = self.submission
        lines = list(
            submission.lines.select_related("measure__initiative", "measure__part", "work_point").order_by(
                "sort_order"
            )
        )
        figures = list(submission.figures.select_related("target").order_by("target__sort_order"))
        region_figure = RegionFigure.objects.filter(submission=submission).select_related("region").first()
        for row in lines + figures:
            row.key = row.pk
        evidence = list(submission.evidence.select_related("uploaded_by"))
        return lines, figures, region_figure, evidence, list(submission.events.select_related("actor"))

    def get_context_data(self, posted=None, errors=None, changes=None, **kwargs):
        # Before reading the form: a refused save lists what others changed after this moment.
        loaded_at = timezone.now().isoformat()
        submission = self.submission
        user = self.request.user
        lines, figures, region_figure, evidence, events = self.form_rows()
        # The stored values the page is loaded with, posted back with every save: the base of the
        # field-by-field merge when someone saved the form in between (targets.submission.services.save_form).
        form_base = json.dumps(form_values(lines, figures, region_figure), ensure_ascii=False)
        # Every attribute the template asks of a row is set (a missing one costs the template
        # engine an exception and a dir() of the model instance, per row and field, on every view)
        for line in lines:
            line.folded = False
        for figure in figures:
            for field in FIGURE_FIELDS:
                setattr(figure, "posted_" + field, None)
        for field in REGION_FIELDS if region_figure is not None else ():
            setattr(region_figure, "posted_" + field, None)
        if posted is not None:  # re-show what the user typed after a refused save
            for line in lines:
                for field, value in posted[0].get(line.key, {}).items():
                    setattr(line, field, value)
            for figure in figures:
                for field, value in posted[1].get(figure.key, {}).items():
                    setattr(figure, "posted_" + field, value)
            if region_figure is not None and posted[2]:
                for field, value in posted[2].items():
                    setattr(region_figure, "posted_" + field, value)
        groups = []
        for line in lines:
            title = line.measure.initiative if line.measure else _("年度重点工作任务")  # shown by language
            if not groups or groups[-1][0] != title:
                groups.append((title, []))
            groups[-1][1].append(line)
        extension = DeadlineExtension.objects.filter(period=submission.period, unit=submission.unit).first()
        summary = review_summary(submission) if submission.pk and submission.awaits_review else None
        if summary is not None:  # the office reads what changed; the measures left alone fold away
            for line in lines:
                line.folded = line.pk not in summary["changed_line_ids"]
        return super().get_context_data(
            submission=submission,
            summary=summary,
            deadline=rules.deadline_for(submission.period, extension),
            extension=extension,
            line_groups=groups,
            figures=figures,
            region_figure=region_figure,
            evidence=evidence,
            events=events,
            can_edit=policy.can_edit(user, submission),
            can_submit=policy.can_submit(user, submission),
            can_review=policy.can_review(user, submission),
            can_reopen=policy.can_reopen(user, submission),
            # the labels translated once, not once per line
            statuses=[(value, str(label)) for value, label in MeasureStatus.choices],
            combine=Combine,
            loaded_at=loaded_at,
            form_base=form_base,
            form_errors=errors or [],
            changes=changes or [],
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        self.submission = self.get_submission()
        policy.require(policy.can_edit(request.user, self.submission), "edit_page")
        return self.save(request, lambda lines, figures, base: (self.submission.pk, lines, figures, base))

    def save(self, request, prepare):
        """Save the posted form. ``prepare(lines, figures, base)`` gives the id of the form to save
        and the rows keyed by row id (the first save creates the form there, in this transaction)."""
        autosave = request.headers.get("X-Autosave") == "1"
        lines, figures, region = parse_form(request.POST)
        try:
            version = int(request.POST.get("version", "0"))
        except ValueError:
            version = 0
        since = _loaded_at(request.POST.get("loaded_at"))
        try:
            with transaction.atomic():
                pk, row_lines, row_figures, base = prepare(
                    lines, figures, _posted_base(request.POST.get("base"))
                )
                submission = save_form(
                    pk,
                    by=request.user,
                    version=version,
                    base=base,
                    lines=row_lines,
                    figures=row_figures,
                    region=region,
                )
        except task_services.StaleEdit as exc:
            changes = changes_since(exc.submission, since, request.user) if self.submission.pk else []
            if autosave:
                return JsonResponse({"ok": False, "stale": True, "message": str(exc)}, status=409)
            if self.submission.pk:
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


def _can_start(unit, period):
    """A new form while the period is open or the office's extension for the unit runs (补报)."""
    extension = DeadlineExtension.objects.filter(unit=unit, period=period).first()
    return task_selectors.can_start(period, extension, timezone.localdate())


class SubmissionStartView(SubmissionDetailView):
    """A unit's form for a period: the stored form if there is one; else, for the unit's staff
    while the period is open, the empty form read from the unit's assignments, written nowhere
    until its first save (a POST here creates the form and saves it in one transaction)."""

    def get_target(self):
        unit = get_object_or_404(Unit.objects.select_related("region"), code=self.kwargs["unit_code"])
        period = get_object_or_404(Period.objects.select_related("plan"), pk=self.kwargs["period_pk"])
        existing = Submission.objects.visible_to(self.request.user).filter(unit=unit, period=period).first()
        return unit, period, existing

    def get(self, request, *args, **kwargs):
        unit, period, existing = self.get_target()
        if existing is not None:
            return redirect("targets:submission_detail", pk=existing.pk)
        self.submission = Submission(unit=unit, period=period)
        if not policy.can_edit(request.user, self.submission):
            raise Http404(_("该单位尚未填报本期报送表。"))
        if not _can_start(unit, period):
            messages.error(request, _("%(period)s 尚未开放填报或已关闭。") % {"period": period})
            return redirect("tasks:inbox")
        return self.render_to_response(self.get_context_data())

    def post(self, request, *args, **kwargs):
        unit, period, existing = self.get_target()
        self.submission = Submission(unit=unit, period=period)
        if not policy.can_edit(request.user, self.submission):
            raise Http404(_("该单位尚未填报本期报送表。"))
        if existing is None and not _can_start(unit, period):
            messages.error(request, _("%(period)s 尚未开放填报或已关闭。") % {"period": period})
            return redirect("tasks:inbox")

        def prepare(lines, figures, base):
            submission = task_services.ensure_submission(unit, period, by=request.user)  # the first save
            base_lines, base_figures, base_region = base if base is not None else ({}, {}, {})
            return (
                submission.pk,
                _to_row_ids(submission, lines, "line"),
                _to_row_ids(submission, figures, "figure"),
                (
                    _to_row_ids(submission, base_lines, "line"),
                    _to_row_ids(submission, base_figures, "figure"),
                    base_region,
                )
                if base is not None
                else None,
            )

        return self.save(request, prepare)

    def form_rows(self):
        """The planned lines and figures, unsaved, keyed by what they report."""
        unit, period = self.submission.unit, self.submission.period
        lines = task_services.planned_lines(unit, period)
        figures, region_figure = planned_figures(unit, period)
        for row in lines + figures:
            row.key = _new_row_key(row)
        return lines, figures, region_figure, [], []


def _text(value):
    return "" if value is None else (plain(value) if isinstance(value, Decimal) else str(value))


def form_values(lines, figures, region_figure):
    """{field name: stored value as the form shows it} of a form's editable fields."""
    values = {}
    for line in lines:
        for field in LINE_FIELDS:
            values[f"line-{line.key}-{field}"] = _text(getattr(line, field))
    for figure in figures:
        for field in FIGURE_FIELDS:
            value = getattr(figure, field)
            if field == "done":
                value = "" if value is None else ("yes" if value else "no")
            values[f"fig-{figure.key}-{field}"] = _text(value)
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


def shown_value(value, field=None):
    """A stored value as people read it: numbers through portal.numbers (100, not 100.0000),
    yes/no in words, nothing as an empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("已完成") if value else _("未完成")
    if isinstance(value, Decimal):
        return number_text(value, places=4)
    if field == "status" and value in MeasureStatus.values:
        return MeasureStatus(value).label
    return str(value)


def _history_rows(model, submission_id, describe, fields, labels):
    """Every change to rows of ``model`` in one submission: who, when, before, after (one query)."""
    return [
        {
            "when": record.history_date,
            "who": record.history_user,
            "who_name": person_name(record.history_user),
            "what": describe(record),
            "field": labels.get(field, field),
            "old": old,
            "new": new,
            "old_text": shown_value(old, field),
            "new_text": shown_value(new, field),
        }
        for record, field, old, new in _field_changes(model, submission_id, fields)
    ]


# The figures' fields that are numbers (or yes/no): 本次修改 lists them as figures, the rest as text.
NUMBER_FIELDS = frozenset({"value", "covered", "total", "done", "funding", "population"})


def review_summary(submission):
    """本次修改: what the unit changed since the office last returned (or reopened) the form, each
    field once with its value at the return and its value now; None for a form never returned.

    {"since": the return event, "figures": [...], "texts": [...], "lines": [...],
    "evidence_added": [...], "evidence_removed": [...], "changed_line_ids": {...}}; each change is
    a row of ``submission_changes`` (what, field, old_text, new_text)."""
    returned = (
        submission.events.filter(action__in=[EventAction.RETURNED, EventAction.REOPENED])
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )
    if returned is None:
        return None
    since = returned.at
    labels = field_labels()
    measures = {line.pk: str(line) for line in submission.lines.select_related("measure", "work_point")}
    targets = {f.pk: f"{f.target.code} {f.target.name}" for f in submission.figures.select_related("target")}
    tables = (
        ("line", MeasureLine, LINE_FIELDS, lambda r: measures.get(r.id, "—")),
        ("figure", TargetFigure, FIGURE_FIELDS, lambda r: targets.get(r.id, "—")),
        ("region", RegionFigure, REGION_FIELDS, lambda r: _("地区科普经费")),
    )
    net = {}  # (kind, row id, field) -> [what, old at the return, new now]
    for kind, model, fields, describe in tables:
        for record, field, old, new in _field_changes(model, submission.pk, fields):
            if record.history_date <= since:
                continue
            key = (kind, record.id, field)
            if key in net:
                net[key][2] = new
            else:
                net[key] = [describe(record), old, new]
    summary = {
        "since": returned,
        "figures": [],
        "texts": [],
        "lines": [],
        "changed_line_ids": set(),
    }
    for (kind, row_id, field), (what, old, new) in net.items():
        if old == new or (old in BLANK_VALUES and new in BLANK_VALUES):
            continue  # changed and changed back
        row = {
            "what": what,
            "field": labels.get(field, field),
            "old_text": shown_value(old, field),
            "new_text": shown_value(new, field),
        }
        if kind == "line":
            summary["lines"].append(row)
            summary["changed_line_ids"].add(row_id)
        else:
            summary["figures" if field in NUMBER_FIELDS else "texts"].append(row)
    added, removed = {}, {}
    for record in Evidence.history.filter(submission_id=submission.pk, history_date__gt=since).order_by(
        "history_date", "history_id"
    ):
        if record.history_type == "+":
            added[record.id] = record.original_name
        elif record.history_type == "-":
            if added.pop(record.id, None) is None:  # uploaded and deleted again: no change
                removed[record.id] = record.original_name
    summary["evidence_added"] = list(added.values())
    summary["evidence_removed"] = list(removed.values())
    summary["empty"] = not (summary["figures"] or summary["texts"] or summary["lines"] or added or removed)
    return summary


class SubmissionHistoryView(SubmissionDetailView):
    """Every change to every line and figure of a submission, newest first."""

    template_name = "targets/submission_history.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        submission = self.submission
        rows = submission_changes(submission)
        return {"submission": submission, "rows": rows, "view": self}
