"""Milestone reports as PDF: rendered from a small known dataset and checked from the PDF itself
(pdftotext, pdffonts, pdfinfo from poppler-utils), plus the job's failures and bad requests."""

import datetime
import re
import subprocess
import zlib
from decimal import Decimal as D

import pytest
from django.utils import timezone

from reports.choices import ReportKind, RunStatus
from reports.documents import data as report_data
from reports.documents import pdf
from reports.documents.services import check_request, execute_report, generate_report, request_report
from reports.models import ReportRun
from reports.rollup.rollups import rollup
from targets.models import Target
from tasks.models import Measure, MeasureLine, Period, Submission
from tasks.selectors import current_plan
from tests.factories import approved_figure, region_figure

pytestmark = pytest.mark.django_db

MIDTERM_CUTOFF = datetime.date(2023, 12, 31)
SCRIPT = "<script>alert(1)</script>"
MISSING_FONTS = "缺少中文字体，请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def dataset():
    """A few approved figures in 2022–2023, one region's funding, narratives (one with HTML in
    it), and the roll-up of it all."""
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    approved_figure("rst", 2023, 2, "T09", value=D(50000))  # T09: 90000 人次 by the end of 2023
    approved_figure("mzt", 2023, 1, "T20", value=D(72))  # T20: 72 %, already above 70 %
    approved_figure("jyt", 2023, 4, "T12", value=D(150))  # T12: 150 of 400 teachers in 2023
    region_figure("chengdong", 2023, 4, funding=D("30.00"), population=D("20.00"))  # 1.5 元/人
    submission = Submission.objects.get(unit__code="jyt", period__year=2023, period__quarter=4)
    MeasureLine.objects.create(
        submission=submission,
        measure=Measure.objects.get(initiative__code="A1", number=1),
        status="in_progress",
        progress=f"在12所中小学开展科学家进校园活动{SCRIPT}",
        problems="农牧区科学教师缺口较大<b>需要支持</b>",
    )
    rollup(current_plan())
    return submission


def make_report(kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF, period=None, next_steps="", by=None):
    """Request a report and run its job as a worker would; return the run afterwards."""
    run, _created = request_report(
        current_plan(), kind=kind, cutoff=cutoff, period=period, next_steps=next_steps, by=by
    )
    execute_report(run.pk)
    run.refresh_from_db()
    return run


def pdf_text(path, *, first=None, last=None):
    command = ["pdftotext", "-raw", "-enc", "UTF-8"]
    if first:
        command += ["-f", str(first), "-l", str(last or first)]
    return subprocess.run([*command, str(path), "-"], capture_output=True, text=True, check=True).stdout


def squeeze(text):
    """Text without whitespace: table cells and lines wrap anywhere in Chinese."""
    return re.sub(r"\s+", "", text)


def pdf_info(path):
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def file_path(run):
    return run.file.path


def test_the_midterm_report_shows_every_target_with_its_value(dataset):
    run = make_report(next_steps="加强统筹协调，压实成员单位责任。")
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert (run.progress, run.progress_note) == (100, "保存文件")
    assert run.file.name.startswith("reports/") and run.file.name.endswith(".pdf")
    info = pdf_info(file_path(run))
    pages = int(info["Pages"])
    assert 8 <= pages <= 60
    assert run.pages == pages
    assert run.size == run.file.size
    text = squeeze(pdf_text(file_path(run)))
    assert "关于《青海省全民科学素质行动规划纲要实施方案（2021—2025年）》中期评估情况的报告" in text
    assert "青海省全民科学素质纲要实施工作办公室" in text
    assert "数据截止日期：2023年12月31日" in text
    for name in Target.objects.filter(plan=current_plan()).values_list("name", flat=True):
        assert squeeze(name) in text, name
    assert "9万人次" in text  # T09: 40000 + 50000, in 万 as the plan writes 50万人次
    assert "72%" in text  # T20: the latest level
    assert "150名" in text  # T12
    assert "加强统筹协调，压实成员单位责任。" in text  # 下一步工作安排, kept with the run
    for heading in (
        "评估工作开展情况",
        "总体评价",
        "目标指标完成情况",
        "重点任务推进情况",
        "保障措施落实情况",
    ):
        assert heading in text
    for heading in ("存在的问题", "下一步工作", "目标指标完成情况一览表", "各单位季度报送情况表"):
        assert heading in text


