"""English mode (issue #14): pages show the plan's English names where the data has them, mark the
Chinese that stands in where it has none (``lang="zh-Hans"`` and a visible tag), and Chinese pages
are unchanged. The one place that chooses is ``portal.names``; these tests read real pages."""

import re
from decimal import Decimal as D

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from portal.names import display_name, name_html
from reports.rollup.rollups import rollup
from targets.loader import load_plan
from targets.models import Target
from tasks.models import Initiative, InitiativePart, Measure, Milestone, WorkPoint
from tasks.selectors import current_plan
from tests.factories import approved_figure
from units.models import Region, Unit

pytestmark = pytest.mark.django_db

FALLBACK = re.compile(r'<span lang="zh-Hans">([^<]*)</span> <span class="lang-fallback" title="[^"]*">')


def english(client):
    client.cookies["django_language"] = "en"
    return client


def chinese(client):
    client.cookies["django_language"] = "zh-hans"
    return client


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def count_queries(client, url):
    caches["pages"].clear()  # the dashboard's body is cached per language: count a computed page
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.fixture
def rolled_up():
    """T09 (人社厅) with approved figures, rolled up: the dashboard and target pages have data."""
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    approved_figure("jyt", 2022, 2, "T11", value=D(300))
    rollup(current_plan())


# ---------------------------------------------------------------- the data


def test_the_fixture_gives_every_initiative_part_milestone_target_and_unit_an_english_name():
    plan = current_plan()
    assert plan.name_en
    assert Initiative.objects.filter(plan=plan).count() == 13
    assert not Initiative.objects.filter(plan=plan, title_en="").exists()
    assert not InitiativePart.objects.filter(initiative__plan=plan, title_en="").exists()
    assert not Milestone.objects.filter(plan=plan, name_en="").exists()
    assert not Target.objects.filter(plan=plan, name_en="").exists()
    assert not Unit.objects.filter(short_name_en="").exists()  # provincial units and governments
    # the measures' long texts stay Chinese: they are what the fallback is for
    assert Measure.objects.filter(initiative__plan=plan, title_en="").exists()


def test_a_reload_never_blanks_an_english_name_the_office_entered():
    measure = Measure.objects.get(code="A1.1")
    measure.title_en = "Carry the scientific spirit through school education"
    measure.save(update_fields=["title_en"])
    load_plan()
    measure.refresh_from_db()
    assert measure.title_en == "Carry the scientific spirit through school education"
    # and the fixture's own English is (re)written where it states one
    Initiative.objects.filter(code="A1").update(title_en="")
    load_plan()
    assert Initiative.objects.get(code="A1").title_en.startswith("Action to improve")


# ---------------------------------------------------------------- the one place


def test_display_name_chooses_by_the_active_language_and_falls_back_visibly():
    a1 = Initiative.objects.get(code="A1")
    measure = Measure.objects.get(code="A1.1")
    jyt = Unit.objects.get(code="jyt")
    county = Region.objects.get(code="630102")  # 城东区: no English name, a pinyin
    with translation.override("zh-hans"):
        assert display_name(a1) == "青少年科学素质提升行动"
        assert display_name(jyt) == "省教育厅" and display_name(jyt, full=True) == "青海省教育厅"
        assert name_html(measure) == measure.title  # no marker in Chinese
        assert a1.label == "提升行动1"
        assert Initiative.objects.get(code="P3").label == "重点工程3"
    with translation.override("en"):
        assert display_name(a1) == a1.title_en
        assert display_name(jyt) == "Department of Education"
        assert display_name(jyt, full=True) == "Qinghai Provincial Department of Education"
        assert display_name(county) == county.pinyin
        assert display_name(measure) == measure.title  # the Chinese, as text
        assert FALLBACK.search(name_html(measure)).group(1) == measure.title
        assert display_name(None) == ""
        work_point = WorkPoint(plan=current_plan(), year=2024, number=1, title="<b>年度任务</b>")
        html = name_html(work_point)
        assert "&lt;b&gt;年度任务&lt;/b&gt;" in html and "<b>" not in html  # escaped, then marked


