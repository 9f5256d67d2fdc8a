"""Milestone reports as jobs: a run is a row first, then a Celery job that renders it.

``request_report`` checks the request (Chinese messages for bad input), reuses a run already
queued or running for the same report and cut-off, otherwise creates one and queues
``reports.generate_report`` after the commit. A run is claimed, watched by its heartbeat and
swept like every run (``reports.jobs``): ``execute_report`` carries out the pipeline in
``reports.documents.pdf``; any failure marks the run failed with its error and the worker goes on to its
next job. A run whose worker died is taken back (requeued) by the sweep or by the next request
for the same report.
"""

import datetime
import logging

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reports import jobs
from reports.choices import ReportKind, RunStatus
from reports.models import ReportRun

logger = logging.getLogger(__name__)

NEXT_STEPS_MAX = 5000  # characters of each office section (下一步工作, 总体评价, 存在的问题)
# The office's parts of a report (ReportRun fields): its sections' text and how it is issued.
OFFICE_TEXTS = ("overall", "problems")
OFFICE_FIELDS = (*OFFICE_TEXTS, "addressee", "document_number", "final")


def office_labels():
    """The office sections as the report names them (for messages)."""
    return {"overall": _("总体评价"), "problems": _("存在的问题"), "next_steps": _("下一步工作")}


def clean_office(office) -> dict:
    """The office's fields of a request, stripped of surrounding space (missing ones empty)."""
    office = office or {}
    cleaned = {name: str(office.get(name) or "").strip() for name in OFFICE_TEXTS}
    cleaned["addressee"] = str(office.get("addressee") or "").strip()[:100]
    cleaned["document_number"] = str(office.get("document_number") or "").strip()[:50]
    cleaned["final"] = bool(office.get("final"))
    return cleaned


PENDING = jobs.PENDING
# A run still queued after this long may have missed the broker: a repeated request sends it
# again, and the sweep renders it (harmless: only one delivery can claim it).
RESEND_AFTER = datetime.timedelta(minutes=2)


def plan_start(plan) -> datetime.date:
    return datetime.date(plan.start_year, 1, 1)


def no_data_message(plan, kind, cutoff, period=None) -> str:
    """Why an evaluation for this cut-off would judge nothing, or "": no quarter has ended by the
    cut-off, or no form of the quarters it covers has been approved yet. (A mobilisation report
    or a quarterly brief describes the reporting itself and is made even then.)"""
    from tasks import rules
    from tasks.choices import SubmissionStatus
    from tasks.models import Period, Submission

    periods = Period.objects.filter(plan=plan)
    as_of = period if kind == ReportKind.QUARTERLY else rules.as_of_period(periods, cutoff)
    if as_of is None:
        first = periods.order_by("year", "quarter").first()
        return _(
            "截至%(cutoff)s还没有结束的报送期（第一个报送期%(period)s于 %(end)s 结束），评估没有可用的数据。"
        ) % {
            "cutoff": cutoff.isoformat(),
            "period": first.label if first else "",
            "end": first.ends_on.isoformat() if first else "—",
        }
    covered = Q(period__year__lt=as_of.year) | Q(period__year=as_of.year, period__quarter__lte=as_of.quarter)
    if kind == ReportKind.QUARTERLY:
        covered = Q(period=as_of)
    approved = Submission.objects.filter(covered, period__plan=plan, status=SubmissionStatus.APPROVED)
    if not approved.exists():
        return _(
            "截至%(period)s还没有审核通过的季度报送，评估没有可用的数据：请先审核各单位的报送，或选择更晚的数据截止日期。"
        ) % {"period": as_of.label}
    return ""


