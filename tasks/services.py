"""State changes of the reporting cycle: periods, submissions and their workflow.

Each function is one transaction, writes its audit row, and leaves side effects (e-mail,
roll-ups) to ``transaction.on_commit``. Permission is checked before anything is written.
"""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal import page_cache
from tasks import rules, signals
from tasks.choices import (
    AssignmentRole,
    EventAction,
    MeasureStatus,
    NotificationKind,
    PeriodState,
    SubmissionStatus,
)
from tasks.mail import queue_mail
from tasks.models import (
    EDITABLE_STATUSES,
    DeadlineExtension,
    MeasureLine,
    Notification,
    OfficeReminder,
    Period,
    Plan,
    SelfAssessment,
    SelfAssessmentEvent,
    Submission,
    SubmissionEvent,
    WorkPoint,
)
from tasks.selectors import assignments_of_unit
from units import policy
from units.choices import Role
from units.models import Unit
from units.people import person_name

logger = logging.getLogger(__name__)

DEADLINE_DAYS = getattr(settings, "REPORTING_DEADLINE_DAYS", 10)


class WorkflowError(Exception):
    """A refused workflow step; ``str()`` is a message for the user."""


class StaleEdit(WorkflowError):
    """The form was changed by someone else since it was opened."""

    def __init__(self, submission, changes, kept=()):
        self.submission = submission
        self.changes = changes
        self.kept = kept  # after a failed merge: (kind, row id, field) whose newer value was kept
        who = person_name(submission.updated_by, missing="?")
        super().__init__(
            _(
                "保存失败：%(who)s 于 %(when)s 修改了这张报送表。您填写的内容仍保留在页面上，请核对下方列出的变动后再保存。"
            )
            % {"who": who, "when": timezone.localtime(submission.updated_at).strftime("%Y-%m-%d %H:%M")}
        )


# Periods -------------------------------------------------------------------------------


@transaction.atomic
def generate_periods(plan: Plan, *, deadline_days: int = DEADLINE_DAYS) -> int:
    """Every quarter of the plan after it was issued, plus the baseline period of the issue year.

    The plan was issued on 2021-12-21: the baseline is 2021 Q4, then 2022 Q1 … 2025 Q4. The
    deadline defaults to ``deadline_days`` after the quarter ends. Existing periods are kept.
    """
    created = 0
    issued = plan.issued_on
    first_quarter = (issued.month - 1) // 3 + 1
    wanted = [(issued.year, first_quarter, True)]
    for year in range(issued.year, plan.end_year + 1):
        for quarter in range(1, 5):
            if (year, quarter) > (issued.year, first_quarter):
                wanted.append((year, quarter, False))
    for year, quarter, baseline in wanted:
        start, end = rules.quarter_bounds(year, quarter)
        _, was_created = Period.objects.get_or_create(
            plan=plan,
            year=year,
            quarter=quarter,
            defaults={
                "is_baseline": baseline,
                "opens_on": start,
                "deadline": end + datetime.timedelta(days=deadline_days),
            },
        )
        created += was_created
    return created


@transaction.atomic
def set_period_state(period: Period, state: str, *, by) -> Period:
    """Open or close a period for reporting (office only)."""
    policy.require(policy.can_manage_periods(by), "office")
    if state not in PeriodState.values:
        raise WorkflowError(_("无效的报送期状态。"))
    stored = Period.objects.select_for_update().values_list("state", flat=True).get(pk=period.pk)
    period.state = state
    if stored != state:
        period._history_user = by  # the audit row names the office user, also outside a request
        period.save(update_fields=["state"])
    return period


@transaction.atomic
def extend_deadline(
    period: Period, unit: Unit, *, deadline: datetime.date, reason: str, by
) -> DeadlineExtension:
    """Give one unit a later deadline for one period, keeping the reason (office only)."""
    policy.require(policy.can_manage_periods(by), "office")
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("请填写延期原因。"))
    if deadline <= period.deadline:
        raise WorkflowError(_("延期后的截止日期必须晚于原截止日期（%(date)s）。") % {"date": period.deadline})
    # A later extension replaces the current one; the earlier date and reason stay in its history.
    extension = DeadlineExtension.objects.select_for_update().filter(
        period=period, unit=unit
    ).first() or DeadlineExtension(period=period, unit=unit)
    extension.deadline, extension.reason, extension.granted_by = deadline, reason, by
    extension.granted_at = timezone.now()
    extension._history_user = by
    extension.save()
    return extension


