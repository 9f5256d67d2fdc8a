"""Judgements the office can sign (DESIGN §3): hand-computed cases for baselines, bounded
quantities, per-year and 逐年提高 targets, 力争 aspirations and the plan's own phrases.

Dates: 2021-01-01 → 2023-12-31 is 1094 of the plan's 1825 days (0.599452); → 2022-12-31 is
729 days (0.399452).
"""

import datetime
from decimal import Decimal as D

import pytest

from reports.choices import ProgressStatus
from reports.models import TargetSnapshot
from reports.rollup import progress
from reports.rollup.rollups import rollup
from targets import presenters
from targets.models import ExternalFigure, Target
from tasks.selectors import current_plan
from tests.factories import approved_figure, region_figure

pytestmark = pytest.mark.django_db


def snap(code, year, quarter):
    return TargetSnapshot.objects.get(target__code=code, period__year=year, period__quarter=quarter)


def set_baseline(code, value, year=2020, source="测试来源"):
    Target.objects.filter(code=code).update(baseline_value=value, baseline_year=year, baseline_source=source)


def test_a_target_without_a_baseline_shows_its_actual_and_no_made_up_judgement():
    """T20 (养老机构占比提高到70%): no baseline in the plan, none entered, no 2021 baseline report."""
    approved_figure("mzt", 2023, 4, "T20", value=D(60))
    rollup(current_plan())
    s = snap("T20", 2023, 4)
    assert (s.actual, s.expected, s.forecast, s.status) == (D(60), None, None, ProgressStatus.NO_BASELINE)
    texts = presenters.standing_texts(s.target, s)
    assert texts["status"] == "基期值待录入" and texts["baseline"] == "基期值待录入"
    assert texts["actual"] == "60%" and texts["expected"] == "—" and texts["forecast"] == "—"


def test_a_met_target_is_achieved_even_before_its_baseline_is_entered():
    approved_figure("mzt", 2023, 4, "T20", value=D(71))
    rollup(current_plan())
    assert snap("T20", 2023, 4).status == ProgressStatus.ACHIEVED


def test_a_survey_target_with_one_survey_point():
    """T01 力争达到10%: the 2023 survey gives 8.56 %. Without a baseline: 基期值待录入. With the
    2020 survey's 7 %: expected 7 + 3 × 0.599452 = 8.7984; progress 1.56 of 1.7984 needed = 0.867
    → 滞后; forecast 7 + 1.56 / 0.599452 = 9.6024 (below the 10 % ceiling of a share)."""
    plan = current_plan()
    t01 = Target.objects.get(code="T01")
    ExternalFigure.objects.create(
        target=t01, value=D("8.56"), measured_on=datetime.date(2023, 10, 1), source="抽样调查"
    )
    approved_figure("kx", 2023, 4, "T04", value=D(1))  # periods exist
    rollup(plan)
    s = snap("T01", 2023, 4)
    assert (s.actual, s.expected, s.forecast, s.status) == (D("8.56"), None, None, ProgressStatus.NO_BASELINE)
    set_baseline("T01", D(7))
    rollup(plan)
    s = snap("T01", 2023, 4)
    assert s.expected == D("8.7984") and s.forecast == D("9.6024") and s.status == ProgressStatus.BEHIND
    assert presenters.bound_text(t01) == "力争达到10%"


def test_a_count_over_the_eight_prefectures_never_goes_beyond_eight():
    """T25 (市州级科技馆全覆盖, 8 市州), baseline 6 in 2020; 7 of 8 covered at the end of 2022:
    expected 6 + 2 × 0.399452 = 6.7989, written 7个市州 (exact on hover); forecast
    6 + 1 / 0.399452 = 8.50, held at 8; progress 1 of 0.7989 → 超前."""
    set_baseline("T25", D(6))
    approved_figure("kx", 2022, 4, "T25", covered=D(7), total=D(8))
    rollup(current_plan())
    s = snap("T25", 2022, 4)
    assert s.expected == D("6.7989") and s.forecast == D(8) and s.status == ProgressStatus.AHEAD
    texts = presenters.standing_texts(s.target, s)
    assert texts["expected"] == "7个市州" and texts["expected_exact"] == "6.7989个市州"
    assert texts["forecast"] == "8个市州"


def test_a_coverage_share_never_forecasts_more_than_100_percent():
    """T22 (力争5年内全覆盖): 30 of 100 in the 2021 baseline report (2021 Q4), 90 of 100 at the end of 2023:
    the pace gives 30 + 60 / 0.599452 = 130.09 %, shown as 100 %."""
    approved_figure("yjt", 2021, 4, "T22", covered=D(30), total=D(100))
    approved_figure("yjt", 2023, 4, "T22", covered=D(90), total=D(100))
    rollup(current_plan())
    s = snap("T22", 2023, 4)
    assert s.baseline == D(30) and s.forecast == D(100) and s.status == ProgressStatus.AHEAD


