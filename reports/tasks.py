"""Celery jobs of the reports app. Each takes ids and is safe to run twice."""

from celery import shared_task

from reports.rollup import services


@shared_task(name="reports.run_rollup")
def run_rollup(run_id: int):
    run = services.execute_run(run_id)
    return {"run": run_id, "rows": run.rows_written if run else None}


@shared_task(name="reports.sweep_runs")
def sweep_runs():
    """Every kind of run: stale ones taken back, undelivered ones carried out (reports.jobs)."""
    return services.sweep_runs()


# The two sweeps' former names, for messages an older beat may still have queued.
@shared_task(name="reports.sweep_rollups")
def sweep_rollups():
    return services.sweep()


@shared_task(name="reports.sweep_reports")
def sweep_reports():
    return services.sweep_reports()


@shared_task(name="reports.nightly_rollup")
def nightly_rollup():
    from reports.choices import RunTrigger
    from tasks.selectors import current_plan

    plan = current_plan()
    if plan is None:
        return None
    run = services.request_rollup(plan, trigger=RunTrigger.NIGHTLY)
    return {"run": run.pk}


# The PDF report job lives beside the rest of the report pipeline.
from reports.documents.services import generate_report  # noqa: E402, F401