# 催报 ---------------------------------------------------------------------------------------

# A unit has reported for a period once its form is submitted or approved; 催报 is for the others.
REPORTED_STATUSES = (SubmissionStatus.SUBMITTED, SubmissionStatus.APPROVED)


@transaction.atomic
def remind_units(period: Period, units, *, by, today=None):
    """催报: the office reminds units that have not reported to fill in and submit the period's form.

    Each unit's users get a message in their bell (and e-mail), once per unit, period and day (an
    ``OfficeReminder`` row, the audit record, is claimed before anything is sent). A unit that has
    already reported is refused. Returns (the units reminded, the refusals in words)."""
    policy.require(policy.can_send_reminders(by), "office")
    today = today or timezone.localdate()
    units = list(units)
    reported = set(
        Submission.objects.filter(period=period, unit__in=units, status__in=REPORTED_STATUSES).values_list(
            "unit_id", flat=True
        )
    )
    extensions = {e.unit_id: e for e in DeadlineExtension.objects.filter(period=period)}
    sent, refused = [], []
    for unit in units:
        if unit.pk in reported:
            refused.append(
                _("%(unit)s 已提交%(period)s的报送表，无需催报。")
                % {"unit": unit.name, "period": period.label}
            )
            continue
        with transaction.atomic():  # a savepoint: a clash with a concurrent 催报 loses nothing else
            _row, created = OfficeReminder.objects.get_or_create(
                period=period, unit=unit, day=today, defaults={"sent_by": by}
            )
        if not created:
            refused.append(
                _("%(unit)s 今天已催报过，同一单位同一报送期每天只催报一次。") % {"unit": unit.name}
            )
            continue
        deadline = rules.deadline_for(period, extensions.get(unit.pk))
        notify(
            unit_users(unit.pk),
            NotificationKind.REMINDER,
            lambda: _("省纲要办催报：请尽快填报并提交%(period)s的进展报送表（截止日期 %(deadline)s）。")
            % {"period": period.label, "deadline": formats.date_format(deadline)},  # noqa: B023 - called now
        )
        sent.append(unit)
    return sent, refused


# Submissions -----------------------------------------------------------------------------


def assigned_measures(unit: Unit, plan: Plan):
    """Measures the unit leads or is responsible for, resolving parts and "all member units", in
    plan order (two queries). The one rule of a unit's measures: its form's lines, its page and
    the demo data read it.

    An assignment to a whole initiative brings all its measures; one to a part (精品科普工程's
    生态科普) brings only that part's. Each measure carries ``role``: lead when any assignment
    that brings it is a lead one, else responsible.
    """
    rows = (
        assignments_of_unit(unit)
        .filter(initiative__plan=plan)
        .values_list("initiative_id", "part_id", "role")
    )
    from tasks.models import Measure

    whole, parts, leads = set(), set(), set()
    for initiative_id, part_id, role in rows:
        if part_id is None:
            whole.add(initiative_id)
        else:
            parts.add(part_id)
        if role == AssignmentRole.LEAD:
            leads.add((initiative_id, part_id))
    measures = list(
        Measure.objects.filter(Q(initiative_id__in=whole) | Q(part_id__in=parts))
        .select_related("initiative", "part")
        .order_by("initiative__sort_order", "number")
    )
    for measure in measures:
        lead = (measure.initiative_id, None) in leads or (
            measure.part_id is not None and (measure.initiative_id, measure.part_id) in leads
        )
        measure.role = AssignmentRole.LEAD if lead else AssignmentRole.RESPONSIBLE
    return measures


def planned_lines(unit: Unit, period: Period) -> list:
    """The lines a unit's form for the period has, unsaved and in order: one per assigned measure,
    then one per annual work point of the period's year (read only: no row is written)."""
    plan = period.plan
    lines = []
    for measure in assigned_measures(unit, plan):
        lines.append(MeasureLine(measure=measure, sort_order=len(lines) + 1))
    for point in WorkPoint.objects.filter(plan=plan, year=period.year, units=unit):
        lines.append(MeasureLine(work_point=point, sort_order=len(lines) + 1))
    return lines


