"""The evaluation report as an editable Word document (.docx), for offices that finish and
circulate documents in Word or WPS.

Built from the run's frozen snapshot through the same ``pdf.report_context`` as the PDF, so both
files say the same: the cover as issued, the same numbered headings, the computed judgement, the
targets table with the glossary's words, the office's texts, 征求意见稿 on a draft. Fonts are named
as a Chinese office expects: 方正小标宋 / 黑体 for headings and 仿宋 for the text, with the Noto CJK
fonts the portal ships as what Word falls back to. Charts are left to the PDF.
"""

import io

from django.utils import translation
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from reports.documents import pdf

BODY_FONT = "仿宋"
HEADING_FONT = "黑体"
TITLE_FONT = "方正小标宋简体"


def _font(run, name, size=None, bold=None):
    run.font.name = name
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold
    return run


def _paragraph(doc, text, *, font=BODY_FONT, size=14, bold=False, align=None, indent=True):
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    _font(paragraph.add_run(text), font, size, bold)
    return paragraph


def _heading(doc, text, level=1):
    paragraph = doc.add_heading(level=level)
    _font(paragraph.add_run(text), HEADING_FONT if level == 1 else BODY_FONT, 16 if level == 1 else 14, True)
    return paragraph


def _table(doc, header, rows):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        _font(cell.paragraphs[0].add_run(str(text)), HEADING_FONT, 10.5, True)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            _font(cell.paragraphs[0].add_run(str(text)), BODY_FONT, 10.5)
    return table


def build_docx(snapshot: dict) -> bytes:
    """The report of a stored snapshot as .docx bytes (in Chinese, the report's language)."""
    with translation.override("zh-hans"):
        c = pdf.report_context(snapshot)
        return _document(snapshot, c)


def _document(snapshot, c) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = BODY_FONT
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    office = c["office"]
    if c["draft"]:
        _paragraph(
            doc,
            _("征求意见稿"),
            font=HEADING_FONT,
            size=14,
            bold=True,
            align=WD_ALIGN_PARAGRAPH.RIGHT,
            indent=False,
        )
    if office.get("document_number"):
        _paragraph(doc, office["document_number"], align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(
        doc, c["report_title"], font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False
    )
    if office.get("addressee"):
        _paragraph(doc, f"{office['addressee']}：", indent=False)
    for section in c["sections"]:
        _heading(doc, f"{section['number']}、{section['title']}")
        writer = SECTIONS.get(section["id"])
        if writer is not None:
            writer(doc, snapshot, c)
    _paragraph(doc, snapshot["issuer"], align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    if c["issued_text"]:
        _paragraph(doc, c["issued_text"], align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _heading(doc, _("附件　目标指标完成情况一览表"))
    _targets_table(doc, c)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _office_text(doc, text, placeholder):
    for line in [line for line in (text or "").splitlines() if line.strip()] or []:
        _paragraph(doc, line.strip())
    if not (text or "").strip():
        _paragraph(doc, placeholder)


def _method(doc, snapshot, c):
    plan = snapshot["plan"]
    _heading(doc, _("（一）评估依据"), 2)
    basis = _("依据%(issuer)s%(issued)s印发的《%(plan)s》。") % {
        "issuer": plan["issuer"],
        "issued": c["plan_issued"],
        "plan": plan["name"],
    }
    milestone = (snapshot.get("milestone") or {}).get("evaluates")
    if milestone:
        basis += _("实施方案明确：“%(sentence)s”") % {"sentence": milestone}
    _paragraph(doc, basis)
    _heading(doc, _("（二）数据来源与报送情况"), 2)
    j = c["judgement"]
    _paragraph(
        doc,
        _("各成员单位和地方政府应报送季度报送表 %(due)s 份，审核通过 %(approved)s 份，按时报送率 %(rate)s。")
        % {"due": j["due"], "approved": j["approved"], "rate": j["on_time_rate"]},
    )


def _judgement(doc, snapshot, c):
    j = c["judgement"]
    parts = "，".join(f"{label} {n} {_('项')}（{share}）" for label, n, share in j["by_status"])
    _paragraph(
        doc,
        f"{j['verdict']}。"
        + _(
            "%(n)s 项目标指标中，有数据可判定的 %(judged)s 项，已完成或达到序时进度（已完成、超前、正常）的 %(on_pace)s 项，占 %(share)s。"
        )
        % {"n": j["targets"], "judged": j["judged"], "on_pace": j["on_pace"], "share": j["on_pace_share"]}
        + parts
        + "。",
    )
    _heading(doc, _("省纲要办意见"), 2)
    _office_text(doc, c["office"].get("overall"), _("（征求意见稿：省纲要办的总体评价待填写。）"))


def _targets_table(doc, c):
    _table(
        doc,
        [_("编号"), _("目标指标"), _("目标值"), _("实际完成值"), _("完成率"), _("状态")],
        [
            [
                row["code"],
                row["name"],
                row["bound_text"],
                row["texts"]["actual"],
                row["texts"]["completion"],
                row["texts"]["status"]
                + (
                    f"（{row['texts']['years']}）"
                    if row["time_scope"] == "per_year" and row["texts"]["years"] != "—"
                    else ""
                ),
            ]
            for row in c["rows"]
        ],
    )


def _targets(doc, snapshot, c):
    _targets_table(doc, c)


def _self_assessments(doc, snapshot, c):
    sa = snapshot.get("self_assessments")
    if not sa or not sa["units"]:
        _paragraph(doc, _("尚无审核通过的自评报告。"))
        return
    for unit in sa["units"]:
        _heading(doc, unit["unit"], 3)
        counts = unit["counts"]
        _paragraph(
            doc,
            _("承担的工作措施自评：已完成 %(done)s 项，基本完成 %(mostly)s 项，未完成 %(not_done)s 项。")
            % {
                "done": counts.get("done", 0),
                "mostly": counts.get("mostly", 0),
                "not_done": counts.get("not_done", 0),
            },
        )
        if unit["achievements"]:
            _paragraph(doc, unit["achievements"])


def _problems(doc, snapshot, c):
    for initiative in c["problem_initiatives"]:
        _heading(doc, initiative["title"], 3)
        for problem in initiative["problems"]:
            _paragraph(doc, problem["text"])
    _heading(doc, _("省纲要办意见"), 2)
    _office_text(doc, c["office"].get("problems"), _("（征求意见稿：省纲要办对存在问题的分析待填写。）"))


def _next(doc, snapshot, c):
    for owner, rows in c["next_by_owner"]:
        _paragraph(
            doc,
            f"{owner}："
            + "；".join(f"{r['code']} {r['name']}（{r['texts']['actual']}，{r['bound_text']}）" for r in rows)
            + "。",
        )
    _office_text(doc, snapshot.get("next_steps"), _("（征求意见稿：省纲要办的下一步工作安排待填写。）"))


def _highlights(doc, snapshot, c):
    """典型经验 the office picked, under their initiatives (the rest of this section is the PDF's)."""
    for initiative in c["initiatives"]:
        if not initiative.get("highlights"):
            continue
        _heading(doc, f"{initiative['label']} {initiative['title']}", 3)
        _paragraph(doc, _("典型经验"), bold=True)
        for e in initiative["highlights"]:
            where = " · ".join(x for x in (e["period"], e.get("measure")) if x)
            _paragraph(doc, f"{e['unit']}（{where}）：{e['text']}")


SECTIONS = {
    "tasks": _highlights,
    "method": _method,
    "judgement": _judgement,
    "targets": _targets,
    "self": _self_assessments,
    "problems": _problems,
    "next": _next,
}