def test_a_per_year_target_met_in_some_years_and_missed_in_others():
    """T12 每年培训不低于400名: 2022 450 (met), 2023 300 (missed), 2024 420, 2025 410 (met):
    3 of 4 years → 0.75 < 0.80 → 严重滞后, and the missed 2023 stays missed at the end."""
    for year, value in ((2022, 450), (2023, 300), (2024, 420), (2025, 410)):
        approved_figure("jyt", year, 2, "T12", value=D(value))
    rollup(current_plan())
    end = snap("T12", 2025, 4)
    assert (end.years_met, end.years_judged, end.status) == (3, 4, ProgressStatus.FAR_BEHIND)
    assert presenters.standing_texts(end.target, end)["years"] == "3/4 年达标"
    first = snap("T12", 2022, 4)
    assert (first.years_met, first.years_judged) == (1, 1)
    # During 2024, after the miss of 2023: no better than the share of years met (1/2 → 严重滞后).
    assert snap("T12", 2024, 1).status == ProgressStatus.FAR_BEHIND


def test_per_capita_funding_below_its_yearly_level_is_a_missed_year_not_on_track():
    """T29 省级年人均科普经费达到2.2元: 2.14 元 at the end of 2023 misses 2023, whatever the ratio."""
    approved_figure("czt", 2022, 4, "T29", value=D("2.3"))
    approved_figure("czt", 2023, 4, "T29", value=D("2.14"))
    rollup(current_plan())
    s = snap("T29", 2023, 4)
    assert (s.years_met, s.years_judged) == (1, 2)
    assert s.status in (ProgressStatus.BEHIND, ProgressStatus.FAR_BEHIND)


def test_an_aspiration_reached_and_not_reached():
    """力争涵盖20多个行业 (T15): more than 20 — 20 itself is not reached, 21 is. 力争达到10%
    missed at the deadline is 滞后, not a breach (严重滞后)."""
    rule = progress.TargetRule(
        combine="level",
        time_scope="per_year",
        bound="more_than",
        value=D(20),
        value_max=None,
        start_year=2021,
        deadline_year=2025,
        aspiration=True,
    )
    assert not progress.is_met(rule, D(20)) and progress.is_met(rule, D(21))
    t01 = progress.TargetRule(
        combine="level",
        time_scope="whole_plan",
        bound="at_least",
        value=D(10),
        value_max=None,
        start_year=2021,
        deadline_year=2025,
        baseline=D(7),
        needs_baseline=True,
        aspiration=True,
        ceiling=D(100),
    )
    end = datetime.date(2025, 12, 31)
    missed = progress.judge(t01, D("7.2"), end, figures=1, thresholds=progress.Thresholds())
    assert missed.status == ProgressStatus.BEHIND
    reached = progress.judge(t01, D("10.1"), end, figures=1, thresholds=progress.Thresholds())
    assert reached.status == ProgressStatus.ACHIEVED


def test_year_on_year_increase_is_judged_per_region_and_year():
    """将科普经费列入同级财政预算，并逐年提高 (T36): 西宁 100 → 120 万元 rose, 海东 80 → 70 fell in
    2023: 1 of 2 regions compared → 2023 missed."""
    region_figure("xiningshi", 2022, 4, D(100), D(248))
    region_figure("xiningshi", 2023, 4, D(120), D(248))
    region_figure("haidongshi", 2022, 4, D(80), D(135))
    region_figure("haidongshi", 2023, 4, D(70), D(135))
    rollup(current_plan())
    code = Target.objects.get(bound="year_on_year").code
    s = snap(code, 2023, 4)
    assert (s.regions_met, s.regions_total, s.years_met, s.years_judged) == (1, 2, 0, 1)
    assert s.status == ProgressStatus.FAR_BEHIND
    early = snap(code, 2022, 4)  # 2021 has no figures: nothing to compare yet
    assert early.status == ProgressStatus.NO_DATA


def test_numbers_are_written_plainly():
    t09 = Target.objects.get(code="T09")
    assert presenters.amount_text(t09, D("500000")) == "50万人次"
    assert presenters.amount_text(t09, D("300")) == "300人次"
    t13 = Target.objects.get(code="T13")
    assert presenters.amount_text(t13, D("4300")) == "0.43万名"
    from portal.numbers import number_text, plain

    assert plain(D("2E+3")) == "2000" and number_text(D("1234567.456")) == "1,234,567.46"


# ---------------------------------------------------------------- two dates: cut-off and knowledge


def _backdate_history(moment):
    """Date every version written so far at ``moment`` (as if it had been approved then)."""
    from targets.models import TargetFigure
    from tasks.models import Submission

    for model in (Submission, TargetFigure, Target):
        model.history.model.objects.update(history_date=moment)