def _add_missing_lines(submission):
    have_measures = set(submission.lines.exclude(measure=None).values_list("measure_id", flat=True))
    have_points = set(submission.lines.exclude(work_point=None).values_list("work_point_id", flat=True))
    new = [
        line
        for line in planned_lines(submission.unit, submission.period)
        if line.measure_id not in have_measures and line.work_point_id not in have_points
    ]
    for line in new:  # one by one so that history records each line's creation
        line.submission = submission
        line.save()
    return len(new)


def ensure_submission(unit: Unit, period: Period, *, by=None) -> Submission:
    """The unit's submission for the period, created with its lines if it does not exist yet.

    Called by writes only: the first save of a form (page, Excel, API) and the API's explicit
    start. Viewing a form never creates one (the page shows the planned lines unsaved).
    """
    with transaction.atomic():
        submission, created = Submission.objects.get_or_create(
            unit=unit, period=period, defaults={"updated_by": by}
        )
        if created:
            SubmissionEvent.objects.create(
                submission=submission, action=EventAction.CREATED, actor=by, to_status=SubmissionStatus.DRAFT
            )
        add_missing_lines(submission)
    return submission


def add_missing_lines(submission) -> None:
    """Give an editable form the lines (and, through the signal, the figures) assigned to its unit
    since it was created. Locks the form so that two callers never insert the same line."""
    if not submission.is_editable:
        return
    with transaction.atomic():
        Submission.objects.select_for_update().get(pk=submission.pk)
        _add_missing_lines(submission)
        signals.submission_created.send(sender=Submission, submission=submission)


def sync_open_forms(unit_ids=None) -> int:
    """Add newly assigned lines to the editable forms of open periods (of the given units, or
    all): called when assignments, work points or reported targets change, so that forms gain
    their lines when the assignment is made, not when someone opens them. Returns the number of
    forms looked at."""
    forms = Submission.objects.filter(
        status__in=EDITABLE_STATUSES, period__state=PeriodState.OPEN
    ).select_related("period__plan", "unit")
    if unit_ids is not None:
        forms = forms.filter(unit_id__in=unit_ids)
    count = 0
    for submission in forms:
        add_missing_lines(submission)
        count += 1
    return count


def begin_edit(submission_id: int, *, by, version: int, allow_stale=False) -> Submission:
    """Lock the submission for an edit; refuse what the user may not do or a stale version
    (unless ``allow_stale``: the caller merges, see ``FieldMerge``).

    Call inside a transaction; finish with ``finish_edit``.
    """
    submission = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("unit", "period", "updated_by")
        .get(pk=submission_id)
    )
    policy.require(policy.works_for(by, submission.unit_id), "edit")
    if not submission.is_editable:
        raise WorkflowError(
            _("这张报送表当前状态为“%(status)s”，已锁定，不能修改。")
            % {"status": submission.get_status_display()}
        )
    if int(version) != submission.version and not allow_stale:
        raise StaleEdit(submission, changes=[])
    return submission


class FieldMerge:
    """A stale form saved over changes made since it was loaded: a three-way merge per field.

    ``base`` maps (kind, row id, field) to the value the page was loaded with (cleaned as a
    posted value is). A field whose stored value still equals its base was changed by no one
    since: the posted value is written. A field someone changed since (stored ≠ base, whoever
    did it, in whichever tab) keeps the stored value when the page left it alone (posted = base),
    and is a conflict when the page changed it too: the caller then refuses the whole save. A
    field without a base cannot be judged and counts as a conflict when it differs.
    """

    def __init__(self, base):
        self.base = base
        self.kept = set()
        self.conflicts = []

    def take(self, kind, row, field, posted) -> bool:
        """Whether to write ``posted`` (called for a field whose posted value ≠ stored value)."""
        key = (kind, row.pk, field)
        current = getattr(row, field)
        if key in self.base and current == self.base[key]:
            return True
        if key in self.base and posted == self.base[key]:
            self.kept.add(key)
            return False
        self.conflicts.append(key)
        return False


TEXT_LIMITS = {"progress": 4000, "problems": 2000, "next_steps": 2000}
LINE_FIELDS = ("status", "progress", "problems", "next_steps")