# ---------------------------------------------------------------- pages


def test_the_plan_page_in_english_shows_english_names_and_marks_the_measures(client, office):
    client.force_login(office)
    html = page(english(client), reverse("targets:plan_detail"))
    a1 = Initiative.objects.get(code="A1")
    assert a1.title_en in html and a1.title not in html
    assert current_plan().name_en in html
    assert Target.objects.get(code="T01").name_en in html
    assert "Department of Education" in html  # A1's lead unit
    assert InitiativePart.objects.get(code="P1-1").title_en in html
    assert Milestone.objects.get(code="midterm").name_en in html
    marked = FALLBACK.findall(html)
    assert Measure.objects.get(code="A1.1").title in marked  # a measure without English: marked
    assert Initiative.objects.get(code="A2").aim in marked  # long Chinese text: marked


def test_the_plan_page_in_chinese_is_unchanged(client, office):
    client.force_login(office)
    html = page(chinese(client), reverse("targets:plan_detail"))
    a1 = Initiative.objects.get(code="A1")
    assert a1.title in html and a1.title_en not in html
    assert "省教育厅" in html and "Department of Education" not in html
    assert "lang-fallback" not in html and 'lang="zh-Hans"' not in html


def test_an_office_entered_english_measure_title_replaces_the_marker(client, office):
    Measure.objects.filter(code="A1.1").update(title_en="Carry the scientific spirit through school")
    client.force_login(office)
    html = page(english(client), reverse("targets:plan_detail"))
    assert "Carry the scientific spirit through school" in html
    assert Measure.objects.get(code="A1.1").title not in FALLBACK.findall(html)


def test_a_target_page_in_english(client, office, rolled_up):
    client.force_login(office)
    t09 = Target.objects.get(code="T09")
    for url in (
        reverse("targets:target_detail", args=["T09"]),
        reverse("reports:target_detail", args=["T09"]),
    ):
        html = page(english(client), url)
        assert re.search(r"<title>[^<]*" + re.escape(t09.name_en), html)  # the title: plain text
        assert t09.name not in re.sub(r"<blockquote.*?</blockquote>", "", html, flags=re.S)
        assert t09.initiative.title_en in html
        assert "Department of Human Resources and Social Security" in html  # the owner
    html = page(chinese(client), reverse("reports:target_detail", args=["T09"]))
    assert t09.name in html and t09.name_en not in html


def test_the_dashboard_in_english(client, viewer, rolled_up):
    client.force_login(viewer)
    html = page(english(client), reverse("reports:dashboard"))
    for initiative in Initiative.objects.all():
        assert initiative.title_en in html
    assert Target.objects.get(code="T09").name_en in html
    assert "Department of Human Resources and Social Security" in html  # a heatmap row
    assert "青少年科学素质提升行动" not in html and "省人力资源社会保障厅" not in html
    html = page(chinese(client), reverse("reports:dashboard"))
    assert "青少年科学素质提升行动" in html and "省人力资源社会保障厅" in html
    assert "Department of Human Resources" not in html


def test_the_inbox_in_english(client, reporter, period):
    client.force_login(reporter)
    html = page(english(client), reverse("tasks:inbox"))
    assert "Qinghai Provincial Department of Education" in html  # the unit's name
    assert Initiative.objects.get(code="A1").title_en in html  # the initiative 省教育厅 leads
    assert "青海省教育厅" not in html
    html = page(chinese(client), reverse("tasks:inbox"))
    assert "青海省教育厅" in html and "Department of Education" not in html


