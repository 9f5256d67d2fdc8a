"""Every role's day: where each lands, an inbox that tells the truth, error pages with the menu,
settings errors in words, the office's open questions, the favicon and local governments' own
account of their work."""

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.defaults import server_error

from reports.models import StatusThresholds, UnitPeriodSnapshot
from reports.rollup.rollups import rollup
from targets.models import RegionFigure, Target
from tasks import selectors, services
from tasks.choices import PeriodState, SubmissionStatus, Timeliness
from tasks.models import DeadlineExtension, Period, Submission
from tasks.selectors import current_plan
from tests.conftest import make_user
from tests.factories import open_period
from units.choices import Role
from units.models import Unit

pytestmark = pytest.mark.django_db

RAW_TIMELINESS = (">on_time<", ">late<", ">missing<", ">pending<")


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def period(year, quarter):
    return Period.objects.get(year=year, quarter=quarter)


# Landing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "page"),
    [
        ("reporter", "tasks:inbox"),
        ("approver", "tasks:inbox"),
        ("office", "tasks:review_queue"),
        ("viewer", "reports:dashboard"),
    ],
)
def test_each_role_lands_on_its_work_after_logging_in(client, personas, persona, page):
    user = personas[persona]
    response = client.post(reverse("login"), {"username": user.username, "password": "pw-for-tests-1"})
    assert response.status_code == 302 and response.url == reverse("home")
    landing = client.get(reverse("home"))
    assert landing.status_code == 302 and landing.url == reverse(page)
    assert client.get(landing.url).status_code == 200


def test_a_user_without_a_role_lands_on_the_plan_and_anonymous_users_on_the_log_in_page(client):
    assert client.get(reverse("home")).url.startswith(reverse("login"))
    client.force_login(make_user("nobody"))
    assert client.get(reverse("home")).url == reverse("targets:plan_detail")


def test_a_log_in_with_next_still_goes_where_it_was_asked(client, reporter):
    response = client.post(
        reverse("login") + "?next=/help/", {"username": "jyt-reporter", "password": "pw-for-tests-1"}
    )
    assert response.url == "/help/"


# The inbox ---------------------------------------------------------------------------------------


@pytest.fixture
def jyt_quarters(reporter, office):
    """省教育厅 on 2024-08-01: Q3 open; Q2 closed but extended; Q1 returned; 2023 Q4 approved on
    time; 2023 Q3 a draft never submitted; every other earlier quarter never started."""
    today = datetime.date(2024, 8, 1)
    open_period(2024, 3)
    Period.objects.filter(deadline__lt=today).update(state=PeriodState.CLOSED)
    unit = Unit.objects.get(code="jyt")
    DeadlineExtension.objects.create(
        period=period(2024, 2),
        unit=unit,
        deadline=datetime.date(2024, 8, 20),
        reason="系统故障",
        granted_by=office,
    )
    Submission.objects.create(
        unit=unit,
        period=period(2024, 1),
        status=SubmissionStatus.RETURNED,
        first_submitted_at=at(datetime.date(2024, 4, 8)),
        review_comment="请补充佐证材料",
    )
    Submission.objects.create(
        unit=unit,
        period=period(2023, 4),
        status=SubmissionStatus.APPROVED,
        first_submitted_at=at(datetime.date(2024, 1, 5)),
    )
    Submission.objects.create(unit=unit, period=period(2023, 3), status=SubmissionStatus.DRAFT)
    return unit, today


def test_the_inbox_lists_every_form_the_unit_can_act_on_with_its_own_deadline(jyt_quarters):
    unit, today = jyt_quarters
    inbox = selectors.unit_inbox(unit, today)
    todo = [(r["period"].year, r["period"].quarter, r["status"], r["deadline"]) for r in inbox["todo"]]
    assert todo == [
        (2023, 3, SubmissionStatus.DRAFT, datetime.date(2023, 10, 10)),
        (2024, 1, SubmissionStatus.RETURNED, datetime.date(2024, 4, 10)),
        (2024, 2, SubmissionStatus.NOT_STARTED, datetime.date(2024, 8, 20)),  # the extension's date
        (2024, 3, SubmissionStatus.NOT_STARTED, datetime.date(2024, 10, 10)),
    ]
    extended = inbox["todo"][2]
    assert extended["extension"].reason == "系统故障" and extended["timeliness"] == Timeliness.PENDING
    assert inbox["counts"] == {"todo": 4, "returned": 1, "missed": 8}


def test_the_inbox_counts_the_same_missed_quarters_as_the_dashboard(jyt_quarters):
    unit, today = jyt_quarters
    inbox = selectors.unit_inbox(unit, today)
    rollup(current_plan(), today=today)
    dashboard_missing = UnitPeriodSnapshot.objects.filter(unit=unit, timeliness=Timeliness.MISSING)
    assert sorted(r["period"].pk for r in inbox["missed"]) == sorted(
        dashboard_missing.values_list("period_id", flat=True)
    )
    # every quarter that has opened is in the history, started or not
    assert [r["period"].key for r in inbox["history"]] == [
        p.key for p in Period.objects.filter(opens_on__lte=today).order_by("-year", "-quarter")
    ]


