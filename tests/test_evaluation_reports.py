"""中期评估 / 总结评估 as documents the office can send up: the evaluation's structure, the office's
text beside what the data says, drafts marked 征求意见稿 on every page, finals without
placeholders, the cover as the office issues it."""

import datetime
import itertools
import re

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


# ---------------------------------------------------------------- the 2023 and 2025 reports, read back

UNIT_WORDS = ("万人次", "人次", "元/人", "万元", "元", "%", "个", "项", "名", "家")


def _final_run(kind):
    cutoff = {ReportKind.MIDTERM: datetime.date(2023, 12, 31), ReportKind.FINAL: FINAL_CUTOFF}[kind]
    return make(
        kind=kind, cutoff=cutoff, office={**OFFICE, "final": True}, next_steps="持续推进科普经费落实。"
    )


def _context(run):
    from django.utils import translation

    from reports.documents import pdf

    with translation.override("zh-hans"):
        return pdf.report_context(run.snapshot)


def _between(text, start, end):
    """The text of a section: from its heading in the body (the second time it appears, after the
    contents page) to the next heading."""
    first = text.index(start)
    begin = text.index(start, first + len(start))
    return text[begin : text.index(end, begin)]


def _captions(text, label):
    return [int(n) for n in re.findall(rf"^\f?{label}(\d+)\s", text, re.M)]


@pytest.mark.parametrize("kind", [ReportKind.MIDTERM, ReportKind.FINAL])
def test_the_final_pdf_has_every_heading_target_member_unit_and_no_placeholder(dataset, kind):  # noqa: F811
    from units.models import Unit

    run = _final_run(kind)
    c = _context(run)
    raw = pdf_text(file_path(run))
    text = squeeze(raw)
    headings = [f"{s['number']}、{s['title']}" for s in c["sections"]]
    for heading in headings + [f"附件{a['number']}{a['title']}" for a in c["annexes"]]:
        assert text.count(heading) >= 2, heading  # in the contents and in the body
    for sub in (
        "（一）评估依据",
        "（二）评估方法",
        "（三）数据来源与报送情况",
        "（一）科普经费投入",
        "（一）针对滞后指标的工作",
    ):
        assert sub in text, sub
    for row in c["rows"]:
        assert row["name"] in text and squeeze(row["bound_text"]) in text, row["code"]
        assert squeeze(row["texts"]["actual"]) in text, (row["code"], row["texts"]["actual"])
    # annex 2: each target's plan phrase, rule and data source
    annex = _between(text, "附件2目标指标评估口径与数据来源", "附件3")
    for target in Target.objects.all():
        assert squeeze(target.phrase or target.bound_text) in annex, target.code
    assert "增量累计" in annex and "现值" in annex and "报送" in annex
    # every member unit in the per-unit section and in the member annex
    units = _between(text, headings[-3], headings[-2])  # 各成员单位任务… up to 存在的问题
    members = _between(text, "附件3成员单位及任务分工", "附件4")
    for unit in Unit.objects.office_members():
        assert unit.short_name in units and unit.short_name in members, unit.short_name
    assert "省教育厅提升行动1青少年科学素质提升行动" in members  # its lead, then what it takes part in
    # a final carries no placeholder text anywhere
    for placeholder in ("待填写", "尚未填写", "征求意见稿"):
        assert placeholder not in text, placeholder
    # figures and tables numbered 1, 2, 3 … in order
    figures, tables = _captions(raw, "图"), _captions(raw, "表")
    assert figures == list(range(1, len(figures) + 1)) and len(figures) >= 3
    assert tables == list(range(1, len(tables) + 1)) and len(tables) >= 10
    # milestone targets are marks in a table, not line charts
    milestones = [r["code"] for r in c["rows"] if r["combine"] == "milestone"]
    assert milestones and "里程碑类目标指标完成情况" in text
    assert not {t["code"] for t in c["trend_charts"]} & set(milestones)
    # a number is never split from its unit at the end of a line
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    for line, following in itertools.pairwise(lines):
        if re.search(r"\d$", line):
            assert not following.startswith(UNIT_WORDS), (line, following)


def test_numbers_and_units_are_kept_together_outside_markup_and_charts():
    from reports.documents.pdf import keep_numbers_with_units

    snapshot = {"targets": [{"unit": "家电视台"}, {"unit": "个县（市、区）"}]}
    html = (
        "<head><title>50万人次</title></head><body><p>培训50万人次以上，人均2.2元/人，3家电视台，"
        '12个县（市、区）</p><svg><text>2.2元</text></svg><p class="T12">T12 达到72.5%</p></body>'
    )
    out = keep_numbers_with_units(html, snapshot)
    for kept in ("50万人次", "2.2元/人", "3家电视台", "12个县", "72.5%"):
        assert f'<span class="nb">{kept}</span>' in out, kept
    assert "<title>50万人次</title>" in out and "<text>2.2元</text>" in out  # head and charts untouched
    assert 'class="T12"' in out and "T12 达到" in out  # a code is not a number


