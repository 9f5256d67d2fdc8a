"""Placeholder replaced by the PDF pipeline (see reports/pdf.py when it lands)."""

from celery import shared_task


@shared_task(name="reports.generate_report")
def generate_report(run_id: int):
    raise NotImplementedError("the PDF pipeline is not built yet")