def test_the_inbox_page_shows_extensions_missed_quarters_and_timeliness_in_words(client, reporter, office):
    today = timezone.localdate()
    open_period(2024, 3)
    Period.objects.exclude(year=2024, quarter=3).update(state=PeriodState.CLOSED)
    unit = Unit.objects.get(code="jyt")
    DeadlineExtension.objects.create(
        period=period(2024, 2),
        unit=unit,
        deadline=today + datetime.timedelta(days=10),
        reason="系统故障",
        granted_by=office,
    )
    Submission.objects.create(
        unit=unit, period=period(2023, 4), status=SubmissionStatus.APPROVED, first_submitted_at=at(today)
    )
    client.force_login(reporter)
    html = client.get(reverse("tasks:inbox")).content.decode()
    assert "已延期（原截止 2024-07-10）" in html
    assert reverse("targets:submission_start", args=["jyt", period(2024, 2).pk]) in html
    for word in ("未报", "逾期", "未到期"):  # the 2023 Q4 form was first submitted long after its deadline
        assert word in html
    for code in RAW_TIMELINESS:
        assert code not in html
    inbox = selectors.unit_inbox(unit, today)
    assert f"<b>{inbox['counts']['missed']}</b>未报" in html and inbox["counts"]["missed"] >= 14


def test_an_extension_lets_the_unit_start_a_form_in_a_closed_period(client, reporter, office):
    today = timezone.localdate()
    open_period(2024, 3)
    Period.objects.exclude(year=2024, quarter=3).update(state=PeriodState.CLOSED)
    unit = Unit.objects.get(code="jyt")
    client.force_login(reporter)
    closed = client.get(reverse("targets:submission_start", args=["jyt", period(2024, 2).pk]))
    assert closed.url == reverse("tasks:inbox")
    assert not Submission.objects.filter(unit=unit, period=period(2024, 2)).exists()
    DeadlineExtension.objects.create(
        period=period(2024, 2), unit=unit, deadline=today, reason="补报", granted_by=office
    )
    started = client.get(reverse("targets:submission_start", args=["jyt", period(2024, 2).pk]))
    assert started.status_code == 200  # the empty form, written nowhere until its first save
    assert not Submission.objects.filter(unit=unit, period=period(2024, 2)).exists()
    form = started.content.decode()
    assert f"截止日期 {today:%Y-%m-%d}" in form and "已延期（原截止 2024-07-10）" in form


def test_the_period_overview_shows_timeliness_in_words(client, office, submission):
    client.force_login(office)
    html = client.get(reverse("tasks:period_overview", args=[submission.period_id])).content.decode()
    assert "未报" in html
    for code in RAW_TIMELINESS:
        assert code not in html


# Error pages ----------------------------------------------------------------------------------


def test_a_missing_page_is_a_chinese_page_with_the_menu(client, reporter):
    client.force_login(reporter)
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in html and 'aria-label="主导航"' in html and "本期待办" in html


