"""工作看板 and its drill-downs: who may see them, what they show, and how many queries they take.

Data is built with the factories (approved figures, region figures, measure lines) and turned
into snapshots by the real roll-up, as the Celery job would.
"""

import datetime
import re
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports.choices import RunStatus, RunTrigger
from reports.models import RollupRun, TargetSnapshot
from reports.rollup.rollups import rollup
from tasks.models import Measure, MeasureLine, Period
from tasks.selectors import current_plan
from tests.conftest import make_user
from tests.factories import approved_figure, region_figure
from units.choices import Role
from units.models import Unit

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

DASHBOARD = reverse("reports:dashboard")
PAGES = [
    DASHBOARD,
    reverse("reports:initiative_detail", args=["A3"]),
    reverse("reports:target_detail", args=["T09"]),
    reverse("reports:unit_detail", args=["rst"]),
    reverse("reports:region_detail", args=["630100"]),
]


def line(figure, measure_code, *, status="in_progress", progress="", problems=""):
    """A measure line on the submission of an approved figure (the factories skip the workflow)."""
    return MeasureLine.objects.create(
        submission=figure.submission,
        measure=Measure.objects.get(code=measure_code),
        status=status,
        progress=progress,
        problems=problems,
    )


@pytest.fixture
def data():
    """T09 (500000 人次 by 2025) far behind: 人社厅 reported 150000 by 2023, and says why."""
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    approved_figure("rst", 2022, 4, "T09", value=D(60000))
    figure = approved_figure("rst", 2023, 2, "T09", value=D(50000))
    line(
        figure,
        "A3.3",
        progress="举办职业技能竞赛3项",
        problems="培训补贴资金拨付滞后，部分县区培训班未能开班。",
    )
    approved_figure("mzt", 2023, 1, "T20", value=D(72))
    approved_figure("mzt", 2023, 2, "T20", value=D(68))
    region_figure("xiningshi", 2024, 2, D(500), D(248))
    region_figure("haidongshi", 2024, 2, D(180), D(135))
    rollup(current_plan())


def period(year, quarter):
    return Period.objects.get(year=year, quarter=quarter)


def html_of(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def row_of(html, text):
    """The table row (<tr>…</tr>) that contains ``text``."""
    for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S):
        if text in row:
            return row
    raise AssertionError(f"no row with {text!r}")


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_users_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("url", PAGES)
def test_the_office_and_viewers_see_every_page(client, data, office, viewer, url):
    for user in (office, viewer):
        client.force_login(user)
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_a_reporter_of_a_unit_that_does_not_lead_gets_403(client, data, other_reporter, url):
    """省科协 leads no improvement action: A3 is 人社厅's, and the other pages are the office's."""
    client.force_login(other_reporter)
    assert client.get(url).status_code == 403


def test_a_lead_units_staff_open_the_initiative_they_lead_and_no_other(client, data, reporter, approver):
    """省教育厅 leads A1 (青少年); it does not lead A3 (人社厅) and is only responsible in A2."""
    for user in (reporter, approver):
        client.force_login(user)
        html = html_of(client, reverse("reports:initiative_detail", args=["A1"]))
        assert "牵头单位视图" in html
        assert client.get(reverse("reports:initiative_detail", args=["A3"])).status_code == 403
        assert client.get(reverse("reports:initiative_detail", args=["A2"])).status_code == 403
        assert client.get(DASHBOARD).status_code == 403
        # the targets of the initiative it leads, as /api/v1/targets/ gives their progress (read
        # only, no links into the dashboard); no other target
        html = html_of(client, reverse("reports:target_detail", args=["T11"]))
        assert f'href="{DASHBOARD}?' not in html and f'href="{DASHBOARD}"' not in html
        assert "/dashboard/units/" not in html
        assert client.get(reverse("reports:target_detail", args=["T09"])).status_code == 403


def test_the_lead_of_one_part_of_a_project_opens_that_project(client, data):
    """省应急厅 leads 精品科普工程's 应急科普 part."""
    client.force_login(make_user("yjt-reporter", Role.REPORTER, "yjt"))
    assert client.get(reverse("reports:initiative_detail", args=["P1"])).status_code == 200


