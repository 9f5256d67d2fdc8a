"""Requesting roll-ups: a run is a row first (an outbox), then a Celery job (``reports.jobs``).

If the broker is down when a run is requested, the row stays queued and the sweep (Celery beat,
every two minutes) runs it once the broker is back: an approval never fails because the roll-up
could not be queued. A run whose worker died is taken back by its stopped heartbeat.
"""

import logging

from django.db import transaction

from portal import page_cache
from reports import jobs
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
    jobs.enqueue_on_commit(ROLLUP, run.pk)
    return run


def _rollup_task():
    from reports.tasks import run_rollup

    return run_rollup


def _do_rollup(run):
    from reports.rollup.rollups import rollup

    return {"rows_written": rollup(run.plan, run.from_period)}


def _rollup_failed(run, exc):
    return f"{type(exc).__name__}: {exc}"[:2000]


# Claimed, watched and swept like every run (reports.jobs); a failure is re-raised so that the
# worker logs it too.
ROLLUP = jobs.JobKind(
    name="roll-up",
    model=RollupRun,
    task=_rollup_task,
    work=_do_rollup,
    fail=_rollup_failed,
    related=("plan", "from_period"),
    reraise=True,
)


def enqueue(run_id: int) -> bool:
    """Hand a queued run to Celery; a broker that is down leaves it for the sweeper."""
    return jobs.enqueue(ROLLUP, run_id)


def execute_run(run_id: int) -> RollupRun | None:
    """Claim a queued run (a conditional update, so only one worker gets it) and carry it out."""
    run = jobs.execute(ROLLUP, run_id)
    if run is not None and run.status == RunStatus.SUCCEEDED:
        # Again now that the run shows as finished: a page computed in between would say 数据截至
        # the previous run (the roll-up's own bump came at its commit, before this update).
        page_cache.bump()
    return run


def sweep(now=None) -> dict:
    """Take back roll-ups whose worker died and run queued ones the broker never delivered."""
    return jobs.sweep(ROLLUP, now)


def sweep_reports(now=None) -> dict:
    """The same for report runs (queued for a while: the broker may still deliver them)."""
    from reports.documents.services import REPORT

    return jobs.sweep(REPORT, now)


def sweep_runs(now=None) -> dict:
    """Every kind of run, one sweep (Celery beat)."""
    return {"rollups": sweep(now), "reports": sweep_reports(now)}