def save_lines(submission: Submission, rows: dict, *, by=None, merge: FieldMerge | None = None) -> list:
    """Write measure lines: ``rows`` maps line id → {status, progress, problems, next_steps}.

    Returns the ids of the lines that changed. Unknown line ids are refused. With ``merge``, only
    the fields it lets through are written (a stale form, see ``FieldMerge``).
    """
    lines = {line.pk: line for line in submission.lines.all()}
    unknown = set(rows) - set(lines)
    if unknown:
        raise WorkflowError(_("表中有不属于这张报送表的行，请刷新页面后重试。"))
    changed = []
    for line_id, data in rows.items():
        line = lines[line_id]
        if "status" in data and data["status"] not in MeasureStatus.values:
            raise ValidationError(_("无效的推进状态：%(value)s") % {"value": data["status"] or "—"})
        for field, limit in TEXT_LIMITS.items():
            if len(data.get(field) or "") > limit:
                raise ValidationError(
                    _("“%(measure)s”的%(field)s超过 %(limit)s 字，请精简后再保存。")
                    % {
                        "measure": line,
                        "field": MeasureLine._meta.get_field(field).verbose_name,
                        "limit": limit,
                    }
                )
        dirty = False
        for field in LINE_FIELDS:
            if field not in data or getattr(line, field) == data[field]:
                continue
            if merge is None or merge.take("line", line, field, data[field]):
                setattr(line, field, data[field])
                dirty = True
        if dirty:
            line._history_user = by  # who changed it, also outside a web request (Excel, API, jobs)
            line.save()
            changed.append(line_id)
    return changed


def finish_edit(
    submission: Submission, *, by, action=EventAction.SAVED, comment="", changed=True
) -> Submission:
    """Bump the version (so other open copies become stale) and record the edit.

    A save that changed nothing leaves no event and keeps the version.
    """
    if not changed:
        return submission
    Submission.objects.filter(pk=submission.pk).update(
        version=F("version") + 1, updated_by=by, updated_at=timezone.now()
    )
    submission.refresh_from_db()
    # the update sends no post_save; the event's does, and retires the cached workflow pages
    SubmissionEvent.objects.create(
        submission=submission,
        action=action,
        actor=by,
        from_status=submission.status,
        to_status=submission.status,
        comment=comment,
    )
    return submission


@dataclass(frozen=True)
class Workflow:
    """What differs between the two forms of the one submit / approve / return workflow
    (``WorkflowDocument``): the model, its audit rows, and the refusal that names the form."""

    model: type
    event_model: type
    event_field: str
    related: tuple
    wrong_status: str  # lazy, with %(status)s
    links_notifications: bool  # a notification links the form (the quarterly form only)


SUBMISSION_FLOW = Workflow(
    Submission,
    SubmissionEvent,
    "submission",
    ("unit", "period"),
    gettext_lazy("这张报送表当前状态为“%(status)s”，不能执行此操作。"),
    links_notifications=True,
)
SELF_ASSESSMENT_FLOW = Workflow(
    SelfAssessment,
    SelfAssessmentEvent,
    "self_assessment",
    ("unit", "round"),
    gettext_lazy("这份自评当前状态为“%(status)s”，不能执行此操作。"),
    links_notifications=False,
)


def _transition(flow: Workflow, pk, *, by, allowed_from, to, action, comment="", check=None):
    """The one state change of both forms: lock the row, let ``check`` refuse, check the status,
    stamp who and when, bump the version, save (with history) and write the audit row."""
    document = flow.model.objects.select_for_update(of=("self",)).select_related(*flow.related).get(pk=pk)
    if check is not None:
        check(document)
    if document.status not in allowed_from:
        raise WorkflowError(flow.wrong_status % {"status": document.get_status_display()})
    before = document.status
    document.status = to
    now = timezone.now()
    if to == SubmissionStatus.SUBMITTED:
        document.submitted_at = now
        document.submitted_by = by
        if flow.model is Submission:
            document.first_submitted_at = document.first_submitted_at or now
    if to in (SubmissionStatus.APPROVED, SubmissionStatus.RETURNED):
        document.reviewed_at = now
        document.reviewed_by = by
        document.review_comment = comment if to == SubmissionStatus.RETURNED else ""
    if action == EventAction.REOPENED:
        document.revision += 1
    document.version += 1
    document.updated_by = by
    document._history_user = by  # also outside a web request (API, jobs)
    document.save()
    flow.event_model.objects.create(
        **{flow.event_field: document},
        action=action,
        actor=by,
        from_status=before,
        to_status=to,
        comment=comment,
    )
    return document


