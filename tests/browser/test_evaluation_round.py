"""The final evaluation in a real browser, from the round to the report sent up: the office opens the
2025 round (a second opening is refused in Chinese), 省教育厅's reporter writes its self-assessment
and its approver submits it, the office approves it, writes the report's sections in the editor
beside what the data says, picks the unit's 主要成效 as 典型经验, finalises, and downloads the
PDF and the Word file, both carrying the 总体评价 it wrote."""

import io
import re
import subprocess
from decimal import Decimal as D

import pytest
from docx import Document

from reports import jobs
from reports.documents import services as report_jobs
from reports.models import ReportRun
from reports.rollup.rollups import rollup
from tasks.models import SelfAssessment
from tasks.selectors import current_plan
from tests.browser.test_reporting_flow import PHONE, Browsing
from tests.factories import approved_figure

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright 未安装 (pip install -e '.[dev]')")
expect = sync_api.expect

pytestmark = pytest.mark.django_db(transaction=True)

ACHIEVEMENTS = "建成覆盖全省的青少年科学教育体系，培训科学教师3200人次"
OVERALL = "“十四五”期间全省全民科学素质工作取得显著成效，目标指标总体完成。"
PROBLEMS = "农牧区科普资源供给不足，基层科普人才短缺。"
NEXT_STEPS = "加强统筹协调，压实成员单位责任，谋划“十五五”工作。"


@pytest.fixture
def some_progress(db):
    approved_figure("rst", 2025, 2, "T09", value=D(40000))
    rollup(current_plan())


def test_the_final_evaluation_round_from_opening_to_the_downloaded_report(
    browser, live_server, office, reporter, approver, some_progress, monkeypatch, shots_dir
):
    monkeypatch.setattr(jobs, "enqueue", lambda kind, run_id: True)  # the "worker" is called below
    browsing = Browsing(browser, live_server.url)
    try:
        # the office opens the final evaluation; a second opening is refused
        desk = browsing.log_in("office")
        desk.get_by_role("navigation", name="主导航").get_by_role("link", name="评估工作").click()
        for message in ("已开启", "已经开启过，不能重复开启"):
            desk.get_by_label("评估类别").select_option("final")
            desk.get_by_label("报送截止日期").fill("2099-12-31")
            desk.get_by_role("button", name="开启", exact=True).click()
            expect(desk.locator(".messages")).to_contain_text(message)

        # 省教育厅's reporter writes the self-assessment on a phone
        unit = browsing.log_in("jyt-reporter", viewport=PHONE)
        unit.goto("/inbox/")
        unit.locator("#self-assessments").get_by_role("link", name="填写自评").click()
        unit.locator("textarea[name=achievements]").fill(f"{ACHIEVEMENTS}（已按退回意见补充完善）")
        unit.locator("textarea[name=problems]").fill("农牧区覆盖不足")
        unit.locator("textarea[name=next_steps]").fill("继续推进")
        selects = unit.locator("select[name$='-judgement']")
        for i in range(selects.count()):
            selects.nth(i).select_option("done")
        unit.get_by_role("button", name="保存", exact=True).click()
        expect(unit.locator(".messages")).to_be_visible()
        assessment = SelfAssessment.objects.get(unit__code="jyt")
        assert assessment.achievements.startswith(ACHIEVEMENTS)

        # its approver submits it
        boss = browsing.log_in("jyt-approver")
        boss.goto(f"/self-assessments/{assessment.pk}/")
        boss.get_by_role("button", name="提交省纲要办").click()
        expect(boss.locator(".messages")).to_be_visible()

        # the office approves it from the round's page
        desk.goto("/evaluations/")
        desk.get_by_role("link", name=re.compile("总结评估")).first.click()
        desk.get_by_role("button", name="审核通过").click()
        assessment.refresh_from_db()
        assert assessment.status == "approved"

        # the office writes the report beside what the data says, picks the unit's result
        desk.get_by_role("navigation", name="主导航").get_by_role("link", name="评估报告").click()
        desk.get_by_role("link", name=re.compile(r"总结评估报告（数据截止 2025-12-31）")).click()
        expect(desk.locator("#section-overall .editor-facts")).to_contain_text("项目标指标中")
        desk.get_by_label("总体评价（省纲要办意见）").fill(OVERALL)
        # finalising with an empty section is refused by name, and the typed text stays
        desk.get_by_role("button", name="定稿").click()
        expect(desk.locator("[role=alert]").first).to_contain_text("“存在的问题”“下一步工作”尚未填写")
        expect(desk.get_by_label("总体评价（省纲要办意见）")).to_have_value(OVERALL)
        assert not ReportRun.objects.exists()
        desk.get_by_label("存在的问题（省纲要办意见）").fill(PROBLEMS)
        desk.get_by_label("下一步工作（省纲要办意见）").fill(NEXT_STEPS)
        pick = desk.locator("#section-picks li").filter(has_text=ACHIEVEMENTS).first
        expect(pick).not_to_contain_text("已按退回意见")
        pick.get_by_role("checkbox").check()
        desk.get_by_label("文号").fill("青科素办〔2026〕1号")
        desk.screenshot(path=str(shots_dir / "report-editor-filled.png"), full_page=True)
        desk.get_by_role("button", name="定稿").click()
        expect(desk.locator(".messages")).to_contain_text("排队生成定稿（第 1 版")
        run = ReportRun.objects.get()
        assert run.final and run.final_number == 1 and run.overall == OVERALL

        report_jobs.execute_report(run.pk)  # the worker renders it while the page stays open

        row = desk.locator(f"tr[data-run='{run.pk}']")
        expect(row.locator("[data-field=status]")).to_have_text("已完成", timeout=20_000)
        with desk.expect_download() as download:
            row.get_by_role("link", name="下载 PDF").click()
        data = open(download.value.path(), "rb").read()
        assert data.startswith(b"%PDF-") and len(data) > 10_000
        text = re.sub(
            r"\s+",
            "",
            subprocess.run(
                ["pdftotext", "-raw", "-enc", "UTF-8", download.value.path(), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout,
        )
        assert re.sub(r"\s+", "", OVERALL) in text and "征求意见稿" not in text
        assert "典型经验" in text and ACHIEVEMENTS in text

        desk.reload()
        with desk.expect_download() as download:
            desk.locator(f"tr[data-run='{run.pk}']").get_by_role("link", name="下载 Word").click()
        word = open(download.value.path(), "rb").read()
        assert len(word) > 1000
        paragraphs = "".join(p.text for p in Document(io.BytesIO(word)).paragraphs)
        assert OVERALL in paragraphs and ACHIEVEMENTS in paragraphs
    finally:
        browsing.close()