def test_the_lead_view_shows_the_responsible_units_approved_lines_only(client, data, reporter):
    kjt = approved_figure("kjt", 2025, 4, "T04", value=D(1))
    line(kjt, "A1.2", progress="组织科技工作者进校园12场", problems="偏远学校覆盖不足")
    draft = approved_figure("kx", 2025, 4, "T05", status="draft", value=D(1))
    line(draft, "A1.2", progress="草稿中的进展不应出现")
    rollup(current_plan())
    client.force_login(reporter)
    html = html_of(client, reverse("reports:initiative_detail", args=["A1"]))
    assert "组织科技工作者进校园12场" in html and "偏远学校覆盖不足" in html
    assert "省科技厅" in html
    assert "草稿中的进展不应出现" not in html
    # read only: no links into the office's pages
    assert f'href="{DASHBOARD}' not in html
    assert reverse("reports:unit_detail", args=["kjt"]) not in html


def test_the_nav_bar_links_the_dashboard_for_the_office_and_viewers_only(client, office, viewer, reporter):
    for user, shown in ((office, True), (viewer, True), (reporter, False)):
        client.force_login(user)
        html = html_of(client, reverse("targets:plan_detail"))
        assert (f'href="{DASHBOARD}"' in html) is shown


# ---------------------------------------------------------------- what the pages show


def test_the_dashboard_shows_a_lagging_target_as_far_behind(client, data, office):
    client.force_login(office)
    html = html_of(client, DASHBOARD)
    assert "截至2025年第4季度" in html  # the latest period that has ended
    row = row_of(html, "补贴性职业技能培训")
    assert "严重滞后" in row
    assert "15万人次" in row  # 实际完成值, in 万 as the plan writes 50万人次
    assert "50万人次以上" in row  # 目标值, in the plan's own words
    assert "30%" in row  # 完成率 150000 / 500000
    assert "<svg" in row  # the sparkline
    for word in ("序时进度目标值", "实际完成值", "完成率", "预计完成值", "基期值"):
        assert word in html


def test_the_dashboard_headline_counts_targets_by_status_and_this_periods_submissions(client, data, office):
    client.force_login(office)
    html = html_of(client, DASHBOARD, period=period(2024, 3).pk)
    assert "截至2024年第3季度" in html
    assert "2024年第3季度报送情况" in html
    # T09 严重滞后, T20 (68 %) 正常 or behind, T30 1 of 8 regions: far behind
    headline = html[html.index("目标指标状态") : html.index("重点任务进展")]
    assert re.search(r"<b>(\d+)</b><span>严重滞后</span>", headline).group(1) == "2"
    for word in ("按时", "逾期", "未报", "未到期"):
        assert f"<span>{word}</span>" in headline


def test_the_dashboard_says_when_the_data_was_last_rolled_up(client, data, office):
    finished = timezone.make_aware(datetime.datetime(2026, 11, 20, 3, 15))
    RollupRun.objects.create(
        plan=current_plan(), trigger=RunTrigger.NIGHTLY, status=RunStatus.SUCCEEDED, finished_at=finished
    )
    client.force_login(office)
    assert "数据截至 2026-11-20 03:15" in html_of(client, DASHBOARD)


def test_the_dashboard_lists_the_13_initiatives_actions_first(client, data, office):
    client.force_login(office)
    html = html_of(client, DASHBOARD)
    titles = re.findall(r'<article class="initiative">.*?<h3><a href="[^"]+">(.*?)</a>', html, flags=re.S)
    assert len(titles) == 13
    assert titles[0] == "青少年科学素质提升行动" and titles[6] == "精品科普工程"
    assert f'href="{reverse("reports:initiative_detail", args=["A3"])}?period=' in html


def test_per_region_targets_show_the_regions_that_meet_the_bound(client, data, office):
    client.force_login(office)
    html = html_of(client, DASHBOARD, period=period(2024, 2).pk)
    assert "达标地区 1/8" in row_of(html, "市州级年人均科普经费")


def test_the_compliance_heatmap_has_a_row_per_unit_and_counts_late_and_missing(client, data, office):
    client.force_login(office)
    html = html_of(client, DASHBOARD)
    heatmap = html[html.index('<table class="heatmap">') :]
    counties = Unit.objects.active().filter(kind="local_government", region__level="county")
    # every unit but the 44 county governments has its own row; those are counted per prefecture
    assert heatmap.count('<th scope="row" class="unit">') == Unit.objects.active().count() - counties.count()
    assert heatmap.count('<th scope="row" class="unit group">') == 8
    rst = row_of(heatmap, ">省人力资源社会保障厅<")
    # 人社厅's three approved forms were first submitted now (2026): late; the rest missing
    assert rst.count('class="hm-approved_late"') == 3
    assert re.findall(r'<td class="count[^"]*">(\d+)</td>', rst) == ["3", "14"]
    for word in ("已通过（按时）", "已通过（逾期）", "已提交", "已退回", "草稿", "未报", "未到期"):
        assert word in html


