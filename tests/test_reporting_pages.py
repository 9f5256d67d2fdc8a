"""Reporting pages: who may see and do what (a permission matrix), and fixed query counts."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tasks import services
from tasks.models import Evidence, Submission
from tests.test_workflow import fill_everything
from units.models import Unit

pytestmark = pytest.mark.django_db


GET_MATRIX = [
    # page, {persona: expected status}; anonymous always goes to the log-in page
    ("inbox", {"reporter": 200, "approver": 200, "other_unit": 200, "office": 403, "viewer": 403}),
    ("review", {"reporter": 403, "approver": 403, "other_unit": 403, "office": 200, "viewer": 403}),
    ("periods", {"reporter": 403, "approver": 403, "other_unit": 403, "office": 200, "viewer": 200}),
    ("overview", {"reporter": 403, "approver": 403, "other_unit": 403, "office": 200, "viewer": 200}),
    ("form", {"reporter": 200, "approver": 200, "other_unit": 404, "office": 200, "viewer": 200}),
    ("history", {"reporter": 200, "approver": 200, "other_unit": 404, "office": 200, "viewer": 200}),
    ("notifications", {"reporter": 200, "approver": 200, "other_unit": 200, "office": 200, "viewer": 200}),
]


def url_for(name, submission):
    return {
        "inbox": reverse("tasks:inbox"),
        "review": reverse("tasks:review_queue"),
        "periods": reverse("tasks:period_list"),
        "overview": reverse("tasks:period_overview", args=[submission.period_id]),
        "form": reverse("targets:submission_detail", args=[submission.pk]),
        "history": reverse("targets:submission_history", args=[submission.pk]),
        "notifications": reverse("tasks:notification_list"),
    }[name]


@pytest.mark.parametrize(("page", "expected"), GET_MATRIX)
def test_page_permission_matrix(client, submission, personas, page, expected):
    url = url_for(page, submission)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and reverse("login") in anonymous.url
    for persona, status in expected.items():
        client.force_login(personas[persona])
        assert client.get(url).status_code == status, (page, persona)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("reporter", 302), ("approver", 302), ("other_unit", 404), ("office", 403), ("viewer", 403)],
)
def test_only_the_units_staff_can_save_the_form(client, submission, personas, persona, status):
    line = submission.lines.first()
    client.force_login(personas[persona])
    response = client.post(
        reverse("targets:submission_detail", args=[submission.pk]),
        {"version": submission.version, f"line-{line.pk}-progress": "由页面保存"},
    )
    assert response.status_code == status
    line.refresh_from_db()
    assert (line.progress == "由页面保存") == (status == 302)


@pytest.mark.parametrize(
    ("persona", "status", "submitted"),
    [("reporter", 403, False), ("approver", 302, True), ("other_unit", 404, False), ("viewer", 403, False)],
)
def test_only_the_unit_approver_submits(client, submission, personas, persona, status, submitted):
    fill_everything(submission, personas["reporter"])
    client.force_login(personas[persona])
    response = client.post(reverse("tasks:submission_submit", args=[submission.pk]))
    assert response.status_code == status
    submission.refresh_from_db()
    assert (submission.status == "submitted") == submitted


@pytest.mark.parametrize(("persona", "status"), [("approver", 403), ("viewer", 403), ("office", 302)])
def test_only_the_office_reviews(client, submission, personas, persona, status):
    fill_everything(submission, personas["reporter"])
    services.submit_submission(submission, by=personas["approver"])
    client.force_login(personas[persona])
    response = client.post(reverse("tasks:submission_approve", args=[submission.pk]))
    assert response.status_code == status


def test_returning_without_a_comment_shows_a_message_and_changes_nothing(client, submission, personas):
    fill_everything(submission, personas["reporter"])
    services.submit_submission(submission, by=personas["approver"])
    client.force_login(personas["office"])
    response = client.post(
        reverse("tasks:submission_return", args=[submission.pk]), {"comment": ""}, follow=True
    )
    assert "退回时必须填写退回意见" in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == "submitted"


def test_the_form_page_saves_and_shows_errors_without_losing_input(client, submission, reporter):
    figure = submission.figures.get(target__code="T12")
    line = submission.lines.first()
    client.force_login(reporter)
    url = reverse("targets:submission_detail", args=[submission.pk])
    response = client.post(
        url,
        {
            "version": submission.version,
            f"line-{line.pk}-progress": "保留我写的字",
            f"fig-{figure.pk}-value": "-3",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "不能为负数" in html
    assert "保留我写的字" in html and 'value="-3"' in html
    line.refresh_from_db()
    assert line.progress == ""


def test_the_approved_form_is_read_only(client, submission, personas):
    fill_everything(submission, personas["reporter"])
    services.submit_submission(submission, by=personas["approver"])
    services.approve_submission(submission, by=personas["office"])
    client.force_login(personas["reporter"])
    html = client.get(reverse("targets:submission_detail", args=[submission.pk])).content.decode()
    assert "<fieldset disabled>" in html
    assert "保存草稿</button>" not in html


def test_evidence_is_checked_by_content_and_kept_to_the_unit(client, submission, reporter, other_reporter):
    client.force_login(reporter)
    url = reverse("tasks:evidence_upload", args=[submission.pk])
    fake = SimpleUploadedFile("report.pdf", b"just text, not a pdf", content_type="application/pdf")
    response = client.post(url, {"file": fake}, follow=True)
    assert "内容不是 PDF 文件" in response.content.decode()
    assert not Evidence.objects.exists()
    real = SimpleUploadedFile("../../etc/报告.pdf", b"%PDF-1.4\n%...\n", content_type="application/pdf")
    client.post(url, {"file": real})
    evidence = Evidence.objects.get()
    assert evidence.original_name == "报告.pdf"
    assert client.get(reverse("tasks:evidence_download", args=[evidence.pk])).status_code == 200
    client.force_login(other_reporter)
    assert client.get(reverse("tasks:evidence_download", args=[evidence.pk])).status_code == 404


def test_a_file_that_is_too_big_is_refused(client, submission, reporter, settings):
    from tasks import evidence

    client.force_login(reporter)
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * (evidence.MAX_BYTES + 1))
    response = client.post(reverse("tasks:evidence_upload", args=[submission.pk]), {"file": big}, follow=True)
    assert "超过" in response.content.decode()
    assert not Evidence.objects.exists()


def count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_form_queries_do_not_grow_with_lines(client, period, reporter, django_assert_max_num_queries):
    """省教育厅 has ~40 lines and 2 figures; 省科协 has more figures; a county has none."""
    from tests.conftest import make_user

    big = services.ensure_submission(Unit.objects.get(code="jyt"), period, by=reporter)
    kx_user = make_user("kx-approver", "approver", "kx")
    kx = services.ensure_submission(Unit.objects.get(code="kx"), period, by=kx_user)
    county_user = make_user("chengdong-reporter", "reporter", "chengdong")
    small = services.ensure_submission(Unit.objects.get(code="chengdong"), period, by=county_user)
    assert big.lines.count() > 30 and small.lines.count() == 0
    client.force_login(reporter)
    big_count = count_queries(client, reverse("targets:submission_detail", args=[big.pk]))
    client.force_login(kx_user)
    kx_count = count_queries(client, reverse("targets:submission_detail", args=[kx.pk]))
    client.force_login(county_user)
    small_count = count_queries(client, reverse("targets:submission_detail", args=[small.pk]))
    assert big_count <= 40
    assert abs(big_count - kx_count) <= 3 and abs(big_count - small_count) <= 6


def test_overview_queries_do_not_grow_with_units(client, period, office, reporter):
    client.force_login(office)
    url = reverse("tasks:period_overview", args=[period.pk])
    before = count_queries(client, url)
    for code in ["jyt", "kx", "mzt", "chengdong", "xiningshi"]:
        services.ensure_submission(Unit.objects.get(code=code), period)
    after = count_queries(client, url)
    assert after == before
    assert after <= 12
    assert Submission.objects.count() == 5


def test_review_queue_queries_are_fixed(client, period, office, django_assert_max_num_queries):
    for code in ["jyt", "kx", "mzt"]:
        services.ensure_submission(Unit.objects.get(code=code), period)
    Submission.objects.update(status="submitted")
    client.force_login(office)
    with django_assert_max_num_queries(10):
        client.get(reverse("tasks:review_queue"))


def test_status_options_select_the_current_status_and_escape_what_they_show():
    from tasks.templatetags.reporting import status_options

    html = status_options([("a", "甲"), ("b<", "乙&")], "b<")
    assert html == '<option value="a">甲</option><option value="b&lt;" selected>乙&amp;</option>'
    assert " selected" not in status_options([("a", "甲")], None)
