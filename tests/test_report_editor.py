"""撰写评估报告: the office writes a milestone report's sections beside what the data says, picks
典型经验 from the units' approved narratives, saves drafts (versioned, stale saves refused),
previews and finalises; bad input is refused in Chinese and loses nothing."""

import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from docx import Document

from reports.choices import ReportKind, RunStatus
from reports.documents import data as report_data
from reports.documents import highlights, pdf
from reports.documents.docx import build_docx
from reports.documents.services import execute_report
from reports.models import ReportDraft, ReportRun
from reports.rollup.rollups import rollup
from tasks import services
from tasks.choices import EvaluationKind
from tasks.models import Measure, MeasureLine, Submission
from tasks.selectors import current_plan
from tests.test_pdf_reports import SCRIPT, dataset, file_path, media_in_tmp, pdf_text, squeeze  # noqa: F401

pytestmark = pytest.mark.django_db

MIDTERM = "/reports/editor/midterm/2023-12-31/"
FINAL = "/reports/editor/final/2025-12-31/"
TEXTS = {
    "overall": "全省全民科学素质工作取得积极进展，公民具备科学素质的比例稳步提高。",
    "problems": "农牧区科普资源供给不足，基层科普人才短缺。",
    "next_steps": "加强统筹协调，压实成员单位责任。",
    "addressee": "省人民政府",
    "document_number": "青科素办〔2024〕2号",
}
REMARK = "（已按退回意见补充完善）"
GOOD = "建成农牧区流动科技馆12个，覆盖全部县（市、区）"


@pytest.fixture
def lines(dataset):  # noqa: F811 (the PDF tests' fixture)
    """Approved 工作进展 of 省教育厅 for 2023 Q4, one with an editing remark."""
    line = MeasureLine.objects.create(
        submission=dataset,
        measure=Measure.objects.get(initiative__code="A1", number=2),
        status="in_progress",
        progress=f"{GOOD}{REMARK}",
    )
    return line


def post(client, url, action="save", version=0, picks=(), **texts):
    data = {**TEXTS, **texts, "action": action, "version": version, "picks": list(picks)}
    return client.post(url, data)


def run_of(response):
    return ReportRun.objects.order_by("-pk").first()


def docx_text(run):
    return "".join(p.text for p in Document(io.BytesIO(build_docx(run.snapshot))).paragraphs)


def test_candidates_are_the_approved_narratives_cleaned_of_editing_remarks(lines):
    groups = highlights.candidates(current_plan(), ReportKind.MIDTERM, datetime.date(2023, 12, 31))
    a1 = next(g for g in groups if g["code"] == "A1")
    texts = [item["text"] for item in a1["items"]]
    assert GOOD in texts and not any("已按退回意见" in t for t in texts)
    item = next(i for i in a1["items"] if i["text"] == GOOD)
    assert (
        item["key"] == f"line:{lines.pk}" and item["unit"] == "省教育厅" and item["period"] == "2023年第4季度"
    )
    # a returned (no longer approved) form offers nothing; the mobilisation report picks nothing
    Submission.objects.filter(pk=lines.submission_id).update(status="returned")
    again = highlights.candidates(current_plan(), ReportKind.MIDTERM, datetime.date(2023, 12, 31))
    assert all(i["key"] != item["key"] for g in again for i in g["items"])
    assert highlights.candidates(current_plan(), ReportKind.MOBILISATION, datetime.date(2021, 12, 31)) == []