def test_a_period_chosen_by_id_sets_the_as_of_date_of_every_figure(client, data, office):
    client.force_login(office)
    html = html_of(client, DASHBOARD, period=period(2022, 4).pk)
    assert "截至2022年第4季度" in html
    assert "10万人次" in row_of(html, "补贴性职业技能培训")
    assert f'<option value="{period(2022, 4).pk}" selected>' in html


def test_a_bad_or_not_yet_rolled_up_period_is_a_404_or_falls_back_with_a_message(client, data, office):
    client.force_login(office)
    for bad in ("not-a-number", "999999"):  # never cached: a 404 page in Chinese
        response = client.get(DASHBOARD, {"period": bad})
        assert response.status_code == 404 and "所选报送期不存在" in response.content.decode()
    TargetSnapshot.objects.filter(period=period(2025, 4)).delete()
    html = html_of(client, DASHBOARD)
    assert "截至2025年第3季度" in html and "所选报送期" not in html
    html = html_of(client, DASHBOARD, period=period(2025, 4).pk)
    assert "所选报送期尚未汇总" in html and "截至2025年第3季度" in html


def test_the_dashboard_says_there_is_nothing_yet_before_any_rollup(client, office):
    client.force_login(office)
    assert "尚无汇总数据" in html_of(client, DASHBOARD)


def test_the_target_page_lists_the_units_behind_a_lagging_target(client, data, office):
    client.force_login(office)
    html = html_of(client, reverse("reports:target_detail", args=["T09"]))
    assert "严重滞后" in html
    behind = html[html.index("滞后原因") :]
    assert "青海省人力资源和社会保障厅" in behind
    assert "5万人次（2023年第2季度）" in behind  # its latest approved figure
    assert "培训补贴资金拨付滞后，部分县区培训班未能开班。" in behind


def test_the_target_page_explains_an_increment_with_its_own_numbers(client, data, office):
    client.force_login(office)
    html = html_of(client, reverse("reports:target_detail", args=["T09"]), period=period(2023, 4).pk)
    assert "增量累计：将各单位各季度审核通过的新增数相加。" in html
    assert "截至2023年第4季度：省人力资源社会保障厅 2022年 10万 + 2023年 5万 = 15万人次。" in html


def test_the_target_page_explains_a_level_with_the_previous_value(client, data, office):
    client.force_login(office)
    html = html_of(client, reverse("reports:target_detail", args=["T20"]), period=period(2023, 2).pk)
    assert "现值：取最近一期审核通过的数值，不累加。" in html
    assert "2023年第2季度为 68%（上期 72%）。" in html