def test_the_report_has_contents_page_numbers_and_metadata(dataset):
    run = make_report()
    pages = run.pages
    assert "第1页" not in squeeze(pdf_text(file_path(run), first=1))  # the cover has no number
    for page in range(2, pages + 1):
        assert f"第{page}页共{pages}页" in squeeze(pdf_text(file_path(run), first=page)), page
    contents = squeeze(pdf_text(file_path(run), first=2))
    assert contents.startswith("目录")
    # each entry ends with the page its section starts on
    start = next(
        p for p in range(3, pages + 1) if "一、评估工作开展情况" in squeeze(pdf_text(file_path(run), first=p))
    )
    assert re.search(rf"一、评估工作开展情况\.*{start}二、", contents)
    info = pdf_info(file_path(run))
    assert (
        info["Title"].strip()
        == "关于《青海省全民科学素质行动规划纲要实施方案（2021—2025年）》中期评估情况的报告"
    )
    assert info["Author"].strip() == "省纲要办"
    assert b"/Lang (zh-CN)" in inflated(run.file.path)


def inflated(path):
    """The PDF's bytes with every compressed stream inflated, to look for catalog entries."""
    data = open(path, "rb").read()
    chunks = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"".join(chunks)


def test_the_fonts_are_embedded_cjk_fonts_and_nothing_else(dataset):
    run = make_report()
    out = subprocess.run(["pdffonts", file_path(run)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows
    # WeasyPrint names subsets after the family with hyphens (Noto-Sans-CJK-SC).
    names = [row[0].split("+", 1)[-1].replace("-", "") for row in rows]
    assert any(n.startswith(("NotoSansCJK", "NotoSerifCJK")) for n in names)
    assert all(n.startswith(("NotoSansCJKSC", "NotoSerifCJKSC")) for n in names), names  # no fallback
    for row in rows:
        emb, sub = row[-5], row[-4]
        assert (emb, sub) == ("yes", "yes"), row


def test_a_snapshot_renders_the_same_again_even_after_the_figures_change(dataset):
    first = make_report()
    second = make_report()
    assert first.pk != second.pk
    assert first.checksum == second.checksum
    assert first.checksum == report_data.checksum(first.snapshot)
    assert len(first.checksum) == 64
    first_text = pdf_text(file_path(first))
    assert pdf_text(file_path(second)) == first_text
    # A correction approved later changes a new report, not the stored snapshot.
    approved_figure("rst", 2023, 3, "T09", value=D(7000))
    rollup(current_plan())
    third = make_report()
    assert third.checksum != first.checksum
    assert "9.7万人次" in squeeze(pdf_text(file_path(third)))
    again, _pages = pdf.render_pdf(first.snapshot)
    rerendered = first.file.path + ".again.pdf"
    with open(rerendered, "wb") as out:
        out.write(again)
    assert pdf_text(rerendered) == first_text


def test_the_snapshot_is_compact_json_with_decimals_as_strings(dataset):
    snapshot = report_data.build_snapshot(
        plan=current_plan(), kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF, next_steps=""
    )
    t09 = next(t for t in snapshot["targets"] if t["code"] == "T09")
    assert t09["actual"] == "90000" and t09["value"] == "500000"
    assert snapshot["as_of"]["label"] == "2023年第4季度"
    assert len(report_data.canonical_json(snapshot).encode()) < 200_000


def test_narratives_with_html_appear_as_text(dataset):
    run = make_report(next_steps=f"下一步{SCRIPT}")
    text = squeeze(pdf_text(file_path(run)))
    assert f"在12所中小学开展科学家进校园活动{SCRIPT}" in text
    assert "农牧区科学教师缺口较大<b>需要支持</b>" in text
    assert f"下一步{SCRIPT}" in text
    assert "<script>" not in pdf.render_html(run.snapshot).replace("&lt;script&gt;", "")


def test_the_steps_record_their_progress_on_the_run(dataset, monkeypatch):
    seen = []

    def watching(html):
        run = ReportRun.objects.get()
        seen.append((run.status, run.progress, run.progress_note, bool(run.checksum)))
        return b"%PDF-1.7 stand-in", 9

    monkeypatch.setattr(pdf, "html_to_pdf", watching)
    run = make_report()
    assert seen == [(RunStatus.RUNNING, 70, "生成PDF", True)]
    assert (run.status, run.progress, run.progress_note) == (RunStatus.SUCCEEDED, 100, "保存文件")
    assert (run.pages, run.size) == (9, len(b"%PDF-1.7 stand-in"))
    assert run.started_at <= run.finished_at


def test_missing_fonts_fail_the_run_with_a_clear_message(dataset, monkeypatch):
    monkeypatch.setattr(pdf, "cjk_fonts_installed", lambda: False)
    run = make_report()
    assert run.status == RunStatus.FAILED
    assert run.error == MISSING_FONTS
    assert not run.file
    assert run.finished_at is not None


def test_a_period_not_yet_rolled_up_fails_the_run_instead_of_printing_no_data():
    approved_figure("rst", 2023, 2, "T09", value=D(50000))  # approved, but no roll-up has run
    run = make_report()
    assert run.status == RunStatus.FAILED
    assert run.error == "2023年第4季度的数据尚未汇总，请先在“汇总任务”页面发起汇总，再生成报告。"
    assert not run.file


def test_the_font_check_asks_fontconfig_for_a_noto_cjk_sc_font(monkeypatch):
    assert pdf.cjk_fonts_installed()  # fonts-noto-cjk is installed here

    class Result:
        stdout = "DejaVu Sans\nNoto Sans CJK JP,Noto Sans CJK JP Regular\n"

    monkeypatch.setattr(pdf.subprocess, "run", lambda *a, **k: Result())
    assert not pdf.cjk_fonts_installed()
    Result.stdout = "Noto Serif CJK SC,Noto Serif CJK SC SemiBold\n"
    assert pdf.cjk_fonts_installed()

    def no_fc_list(*args, **kwargs):
        raise FileNotFoundError("fc-list")

    monkeypatch.setattr(pdf.subprocess, "run", no_fc_list)
    assert not pdf.cjk_fonts_installed()


def test_a_weasyprint_failure_fails_the_run_and_the_worker_goes_on(dataset, monkeypatch):
    import weasyprint

    def broken(self, *args, **kwargs):
        raise RuntimeError("cairo exploded")

    monkeypatch.setattr(weasyprint.HTML, "render", broken)
    run, _created = request_report(current_plan(), kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF)
    result = generate_report.apply(args=[run.pk]).get()  # the task returns; it does not raise
    run.refresh_from_db()
    assert result == {"run": run.pk, "status": RunStatus.FAILED}
    assert run.status == RunStatus.FAILED
    assert "cairo exploded" in run.error and run.error.startswith("生成报告失败")
    assert run.checksum  # the snapshot was frozen before the failure
    monkeypatch.undo()
    after = make_report(cutoff=datetime.date(2023, 12, 30))
    assert after.status == RunStatus.SUCCEEDED


def test_a_run_is_claimed_once(dataset, monkeypatch):
    run, _created = request_report(
        current_plan(), kind=ReportKind.QUARTERLY, cutoff=MIDTERM_CUTOFF, period=q4_2023()
    )
    assert execute_report(run.pk).status == RunStatus.SUCCEEDED
    assert execute_report(run.pk) is None  # already done: a second delivery changes nothing
    ReportRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    assert execute_report(run.pk) is None  # another worker has it


def q4_2023():
    return Period.objects.get(year=2023, quarter=4)


def test_a_second_request_reuses_the_queued_run(dataset):
    plan = current_plan()
    first, created = request_report(plan, kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF)
    assert created
    again, created_again = request_report(plan, kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF)
    assert (again.pk, created_again) == (first.pk, False)
    ReportRun.objects.filter(pk=first.pk).update(status=RunStatus.RUNNING)
    still, created_still = request_report(plan, kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF)
    assert (still.pk, created_still) == (first.pk, False)
    other, created_other = request_report(plan, kind=ReportKind.MIDTERM, cutoff=datetime.date(2023, 6, 30))
    assert created_other and other.pk != first.pk
    ReportRun.objects.filter(pk=first.pk).update(status=RunStatus.SUCCEEDED)
    later, created_later = request_report(plan, kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF)
    assert created_later and later.pk not in (first.pk, other.pk)
    assert ReportRun.objects.count() == 3


def test_a_run_whose_worker_died_is_taken_back_by_a_new_request(
    dataset, settings, django_capture_on_commit_callbacks
):
    plan = current_plan()
    stuck, _created = request_report(plan, kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF)
    four_minutes_ago = timezone.now() - datetime.timedelta(minutes=4)
    ReportRun.objects.filter(pk=stuck.pk).update(
        status=RunStatus.RUNNING, started_at=four_minutes_ago, heartbeat_at=four_minutes_ago, attempts=1
    )
    with django_capture_on_commit_callbacks(execute=True):  # eager here: the job runs at once
        again, created = request_report(plan, kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF)
    assert (again.pk, created) == (stuck.pk, False)
    stuck.refresh_from_db()
    assert stuck.status == RunStatus.SUCCEEDED and stuck.attempts == 2
    # After its last try a dead run is failed, and a new request starts a new run.
    ReportRun.objects.filter(pk=stuck.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=four_minutes_ago, attempts=settings.JOB_MAX_ATTEMPTS
    )
    fresh, created = request_report(plan, kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF)
    assert created and fresh.pk != stuck.pk
    stuck.refresh_from_db()
    assert stuck.status == RunStatus.FAILED and "工作进程中断" in stuck.error


def test_repeating_a_request_sends_a_long_queued_run_again(dataset, django_capture_on_commit_callbacks):
    plan = current_plan()
    run, _created = request_report(plan, kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF)
    ReportRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):  # eager here: the job runs at once
        again, created = request_report(plan, kind=ReportKind.MIDTERM, cutoff=MIDTERM_CUTOFF)
    assert (again.pk, created) == (run.pk, False)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


def test_every_kind_of_report_renders(dataset):
    mobilisation = make_report(kind=ReportKind.MOBILISATION, cutoff=datetime.date(2021, 12, 31))
    final = make_report(kind=ReportKind.FINAL, cutoff=datetime.date(2025, 12, 31))
    brief = make_report(kind=ReportKind.QUARTERLY, cutoff=datetime.date(2024, 1, 15), period=q4_2023())
    for run in (mobilisation, final, brief):
        assert run.status == RunStatus.SUCCEEDED, run.error
    mobilisation_text = squeeze(pdf_text(file_path(mobilisation)))
    assert "2021年宣传动员报告" in mobilisation_text
    assert "各单位任务分解" in mobilisation_text and "省教育厅" in mobilisation_text
    assert "青少年科学素质提升行动" in mobilisation_text and "目标指标及基期值" in mobilisation_text
    final_text = squeeze(pdf_text(file_path(final)))
    assert "总结评估情况的报告" in final_text and "各成员单位任务完成情况" in final_text
    assert "已完成" in final_text and "严重滞后" in final_text  # the glossary's words, none merged
    brief_text = squeeze(pdf_text(file_path(brief)))
    assert "季度简报" in brief_text and "2023年第4季度" in brief_text
    assert brief.pages < final.pages


def test_the_report_uses_the_glossary_status_words_and_merges_none(dataset):
    assert pdf.status_class("far_behind") == "far_behind"
    labels = dict(pdf.status_classes())
    assert [
        labels[pdf.status_class(s)]
        for s in ("achieved", "ahead", "on_track", "behind", "far_behind", "no_data", "no_baseline")
    ] == ["已完成", "超前", "正常", "滞后", "严重滞后", "无数据", "基期值待录入"]
    assert dict(pdf.status_classes(final=True)) == labels  # the final evaluation says the same


# ---------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    ("kind", "cutoff", "period", "field", "message"),
    [
        (
            "midterm",
            datetime.date(2020, 12, 31),
            None,
            "cutoff",
            "不能早于实施方案开始实施的日期（2021-01-01）",
        ),
        ("midterm", "tomorrow", None, "cutoff", "不能晚于今天"),
        ("evaluation2024", datetime.date(2023, 12, 31), None, "kind", "没有这种报告类型"),
        ("quarterly", datetime.date(2023, 12, 31), None, "period", "季度简报必须选择报送期"),
        ("quarterly", datetime.date(2023, 11, 30), "q4", "period", "尚未结束"),
        ("midterm", None, None, "cutoff", "请填写数据截止日期"),
    ],
)
def test_bad_requests_are_refused_in_chinese_and_queue_nothing(kind, cutoff, period, field, message):
    from django.core.exceptions import ValidationError

    plan = current_plan()
    from tasks.services import generate_periods

    generate_periods(plan)
    if cutoff == "tomorrow":
        cutoff = timezone.localdate() + datetime.timedelta(days=1)
    period = q4_2023() if period == "q4" else None
    assert message in check_request(plan, kind=kind, cutoff=cutoff, period=period)[field]
    with pytest.raises(ValidationError) as caught:
        request_report(plan, kind=kind, cutoff=cutoff, period=period)
    assert message in caught.value.message_dict[field][0]
    assert not ReportRun.objects.exists()