def test_a_report_rebuilt_as_approved_on_its_day_shows_the_same_figures_and_a_new_version_lists_changes(
    client, office
):
    """T09 on 20 January 2024: 2022 Q2 100000 + 2023 Q2 40000 approved = 14万人次. Later the 2023 Q2
    form is reopened ("重复统计") and corrected to 30000, and a late 2023 Q3 form of 20000 is
    approved. Rebuilt as approved on 20 January 2024 the mid-term report still says 14万; built
    now it says 15万 and lists the change with the reopening reason."""
    from django.utils import timezone

    from reports.documents.data import build_snapshot
    from reports.models import ReportRun
    from reports.rollup.knowledge import end_of_day
    from tasks.models import SubmissionEvent

    plan = current_plan()
    approved_figure("rst", 2022, 2, "T09", value=D(100000))
    corrected = approved_figure("rst", 2023, 2, "T09", value=D(40000))
    first_day = datetime.date(2024, 1, 20)
    _backdate_history(end_of_day(first_day) - datetime.timedelta(hours=12))
    cutoff = datetime.date(2023, 12, 31)

    def t09(snapshot):
        return next(t for t in snapshot["targets"] if t["code"] == "T09")

    first = build_snapshot(plan=plan, kind="midterm", cutoff=cutoff, knowledge_date=first_day)
    assert t09(first)["actual"] == "140000"

    corrected.value = D(30000)
    corrected.save()
    SubmissionEvent.objects.create(
        submission=corrected.submission,
        action="reopened",
        comment="重复统计，更正为3万人次",
        at=timezone.now(),
    )
    approved_figure("rst", 2023, 3, "T09", value=D(20000))
    rollup(plan)

    again = build_snapshot(plan=plan, kind="midterm", cutoff=cutoff, knowledge_date=first_day)
    assert t09(again) == t09(first)  # exactly what was known on 20 January 2024
    # The API answers with the same two dates; a knowledge date before the quarter ended is refused.
    from tasks.models import Period

    q4 = Period.objects.get(year=2023, quarter=4)
    client.force_login(office)

    def api_t09(**params):
        rows = client.get("/api/v1/targets/", {"period": q4.pk, "code": "T09", **params}).json()["results"]
        return rows[0]["actual"]

    assert (api_t09(knowledge_date="2024-01-20"), api_t09()) == ("140000", "150000")
    refused = client.get("/api/v1/targets/", {"period": q4.pk, "knowledge_date": "2023-06-30"})
    assert refused.status_code == 400 and "不能早于" in str(refused.json()["knowledge_date"])

    previous = ReportRun.objects.create(
        plan=plan, kind="midterm", cutoff=cutoff, knowledge_date=first_day, snapshot=first, status="succeeded"
    )
    now = build_snapshot(plan=plan, kind="midterm", cutoff=cutoff, previous=previous)
    assert t09(now)["actual"] == "150000"
    changes = now["changes"]
    assert [(c["code"], c["before"], c["after"]) for c in changes["targets"]] == [("T09", "140000", "150000")]
    assert [r["reason"] for r in changes["reasons"]] == ["重复统计，更正为3万人次"]
    # The report in the same words as the pages: 14万人次 → 15万人次.
    from reports.documents.pdf import report_context

    rows = report_context(now)["changes"]["rows"]
    assert (rows[0]["before"], rows[0]["after"]) == ("14万人次", "15万人次")


def test_a_knowledge_date_before_the_cutoff_or_in_the_future_is_refused():
    from reports.documents.services import check_request

    plan = current_plan()
    today = datetime.date(2026, 12, 6)
    errors = check_request(
        plan,
        kind="midterm",
        cutoff=datetime.date(2023, 12, 31),
        knowledge_date=datetime.date(2023, 6, 1),
        today=today,
    )
    assert "不能早于数据截止日期" in errors["knowledge_date"]
    errors = check_request(
        plan,
        kind="midterm",
        cutoff=datetime.date(2023, 12, 31),
        knowledge_date=datetime.date(2027, 1, 1),
        today=today,
    )
    assert "不能晚于今天" in errors["knowledge_date"]
    assert "cutoff" in check_request(plan, kind="final", cutoff=datetime.date(2020, 12, 31), today=today)
    assert "cutoff" in check_request(plan, kind="final", cutoff=datetime.date(2027, 1, 1), today=today)


# ---------------------------------------------------------------- baselines entered by the office