def test_the_target_page_has_a_trend_chart_with_a_text_alternative(client, data, office):
    client.force_login(office)
    html = html_of(client, reverse("reports:target_detail", args=["T09"]))
    chart = html[html.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-line"') :]
    chart = chart[: chart.index("</svg>")]
    assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    assert 'class="expected"' in chart and 'class="target-line"' in chart
    assert "单位：人次" in chart
    hidden = html[html.index('<div class="visually-hidden"><table>') :]
    assert "2023年第2季度" in hidden[: hidden.index("</table>")]


def test_the_target_page_shows_contributions_by_unit(client, data, office):
    approved_figure("kx", 2022, 2, "T04", value=D(3))
    approved_figure("kjt", 2022, 3, "T04", value=D(2))
    approved_figure("kx", 2023, 1, "T04", value=D(1))
    rollup(current_plan())
    client.force_login(office)
    html = html_of(client, reverse("reports:target_detail", args=["T04"]), period=period(2023, 1).pk)
    assert "4个" in row_of(html, ">省科协<") and "66.7%" in row_of(html, ">省科协<")
    assert "2个" in row_of(html, ">省科技厅<")
    assert "截至2023年第1季度：省科协 2022年 3 + 2023年 1；省科技厅 2022年 2；合计 6个。" in html
    assert 'class="chart chart-hbar"' in html


def test_the_target_page_checks_a_per_region_target_region_by_region(client, data, office):
    client.force_login(office)
    html = html_of(client, reverse("reports:target_detail", args=["T30"]), period=period(2024, 3).pk)
    assert "达标" in row_of(html, ">西宁市<") and "2.02" in row_of(html, ">西宁市<")
    assert "未达标" in row_of(html, ">海东市<") and "1.33" in row_of(html, ">海东市<")
    assert "西宁市 500万元 ÷ 248万人 = 2.02 元/人，达标" in html  # the worked example: the first region
    assert "8 个地区中 1 个达标" in html
    behind = html[html.index("滞后原因") :]
    assert "海东市" in behind and "1.33元/人" in behind


def test_the_unit_page_shows_its_measures_figures_and_history(client, data, office):
    client.force_login(office)
    html = html_of(client, reverse("reports:unit_detail", args=["rst"]), period=period(2023, 2).pk)
    assert "开展职业技能培训和技能竞赛" in html  # a measure of A3, which it leads
    assert "培训补贴资金拨付滞后" in row_of(html, "开展职业技能培训和技能竞赛")
    assert "5万人次" in row_of(html, ">2023年第2季度<")
    assert "逾期 3 次，未报 4 次。" in html  # 2021 baseline to 2023 Q2: 7 periods, 3 forms late


def test_the_region_page_compares_per_capita_funding_with_the_bound(client, data, office):
    client.force_login(office)
    html = html_of(client, reverse("reports:region_detail", args=["630200"]), period=period(2024, 4).pk)
    assert "海东市" in html and "不低于1.5元/人" in html
    row = row_of(html, '<th scope="row">2024年</th>')
    assert "180.00" in row and "135.00" in row and "1.33" in row and "未达标" in row
    county = html_of(client, reverse("reports:region_detail", args=["630102"]))
    assert "不低于25万元" in county  # counties also have the funding floor


def test_hostile_names_are_escaped_in_pages_and_charts(client, data, office):
    Unit.objects.filter(code="rst").update(short_name=HOSTILE, name=HOSTILE)
    Measure.objects.filter(code="A3.3").update(title=HOSTILE)
    MeasureLine.objects.filter(measure__code="A3.3").update(progress=HOSTILE, problems=HOSTILE)
    rollup(current_plan())
    client.force_login(office)
    for url in (
        DASHBOARD,
        reverse("reports:initiative_detail", args=["A3"]) + f"?period={period(2023, 2).pk}",
        reverse("reports:target_detail", args=["T09"]),
        reverse("reports:unit_detail", args=["rst"]) + f"?period={period(2023, 2).pk}",
    ):
        html = client.get(url).content.decode()
        assert HOSTILE not in html, url
        assert ESCAPED in html, url
    target = client.get(reverse("reports:target_detail", args=["T09"])).content.decode()
    bars = target[target.index('class="chart chart-hbar"') :]
    assert ESCAPED in bars[: bars.index("</svg>")]  # the unit's name inside the bar chart


# ---------------------------------------------------------------- query counts


def test_the_dashboard_takes_a_fixed_number_of_queries(client, data, office, django_assert_max_num_queries):
    client.force_login(office)
    with django_assert_max_num_queries(12):
        client.get(DASHBOARD)


def test_the_dashboards_query_count_does_not_grow_with_units_or_data(client, office):
    client.force_login(office)
    # 5 active units, a little data
    Unit.objects.exclude(code__in=["rst", "jyt", "kx", "mzt", "xiningshi"]).update(is_active=False)
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    rollup(current_plan())
    few = count_queries(client, DASHBOARD)
    # every unit active, with approved figures from many of them
    Unit.objects.update(is_active=True)
    for code in ["jyt", "kx", "kjt", "mzt", "zgh", "nynct", "gsl", "xcb", "gdj", "czt"]:
        for year in (2022, 2023, 2024):
            approved_figure(code, year, 2, "T04" if code in ("kx", "kjt") else "T09", value=D(5))
    for code in ["xiningshi", "haidongshi", "chengdong", "chengzhong", "datong"]:
        region_figure(code, 2024, 2, D(50), D(20))
    rollup(current_plan())
    many = count_queries(client, DASHBOARD)
    assert few == many <= 12


@pytest.mark.parametrize(
    ("url", "limit"),
    [
        (reverse("reports:initiative_detail", args=["A3"]), 16),
        (reverse("reports:target_detail", args=["T09"]), 15),
        (reverse("reports:unit_detail", args=["rst"]), 15),
        (reverse("reports:region_detail", args=["630000"]), 15),
    ],
)
def test_drill_downs_take_a_fixed_number_of_queries(client, data, office, url, limit):
    client.force_login(office)
    before = count_queries(client, url)
    for code in ["zgh", "jyt", "kjt", "gxt", "mzt", "sthjt", "wjw", "yjt"]:
        figure = approved_figure(code, 2025, 4, "T09", value=D(10))
        line(figure, "A3.3", progress=f"{code} 的进展", problems=f"{code} 的问题")
    rollup(current_plan())
    after = count_queries(client, url)
    assert before == after <= limit


def test_a_refresh_is_served_from_the_cache_until_the_next_rollup(
    client, office, settings, django_capture_on_commit_callbacks
):
    """The dashboard's body is cached per period and last roll-up: a refresh costs a few queries,
    and a new roll-up shows new figures at once."""
    from decimal import Decimal as D

    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.rollup.services import request_rollup
    from tasks.selectors import current_plan
    from tests.factories import approved_figure

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dash-test"},
    }
    caches["pages"].clear()
    approved_figure("rst", 2022, 2, "T09", value=D(40000))
    with django_capture_on_commit_callbacks(execute=True):
        request_rollup(current_plan())  # eager in tests: a succeeded run
    client.force_login(office)
    first = client.get("/dashboard/")
    assert "4万人次" in first.content.decode()
    with CaptureQueriesContext(connection) as cached:
        again = client.get("/dashboard/")

    def main(response):  # the page chrome carries a fresh CSRF token each time
        html = response.content.decode()
        return html[html.index("<main") : html.index("</main>")]

    assert main(again) == main(first)
    # a hit reads the session, the user (with its role) and the menu's badges; nothing else
    assert len(cached) <= 3
    assert not [q for q in cached.captured_queries if "snapshot" in q["sql"] or "tasks_period" in q["sql"]]
    approved_figure("rst", 2022, 3, "T09", value=D(5000))
    with django_capture_on_commit_callbacks(execute=True):
        request_rollup(current_plan())
    assert "4.5万人次" in client.get("/dashboard/").content.decode()