def test_the_api_queues_a_report_and_refuses_bad_input(api_client, office, viewer, reporter):
    from tests.factories import approved_figure

    approved_figure("rst", 2023, 2, "T09", value=D(100))  # an evaluation needs approved data
    api_client.force_authenticate(office)
    response = api_client.post("/api/v1/reports/", {"kind": "midterm", "cutoff": "2023-12-31"}, format="json")
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    assert response.json()["status"] == "queued" and response.json()["reused"] is False
    again = api_client.post("/api/v1/reports/", {"kind": "midterm", "cutoff": "2023-12-31"}, format="json")
    assert again.status_code == 202 and again.json()["id"] == run_id and again.json()["reused"] is True
    bad = [
        ({"kind": "midterm", "cutoff": "2020-06-30"}, "cutoff", "不能早于"),
        ({"kind": "midterm", "cutoff": "2999-01-01"}, "cutoff", "不能晚于今天"),
        ({"kind": "midterm", "cutoff": "31/12/2023"}, "cutoff", "格式不正确"),
        ({"kind": "yearly", "cutoff": "2023-12-31"}, "kind", "没有这种报告类型"),
        ({"kind": "quarterly", "cutoff": "2023-12-31"}, "period", "季度简报必须选择报送期"),
        ({"kind": "quarterly", "cutoff": "2023-12-31", "period": 999999}, "period", "报送期不存在"),
    ]
    for body, field, message in bad:
        response = api_client.post("/api/v1/reports/", body, format="json")
        assert response.status_code == 400, body
        assert message in response.json()[field][0], (body, response.json())
    assert ReportRun.objects.count() == 1
    detail = api_client.get(f"/api/v1/reports/{run_id}/").json()
    assert detail["progress"] == 0 and detail["download_url"] is None
    api_client.force_authenticate(viewer)
    assert api_client.get("/api/v1/reports/").json()["count"] == 1
    assert api_client.post("/api/v1/reports/", {"kind": "midterm", "cutoff": "2023-06-30"}).status_code == 403
    api_client.force_authenticate(reporter)
    assert api_client.get("/api/v1/reports/").status_code == 403
    assert api_client.get(f"/api/v1/reports/{run_id}/").status_code == 403
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/reports/").status_code == 401


