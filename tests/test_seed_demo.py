"""seed_demo: realistic, deterministic demo progress data, written in bulk but as the services would.

The full demo (82 units × 17 quarters) is built once for the module inside a transaction that is
rolled back at the end; each test runs in a savepoint on top of it.
"""

import datetime
import io
from collections import Counter, defaultdict
from decimal import Decimal
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from reports.management import demo
from targets.models import RegionFigure, Target, TargetFigure
from targets.submission.services import jump_problems, missing_problems
from tasks.choices import EventAction, PeriodState, SubmissionStatus
from tasks.models import DeadlineExtension, MeasureLine, Notification, Period, Submission, SubmissionEvent
from tasks.selectors import unit_inbox
from units.choices import RegionLevel
from units.models import Membership, Unit

pytestmark = pytest.mark.django_db


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", "--password", "demo-pw-1", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module", autouse=True)
def demo_data(django_db_setup, django_db_blocker):
    """The full demo with the default seed, built once and rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = seed()
        yield output
        transaction.set_rollback(True)


def snapshot(codes):
    """Everything that should come out the same for the same seed, without primary keys."""
    forms = {}
    for s in (
        Submission.objects.filter(unit__code__in=codes)
        .select_related("unit", "period")
        .prefetch_related("lines", "figures__target", "events")
    ):
        forms[(s.unit.code, s.period.year, s.period.quarter)] = (
            s.status,
            s.version,
            s.revision,
            s.first_submitted_at,
            s.review_comment,
            [(e.action, e.at, e.to_status) for e in s.events.all()],
            [(line.measure_id, line.status, line.progress, line.problems) for line in s.lines.all()],
            sorted((f.target.code, f.value, f.covered, f.total, f.done) for f in s.figures.all()),
            [(r.funding, r.population, r.narrative) for r in RegionFigure.objects.filter(submission=s)],
        )
    return forms


def test_the_first_run_reports_what_it_created_and_how_long_it_took(demo_data):
    assert "演示进度数据：82 个单位" in demo_data
    assert "用时" in demo_data and "秒" in demo_data


def test_every_active_unit_reports_from_the_2021_baseline_to_2025_q4_with_only_the_last_open():
    periods = list(Period.objects.order_by("year", "quarter"))
    assert [(p.year, p.quarter) for p in (periods[0], periods[-1])] == [(2021, 4), (2025, 4)]
    assert [p.state for p in periods] == [PeriodState.CLOSED] * 16 + [PeriodState.OPEN]
    units_with_forms = set(Submission.objects.values_list("unit__code", flat=True))
    assert units_with_forms == set(Unit.objects.active().values_list("code", flat=True))
    assert len(units_with_forms) == 82


def test_most_forms_are_approved_some_late_some_returned_first_and_a_few_missing():
    forms = list(Submission.objects.select_related("period").prefetch_related("events"))
    statuses = Counter(s.status for s in forms)
    assert 0.80 <= statuses[SubmissionStatus.APPROVED] / len(forms) <= 0.90
    approved = [s for s in forms if s.status == SubmissionStatus.APPROVED]
    late = [s for s in approved if timezone.localdate(s.first_submitted_at) > s.period.deadline]
    returned_first = [s for s in approved if any(e.action == EventAction.RETURNED for e in s.events.all())]
    assert 50 <= len(late) <= 250
    assert 40 <= len(returned_first) <= 200
    latest = [s for s in forms if (s.period.year, s.period.quarter) == (2025, 4)]
    latest_statuses = Counter(s.status for s in latest)
    assert latest_statuses[SubmissionStatus.SUBMITTED] >= 3
    assert latest_statuses[SubmissionStatus.RETURNED] >= 3
    missing = 82 * 17 - len(forms)
    assert 20 <= missing <= 140  # a few: 1.5 % to 10 % of the unit-quarters


def test_every_forms_fields_agree_with_its_events_as_the_services_would_have_left_them():
    now = timezone.make_aware(demo.DEMO_NOW)
    for s in Submission.objects.prefetch_related("events"):
        events = list(s.events.all())
        times = [e.at for e in events]
        assert times == sorted(times) and times[-1] <= now, s
        assert events[0].action == EventAction.CREATED and events[0].to_status == SubmissionStatus.DRAFT
        assert s.status == events[-1].to_status, s
        assert s.version == len(events), s  # every save and transition bumped it once
        assert s.created_at == events[0].at and s.updated_at == events[-1].at
        submits = [e for e in events if e.action == EventAction.SUBMITTED]
        reviews = [
            e
            for e in events
            if e.action in (EventAction.APPROVED, EventAction.RETURNED, EventAction.REOPENED)
        ]
        assert s.first_submitted_at == (submits[0].at if submits else None)
        assert s.submitted_at == (submits[-1].at if submits else None)
        assert s.submitted_by_id == (submits[-1].actor_id if submits else None)
        assert s.reviewed_at == (reviews[-1].at if reviews else None)
        assert s.revision == sum(e.action == EventAction.REOPENED for e in events)
        # The last return's comment stays on a resubmitted form until an approval clears it.
        last_review = reviews[-1] if reviews else None
        if last_review and last_review.action != EventAction.APPROVED:
            assert s.review_comment and s.review_comment == last_review.comment
        else:
            assert s.review_comment == ""
        for before, after in pairwise(events):
            assert after.from_status == before.to_status, s


def test_forms_that_went_to_the_office_pass_the_submit_checks():
    """No missing figure and every big jump explained: what submit_submission would have refused."""
    sent = Submission.objects.exclude(status=SubmissionStatus.DRAFT).filter(
        unit__reported_targets__isnull=False
    )
    sent = sent.select_related("period", "unit").distinct()
    assert sent.count() > 150
    for submission in sent:
        assert missing_problems(submission) == [], submission
        assert jump_problems(submission) == [], submission
    county_forms = Submission.objects.exclude(status=SubmissionStatus.DRAFT).filter(
        unit__region__level=RegionLevel.COUNTY
    )
    assert not RegionFigure.objects.filter(submission__in=county_forms, funding__isnull=True).exists()


def test_increments_add_up_to_a_plausible_share_of_each_target():
    for target in Target.objects.filter(combine="increment", time_scope="whole_plan"):
        figures = TargetFigure.objects.filter(target=target, value__isnull=False)
        everything = sum(f.value for f in figures)
        approved = sum(f.value for f in figures.approved())
        top = target.value_max or target.value
        assert Decimal("0.65") * target.value <= everything <= Decimal("1.25") * top, target
        assert approved >= Decimal("0.5") * target.value, target
    # Teachers trained each year (T12): roughly 400 a year once the plan runs.
    yearly = defaultdict(Decimal)
    for figure in TargetFigure.objects.filter(target__code="T12", value__isnull=False).select_related(
        "submission__period"
    ):
        yearly[figure.submission.period.year] += figure.value
    assert all(250 <= yearly[year] <= 600 for year in (2022, 2023, 2024)), yearly


def test_levels_rise_towards_the_target_and_coverage_towards_its_total():
    def series(code, field):
        rows = TargetFigure.objects.filter(target__code=code, **{f"{field}__isnull": False}).order_by(
            "submission__period__year", "submission__period__quarter"
        )
        return list(rows)

    care = [f.value for f in series("T20", "value")]  # 医养结合: from about 45 % to about 72 %
    assert care == sorted(care)
    assert 43 <= care[0] <= 48 and 68 <= care[-1] <= 75
    museums = series("T25", "covered")  # prefectures with a science museum, of 8
    assert {f.total for f in museums} == {8}
    assert [f.covered for f in museums] == sorted(f.covered for f in museums)
    assert museums[0].covered < 8 and museums[-1].covered >= 7
    platform = [f.done for f in series("T17", "done")]  # the elderly-care big-data platform
    assert platform[0] is False and platform[-1] is True
    assert platform == sorted(platform)  # done from some quarter on, never undone


def test_every_created_row_has_its_history_like_rows_saved_through_the_services():
    for model in (MeasureLine, TargetFigure, RegionFigure):
        history = model.history.model.objects
        assert history.filter(history_type="+").count() == model.objects.count(), model
    line = MeasureLine.objects.exclude(progress="").select_related("submission").first()
    records = list(line.history.order_by("history_date"))
    assert records[0].history_type == "+" and records[0].progress == ""
    assert records[-1].progress == line.progress
    assert records[-1].history_user.membership.unit_id == line.submission.unit_id
    submission = line.submission
    transitions = submission.events.exclude(action__in=[EventAction.SAVED, EventAction.IMPORTED]).count()
    assert submission.history.count() == transitions
    assert submission.history.latest("history_date").status == submission.status


def test_narratives_are_plausible_chinese_about_the_measure():
    line = MeasureLine.objects.filter(
        measure__code="A1.1", submission__unit__code="jyt", submission__status=SubmissionStatus.APPROVED
    ).exclude(submission__period__is_baseline=True)[0]
    assert any(word in line.progress for word in ("科学家", "科学精神"))
    assert line.next_steps.startswith(
        ("下一季度将", "2022年将", "2023年将", "2024年将", "2025年将", "下一步")
    )
    problems = MeasureLine.objects.exclude(problems="").values_list("problems", flat=True)
    assert any("农牧区" in text for text in problems)


def test_local_governments_report_funding_and_population_per_region():
    final = RegionFigure.objects.filter(
        submission__period__year=2025, submission__period__quarter=4, funding__isnull=False
    ).select_related("region")
    xining = final.filter(region__code="630100").first() or RegionFigure.objects.filter(
        region__code="630100"
    ).latest("submission__period__year")
    assert 240 <= xining.population <= 256
    prefectures = [f for f in final if f.region.level == RegionLevel.PREFECTURE]
    assert sum(Decimal("1.2") <= f.per_capita <= Decimal("2.7") for f in prefectures) >= len(prefectures) - 1
    counties = [f for f in final if f.region.level == RegionLevel.COUNTY]
    under_floor = [f for f in counties if f.funding < demo.COUNTY_FLOOR]
    assert 1 <= len(under_floor) <= len(counties) // 4


def test_local_governments_describe_their_own_work():
    approved = RegionFigure.objects.filter(submission__status=SubmissionStatus.APPROVED)
    assert approved.exclude(narrative="").count() == approved.count()
    text = approved.filter(region__code="630100").first().narrative
    assert text.startswith("本季度，西宁市") and text.endswith("。") and len(text) > 30


def test_every_role_has_work_waiting_whatever_the_date():
    """jyt-reporter: a returned form whose deadline was extended into the future; the office:
    forms to review; xiningshi-reporter: a draft, also extended."""
    last = Period.objects.order_by("year", "quarter").last()
    assert last.state == PeriodState.OPEN
    jyt = Submission.objects.get(unit__code="jyt", period=last)
    assert jyt.status == SubmissionStatus.RETURNED and jyt.review_comment
    assert Submission.objects.get(unit__code="kjt", period=last).status == SubmissionStatus.SUBMITTED
    assert Submission.objects.get(unit__code="xiningshi", period=last).status == SubmissionStatus.DRAFT
    extensions = DeadlineExtension.objects.filter(period=last).order_by("unit__code")
    assert [e.unit.code for e in extensions] == ["jyt", "xiningshi"]
    today = timezone.localdate()
    assert all(e.deadline == demo.extension_deadline(last) > today for e in extensions)
    assert extensions[0].granted_by.username == "office"

    inbox = unit_inbox(Unit.objects.get(code="jyt"), today)
    returned = [r for r in inbox["todo"] if r["period"] == last]
    assert returned and returned[0]["status"] == SubmissionStatus.RETURNED and returned[0]["days_left"] > 0
    assert Submission.objects.pending_review().count() >= 1


def test_the_extension_is_after_today_the_demos_now_and_the_deadline():
    last = Period.objects.order_by("year", "quarter").last()
    for today in (datetime.date(2025, 3, 1), datetime.date(2026, 11, 1), datetime.date(2031, 5, 6)):
        deadline = demo.extension_deadline(last, today)
        assert deadline == max(today, demo.DEMO_NOW.date(), last.deadline) + datetime.timedelta(days=30)


def test_the_office_and_the_units_got_the_notifications_the_services_would_have_sent():
    office_messages = Notification.objects.filter(user__username="office")
    assert office_messages.count() == SubmissionEvent.objects.filter(action=EventAction.SUBMITTED).count()
    unread = Notification.objects.filter(read_at__isnull=True)
    assert unread.exists()
    assert not unread.filter(created_at__lt=timezone.make_aware(datetime.datetime(2026, 10, 1))).exists()


def test_running_it_again_changes_nothing_and_says_so():
    before = (Submission.objects.count(), MeasureLine.history.count(), SubmissionEvent.objects.count())
    output = seed()
    assert "演示数据已存在，未做更改" in output
    assert (
        Submission.objects.count(),
        MeasureLine.history.count(),
        SubmissionEvent.objects.count(),
    ) == before


def test_the_same_seed_rebuilds_the_same_data():
    codes = ["jyt", "mzt", "chengdong"]
    before = snapshot(codes)
    seed("--reset-progress", "--units", ",".join(codes))
    assert snapshot(codes) == before
    assert len(before) >= 40


def test_another_seed_gives_other_data():
    before = snapshot(["kx"])
    seed("--reset-progress", "--units", "kx", "--seed", "7")
    after = snapshot(["kx"])
    assert after != before


def test_scale_2_adds_101_county_governments_with_demo_data_but_no_accounts():
    counties = Unit.objects.filter(region__level=RegionLevel.COUNTY)
    assert counties.count() == 44
    output = seed("--scale", "2")
    assert "模拟县级单位：新建 101 个" in output
    assert counties.count() == 44 + 101
    synthetic = Unit.objects.get(code="x2-chengdong")
    assert synthetic.name == "城东区（模拟2）人民政府"
    assert synthetic.region.parent.code == "630100"
    assert Submission.objects.filter(unit=synthetic).count() >= 12
    assert not Membership.objects.filter(unit__code__startswith="x2-").exists()
    assert demo.synthetic_county_count(30) + 44 == 2973


def test_the_dashboard_target_pages_api_and_midterm_report_agree_on_every_target(client):
    """On the demo data at the end of 2023, every target reads the same on the dashboard, its own
    page, the API and the mid-term report: one judgement, one presenter."""
    import html as html_lib
    import re

    from reports.documents.data import build_snapshot
    from reports.documents.pdf import target_texts
    from reports.models import TargetSnapshot
    from reports.rollup.rollups import rollup
    from targets.presenters import standing_texts
    from tasks.selectors import current_plan

    plan = current_plan()
    rollup(plan)
    period = Period.objects.get(plan=plan, year=2023, quarter=4)
    snaps = {s.target.code: s for s in TargetSnapshot.objects.filter(period=period).select_related("target")}
    expected = {code: standing_texts(s.target, s) for code, s in snaps.items()}
    assert len(expected) == Target.objects.filter(plan=plan).count()

    client.force_login(Membership.objects.filter(role="office").select_related("user").first().user)
    api = client.get("/api/v1/targets/", {"period": period.pk, "limit": 1000}).json()["results"]
    report = build_snapshot(plan=plan, kind="midterm", cutoff=datetime.date(2023, 12, 31))
    reported = {t["code"]: (t, target_texts(t)) for t in report["targets"]}
    dashboard = html_lib.unescape(client.get("/dashboard/", {"period": period.pk}).content.decode())
    for item in api:
        code, texts = item["code"], expected[item["code"]]
        assert item["status"] == snaps[code].status and item["texts"] == texts, code
        frozen, report_texts = reported[code]
        assert frozen["status"] == snaps[code].status, code
        for key in ("actual", "expected", "completion", "forecast", "status", "years"):
            assert report_texts[key] == texts[key], (code, key)
        row = re.search(rf'<td class="nowrap">{code}</td>(.*?)</tr>', dashboard, re.S).group(1)
        assert texts["actual"] in row and texts["status"] in row, code
        page = html_lib.unescape(
            client.get(f"/dashboard/targets/{code}/", {"period": period.pk}).content.decode()
        )
        assert texts["actual"] in page and texts["status"] in page, code


def test_demo_people_have_names_the_same_on_every_run():
    """Pages show people's names (退回人, 最后修改人, history), so the demo's log-ins have them."""
    from django.contrib.auth import get_user_model

    from reports.management.commands.seed_demo import demo_person

    users = get_user_model().objects.exclude(username="admin")
    names = {u.username: u.get_full_name() for u in users}
    assert names and all(names.values()), [u for u, n in names.items() if not n]
    assert names["office"] == demo_person("office") and names["jyt-reporter"] == demo_person("jyt-reporter")
    assert all(2 <= len(name) <= 4 and " " not in name for name in names.values())
    assert len(set(names.values())) > 20  # not everyone is 王海燕
