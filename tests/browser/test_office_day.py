"""The office's day in a browser: log in → review queue → filter the period overview → 催报 →
open a resubmitted form, read 本次修改 → approve from the bar at the top."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from targets.submission.services import save_form
from tasks import services
from tasks.choices import NotificationKind, SubmissionStatus
from tasks.models import Notification, OfficeReminder, Submission
from tests.browser.test_reporting_flow import Browsing
from tests.conftest import make_user
from tests.factories import open_period
from tests.test_workflow import fill_everything
from units.choices import Role
from units.models import Unit

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright 未安装 (pip install -e '.[dev]')")
expect = sync_api.expect

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def day(office, reporter, approver):
    """2024 Q3: 省教育厅 returned once and resubmitted with one figure changed; 省科协 has not reported."""
    period = open_period()
    kx_reporter = make_user("kx-reporter", Role.REPORTER, "kx")
    submission = services.ensure_submission(Unit.objects.get(code="jyt"), period, by=reporter)
    submission = fill_everything(submission, reporter)
    services.submit_submission(submission, by=approver)
    services.return_submission(submission, by=office, comment="请核对培训人数")
    submission.refresh_from_db()
    figure = submission.figures.exclude(target__combine__in=["coverage", "milestone"]).first()
    save_form(
        submission.pk,
        by=reporter,
        version=submission.version,
        figures={figure.pk: {"value": "12345", "explanation": "新增暑期培训班"}},
    )
    services.add_evidence(
        submission, SimpleUploadedFile("培训签到表.pdf", PDF, "application/pdf"), by=reporter
    )
    services.submit_submission(submission, by=approver)
    return period, submission, kx_reporter


def test_the_offices_day(browser, live_server, day, office):
    period, submission, kx_reporter = day
    browsing = Browsing(browser, live_server.url)
    try:
        page = browsing.log_in("office")
        # lands on 待审核, where the resubmitted form waits
        expect(page).to_have_url(re.compile(r"/review/$"))
        expect(page.get_by_role("link", name="省教育厅")).to_be_visible()

        # the period overview, filtered to the units that have not submitted, searched by name
        page.goto(f"/periods/{period.pk}/")
        filters = page.locator("#office-filters")
        filters.get_by_label("筛选").select_option("unreported")
        filters.get_by_label("单位名称").fill("科协")
        filters.get_by_role("button", name="筛选").click()
        expect(page).to_have_url(re.compile(r"show=unreported"))
        rows = page.locator("#remind-form tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("科学技术协会")
        expect(page.locator("#remind-form")).not_to_contain_text("教育厅")

        # 催报
        page.get_by_label(re.compile(r"^催报.*科协")).check()
        page.get_by_role("button", name="催报所选单位").click()
        expect(page.locator(".messages")).to_contain_text("已向 1 个单位发出催报")
        expect(page).to_have_url(re.compile(r"show=unreported"))  # the filters are kept
        assert Notification.objects.filter(user=kx_reporter, kind=NotificationKind.REMINDER).count() == 1
        assert OfficeReminder.objects.filter(unit__code="kx", sent_by=office).count() == 1

        # the resubmitted form: 本次修改 first, the review bar on top
        page.get_by_role("navigation", name="主导航").get_by_role("link", name=re.compile("待审核")).click()
        page.get_by_role("link", name="省教育厅").click()
        summary = page.locator("#changes-summary")
        expect(summary).to_contain_text("本次修改")
        expect(summary).to_contain_text("12,345")
        expect(summary).to_contain_text("培训签到表.pdf")
        bar = page.locator("#review-bar")
        page.mouse.wheel(0, 3000)  # far down the long form the bar stays in reach
        expect(bar.get_by_role("button", name="审核通过")).to_be_in_viewport()
        bar.get_by_role("button", name="审核通过").click()

        expect(page.locator(".formhead .status")).to_have_text("已通过")
        expect(page.locator(".formhead")).to_contain_text("审核通过")
        expect(page.locator(".formhead")).not_to_contain_text("最后修改于")
        submission.refresh_from_db()
        assert submission.status == SubmissionStatus.APPROVED and submission.reviewed_by == office
        assert not Submission.objects.filter(status=SubmissionStatus.SUBMITTED).exists()
    finally:
        browsing.close()
