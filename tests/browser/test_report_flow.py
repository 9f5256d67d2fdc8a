"""The office requests the mid-term report, watches it finish without reloading, downloads the PDF."""

import re
from decimal import Decimal as D

import pytest

from reports import jobs
from reports.documents import services as report_jobs
from reports.models import ReportRun
from reports.rollup.rollups import rollup
from tasks.selectors import current_plan
from tests.browser.test_reporting_flow import Browsing
from tests.factories import approved_figure

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright 未安装 (pip install -e '.[dev]')")
expect = sync_api.expect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def some_progress(db):
    approved_figure("rst", 2022, 2, "T09", value=D(40000))
    approved_figure("jyt", 2023, 3, "T12", value=D(380))
    rollup(current_plan())


def test_the_office_requests_a_report_sees_it_finish_and_downloads_it(
    browser, live_server, office, some_progress, monkeypatch
):
    # The request only queues the run, as with a real broker; the "worker" is called below.
    monkeypatch.setattr(jobs, "enqueue", lambda kind, run_id: True)
    browsing = Browsing(browser, live_server.url)
    try:
        page = browsing.log_in("office")
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="评估报告").click()
        expect(page).to_have_url(re.compile(r"/reports/"))
        page.get_by_label("报告类型").select_option("midterm")
        page.get_by_label("数据截止日期").fill("2023-12-31")
        page.get_by_label("下一步工作安排").fill("一、加强农牧区科普资源供给。")
        page.get_by_role("button", name="生成报告").click()
        run = ReportRun.objects.get()
        row = page.locator(f"tr[data-run='{run.pk}']")
        expect(row.locator("[data-field=status]")).to_have_text("排队中")

        report_jobs.execute_report(run.pk)  # the worker renders it while the page stays open

        expect(row.locator("[data-field=status]")).to_have_text("已完成", timeout=20_000)
        link = row.get_by_role("link", name="下载 PDF")
        expect(link).to_be_visible()
        with page.expect_download() as download:
            link.click()
        path = download.value.path()
        with open(path, "rb") as handle:
            assert handle.read(5) == b"%PDF-"
        assert download.value.suggested_filename.endswith(".pdf")
    finally:
        browsing.close()
