"""The loaded plan matches the text of the 2021-2025 plan."""

import json
from decimal import Decimal

import pytest

from targets.loader import DEFAULT_PLAN_FILE
from targets.models import Target
from tasks.choices import AssignmentRole, InitiativeKind
from tasks.models import Initiative, Measure, Milestone, Plan
from tasks.selectors import units_for
from units.choices import RegionLevel, UnitKind
from units.models import Region, Unit

pytestmark = pytest.mark.django_db

TAIWAN_WORDING = [
    "中国小",
    "套用",
    "网路",
    "智慧财产权",
    "电信诈欺",
    "最佳化",
    "智慧型",
    "计画",
    "民众",
    "人工智慧",
]


def test_plan_has_its_official_name_and_dates():
    plan = Plan.objects.get()
    assert plan.name == "青海省全民科学素质行动规划纲要实施方案（2021—2025年）"
    assert plan.issuer == "青海省人民政府办公厅"
    assert str(plan.issued_on) == "2021-12-21"
    assert (plan.start_year, plan.end_year) == (2021, 2025)


def test_six_improvement_actions_with_24_measures():
    actions = Initiative.objects.filter(kind=InitiativeKind.ACTION)
    assert actions.count() == 6
    assert Measure.objects.filter(initiative__kind=InitiativeKind.ACTION).count() == 24
    assert [a.title for a in actions] == [
        "青少年科学素质提升行动",
        "农牧民科学素质提升行动",
        "企业家和产业工人科学素质提升行动",
        "妇女科学素质提升行动",
        "老年人科学素质提升行动",
        "领导干部和公务员科学素质提升行动",
    ]


def test_seven_key_projects_with_22_measures():
    assert Initiative.objects.filter(kind=InitiativeKind.PROJECT).count() == 7
    assert Measure.objects.filter(initiative__kind=InitiativeKind.PROJECT).count() == 22


def test_measures_keep_the_full_text_in_order():
    first = Measure.objects.get(code="A1.1")
    assert first.title == "将弘扬科学精神贯穿中小学教育全链条"
    assert first.text.startswith("坚持立德树人，实施科学家走进校园行动")
    numbers = list(Measure.objects.filter(initiative__code="A1").values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5, 6]
    # P5's aim and its first measure heading are one paragraph in the text: stored apart.
    p5 = Initiative.objects.get(code="P5")
    assert p5.aim == "建立健全基层组织体系和服务体系，显著提升基层科普工作能力。"
    assert p5.measures.first().title == "加强基层组织体系建设"


def test_thirty_named_provincial_units_and_52_local_governments():
    assert Unit.objects.provincial().count() == 30
    assert Unit.objects.local_governments().count() == 52
    edu = Unit.objects.get(code="jyt")
    assert (edu.name, edu.short_name) == ("青海省教育厅", "省教育厅")
    assert Unit.objects.get(code="kx").name == "青海省科学技术协会"
    assert not Unit.objects.filter(name__contains="各成员单位").exists()


def test_regions_are_qinghais_8_prefectures_and_44_counties():
    assert Region.objects.filter(level=RegionLevel.PROVINCE).get().code == "630000"
    assert Region.objects.filter(level=RegionLevel.PREFECTURE).count() == 8
    assert Region.objects.filter(level=RegionLevel.COUNTY).count() == 44
    xining = Region.objects.get(code="630100")
    assert xining.name == "西宁市"
    assert xining.children.count() == 7
    assert Unit.objects.get(region=xining).kind == UnitKind.LOCAL_GOVERNMENT


def test_two_lead_units_are_kept_in_order():
    a6 = Initiative.objects.get(code="A6")
    leads = list(a6.assignments.leads().order_by("sort_order").values_list("unit__short_name", flat=True))
    assert leads == ["省委组织部", "省委党校"]
    p3 = Initiative.objects.get(code="P3")
    assert list(p3.assignments.leads().order_by("sort_order").values_list("unit__code", flat=True)) == [
        "gxt",
        "kx",
    ]


def test_all_member_units_is_a_flag_that_resolves_to_the_member_list():
    a6 = Initiative.objects.get(code="A6")
    flag = a6.assignments.responsibles().get()
    assert flag.all_members and flag.unit is None
    resolved = units_for(a6, role=AssignmentRole.RESPONSIBLE)
    assert resolved.count() == Unit.objects.office_members().count() == 30


def test_jingpin_project_has_three_parts_with_their_own_units():
    p1 = Initiative.objects.get(code="P1")
    parts = list(p1.parts.order_by("sort_order"))
    assert [p.title for p in parts] == ["生态科普", "应急科普", "健康科普"]
    leads = [p.assignments.leads().get().unit.short_name for p in parts]
    assert leads == ["省生态环境厅", "省应急厅", "省卫生健康委"]
    assert parts[0].assignments.responsibles().count() == 12
    assert parts[1].assignments.responsibles().get().all_members
    assert p1.assignments.filter(part=None).count() == 0