@pytest.mark.parametrize(
    ("code", "value", "year", "source", "field", "message"),
    [
        ("T01", "7", "", "抽样调查", "year", "请填写基期年份"),
        ("T01", "7", "2022", "抽样调查", "year", "不能晚于方案起始年份"),
        ("T01", "7", "2020", "", "source", "请注明基期值的来源"),
        ("T01", "130", "2020", "抽样调查", "value", "百分比不能超过 100"),
        ("T25", "9", "2020", "省科协", "value", "不能超过可能的最大值"),
        ("T09", "1000", "2020", "人社厅", "target", "不需要基期值"),
    ],
)
def test_a_wrong_baseline_is_refused_in_chinese_and_nothing_is_saved(
    client, office, code, value, year, source, field, message
):
    client.force_login(office)
    response = client.post(
        "/api/v1/baselines/",
        {"target": code, "value": value, "year": year, "source": source},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert Target.objects.get(code=code).baseline_value is None
    page = client.post(
        "/office/settings/",
        {
            "form": "target_baseline",
            "target": Target.objects.get(code=code).pk,
            "value": value,
            "year": year,
            "source": source,
        },
    )
    if code != "T09":  # T09 is not offered on the page at all
        assert page.status_code == 400 and message in page.content.decode()
    assert Target.objects.get(code=code).baseline_value is None


def test_the_office_enters_a_baseline_which_is_kept_with_history_and_judged(
    client, office, viewer, django_capture_on_commit_callbacks
):
    ExternalFigure.objects.create(
        target=Target.objects.get(code="T01"),
        value=D("8.56"),
        measured_on=datetime.date(2023, 10, 1),
        source="抽样调查",
    )
    approved_figure("kx", 2023, 4, "T04", value=D(1))
    client.force_login(viewer)
    assert (
        client.post("/api/v1/baselines/", {"target": "T01"}, content_type="application/json").status_code
        == 403
    )
    assert client.get("/api/v1/baselines/").status_code == 403  # the office's settings, as the page
    client.force_login(office)
    listed = {row["target"]: row for row in client.get("/api/v1/baselines/").json()}
    assert listed["T01"]["pending"] is True and "T09" not in listed
    with django_capture_on_commit_callbacks(execute=True):  # the roll-up it queues runs
        response = client.post(
            "/api/v1/baselines/",
            {"target": "T01", "value": "7", "year": 2020, "source": "2020年全国公民科学素质抽样调查"},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    t01 = Target.objects.get(code="T01")
    assert (t01.baseline_value, t01.baseline_year) == (D(7), 2020)
    assert t01.history.first().history_user == office  # who entered it, kept
    s = snap("T01", 2023, 4)  # the roll-up ran: judged from the baseline now
    assert s.expected == D("8.7984") and s.status == ProgressStatus.BEHIND


def test_an_aspiration_missed_in_some_years_is_not_reached_rather_than_breached():
    """力争涵盖20多个行业 (T15): 21 in 2022 (reached), 18 in 2023 and 19 in 2024 (not reached):
    1 of 3 years → 0.33 would be 严重滞后 for a binding target; for an aspiration it is 滞后."""
    for year, value in ((2022, 21), (2023, 18), (2024, 19)):
        approved_figure("zgh", year, 3, "T15", value=D(value))
    rollup(current_plan())
    s = snap("T15", 2024, 4)
    assert (s.years_met, s.years_judged, s.status) == (1, 3, ProgressStatus.BEHIND)


def test_the_dashboard_and_target_page_show_the_figures_as_approved_on_a_past_day(client, office):
    """T09 approved as 14万 on 20 January 2024, corrected to 15万 later: the pages judge it as it
    stood on the day asked for, say so, and refuse a day before the period ended."""
    from django.utils import timezone

    from reports.rollup.knowledge import end_of_day
    from tasks.models import Period

    plan = current_plan()
    approved_figure("rst", 2022, 2, "T09", value=D(100000))
    approved_figure("rst", 2023, 2, "T09", value=D(40000))
    _backdate_history(end_of_day(datetime.date(2024, 1, 20)) - datetime.timedelta(hours=12))
    approved_figure("rst", 2023, 3, "T09", value=D(10000))
    rollup(plan)
    q4 = Period.objects.get(year=2023, quarter=4).pk
    client.force_login(office)
    now = client.get("/dashboard/targets/T09/", {"period": q4}).content.decode()
    then = client.get(
        "/dashboard/targets/T09/", {"period": q4, "knowledge_date": "2024-01-20"}
    ).content.decode()
    assert "15万人次" in now and "15万人次" not in then and "14万人次" in then
    assert "2024-01-20 结束时已审核通过的数据判定" in then
    dashboard = client.get("/dashboard/", {"period": q4, "knowledge_date": "2024-01-20"}).content.decode()
    assert "14万人次" in dashboard
    early = client.get(
        "/dashboard/targets/T09/", {"period": q4, "knowledge_date": "2023-06-01"}
    ).content.decode()
    assert "数据认定日期须在所选报送期结束之后" in early and "15万人次" in early
    assert timezone.localdate() > datetime.date(2024, 1, 20)