@pytest.mark.parametrize("kind", [ReportKind.MIDTERM, ReportKind.FINAL])
def test_the_word_file_has_the_pdfs_headings_numbered_tables_charts_and_chinese_fonts(dataset, kind):  # noqa: F811
    import io
    import time

    from docx import Document
    from docx.oxml.ns import qn

    from reports.documents.docx import build_docx
    from units.models import Unit

    run = _final_run(kind)
    c = _context(run)
    started = time.monotonic()
    data = build_docx(run.snapshot)
    assert time.monotonic() - started < 10  # ≤ 3 s on the demo data; generous on a loaded test box
    doc = Document(io.BytesIO(data))
    pdf_raw = pdf_text(file_path(run))
    pdf_squeezed = squeeze(pdf_raw)
    paragraphs = [p.text for p in doc.paragraphs]
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for s in c["sections"]:
        assert f"{s['number']}、{s['title']}" in headings, s["title"]
    for a in c["annexes"]:
        assert f"附件{a['number']}　{a['title']}" in headings, a["title"]
    for heading in headings:  # every Word heading is a heading of the PDF
        assert squeeze(heading) in pdf_squeezed, heading
    # the same numbered captions, in the same order, as the PDF
    captions = [t for t in paragraphs if re.match(r"^[表图]\d+　", t)]
    pdf_captions = re.findall(r"^\f?([表图]\d+)\s", pdf_raw, re.M)
    assert [t.split("　")[0] for t in captions] == pdf_captions
    for caption in captions:
        assert squeeze(caption) in pdf_squeezed, caption
    # charts as pictures: one per figure, and two per row of the trend figure
    figures = sum(1 for t in captions if t.startswith("图"))
    pictures = doc.inline_shapes
    assert len(pictures) == figures - (1 if c["trend_charts"] else 0) + len(c["trend_charts"])
    blobs = [
        doc.part.related_parts[p._inline.graphic.graphicData.pic.blipFill.blip.embed].blob for p in pictures
    ]
    assert all(blob.startswith(b"\x89PNG") and len(blob) > 300 for blob in blobs)
    # tables: every target with its phrase and value, every member unit with its assignments
    cells = "\n".join(cell.text for table in doc.tables for row in table.rows for cell in row.cells)
    for row in c["rows"]:
        assert row["name"] in cells and row["bound_text"] in cells and row["texts"]["actual"] in cells
    member_table = next(t for t in doc.tables if t.rows[0].cells[0].text == "成员单位")
    names = [r.cells[0].text for r in member_table.rows[1:]]
    assert names == [u["name"] for u in c["member_assignments"]]
    assert set(names) == set(Unit.objects.office_members().values_list("short_name", flat=True))
    assert len(doc.tables) == len([t for t in captions if t.startswith("表")])

    # fonts: named for East Asian text on the styles and on every run, no theme font left
    def east_asia(rpr):
        fonts = rpr.rFonts
        assert fonts.get(qn("w:asciiTheme")) is None and fonts.get(qn("w:eastAsiaTheme")) is None
        return fonts.get(qn("w:eastAsia"))

    assert east_asia(doc.styles["Normal"].element.rPr) == "仿宋_GB2312"
    assert east_asia(doc.styles["Heading 1"].element.rPr) == "黑体"
    assert east_asia(doc.styles["Heading 2"].element.rPr) == "楷体_GB2312"
    for paragraph in doc.paragraphs:
        for r in [r for r in paragraph.runs if r.text]:  # (a picture's run has no text)
            expected = {"Heading 1": "黑体", "Heading 2": "楷体_GB2312"}.get(paragraph.style.name)
            name = east_asia(r._element.rPr)
            assert name in ("仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体"), paragraph.text
            assert expected is None or name == expected, paragraph.text
    # a final: no placeholder anywhere
    everything = "\n".join(paragraphs) + cells
    for placeholder in ("待填写", "尚未填写", "征求意见稿"):
        assert placeholder not in everything


def test_a_per_year_milestone_met_every_year_so_far_is_ticked_and_a_missed_year_is_crossed():
    """每年组织开展… judged 正常 at the mid-term with 2/2 years met shows √, not ×; 1/2 shows ×."""
    from reports.documents.pdf import _milestones

    base = {"combine": "milestone", "time_scope": "per_year", "texts": {"years": "2/2 年达标"}}
    met = _milestones([{**base, "status": "on_track", "years_met": 2, "years_judged": 2}], final=False)[0]
    assert (met["mark"], met["done"]) == ("√", True)
    missed = {**base, "status": "behind", "years_met": 1, "years_judged": 2, "texts": {"years": "1/2 年达标"}}
    assert _milestones([missed], final=False)[0]["mark"] == "×"
    not_yet = {**base, "status": "no_data", "years_met": 0, "years_judged": 0, "texts": {"years": "—"}}
    assert _milestones([not_yet], final=False)[0]["mark"] == "…"


def _context_of(snapshot):
    from django.utils import translation

    from reports.documents import pdf

    with translation.override("zh-hans"):
        return pdf.report_context(snapshot)


def test_the_measurement_annex_states_each_targets_ceiling_as_the_rules_page_does(dataset):  # noqa: F811
    from reports.documents.data import build_snapshot

    snapshot = build_snapshot(plan=current_plan(), kind="final", cutoff=FINAL_CUTOFF, office={})
    rows = {r["code"]: r for r in _context_of(snapshot)["annex_measurement"]}
    capped = Target.objects.exclude(ceiling=None)
    assert capped.exists()
    for target in capped:
        assert "上限" in rows[target.code]["rule"], (target.code, rows[target.code]["rule"])
