"""评估报告 pages: who may list, request, follow and download reports, and the status JSON."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from reports.choices import ReportKind, RunStatus
from reports.models import ReportRun
from tasks.selectors import current_plan
from tasks.services import generate_periods

pytestmark = pytest.mark.django_db

FAKE_PDF = b"%PDF-1.7\n% a stand-in for a rendered report\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def queued(office):
    """A run waiting for a worker."""
    return ReportRun.objects.create(
        plan=current_plan(), kind=ReportKind.MIDTERM, cutoff=datetime.date(2023, 12, 31), requested_by=office
    )


@pytest.fixture
def finished(office):
    """A run whose PDF has been written."""
    run = ReportRun.objects.create(
        plan=current_plan(),
        kind=ReportKind.FINAL,
        cutoff=datetime.date(2025, 12, 31),
        requested_by=office,
        status=RunStatus.SUCCEEDED,
        progress=100,
        progress_note="保存文件",
        pages=30,
        size=len(FAKE_PDF),
        checksum="a" * 64,
    )
    run.file.save("final-2025-12-31.pdf", ContentFile(FAKE_PDF), save=True)
    return run


READERS = {"reporter": 403, "approver": 403, "other_unit": 403, "office": 200, "viewer": 200}


@pytest.mark.parametrize("page", ["list", "status", "download"])
def test_only_the_office_and_viewers_read_reports(client, personas, finished, page):
    url = {
        "list": reverse("reports_pdf:list"),
        "status": reverse("reports_pdf:status", args=[finished.pk]),
        "download": reverse("reports_pdf:download", args=[finished.pk]),
    }[page]
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and reverse("login") in anonymous.url
    for persona, status in READERS.items():
        client.force_login(personas[persona])
        assert client.get(url).status_code == status, (page, persona)


def test_the_list_shows_progress_and_the_download_link(client, viewer, queued, finished):
    ReportRun.objects.filter(pk=queued.pk).update(
        status=RunStatus.RUNNING, progress=40, progress_note="渲染页面"
    )
    client.force_login(viewer)
    page = client.get(reverse("reports_pdf:list")).content.decode()
    assert "中期评估报告" in page and "总结评估报告" in page
    assert 'value="40"' in page and "渲染页面" in page
    assert reverse("reports_pdf:status", args=[queued.pk]) in page  # the unfinished run is polled
    assert reverse("reports_pdf:status", args=[finished.pk]) not in page  # the finished one is not
    assert reverse("reports_pdf:download", args=[finished.pk]) in page
    assert "js/report_progress.js" in page
    assert "<script>" not in page  # no inline script, only the static file
    assert 'name="kind"' not in page  # viewers get no request form


def test_the_list_has_a_fixed_number_of_queries(client, office, finished, django_assert_max_num_queries):
    for day in range(1, 6):
        ReportRun.objects.create(
            plan=current_plan(), kind=ReportKind.MIDTERM, cutoff=datetime.date(2023, 6, day)
        )
    client.force_login(office)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("reports_pdf:list")).status_code == 200


def test_the_office_sees_the_request_form_with_the_menu_link(client, office):
    client.force_login(office)
    page = client.get(reverse("reports_pdf:list")).content.decode()
    assert 'name="kind"' in page and 'name="cutoff"' in page and 'name="period"' in page
    assert 'name="next_steps"' in page
    assert f'href="{reverse("reports_pdf:list")}"' in page and "评估报告" in page


def test_the_office_requests_a_report_and_a_second_click_reuses_it(client, office):
    from decimal import Decimal

    from tests.factories import approved_figure

    approved_figure("rst", 2023, 2, "T09", value=Decimal(100))  # an evaluation needs approved data
    client.force_login(office)
    body = {"kind": "midterm", "cutoff": "2023-12-31", "period": "", "next_steps": "聚焦滞后指标。"}
    response = client.post(reverse("reports_pdf:list"), body)
    assert response.status_code == 302
    run = ReportRun.objects.get()
    assert (run.kind, run.cutoff, run.status) == ("midterm", datetime.date(2023, 12, 31), RunStatus.QUEUED)
    assert run.next_steps == "聚焦滞后指标。" and run.requested_by == office
    client.post(reverse("reports_pdf:list"), body)
    assert ReportRun.objects.count() == 1
    page = client.get(reverse("reports_pdf:list")).content.decode()
    assert "未重复排队" in page


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "midterm", "cutoff": "2020-12-31"}, "不能早于实施方案开始实施的日期"),
        ({"kind": "midterm", "cutoff": "2999-12-31"}, "不能晚于今天"),
        ({"kind": "annual", "cutoff": "2023-12-31"}, "没有这种报告类型"),
        ({"kind": "quarterly", "cutoff": "2023-12-31"}, "季度简报必须选择报送期"),
        ({"kind": "midterm", "cutoff": "2023/31/12"}, "格式不正确"),
    ],
)
def test_bad_requests_show_a_chinese_message_and_queue_nothing(client, office, body, message):
    generate_periods(current_plan())
    client.force_login(office)
    response = client.post(reverse("reports_pdf:list"), body)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ReportRun.objects.exists()


@pytest.mark.parametrize("persona", ["viewer", "reporter", "approver"])
def test_only_the_office_requests_reports(client, personas, persona):
    client.force_login(personas[persona])
    response = client.post(reverse("reports_pdf:list"), {"kind": "midterm", "cutoff": "2023-12-31"})
    assert response.status_code == 403
    assert not ReportRun.objects.exists()


def test_anonymous_requests_go_to_the_log_in_page(client):
    response = client.post(reverse("reports_pdf:list"), {"kind": "midterm", "cutoff": "2023-12-31"})
    assert response.status_code == 302 and reverse("login") in response.url
    assert not ReportRun.objects.exists()


def test_the_status_json_follows_the_run(client, viewer, queued):
    client.force_login(viewer)
    url = reverse("reports_pdf:status", args=[queued.pk])
    body = client.get(url).json()
    assert body["status"] == "queued" and body["status_label"] == "排队中"
    assert (body["progress"], body["finished"], body["download_url"]) == (0, False, None)
    ReportRun.objects.filter(pk=queued.pk).update(
        status=RunStatus.RUNNING, progress=70, progress_note="生成PDF"
    )
    body = client.get(url).json()
    assert (body["status"], body["progress"], body["progress_note"]) == ("running", 70, "生成PDF")
    ReportRun.objects.filter(pk=queued.pk).update(
        status=RunStatus.FAILED, error="缺少中文字体，请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）"
    )
    body = client.get(url).json()
    assert body["finished"] is True and body["download_url"] is None
    assert body["error"].startswith("缺少中文字体")
    assert client.get(reverse("reports_pdf:status", args=[queued.pk + 999])).status_code == 404


def test_the_status_json_of_a_finished_run_links_its_pdf(client, office, finished):
    client.force_login(office)
    body = client.get(reverse("reports_pdf:status", args=[finished.pk])).json()
    assert body["finished"] is True and body["status"] == "succeeded"
    assert body["download_url"] == reverse("reports_pdf:download", args=[finished.pk])
    assert (body["pages"], body["size"]) == (30, len(FAKE_PDF))


def test_the_download_is_the_pdf_with_a_chinese_file_name(client, viewer, finished):
    client.force_login(viewer)
    response = client.get(reverse("reports_pdf:download", args=[finished.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert (
        "%E6%80%BB%E7%BB%93%E8%AF%84%E4%BC%B0%E6%8A%A5%E5%91%8A" in response["Content-Disposition"]
    )  # 总结评估报告
    assert b"".join(response.streaming_content) == FAKE_PDF


def test_a_run_without_a_file_has_no_download(client, office, queued):
    client.force_login(office)
    assert client.get(reverse("reports_pdf:download", args=[queued.pk])).status_code == 404
    assert client.get(reverse("reports_pdf:download", args=[queued.pk + 999])).status_code == 404


def test_a_requested_report_is_generated_after_the_commit(client, office, django_capture_on_commit_callbacks):
    """Without a broker the job runs in process once the request's transaction commits."""
    from reports.rollup.rollups import rollup

    generate_periods(current_plan())
    rollup(current_plan())
    client.force_login(office)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports_pdf:list"),
            {"kind": "quarterly", "cutoff": "2024-01-20", "period": period_id(2023, 4)},
        )
    assert response.status_code == 302
    run = ReportRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.period.label == "2023年第4季度" and run.pages >= 3
    body = client.get(reverse("reports_pdf:status", args=[run.pk])).json()
    assert body["download_url"] == reverse("reports_pdf:download", args=[run.pk])
    assert client.get(body["download_url"]).status_code == 200


def period_id(year, quarter):
    from tasks.models import Period

    return Period.objects.get(year=year, quarter=quarter).pk