def check_request(
    plan, *, kind, cutoff, period=None, next_steps="", today=None, knowledge_date=None, office=None
) -> dict:
    """{field: Chinese message} of what is wrong with a report request (empty when fine).

    ``kind`` is the raw value; ``cutoff`` a date or None (unreadable); ``period`` a Period of
    the plan or None.
    """
    today = today or timezone.localdate()
    errors = {}
    if plan is None:
        return {"kind": _("尚未载入实施方案，无法生成报告。")}
    choices = "、".join(f"{value}（{label}）" for value, label in ReportKind.choices)
    if not kind:
        errors["kind"] = _("请选择报告类型。可选：%(choices)s。") % {"choices": choices}
    elif kind not in ReportKind.values:
        errors["kind"] = _("没有这种报告类型：“%(kind)s”。可选：%(choices)s。") % {
            "kind": kind,
            "choices": choices,
        }
    if cutoff is None:
        errors["cutoff"] = _("请填写数据截止日期，格式如 2023-12-31。")
    elif cutoff < plan_start(plan):
        errors["cutoff"] = _("数据截止日期不能早于实施方案开始实施的日期（%(start)s）。") % {
            "start": plan_start(plan).isoformat()
        }
    elif cutoff > today:
        errors["cutoff"] = _("数据截止日期不能晚于今天（%(today)s）。") % {"today": today.isoformat()}
    if knowledge_date is not None:
        if knowledge_date > today:
            errors["knowledge_date"] = _("数据认定日期不能晚于今天（%(today)s）。") % {
                "today": today.isoformat()
            }
        elif cutoff is not None and knowledge_date < cutoff:
            errors["knowledge_date"] = _(
                "数据认定日期（%(knowledge)s）不能早于数据截止日期（%(cutoff)s）：截止日期之后审核通过的数据才完整。"
            ) % {"knowledge": knowledge_date.isoformat(), "cutoff": cutoff.isoformat()}
    if kind == ReportKind.QUARTERLY:
        if period is None:
            errors["period"] = _("季度简报必须选择报送期（季度）。")
        elif cutoff is not None and "cutoff" not in errors and cutoff < period.ends_on:
            errors["period"] = _("%(period)s尚未结束（%(end)s 结束），数据截止日期须不早于该日期。") % {
                "period": period.label,
                "end": period.ends_on.isoformat(),
            }
    if not errors and kind in (ReportKind.MIDTERM, ReportKind.FINAL):
        missing = no_data_message(plan, kind, cutoff, period)
        if missing:
            errors["cutoff"] = missing
    if len(next_steps or "") > NEXT_STEPS_MAX:
        errors["next_steps"] = _("下一步工作安排不能超过 %(n)s 字。") % {"n": NEXT_STEPS_MAX}
    office = clean_office(office)
    labels = office_labels()
    for name in OFFICE_TEXTS:
        if len(office[name]) > NEXT_STEPS_MAX:
            errors[name] = _("“%(section)s”不能超过 %(n)s 字（现有 %(len)s 字）。") % {
                "section": labels[name],
                "n": NEXT_STEPS_MAX,
                "len": len(office[name]),
            }
    if office["final"]:
        if kind not in (ReportKind.MIDTERM, ReportKind.FINAL):
            errors["final"] = _("只有中期评估报告和总结评估报告需要定稿。")
        else:
            texts = {**office, "next_steps": (next_steps or "").strip()}
            empty = [labels[name] for name in (*OFFICE_TEXTS, "next_steps") if not texts[name]]
            if empty:
                errors["final"] = _("定稿前请填写省纲要办的“%(sections)s”：定稿中不能留有待填写的内容。") % {
                    "sections": "”“".join(empty)
                }
    return errors


def request_report(
    plan, *, kind, cutoff, period=None, next_steps="", by=None, knowledge_date=None, office=None
) -> tuple[ReportRun, bool]:
    """(run, created): queue a report, or return the one already queued or running for the same
    report and cut-off (a second click must not render it twice). Raises ``ValidationError``
    with a dict of Chinese messages when the request is wrong; nothing is written then."""
    errors = check_request(
        plan,
        kind=kind,
        cutoff=cutoff,
        period=period,
        next_steps=next_steps,
        knowledge_date=knowledge_date,
        office=office,
    )
    if errors:
        raise ValidationError(errors)
    if kind != ReportKind.QUARTERLY:
        period = None  # a milestone report stands at its cut-off; a period means nothing to it
    now = timezone.now()
    with transaction.atomic():
        same = ReportRun.objects.filter(plan=plan, kind=kind, cutoff=cutoff, period=period)
        pending = same.select_for_update().filter(status__in=PENDING).order_by("created_at", "pk").first()
        if pending is not None:
            if (
                pending.status == RunStatus.RUNNING
                and jobs.stale_runs(REPORT, now).filter(pk=pending.pk).exists()
            ):
                # Its worker died: take it back now rather than hand the user a run that never ends.
                if jobs.take_back(REPORT, pending, now, send=True) == "failed":
                    pending = None
                else:
                    pending.refresh_from_db()
            elif pending.status == RunStatus.QUEUED and pending.created_at < now - RESEND_AFTER:
                jobs.enqueue_on_commit(REPORT, pending.pk)
        if pending is not None:
            return pending, False
        try:
            with transaction.atomic():
                run = ReportRun.objects.create(
                    plan=plan,
                    kind=kind,
                    cutoff=cutoff,
                    period=period,
                    next_steps=(next_steps or "").strip(),
                    knowledge_date=knowledge_date,
                    requested_by=by,
                    **clean_office(office),
                )
        except IntegrityError:
            # Another request queued the same report a moment ago: reuse it.
            return same.filter(status__in=PENDING).order_by("created_at", "pk").first(), False
        jobs.enqueue_on_commit(REPORT, run.pk)
    return run, True


def _do_report(run):
    from reports.documents import pdf

    result = pdf.run_pipeline(run)
    return {"progress": 100, "file": result["file"], "pages": result["pages"], "size": result["size"]}


def _report_failed(run, exc):
    from reports.documents import pdf

    # A file written before the failure (storage errors after the write) is not kept.
    if run.file:
        run.file.delete(save=False)
    if isinstance(exc, pdf.ReportError):
        return str(exc)
    return _("生成报告失败：%(error)s") % {"error": f"{type(exc).__name__}: {exc}"}


REPORT = jobs.JobKind(
    name="report",
    model=ReportRun,
    task=lambda: generate_report,
    work=_do_report,
    fail=_report_failed,
    related=("plan", "period"),
    resend_after=RESEND_AFTER,
)


def enqueue(run_id: int) -> bool:
    """Hand a queued run to Celery; with the broker down it stays queued (and says so)."""
    return jobs.enqueue(REPORT, run_id)


def execute_report(run_id: int) -> ReportRun | None:
    """Claim a queued run and produce its PDF; None when another worker has it (or it is done)."""
    return jobs.execute(REPORT, run_id, progress=0, progress_note="")


@shared_task(name="reports.generate_report")
def generate_report(run_id: int):
    run = execute_report(run_id)
    return {"run": run_id, "status": run.status if run else None}