def _submit(flow: Workflow, document, *, by, check):
    """The unit approver sends the form to the office (``check`` refuses, on the locked row)."""
    document = _transition(
        flow,
        document.pk,
        by=by,
        allowed_from=EDITABLE_STATUSES,
        to=SubmissionStatus.SUBMITTED,
        action=EventAction.SUBMITTED,
        check=check,
    )
    _notify_office(flow, document, NotificationKind.SUBMITTED)
    return document


def _approve(flow: Workflow, document, *, by):
    """The office accepts the form: it is locked."""
    policy.require(policy.can_review(by), "office")
    document = _transition(
        flow,
        document.pk,
        by=by,
        allowed_from=[SubmissionStatus.SUBMITTED],
        to=SubmissionStatus.APPROVED,
        action=EventAction.APPROVED,
    )
    _notify_unit(
        flow, document, NotificationKind.APPROVED, lambda: _("%(form)s 已审核通过。") % {"form": document}
    )
    return document


def _send_back(flow: Workflow, document, *, by, comment: str):
    """The office returns the form with a comment (required); the unit corrects and resubmits."""
    policy.require(policy.can_review(by), "office")
    comment = _clean_text(comment).strip()
    if not comment:
        raise WorkflowError(_("退回时必须填写退回意见。"))
    document = _transition(
        flow,
        document.pk,
        by=by,
        allowed_from=[SubmissionStatus.SUBMITTED],
        to=SubmissionStatus.RETURNED,
        action=EventAction.RETURNED,
        comment=comment,
    )
    _notify_unit(
        flow,
        document,
        NotificationKind.RETURNED,
        lambda: _("%(form)s 被退回修改：%(comment)s") % {"form": document, "comment": comment},
    )
    return document


# What a form must pass before it may be submitted, beyond its workflow state: checks of higher
# apps (targets: missing figures, unexplained jumps), registered in their AppConfig.ready because
# tasks does not import them. Each returns a list of messages in the user's language.
SUBMIT_CHECKS: list = []


def register_submit_check(check):
    """Add a check ``check(submission) -> [message, …]`` that every submit runs (a decorator)."""
    if check not in SUBMIT_CHECKS:
        SUBMIT_CHECKS.append(check)
    return check


def submit_problems(submission: Submission) -> list[str]:
    """Every registered check's messages for this form (empty: it may be submitted)."""
    return [message for check in SUBMIT_CHECKS for message in check(submission)]


@transaction.atomic
def submit_submission(submission: Submission, *, by) -> Submission:
    """The unit approver sends the form to the office; refused with every problem the checks
    find (``submit_problems``)."""

    def check(locked):
        policy.require_submitter(by, locked)
        if locked.status in EDITABLE_STATUSES:
            problems = submit_problems(locked)
            if problems:
                raise ValidationError(problems)

    return _submit(SUBMISSION_FLOW, submission, by=by, check=check)


@transaction.atomic
def approve_submission(submission: Submission, *, by) -> Submission:
    """The office accepts the form: it is locked and its figures count from now on."""
    submission = _approve(SUBMISSION_FLOW, submission, by=by)
    transaction.on_commit(lambda: signals.submission_approved.send(sender=Submission, submission=submission))
    return submission


@transaction.atomic
def return_submission(submission: Submission, *, by, comment: str) -> Submission:
    """The office sends the form back with a comment; the unit corrects and resubmits."""
    return _send_back(SUBMISSION_FLOW, submission, by=by, comment=comment)


