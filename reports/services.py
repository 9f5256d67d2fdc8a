"""Requesting roll-ups: a run is a row first (an outbox), then a Celery job.

If the broker is down when a run is requested, the row stays queued and the sweeper (Celery
beat, every few minutes) runs it once the broker is back: an approval never fails because the
roll-up could not be queued.
"""

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from reports import page_cache
from reports.choices import RunStatus, RunTrigger
from reports.models import RollupRun

logger = logging.getLogger(__name__)


def request_rollup(plan, *, from_period=None, trigger=RunTrigger.MANUAL, by=None) -> RollupRun:
    """Queue a roll-up of ``plan`` from ``from_period`` on; reuse a queued run that covers it."""
    with transaction.atomic():
        pending = (
            RollupRun.objects.select_for_update(of=("self",))
            .filter(plan=plan, status=RunStatus.QUEUED)
            .select_related("from_period")
            .order_by("created_at")
            .first()
        )
        if pending is not None:
            # Widen the pending run rather than queue a second one for overlapping periods.
            if pending.from_period is not None and (
                from_period is None or from_period.key < pending.from_period.key
            ):
                pending.from_period = from_period
                pending.save(update_fields=["from_period"])
            return pending
        run = RollupRun.objects.create(plan=plan, from_period=from_period, trigger=trigger, requested_by=by)
    transaction.on_commit(lambda: enqueue(run.pk))
    return run


def enqueue(run_id: int) -> bool:
    """Hand a queued run to Celery; a broker that is down leaves it for the sweeper."""
    from reports.tasks import run_rollup

    try:
        run_rollup.delay(run_id)
    except Exception as exc:  # kombu/redis raise several types; any failure to publish is transient
        logger.warning("roll-up %s stays queued: broker unavailable (%s)", run_id, exc)
        return False
    return True


def execute_run(run_id: int) -> RollupRun | None:
    """Claim a queued run (a conditional update, so only one worker gets it) and carry it out."""
    from reports.rollups import rollup

    claimed = RollupRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    run = RollupRun.objects.select_related("plan", "from_period").get(pk=run_id)
    try:
        written = rollup(run.plan, run.from_period)
    except Exception as exc:
        logger.exception("roll-up %s failed", run_id)
        RollupRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    RollupRun.objects.filter(pk=run_id).update(
        status=RunStatus.SUCCEEDED, finished_at=timezone.now(), rows_written=written
    )
    # Again now that the run shows as finished: a page computed in between would say 数据截至 the
    # previous run (the roll-up's own bump came at its commit, before this update).
    page_cache.bump()
    run.refresh_from_db()
    return run


STALE_AFTER = timezone.timedelta(minutes=30)


def sweep(now=None) -> dict:
    """Run queued runs the broker never delivered; fail runs whose worker died, and queue anew."""
    now = now or timezone.now()
    stale = list(RollupRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=now - STALE_AFTER))
    for run in stale:
        updated = RollupRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=now, error=gettext("工作进程中断，汇总未完成；已重新排队。")
        )
        if updated:
            request_rollup(run.plan, from_period=run.from_period, trigger=run.trigger)
    executed = 0
    for run_id in (
        RollupRun.objects.filter(status=RunStatus.QUEUED).order_by("created_at").values_list("pk", flat=True)
    ):
        if execute_run(run_id) is not None:
            executed += 1
    return {"failed_stale": len(stale), "executed": executed}


def sweep_reports(now=None) -> int:
    """Render report runs the broker never delivered (queued for a while); return how many."""
    from reports.models import ReportRun
    from reports.report_jobs import RESEND_AFTER, execute_report

    now = now or timezone.now()
    done = 0
    queued = ReportRun.objects.filter(status=RunStatus.QUEUED, created_at__lt=now - RESEND_AFTER)
    for run_id in queued.order_by("created_at").values_list("pk", flat=True):
        if execute_report(run_id) is not None:
            done += 1
    return done