def test_the_quarterly_form_in_english_groups_lines_under_english_titles(client, reporter, submission):
    client.force_login(reporter)
    html = page(english(client), reverse("targets:submission_detail", args=[submission.pk]))
    assert f"<h3>{Initiative.objects.get(code='A1').title_en}</h3>" in html
    assert Measure.objects.get(code="A1.1").title in FALLBACK.findall(html)


def test_the_api_adds_english_fields_and_keeps_the_chinese_ones(client, office):
    client.force_login(office)
    initiative = client.get("/api/v1/initiatives/", {"code": "A1"}).json()
    rows = initiative["results"] if isinstance(initiative, dict) else initiative
    a1 = next(r for r in rows if r["code"] == "A1")
    assert a1["title"] == "青少年科学素质提升行动" and a1["title_en"].startswith("Action to improve")


# ---------------------------------------------------------------- queries


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("office", reverse("targets:plan_detail")),
        ("viewer", reverse("reports:dashboard")),
        ("viewer", reverse("reports:target_detail", args=["T09"])),
        ("viewer", reverse("reports:initiative_detail", args=["A3"])),
        ("office", reverse("targets:target_detail", args=["T09"])),
        ("reporter", reverse("tasks:inbox")),
    ],
)
def test_english_pages_take_the_same_number_of_queries_as_chinese(
    client, office, viewer, reporter, period, rolled_up, who, url
):
    client.force_login({"office": office, "viewer": viewer, "reporter": reporter}[who])
    page(client, url)  # warm the session
    in_chinese = count_queries(chinese(client), url)
    in_english = count_queries(english(client), url)
    assert in_english == in_chinese


# ---------------------------------------------------------------- Excel


def test_the_figure_export_writes_names_in_the_active_language():
    from targets.submission.excel import figure_export_rows, region_export_rows
    from tests.factories import region_figure

    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    region_figure("xiningshi", 2024, 2, D(500), D(248))
    t09, rst = Target.objects.get(code="T09"), Unit.objects.get(code="rst")
    xining = Region.objects.get(code="630100")
    with translation.override("zh-hans"):
        row = next(r for r in figure_export_rows({}) if r[3] == "T09")
        assert (row[2], row[4]) == (rst.name, t09.name)
        region_row = next(r for r in region_export_rows({}) if r[3] == "630100")
        assert region_row[4] == xining.name
    with translation.override("en"):
        row = next(r for r in figure_export_rows({}) if r[3] == "T09")
        assert (row[2], row[4]) == (rst.name_en, t09.name_en)
        region_row = next(r for r in region_export_rows({}) if r[3] == "630100")
        assert region_row[4] == xining.name_en


def test_the_settings_forms_name_targets_and_regions_by_language():
    from reports.office.forms import RegionBaselineForm, WaypointForm

    plan = current_plan()
    t01 = Target.objects.get(code="T01")
    with translation.override("en"):
        labels = [str(label) for _, label in WaypointForm(plan=plan).fields["target"].choices]
        assert f"T01 {t01.name_en}" in labels
        regions = [str(label) for _, label in RegionBaselineForm(plan=plan).fields["region"].choices]
        assert "630100 " + Region.objects.get(code="630100").name_en in regions
    with translation.override("zh-hans"):
        labels = [str(label) for _, label in WaypointForm(plan=plan).fields["target"].choices]
        assert f"T01 {t01.name}" in labels


def test_amounts_the_plan_counts_in_wan_yuan_are_written_in_yuan_in_english():
    """English has no 万: T33's county floor 25万元 reads "250,000 yuan", never "25 10,000 yuan";
    Chinese keeps the plan's 25万元."""
    from targets.presenters import amount_text, rule_bound_text

    target = Target.objects.get(code="T33")
    assert target.unit == "万元"
    with translation.override("en"):
        assert amount_text(target, D("25")) == "250,000 yuan"
        assert "10,000 yuan" not in rule_bound_text(target)
    with translation.override("zh-hans"):
        assert amount_text(target, D("25")) == "25万元"
