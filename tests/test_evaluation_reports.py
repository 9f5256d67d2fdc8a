"""中期评估 / 总结评估 as documents the office can send up: the evaluation's structure, the office's
text beside what the data says, drafts marked 征求意见稿 on every page, finals without
placeholders, the cover as the office issues it."""

import datetime

import pytest

from reports.choices import ReportKind, RunStatus
from reports.documents.services import check_request, execute_report, request_report
from reports.documents.views import default_request
from targets.models import Target
from tasks.selectors import current_plan
from tests.test_pdf_reports import dataset, file_path, media_in_tmp, pdf_info, pdf_text, squeeze  # noqa: F401

pytestmark = pytest.mark.django_db
FINAL_CUTOFF = datetime.date(2025, 12, 31)
OFFICE = {
    "overall": "“十四五”期间全省全民科学素质工作取得积极进展。",
    "problems": "部分地区科普经费投入不足，基层科普人才短缺。",
    "addressee": "省人民政府",
    "document_number": "青科素办〔2026〕1号",
}


def make(kind=ReportKind.FINAL, cutoff=FINAL_CUTOFF, office=None, next_steps=""):
    run, _created = request_report(
        current_plan(), kind=kind, cutoff=cutoff, next_steps=next_steps, office=office
    )
    execute_report(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    return run


def test_a_draft_final_evaluation_has_the_evaluations_sections_and_is_marked_on_every_page(dataset):  # noqa: F811 (the PDF tests' fixture)
    run = make(office={"addressee": "省人民政府"})
    pages = int(pdf_info(file_path(run))["Pages"])
    text = squeeze(pdf_text(file_path(run)))
    assert "关于《青海省全民科学素质行动规划纲要实施方案（2021—2025年）》总结评估情况的报告" in text
    assert "青海省全民科学素质纲要实施工作办公室" in text and "省人民政府：" in text
    for heading in (
        "评估工作开展情况",
        "总体评价",
        "目标指标完成情况",
        "各成员单位任务完成情况",
        "存在的问题",
        "下一步工作",
    ):
        assert heading in text, heading
    assert "组织开展全面督查" in text  # the plan's own sentence for the 2025 milestone
    # the computed judgement: every target counted, by the glossary's words
    assert f"{Target.objects.count()}项目标指标中" in text
    assert "征求意见稿" in squeeze(pdf_text(file_path(run), first=1))
    for page in range(2, pages + 1):
        assert "（征求意见稿）" in squeeze(pdf_text(file_path(run), first=page)), page
    assert "省纲要办的总体评价待填写" in text  # a draft says what is missing
    # the cover carries no page number; the next page does
    assert "第1页" not in squeeze(pdf_text(file_path(run), first=1))
    assert "第2页" in squeeze(pdf_text(file_path(run), first=2))


def test_a_final_needs_every_office_section_and_then_has_no_placeholder(dataset):  # noqa: F811 (the PDF tests' fixture)
    errors = check_request(
        current_plan(), kind="final", cutoff=FINAL_CUTOFF, office={**OFFICE, "overall": "", "final": True}
    )
    assert "定稿前请填写省纲要办的“总体评价”“下一步工作”" in errors["final"]
    quarterly = check_request(current_plan(), kind="quarterly", cutoff=FINAL_CUTOFF, office={"final": True})
    assert "只有中期评估报告和总结评估报告需要定稿" in quarterly["final"]
    run = make(office={**OFFICE, "final": True}, next_steps="持续推进科普经费落实。")
    text = squeeze(pdf_text(file_path(run)))
    assert "征求意见稿" not in text and "待填写" not in text and "尚未填写" not in text
    assert (
        "青科素办〔2026〕1号" in text
        and squeeze(OFFICE["overall"]) in text
        and squeeze(OFFICE["problems"]) in text
    )


def test_an_office_text_of_10000_characters_or_markup_is_refused_or_escaped(dataset, client, office):  # noqa: F811 (the PDF tests' fixture)
    errors = check_request(
        current_plan(), kind="final", cutoff=FINAL_CUTOFF, office={"overall": "很" * 10000}
    )
    assert "“总体评价”不能超过 5000 字（现有 10000 字）" in errors["overall"]
    client.force_login(office)
    response = client.post(
        "/api/v1/reports/",
        {"kind": "final", "cutoff": "2025-12-31", "problems": "很" * 10000, "final": "maybe"},
        content_type="application/json",
    )
    assert response.status_code == 400
    body = str(response.json())
    assert "不能超过 5000 字" in body and "定稿须为 true 或 false" in body
    run = make(office={"overall": "<script>alert(1)</script>意见"})
    assert "<script>alert(1)</script>意见" in squeeze(pdf_text(file_path(run)))  # shown as text


def test_the_form_starts_at_the_final_evaluation_with_a_date_the_browser_accepts(client, office):
    assert default_request(current_plan()) == {"kind": ReportKind.FINAL, "cutoff": FINAL_CUTOFF}
    client.force_login(office)
    page = client.get("/reports/").content.decode()
    assert 'value="2025-12-31"' in page and 'value="final" selected' in page


def test_the_final_evaluation_quotes_the_approved_self_assessments(dataset, office, reporter, approver):  # noqa: F811
    """省教育厅's approved 自评 appears under 各成员单位自评情况 with its measures' judgements, and
    the overall judgement counts them; a draft one elsewhere is left out."""
    from tasks import services
    from tasks.choices import EvaluationKind
    from tests.test_self_assessment import DEADLINE, judge_all

    evaluation = services.open_round(current_plan(), EvaluationKind.FINAL, deadline=DEADLINE, by=office)
    jyt = reporter.membership.unit
    assessment = services.ensure_self_assessment(evaluation, jyt, by=reporter)
    assessment = judge_all(assessment, reporter)
    assessment = services.submit_self_assessment(assessment, by=approver)
    services.approve_self_assessment(assessment, by=office)
    run = make(office={})
    text = squeeze(pdf_text(file_path(run)))
    assert "各成员单位自评情况" in text and "建成青少年科学教育体系" in text
    assert f"承担的工作措施自评：已完成{assessment.judgements.count()}项" in text
    assert "个成员单位中1个的自评经审核通过" in text


def test_the_word_document_says_what_the_pdf_says(dataset, client, office):  # noqa: F811
    """The .docx read back with python-docx: the title, every section heading, every target with
    its phrase and value, the office's texts, and 征求意见稿 on a draft only."""
    import io

    from docx import Document

    draft = make(office={"overall": "总体推进有力。"})
    client.force_login(office)
    response = client.get(f"/reports/{draft.pk}/download.docx")
    assert response.status_code == 200 and response["Content-Disposition"].endswith(".docx")
    doc = Document(io.BytesIO(b"".join(response.streaming_content)))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "关于《青海省全民科学素质行动规划纲要实施方案（2021—2025年）》总结评估情况的报告" in text
    assert "征求意见稿" in text and "总体推进有力。" in text
    for heading in ("评估工作开展情况", "总体评价", "目标指标完成情况", "存在的问题", "下一步工作"):
        assert heading in text, heading
    for target in Target.objects.all():
        assert target.name in cells and target.bound_text in cells, target.code
    assert "9万人次" in cells  # T09 as the PDF writes it
    final = make(office={**OFFICE, "final": True}, next_steps="持续推进。")
    text = "\n".join(
        p.text
        for p in Document(
            io.BytesIO(b"".join(client.get(f"/reports/{final.pk}/download.docx").streaming_content))
        ).paragraphs
    )
    assert "征求意见稿" not in text and "待填写" not in text and OFFICE["document_number"] in text


def test_a_report_for_a_cut_off_without_approved_data_is_refused_in_chinese(dataset):  # noqa: F811
    """Before the first quarter ends, or before any form of the quarters covered is approved, a
    report would hold nothing: the request is refused with the reason, and no run is written."""
    from django.core.exceptions import ValidationError

    from reports.models import ReportRun
    from tasks.choices import SubmissionStatus
    from tasks.models import Submission

    plan = current_plan()
    too_early = check_request(plan, kind=ReportKind.MIDTERM, cutoff=datetime.date(2021, 2, 1))
    assert "还没有结束的报送期" in too_early["cutoff"] and "2021-12-31" in too_early["cutoff"]

    Submission.objects.filter(status=SubmissionStatus.APPROVED).update(status=SubmissionStatus.SUBMITTED)
    errors = check_request(plan, kind=ReportKind.FINAL, cutoff=FINAL_CUTOFF)
    assert "还没有审核通过的季度报送" in errors["cutoff"]
    with pytest.raises(ValidationError):
        request_report(plan, kind=ReportKind.FINAL, cutoff=FINAL_CUTOFF)
    assert not ReportRun.objects.exists()