@transaction.atomic
def reopen_submission(submission: Submission, *, by, reason: str) -> Submission:
    """The office reopens an approved form for a correction; it counts again once re-approved."""
    policy.require(policy.can_review(by), "office")
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError(_("重新开放时必须填写原因。"))
    submission = _transition(
        SUBMISSION_FLOW,
        submission.pk,
        by=by,
        allowed_from=[SubmissionStatus.APPROVED],
        to=SubmissionStatus.RETURNED,
        action=EventAction.REOPENED,
        comment=reason,
    )
    _notify_unit(
        SUBMISSION_FLOW,
        submission,
        NotificationKind.REOPENED,
        lambda: _("%(form)s 已重新开放，请更正后重新提交：%(reason)s")
        % {"form": submission, "reason": reason},
    )
    transaction.on_commit(
        lambda: signals.submission_unapproved.send(sender=Submission, submission=submission)
    )
    return submission


# Notifications ---------------------------------------------------------------------------


def notify(users, kind, message, *, submission=None):
    """Put a message in each user's bell, and e-mail those with an address: a job queued after
    the commit (``tasks.mail``), so a slow or dead mail server never holds up the user.

    ``message`` is a function that builds the text in the active language: it is called once in
    Chinese and once in English, whoever's request (and language) caused the notification. The
    e-mail is in Chinese, the portal's language."""
    users = list(users)
    with translation.override(settings.LANGUAGE_CODE):
        message_zh = message()
        subject = _("【科学素质平台】消息提醒")
    with translation.override("en"):
        message_en = message()
    Notification.objects.bulk_create(
        Notification(user=user, kind=kind, message=message_zh, message_en=message_en, submission=submission)
        for user in users
    )
    page_cache.workflow_changed()  # bulk_create sends no post_save: the menu's bell counts them
    # E-mail is best effort and never in the request: the bell already holds the message.
    queue_mail(subject, message_zh, [u.email for u in users if u.email])


def unit_users(unit_id):
    return get_user_model().objects.filter(is_active=True, membership__unit_id=unit_id)


def office_users():
    return get_user_model().objects.filter(is_active=True, membership__role=Role.OFFICE)


def _notify_unit(flow: Workflow, document, kind, message):
    link = document if flow.links_notifications else None
    notify(unit_users(document.unit_id), kind, message, submission=link)


def _notify_office(flow: Workflow, document, kind):
    notify(
        office_users(),
        kind,
        lambda: _("%(form)s 已提交，等待审核。") % {"form": document},
        submission=document if flow.links_notifications else None,
    )


def mark_read(user, ids=None):
    """Mark the user's notifications (all, or the given ids) as read."""
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    marked = qs.update(read_at=timezone.now())
    page_cache.workflow_changed()  # an update sends no post_save: the menu's bell counts them
    return marked


# Evidence --------------------------------------------------------------------------------


@transaction.atomic
def add_evidence(submission: Submission, upload, *, by, description: str = ""):
    """Attach an evidence file after checking who uploads it and what it really is."""
    from tasks.evidence import check_upload, safe_name
    from tasks.models import Evidence

    policy.require(policy.can_edit(by, submission), "add_evidence")
    kind = check_upload(upload)
    name = safe_name(upload.name)
    upload.name = name
    evidence = Evidence(
        submission=submission,
        file=upload,
        original_name=name,
        kind=kind,
        size=upload.size,
        description=(description or "")[:200],
        uploaded_by=by,
    )
    evidence._history_user = by  # the audit row (Evidence.history), also from the API
    evidence.save()
    return evidence


@transaction.atomic
def remove_evidence(evidence, *, by):
    policy.require(policy.can_edit(by, evidence.submission), "remove_evidence")
    stored = evidence.file
    evidence._history_user = by  # the audit row of the deletion keeps the file's name and who
    evidence.delete()
    transaction.on_commit(lambda: stored.delete(save=False))


# Evaluation rounds and self-assessments (自评) ----------------------------------------------

NARRATIVE_LIMIT = 5000  # characters of each of 主要成效, 存在的问题, 下一步工作
NOTE_LIMIT = 500
EVIDENCE_REF_LIMIT = 200
NARRATIVE_FIELDS = ("achievements", "problems", "next_steps")


def evaluation_year(plan: Plan, kind: str) -> int:
    """The year a round evaluates: the plan's middle year (2023) or its last (2025)."""
    from tasks.choices import EvaluationKind

    if kind == EvaluationKind.MIDTERM:
        return (plan.start_year + plan.end_year) // 2
    return plan.end_year