def test_three_milestones():
    assert list(Milestone.objects.values_list("year", "name")) == [
        (2021, "宣传动员"),
        (2023, "中期评估"),
        (2025, "总结评估"),
    ]


@pytest.mark.parametrize(
    ("name_contains", "value", "bound", "unit", "combine"),
    [
        ("科学素质的比例", "10", "at_least", "%", "level"),
        ("补贴性职业技能培训", "500000", "at_least", "人次", "increment"),
        ("创业创新带头人", "4300", "at_least", "名", "increment"),
        ("居民健康素养", "25", "at_least", "%", "level"),
        ("医养结合", "70", "at_least", "%", "level"),
        ("老年人健康管理率", "80", "at_least", "%", "level"),
        ("省级年人均科普经费", "2.2", "at_least", "元/人", "level"),
        ("县区年科普经费", "25", "at_least", "万元", "level"),
        ("智慧养老社区", "10", "range", "个", "increment"),
    ],
)
def test_targets_have_the_values_of_the_text(name_contains, value, bound, unit, combine):
    target = Target.objects.get(name__contains=name_contains)
    assert target.value == Decimal(value)
    assert (target.bound, target.unit, target.combine) == (bound, unit, combine)


def test_teacher_training_is_2000_over_the_plan_and_400_each_year():
    totals = {t.time_scope: t.value for t in Target.objects.filter(name__contains="科学教师")}
    assert totals == {"whole_plan": Decimal(2000), "per_year": Decimal(400)}


def test_range_target_keeps_both_ends():
    target = Target.objects.get(name__contains="智慧养老社区")
    assert (target.value, target.value_max) == (Decimal(10), Decimal(25))
    assert target.bound_text == "智慧养老社区10—25个"  # the plan's own phrase
    target.phrase = ""
    assert target.bound_text == "10—25个"  # built from the bound when no phrase is given


def test_every_target_quotes_the_plan_and_marks_its_aspirations():
    """Each target carries the plan's own phrase, found in its source sentence; 力争 marks an
    aspiration; 20多个 / 100余个 are "more than"; the two unquantified commitments are targets."""
    for target in Target.objects.prefetch_related("sources"):
        assert target.phrase and any(target.phrase in s.text for s in target.sources.all()), target.code
        assert target.aspiration == ("力争" in target.phrase), target.code
    assert set(Target.objects.filter(aspiration=True).values_list("code", flat=True)) == {
        "T01",
        "T15",
        "T16",
        "T22",
        "T28",
    }
    assert Target.objects.get(code="T15").bound == "more_than"
    contest = Target.objects.get(phrase="每年组织开展劳动和技能竞赛")
    assert (contest.combine, contest.time_scope) == ("milestone", "per_year")
    rising = Target.objects.get(phrase="将科普经费列入同级财政预算，并逐年提高")
    assert (rising.bound, rising.per_region, rising.time_scope) == ("year_on_year", True, "per_year")
    assert Target.objects.get(code="T25").ceiling == 8 and Target.objects.get(code="T26").ceiling == 44


def test_per_capita_funding_is_checked_per_region():
    prefecture = Target.objects.get(name="市州级年人均科普经费")
    county = Target.objects.get(name="县区级年人均科普经费")
    assert (
        prefecture.per_region
        and prefecture.region_level == "prefecture"
        and prefecture.value == Decimal("1.5")
    )
    assert county.per_region and county.region_level == "county" and county.value == Decimal("1.5")


def test_a_target_stated_twice_is_stored_once_with_both_sentences():
    targets = Target.objects.filter(name__contains="补贴性职业技能培训")
    assert targets.count() == 1
    assert targets.get().sources.count() == 2


def test_ambiguities_are_recorded_as_questions_not_guessed():
    farmers = Target.objects.get(code="T10")
    assert any("人次" in q for q in farmers.questions)
    assert Target.objects.get(name__contains="科普教育基地").questions


def test_about_35_distinct_targets_each_with_a_source_sentence():
    assert 30 <= Target.objects.count() <= 40
    assert not Target.objects.filter(sources__isnull=True).exists()
    plan_text = Plan.objects.get().source_text
    for target in Target.objects.prefetch_related("sources"):
        for source in target.sources.all():
            assert source.text in plan_text, target.code


def test_no_taiwan_wording_anywhere_in_the_data():
    raw = DEFAULT_PLAN_FILE.read_text(encoding="utf-8")
    text = Plan.objects.get().source_text
    for word in TAIWAN_WORDING:
        assert word not in raw, word
        assert word not in text, word
    assert "中小学" in raw and "知识产权" in raw and "电信诈骗" in raw


def test_fixture_is_valid_json_with_the_schema_keys():
    data = json.loads(DEFAULT_PLAN_FILE.read_text(encoding="utf-8"))
    assert set(data) >= {"plan", "units", "initiatives", "targets", "milestones"}