def test_the_api_shows_progress_and_the_download_link_of_a_finished_run(dataset, api_client, viewer):
    run = make_report(kind=ReportKind.QUARTERLY, cutoff=MIDTERM_CUTOFF, period=q4_2023())
    api_client.force_authenticate(viewer)
    body = api_client.get(f"/api/v1/reports/{run.pk}/").json()
    assert body["status"] == "succeeded" and body["progress"] == 100
    assert body["pages"] == run.pages and body["checksum"] == run.checksum
    assert body["download_url"].endswith(f"/api/v1/reports/{run.pk}/download/")
    response = api_client.get(body["download_url"])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_a_report_queued_while_the_broker_was_down_is_rendered_by_the_sweeper(monkeypatch):
    """The sweeper (beat, every 2 minutes) renders report runs that were never delivered."""
    import datetime as dt

    from django.utils import timezone

    from reports import jobs
    from reports.choices import ReportKind, RunStatus
    from reports.models import ReportRun
    from reports.rollup import services
    from tasks.selectors import current_plan

    rendered = []
    monkeypatch.setattr(jobs, "execute", lambda kind, run_id, **fields: rendered.append(run_id) or run_id)
    plan = current_plan()
    old = ReportRun.objects.create(plan=plan, kind=ReportKind.MIDTERM, cutoff=dt.date(2023, 12, 31))
    ReportRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
    ReportRun.objects.create(plan=plan, kind=ReportKind.FINAL, cutoff=dt.date(2025, 12, 31))  # just queued
    assert services.sweep_reports() == {"requeued": 0, "failed": 0, "executed": 1}
    assert rendered == [old.pk]
    assert ReportRun.objects.filter(status=RunStatus.QUEUED).count() == 2  # (the stub renders nothing)


def test_two_active_runs_of_the_same_report_are_refused_by_the_database():
    import datetime as dt

    from django.db import IntegrityError, transaction

    from reports.choices import ReportKind
    from reports.models import ReportRun
    from tasks.selectors import current_plan

    plan = current_plan()
    ReportRun.objects.create(plan=plan, kind=ReportKind.MIDTERM, cutoff=dt.date(2023, 12, 31))
    with pytest.raises(IntegrityError), transaction.atomic():
        ReportRun.objects.create(plan=plan, kind=ReportKind.MIDTERM, cutoff=dt.date(2023, 12, 31))