@transaction.atomic
def open_round(plan: Plan, kind: str, *, deadline: datetime.date, by, opens_on=None):
    """The office opens an evaluation round; a plan has one round of each kind."""
    from django.db import IntegrityError

    from tasks.choices import EvaluationKind
    from tasks.models import EvaluationRound

    policy.require(policy.can_manage_periods(by), "office")
    if kind not in EvaluationKind.values:
        raise WorkflowError(_("无效的评估类别。"))
    opens_on = opens_on or timezone.localdate()
    if deadline < opens_on:
        raise WorkflowError(_("报送截止日期不能早于开始填报日期（%(date)s）。") % {"date": opens_on})
    label = EvaluationKind(kind).label
    if EvaluationRound.objects.filter(plan=plan, kind=kind).exists():
        raise WorkflowError(_("%(kind)s已经开启过，不能重复开启。") % {"kind": label})
    evaluation = EvaluationRound(
        plan=plan,
        kind=kind,
        year=evaluation_year(plan, kind),
        opens_on=opens_on,
        deadline=deadline,
        state=PeriodState.OPEN,
        opened_by=by,
    )
    evaluation._history_user = by
    try:
        with transaction.atomic():
            evaluation.save()
    except IntegrityError as exc:  # opened at the same moment by someone else
        raise WorkflowError(_("%(kind)s已经开启过，不能重复开启。") % {"kind": label}) from exc
    return evaluation


@transaction.atomic
def set_round_state(evaluation, state: str, *, by):
    """Close (or reopen) an evaluation round (office only)."""
    from tasks.models import EvaluationRound

    policy.require(policy.can_manage_periods(by), "office")
    if state not in (PeriodState.OPEN, PeriodState.CLOSED):
        raise WorkflowError(_("无效的评估工作状态。"))
    stored = EvaluationRound.objects.select_for_update().values_list("state", flat=True).get(pk=evaluation.pk)
    evaluation.state = state
    if stored != state:
        evaluation._history_user = by
        evaluation.save(update_fields=["state"])
    return evaluation


def planned_judgements(self_assessment) -> list:
    """One unsaved judgement per measure assigned to the unit (``assigned_measures``), in order."""
    from tasks.models import MeasureJudgement

    measures = assigned_measures(self_assessment.unit, self_assessment.round.plan)
    return [MeasureJudgement(measure=measure, sort_order=i) for i, measure in enumerate(measures, start=1)]


def ensure_self_assessment(evaluation, unit: Unit, *, by):
    """The unit's self-assessment for the round, created (with a judgement row per assigned
    measure) by its first save. Only the unit's staff, while the round is open."""
    from tasks.models import SelfAssessment, SelfAssessmentEvent

    policy.require(
        policy.can_edit_self_assessment(by, SelfAssessment(round=evaluation, unit=unit)),
        "edit_self_assessment",
    )
    with transaction.atomic():
        assessment, created = SelfAssessment.objects.get_or_create(
            round=evaluation, unit=unit, defaults={"updated_by": by}
        )
        if created:
            SelfAssessmentEvent.objects.create(
                self_assessment=assessment,
                action=EventAction.CREATED,
                actor=by,
                to_status=SubmissionStatus.DRAFT,
            )
        if assessment.is_editable:
            have = set(assessment.judgements.values_list("measure_id", flat=True))
            for row in planned_judgements(assessment):
                if row.measure_id not in have:
                    row.self_assessment = assessment
                    row._history_user = by
                    row.save()
    return assessment


def _clean_text(value) -> str:
    return str(value or "").replace("\x00", "")  # PostgreSQL stores no NUL


