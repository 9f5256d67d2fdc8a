"""The office opens the dashboard, drills into a lagging target and sees the units behind it."""

import re
from decimal import Decimal as D

import pytest

from reports.rollup.rollups import rollup
from tasks.models import MeasureLine
from tasks.selectors import current_plan
from tests.browser.test_reporting_flow import Browsing
from tests.factories import approved_figure

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright 未安装 (pip install -e '.[dev]')")
expect = sync_api.expect

pytestmark = pytest.mark.django_db(transaction=True)
PROBLEM = "补贴性培训资金下达较晚，培训班次减少"


@pytest.fixture
def lagging_training_target(db):
    """T09 补贴性职业技能培训: 人社厅 reported 40000 + 60000 人次 by 2023, far behind the line."""
    figure = approved_figure("rst", 2022, 2, "T09", value=D(40000))
    approved_figure("rst", 2023, 3, "T09", value=D(60000))
    measure = figure.target.initiative.measures.get(number=3)  # 开展职业技能培训和技能竞赛
    MeasureLine.objects.create(
        submission=figure.submission, measure=measure, status="in_progress", problems=PROBLEM
    )
    rollup(current_plan())


def test_the_office_finds_the_units_behind_a_lagging_target(
    browser, live_server, office, lagging_training_target
):
    browsing = Browsing(browser, live_server.url)
    try:
        page = browsing.log_in("office")
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作看板").click()
        expect(page).to_have_url(re.compile(r"/dashboard/"))
        row = page.locator("tr").filter(has=page.get_by_role("link", name="补贴性职业技能培训"))
        expect(row).to_contain_text("严重滞后")
        row.get_by_role("link", name="补贴性职业技能培训").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("补贴性职业技能培训")
        expect(page.get_by_role("heading", name="滞后原因")).to_be_visible()
        behind = page.locator("ul.narratives.behind")
        expect(behind).to_contain_text("青海省人力资源和社会保障厅")
        expect(behind).to_contain_text(PROBLEM)
        # the trend chart is server-side SVG with a text alternative
        expect(page.locator("svg[role=img] title").first).not_to_be_empty()
    finally:
        browsing.close()