def test_the_office_writes_previews_and_finalises_with_picks_in_pdf_and_word(client, office, lines):
    client.force_login(office)
    page = client.get(MIDTERM).content.decode()
    assert GOOD in page and f'value="line:{lines.pk}"' in page
    response = post(client, MIDTERM, "save", picks=[f"line:{lines.pk}"])
    assert response.status_code == 302
    draft = ReportDraft.objects.get()
    assert draft.version == 1 and draft.picks == [f"line:{lines.pk}"] and draft.overall == TEXTS["overall"]

    response = post(client, MIDTERM, "preview", version=1, picks=[f"line:{lines.pk}"])
    assert response.status_code == 302
    preview = run_of(response)
    assert not preview.final and preview.final_number is None and preview.overall == TEXTS["overall"]
    execute_report(preview.pk)
    preview.refresh_from_db()
    assert preview.status == RunStatus.SUCCEEDED, preview.error
    text = squeeze(pdf_text(file_path(preview)))
    assert "征求意见稿" in text and "典型经验" in text and squeeze(GOOD) in text
    assert REMARK not in text.split("典型经验", 1)[1][:200]

    response = post(client, MIDTERM, "final", version=2, picks=[f"line:{lines.pk}"])
    assert response.status_code == 302
    final = run_of(response)
    assert final.final and final.final_number == 1 and final.pk != preview.pk
    execute_report(final.pk)
    final.refresh_from_db()
    assert final.status == RunStatus.SUCCEEDED, final.error
    a1 = next(i for i in final.snapshot["initiatives"] if i["code"] == "A1")
    assert a1["highlights"] == [
        {
            "unit": "省教育厅",
            "period": "2023年第4季度",
            "measure": a1["highlights"][0]["measure"],
            "text": GOOD,
            "source": "季度报送",
        }
    ]
    # the snapshot alone reproduces it: a line changed later does not change the final
    MeasureLine.objects.filter(pk=lines.pk).update(progress="改过的进展")
    html = re.sub(r"<[^>]+>", "", pdf.render_html(final.snapshot))  # numbers sit in no-break spans
    assert squeeze(GOOD) in squeeze(html)
    text = squeeze(pdf_text(file_path(final)))
    assert "征求意见稿" not in text and squeeze(TEXTS["overall"]) in text and squeeze(GOOD) in text
    word = docx_text(final)
    assert TEXTS["overall"] in word and GOOD in word and "典型经验" in word

    # a second final is a new numbered version; the first is kept, and the preview too
    response = post(client, MIDTERM, "final", version=3, overall="第二版总体评价。", picks=[])
    second = run_of(response)
    assert second.final_number == 2 and second.overall == "第二版总体评价。"
    assert ReportRun.objects.filter(kind="midterm").count() == 3
    assert ReportRun.objects.get(pk=final.pk).overall == TEXTS["overall"]
    assert ReportDraft.objects.get().history.count() == 4  # every saved version is kept


def test_a_final_with_an_empty_section_is_refused_by_name_and_writes_nothing(client, office, dataset):  # noqa: F811
    client.force_login(office)
    post(client, FINAL, "save")
    response = post(client, FINAL, "final", version=1, overall="新的总体评价", problems="  ", next_steps="")
    assert response.status_code == 400
    page = response.content.decode()
    assert "不能定稿：省纲要办的“存在的问题”“下一步工作”尚未填写" in page
    assert "新的总体评价" in page  # the typed text is kept
    assert not ReportRun.objects.exists()
    draft = ReportDraft.objects.get()
    assert draft.version == 1 and draft.overall == TEXTS["overall"]  # nothing half-written


def test_10000_characters_are_refused_with_the_limit_and_the_text_kept(client, office):
    client.force_login(office)
    response = post(client, FINAL, "save", problems="很" * 10000)
    assert response.status_code == 400
    page = response.content.decode()
    assert "“存在的问题”不能超过 5000 字（现有 10000 字）" in page
    assert "maxlength" not in page  # the browser does not cut a long paste silently: the server says why
    assert "很" * 10000 in page
    assert not ReportDraft.objects.exists()
    response = post(client, FINAL, "preview", document_number="号" * 51)
    assert response.status_code == 400 and "“文号”不能超过 50 字（现有 51 字）" in response.content.decode()
    assert not ReportRun.objects.exists() and not ReportDraft.objects.exists()