def test_county_governments_are_counted_per_prefecture_with_the_list_on_the_region_page(client, data, office):
    """西宁's 7 county governments in 2024 Q2: 城东区 approved, 城中区 submitted, the other 5
    missing (their deadline has passed): the cell shows the most urgent state (5 未报)."""
    approved_figure("chengdong", 2024, 2, "T09", value=D(1))
    approved_figure("chengzhong", 2024, 2, "T09", status="submitted", value=D(1))
    rollup(current_plan())
    client.force_login(office)
    html = html_of(client, DASHBOARD, period=period(2024, 2).pk)
    xining = row_of(html, "西宁市所辖县（市、区）政府")
    assert "(7)" in xining
    assert (
        f'href="{reverse("reports:region_detail", args=["630100"])}?period={period(2024, 2).pk}#compliance"'
        in xining
    )
    shown = list(Period.objects.order_by("year", "quarter").values_list("pk", flat=True))
    cells = re.findall(r'<td class="hm-(\w+)" title="([^"]+)">([^<]*)</td>', xining)
    q2 = cells[shown.index(period(2024, 2).pk)]
    assert q2 == ("missing", "24年Q2：已通过（逾期） 1，已提交 1，未报 5", "5")
    # the region page lists each of them
    html = html_of(client, reverse("reports:region_detail", args=["630100"]), period=period(2024, 2).pk)
    heatmap = html[html.index('id="compliance"') :]
    assert heatmap.count('<th scope="row" class="unit">') == 7
    assert "城东区" in heatmap and "湟源县" in heatmap
    assert 'class="hm-approved_late"' in row_of(heatmap, ">城东区<")


def test_the_dashboard_works_while_its_cache_is_down(client, data, office, settings, caplog):
    """Redis (the pages cache) unreachable: the page is computed each time, with a warning."""
    settings.CACHES = {  # the cache handler is rebuilt from these settings (setting_changed)
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    client.force_login(office)
    for _ in range(2):
        html = html_of(client, DASHBOARD)
        assert "补贴性职业技能培训" in html and "15万人次" in row_of(html, "补贴性职业技能培训")
    rollup(current_plan())  # its on-commit bump fails quietly too
    assert "pages cache unavailable" in caplog.text


def test_english_pages_use_english_units_and_separators(client, data, office):
    client.force_login(office)
    client.post(reverse("set_language"), {"language": "en", "next": DASHBOARD})
    html = html_of(client, DASHBOARD)
    assert "150,000 person-times" in row_of(html, "T09")
    heatmap = html[html.index('<table class="heatmap">') :]
    assert "：" not in heatmap and "，" not in heatmap
    target = html_of(client, reverse("reports:target_detail", args=["T09"]))
    assert "500,000 person-times" in target and "人次" not in target.replace("补贴性职业技能培训", "")