def test_a_refused_page_is_a_chinese_page_with_the_menu(client, reporter):
    client.force_login(reporter)
    response = client.get(reverse("tasks:review_queue"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "没有访问权限" in html and 'aria-label="主导航"' in html


def test_a_bad_request_is_a_chinese_page(client):
    response = client.get("/", HTTP_HOST="bad host name")
    assert response.status_code == 400
    assert "请求无效" in response.content.decode()


def test_a_form_refused_by_the_csrf_check_is_explained_with_the_menu(reporter):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reporter)
    response = client.post(reverse("tasks:notification_read"), {"next": "/"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期" in html and 'aria-label="主导航"' in html


def test_the_server_error_page_does_not_touch_the_database(django_assert_num_queries):
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "服务器出错" in html and 'aria-label="主导航"' in html and reverse("help") in html


def test_error_pages_follow_the_users_language(client, reporter):
    client.force_login(reporter)
    html = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html


# Settings errors ------------------------------------------------------------------------------


def test_thresholds_out_of_order_are_refused_once_in_words(client, office):
    open_period()
    client.force_login(office)
    response = client.post(
        reverse("reports_office:settings"),
        {"form": "thresholds", "ahead": "0.9", "on_track": "0.95", "behind": "0.8"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert html.count("阈值必须从高到低排列") == 1
    assert "约束" not in html and "thresholds_in_order" not in html
    assert StatusThresholds.objects.get().ahead == Decimal("1.10")


# The office's open questions ------------------------------------------------------------------


def test_open_questions_are_shown_to_the_office_only(client, personas):
    target = Target.objects.exclude(questions=[]).first()
    url = reverse("targets:target_detail", args=[target.code])
    for persona in ("reporter", "approver", "viewer"):
        client.force_login(personas[persona])
        html = client.get(url).content.decode()
        assert "待明确事项" not in html and target.questions[0] not in html, persona
        assert "有待明确事项" not in client.get(reverse("targets:target_list")).content.decode()
    client.force_login(personas["office"])
    html = client.get(url).content.decode()
    assert "待明确事项" in html and target.questions[0] in html


def test_open_questions_are_left_out_of_the_api_for_everyone_but_the_office(api_client, personas):
    target = Target.objects.exclude(questions=[]).first()
    for persona, expected in (("viewer", []), ("reporter", []), ("office", target.questions)):
        api_client.force_authenticate(personas[persona])
        rows = api_client.get("/api/v1/targets/", {"code": target.code}).json()
        row = next(r for r in rows.get("results", rows) if r["code"] == target.code)
        assert row["questions"] == expected, persona


# Favicon --------------------------------------------------------------------------------------


def test_every_page_links_a_favicon_that_the_portal_serves(client, reporter):
    client.force_login(reporter)
    html = client.get(reverse("help")).content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg"' in html
    assert finders.find("img/favicon.svg") and finders.find("img/favicon.ico")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response.url == "/static/img/favicon.ico"


# Local governments' own work ------------------------------------------------------------------


@pytest.fixture
def chengdong(db):
    """城东区 (a county government) with its 2024 Q3 form."""
    p = open_period(2024, 3)
    user = make_user("cd-reporter", Role.REPORTER, "chengdong")
    submission = services.ensure_submission(Unit.objects.get(code="chengdong"), p, by=user)
    return user, submission


NARRATIVE = "本季度在全区中小学开展科学家进校园活动12场，新建社区科普活动室3个。"


def test_a_local_government_describes_its_own_work_on_the_form(client, chengdong):
    user, submission = chengdong
    client.force_login(user)
    url = reverse("targets:submission_detail", args=[submission.pk])
    assert 'name="region-narrative"' in client.get(url).content.decode()
    response = client.post(url, {"version": submission.version, "region-narrative": NARRATIVE})
    assert response.status_code == 302
    assert RegionFigure.objects.get(submission=submission).narrative == NARRATIVE
    assert NARRATIVE in client.get(url).content.decode()


def test_a_narrative_too_long_is_refused_with_a_message_and_the_text_is_kept(client, chengdong):
    user, submission = chengdong
    client.force_login(user)
    url = reverse("targets:submission_detail", args=[submission.pk])
    too_long = "科" * 4001
    response = client.post(url, {"version": submission.version, "region-narrative": too_long})
    html = response.content.decode()
    assert response.status_code == 400
    assert "本地区工作进展超过 4000 字" in html
    assert too_long in html  # still in the page, nothing lost
    assert RegionFigure.objects.get(submission=submission).narrative == ""


def _workbook(client, submission):
    response = client.get(reverse("targets:submission_excel", args=[submission.pk]))
    return openpyxl.load_workbook(io.BytesIO(response.content))


def _upload(client, submission, wb):
    buffer = io.BytesIO()
    wb.save(buffer)
    return client.post(
        reverse("targets:submission_excel_upload", args=[submission.pk]),
        {"file": SimpleUploadedFile("进展报送.xlsx", buffer.getvalue())},
    )


def test_the_narrative_goes_through_the_excel_round_trip(client, chengdong):
    user, submission = chengdong
    client.force_login(user)
    wb = _workbook(client, submission)
    sheet = wb["地区科普经费"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("本地区工作进展") + 1).value = NARRATIVE
    assert _upload(client, submission, wb).status_code == 302
    assert RegionFigure.objects.get(submission=submission).narrative == NARRATIVE

    # A file from before the column existed still uploads, and leaves the narrative alone.
    wb = _workbook(client, submission)
    sheet = wb["地区科普经费"]
    sheet.delete_cols([c.value for c in sheet[1]].index("本地区工作进展") + 1)
    assert _upload(client, submission, wb).status_code == 302
    assert RegionFigure.objects.get(submission=submission).narrative == NARRATIVE


def test_the_region_page_shows_the_approved_narratives(client, chengdong, viewer):
    _user, submission = chengdong
    figure = RegionFigure.objects.get(submission=submission)
    figure.funding, figure.population, figure.narrative = 30, 40, NARRATIVE
    figure.save()
    Submission.objects.filter(pk=submission.pk).update(
        status=SubmissionStatus.APPROVED, first_submitted_at=timezone.now()
    )
    rollup(current_plan())
    client.force_login(viewer)
    html = client.get(reverse("reports:region_detail", args=[figure.region.code])).content.decode()
    assert "本地区工作进展" in html and NARRATIVE in html
    Submission.objects.filter(pk=submission.pk).update(status=SubmissionStatus.RETURNED)
    html = client.get(reverse("reports:region_detail", args=[figure.region.code])).content.decode()
    assert NARRATIVE not in html  # only approved forms speak for the region