def test_markup_is_kept_as_typed_and_escaped_in_page_pdf_and_word(client, office, dataset):  # noqa: F811
    client.force_login(office)
    markup = f"{SCRIPT}<b>粗体</b>&amp;意见"
    post(client, MIDTERM, "save", overall=markup)
    assert ReportDraft.objects.get().overall == markup
    page = client.get(MIDTERM).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;粗体&lt;/b&gt;&amp;amp;意见" in page
    assert SCRIPT not in page and "<b>粗体</b>" not in page
    post(client, MIDTERM, "preview", version=1, overall=markup)
    run = run_of(None)
    execute_report(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert squeeze(markup) in squeeze(pdf_text(file_path(run)))
    assert markup in docx_text(run)


def test_a_stale_edit_is_refused_and_loses_nothing(client, office, viewer, dataset):  # noqa: F811
    client.force_login(office)
    post(client, FINAL, "save", overall="第一版")
    post(client, FINAL, "save", version=1, overall="第二版")
    response = post(client, FINAL, "save", version=1, overall="我在旧页面上改的")
    assert response.status_code == 409
    page = response.content.decode()
    assert "这份报告稿在您打开之后已被" in page and "现为第 2 版" in page
    assert "我在旧页面上改的" in page
    draft = ReportDraft.objects.get()
    assert (draft.version, draft.overall) == (2, "第二版")
    # a stale final is refused the same way and queues nothing
    response = post(client, FINAL, "final", version=1)
    assert response.status_code == 409 and not ReportRun.objects.exists()
    # the first version is still in the history, and on the page to copy from
    assert [h.overall for h in draft.history.order_by("version")] == ["第一版", "第二版"]
    history = client.get(FINAL).content.decode().split('id="draft-history"', 1)[1]
    assert "第一版" in history and "第二版" in history


def test_a_pick_that_no_longer_exists_or_is_not_approved_is_refused(client, office, lines):
    client.force_login(office)
    response = post(client, MIDTERM, "save", picks=["line:999999"])
    assert response.status_code == 400
    assert "勾选的典型经验中有 1 条已不存在或不再是审核通过的内容（line:999999）" in response.content.decode()
    assert not ReportDraft.objects.exists()
    post(client, MIDTERM, "save", picks=[f"line:{lines.pk}"])
    services.reopen_submission(
        Submission.objects.get(pk=lines.submission_id), by=office, reason="核查：请更正工作进展。"
    )
    page = client.get(MIDTERM).content.decode()
    assert "已保存的 1 条典型经验已不存在或不再是审核通过的内容" in page
    # the lost pick is a ticked box the office can untick (not a hidden field it cannot remove)
    assert f'name="picks" value="line:{lines.pk}" checked' in page and 'id="lost-picks"' in page
    response = post(client, MIDTERM, "final", version=1, picks=[f"line:{lines.pk}"])
    assert response.status_code == 400 and "不再是审核通过的内容" in response.content.decode()
    assert not ReportRun.objects.exists() and ReportDraft.objects.get().version == 1
    response = post(client, MIDTERM, "save", version=1, picks=[], overall="去掉失效的典型经验后保存")
    assert response.status_code == 302
    assert ReportDraft.objects.get().version == 2 and ReportDraft.objects.get().picks == []


def test_a_pick_stays_offered_when_later_lines_push_it_out_of_the_latest_and_is_frozen_in_chinese(
    office, lines, monkeypatch
):
    """A picked line older than an initiative's latest ``PER_INITIATIVE`` candidates is still
    offered and resolved; its labels are frozen in Chinese even when the office works in English."""
    from django.utils import translation

    monkeypatch.setattr(highlights, "PER_INITIATIVE", 0)  # every line is "pushed out"
    key = f"line:{lines.pk}"
    cutoff = datetime.date(2023, 12, 31)
    assert key not in {
        i["key"]
        for g in highlights.candidates(current_plan(), ReportKind.MIDTERM, cutoff)
        for i in g["items"]
    }
    with translation.override("en"):
        found, missing = highlights.resolve(current_plan(), ReportKind.MIDTERM, cutoff, [key])
    assert missing == [] and [f["key"] for f in found] == [key]
    assert found[0]["source"] == "季度报送" and "季度" in found[0]["period"]


def test_self_assessment_achievements_are_candidates_under_the_units_initiatives(office, reporter, approver):
    from tests.test_self_assessment import DEADLINE, judge_all

    evaluation = services.open_round(current_plan(), EvaluationKind.FINAL, deadline=DEADLINE, by=office)
    assessment = services.ensure_self_assessment(evaluation, reporter.membership.unit, by=reporter)
    assessment = judge_all(assessment, reporter)
    cutoff = datetime.date(2025, 12, 31)
    assert highlights.candidates(current_plan(), ReportKind.FINAL, cutoff) == []  # not yet approved
    assessment = services.submit_self_assessment(assessment, by=approver)
    services.approve_self_assessment(assessment, by=office)
    groups = highlights.candidates(current_plan(), ReportKind.FINAL, cutoff)
    keys = [i["key"] for g in groups for i in g["items"]]
    assert f"sa:{assessment.pk}:A1" in keys
    item = next(i for g in groups for i in g["items"] if i["key"] == f"sa:{assessment.pk}:A1")
    assert item["text"] == "建成青少年科学教育体系" and item["source"] == "自评"


def test_the_facts_beside_each_section_are_the_reports_own(client, office, dataset):  # noqa: F811
    client.force_login(office)
    page = client.get(MIDTERM).content.decode()
    snapshot = report_data.build_snapshot(
        plan=current_plan(), kind="midterm", cutoff=datetime.date(2023, 12, 31), office={}
    )
    c = pdf.report_context(snapshot)
    assert c["judgement"]["verdict"] in page
    for label, n, share in c["judgement"]["by_status"]:
        assert f"{label}：{n} 项（{share}）" in page
    assert c["lagging"], "the dataset has lagging targets"
    for row in c["lagging"]:
        assert row["code"] in page and row["owner"] in page
    # the units' problems, escaped
    assert "农牧区科学教师缺口较大&lt;b&gt;需要支持&lt;/b&gt;" in page


def test_the_list_links_the_editors_and_only_the_office_opens_them(client, office, viewer, reporter):
    client.force_login(office)
    listing = client.get("/reports/").content.decode()
    assert FINAL in listing and MIDTERM in listing and "/reports/editor/mobilisation/2021-12-31/" in listing
    assert client.get("/reports/editor/quarterly/2025-12-31/").status_code == 404
    assert client.get("/reports/editor/final/2025-13-31/").status_code == 404
    page = client.get("/reports/editor/mobilisation/2021-12-31/").content.decode()
    assert 'name="next_steps"' in page and 'name="overall"' not in page and 'value="final"' not in page
    for user in (viewer, reporter):
        client.force_login(user)
        assert client.get(FINAL).status_code == 403
        assert post(client, FINAL, "save").status_code == 403
    assert not ReportDraft.objects.exists()


def test_the_editor_page_takes_the_same_number_of_queries_with_more_candidates(client, office, lines):
    client.force_login(office)
    post(client, MIDTERM, "save", picks=[f"line:{lines.pk}"])

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(MIDTERM).status_code == 200
        return len(queries)

    before = count()
    target = lines.submission
    for number in (1, 2, 3):
        MeasureLine.objects.create(
            submission=target,
            measure=Measure.objects.filter(initiative__code="A2").order_by("number")[number - 1],
            status="in_progress",
            progress=f"另一条工作进展{number}",
        )
    post(client, MIDTERM, "save", version=1, picks=[f"line:{lines.pk}"])
    rollup(current_plan())
    assert count() == before
    assert before <= 80, before


def test_a_final_while_the_preview_is_still_being_generated_is_refused_and_writes_nothing(
    client,
    office,
    dataset,  # noqa: F811
):
    client.force_login(office)
    assert post(client, FINAL, "preview").status_code == 302  # queued, not yet rendered
    preview = ReportRun.objects.get()
    response = post(client, FINAL, "final", version=1, overall="改过的总体评价")
    assert response.status_code == 400
    page = response.content.decode()
    assert f"这份报告的第 {preview.pk} 号文件（排队中）还在生成，完成后才能再次生成" in page
    assert "改过的总体评价" in page
    assert ReportRun.objects.get() == preview
    draft = ReportDraft.objects.get()
    assert (draft.version, draft.overall) == (1, TEXTS["overall"])