@transaction.atomic
def save_self_assessment(assessment_id: int, *, by, version: int, texts: dict, judgements: dict):
    """Write a self-assessment: ``texts`` maps narrative field → text, ``judgements`` maps a
    judgement row's id → {judgement, note, evidence_ref}. Text is stored as typed (plain text,
    escaped when shown). Refuses a stale version, unknown rows and over-long texts; writes nothing
    then."""
    from tasks.choices import Judgement
    from tasks.models import SelfAssessment, SelfAssessmentEvent

    assessment = (
        SelfAssessment.objects.select_for_update(of=("self",))
        .select_related("unit", "round")
        .get(pk=assessment_id)
    )
    policy.require(policy.can_edit_self_assessment(by, assessment), "edit_self_assessment")
    if int(version) != assessment.version:
        raise WorkflowError(_("保存失败：这份自评在您打开之后已被他人修改，请刷新页面后重新填写。"))
    errors = []
    texts = {field: _clean_text(texts[field]) for field in NARRATIVE_FIELDS if field in texts}
    for field, text in texts.items():
        if len(text) > NARRATIVE_LIMIT:
            errors.append(
                _("“%(field)s”共 %(count)s 字，超过 %(limit)s 字的上限，请精简后再保存。")
                % {
                    "field": SelfAssessment._meta.get_field(field).verbose_name,
                    "count": len(text),
                    "limit": NARRATIVE_LIMIT,
                }
            )
    rows = {row.pk: row for row in assessment.judgements.select_related("measure")}
    if set(judgements) - set(rows):
        raise WorkflowError(_("表中有不属于这份自评的措施，请刷新页面后重试。"))
    for row_id, data in judgements.items():
        row = rows[row_id]
        value = data.get("judgement", row.judgement) or ""
        if value not in Judgement.values and value != "":
            errors.append(_("“%(measure)s”的完成情况无效。") % {"measure": row.measure})
        if len(_clean_text(data.get("note"))) > NOTE_LIMIT:
            errors.append(
                _("“%(measure)s”的简要说明超过 %(limit)s 字。")
                % {"measure": row.measure, "limit": NOTE_LIMIT}
            )
        if len(_clean_text(data.get("evidence_ref"))) > EVIDENCE_REF_LIMIT:
            errors.append(
                _("“%(measure)s”的佐证材料超过 %(limit)s 字。")
                % {"measure": row.measure, "limit": EVIDENCE_REF_LIMIT}
            )
    if errors:
        raise ValidationError(errors)
    changed = False
    for field, text in texts.items():
        if getattr(assessment, field) != text:
            setattr(assessment, field, text)
            changed = True
    for row_id, data in judgements.items():
        row = rows[row_id]
        dirty = False
        for field in ("judgement", "note", "evidence_ref"):
            if field in data and getattr(row, field) != _clean_text(data[field]):
                setattr(row, field, _clean_text(data[field]))
                dirty = True
        if dirty:
            row._history_user = by
            row.save()
            changed = True
    if not changed:
        return assessment
    assessment.version += 1
    assessment.updated_by = by
    assessment._history_user = by
    assessment.save()
    SelfAssessmentEvent.objects.create(
        self_assessment=assessment,
        action=EventAction.SAVED,
        actor=by,
        from_status=assessment.status,
        to_status=assessment.status,
    )
    return assessment


def missing_judgements(assessment) -> list:
    """The measures assigned to the unit that its self-assessment has not judged yet, in plan
    order: rows left empty, and measures assigned since the self-assessment was created."""
    judged = set(assessment.judgements.exclude(judgement="").values_list("measure_id", flat=True))
    return [m for m in assigned_measures(assessment.unit, assessment.round.plan) if m.pk not in judged]


@transaction.atomic
def submit_self_assessment(assessment, *, by):
    """The unit approver sends the self-assessment to the office, once every assigned measure has
    a judgement."""

    def check(locked):
        policy.require_submitter(by, locked, "submit_self_assessment")
        if locked.is_editable and not locked.round.is_open:
            raise WorkflowError(_("%(round)s已关闭，不能再提交自评。") % {"round": locked.round})
        if locked.is_editable:
            missing = missing_judgements(locked)
            if missing:
                raise WorkflowError(
                    _("还有 %(count)s 项工作措施未填写完成情况，不能提交：%(measures)s")
                    % {
                        "count": len(missing),
                        "measures": "；".join(f"{m.code} {m.title}" for m in missing),
                    }
                )

    return _submit(SELF_ASSESSMENT_FLOW, assessment, by=by, check=check)


@transaction.atomic
def approve_self_assessment(assessment, *, by):
    """The office accepts the self-assessment: it is locked and the report uses it."""
    return _approve(SELF_ASSESSMENT_FLOW, assessment, by=by)


@transaction.atomic
def return_self_assessment(assessment, *, by, comment: str):
    """The office sends the self-assessment back with a comment; the unit corrects and resubmits."""
    return _send_back(SELF_ASSESSMENT_FLOW, assessment, by=by, comment=comment)
