"""The evaluation report as an editable Word document (.docx), for offices that finish and
circulate documents in Word or WPS.

Built from the run's frozen snapshot through the same ``pdf.report_context`` as the PDF, so both
files say the same: the cover as issued, the same numbered headings (一、 …, （一） …), the computed
judgement, the same tables numbered 表1 … and the same charts numbered 图1 … in the same order
(the PDF's SVG drawn to PNG with CairoSVG), the office's texts, 征求意见稿 on a draft, and the same
annexes. Fonts are named as a Chinese office expects (GB/T 9704): 方正小标宋简体 for the title,
黑体 for 一、 headings, 楷体_GB2312 for （一） headings, 仿宋_GB2312 for the text, Times New Roman
for Latin letters and digits; each run names its East Asian font (``w:eastAsia``) so Word and WPS
use it, and the heading styles drop their theme fonts, which would otherwise win.
"""

import io
from xml.sax.saxutils import escape

from django.utils import translation
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor

from reports.documents import pdf

BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
TITLE_FONT = "方正小标宋简体"
LATIN_FONT = "Times New Roman"
BLACK = RGBColor(0, 0, 0)
# Chart pictures: drawn at twice their size for print, placed at the PDF's width.
CHART_SCALE = 2
TREND_SCALE = 1.5


def _set_fonts(rpr, name):
    """Name the fonts of a run's or style's properties: ``name`` for East Asian text."""
    fonts = rpr.get_or_add_rFonts()
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), name)
    fonts.set(qn("w:hint"), "eastAsia")


def _font(run, name, size=None, bold=None):
    _set_fonts(run._element.get_or_add_rPr(), name)
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


HEADING_FONTS = {1: (HEADING_FONT, 16), 2: (SUBHEADING_FONT, 15), 3: (BODY_FONT, 14)}


def _heading(doc, text, level=1):
    paragraph = doc.add_heading(level=level)
    name, size = HEADING_FONTS.get(level, (BODY_FONT, 14))
    run = _font(paragraph.add_run(text), name, size, level != 2)
    run.font.color.rgb = BLACK
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _next_number(c, kind):
    numbers = c.setdefault("_docx_numbers", {"figure": 0, "table": 0})
    numbers[kind] += 1
    return numbers[kind]


def _caption(doc, c, kind, text):
    """表N / 图N and the title, numbered in the PDF's order."""
    label = _("表") if kind == "table" else _("图")
    paragraph = _paragraph(
        doc,
        f"{label}{_next_number(c, kind)}　{text}",
        font=HEADING_FONT,
        size=10.5,
        align=WD_ALIGN_PARAGRAPH.CENTER,
        indent=False,
    )
    if kind == "table":
        paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _table(doc, header, rows, c=None, caption=None):
    """A grid table: the header row in 黑体 (repeated on every page), the cells in 仿宋 10.5 pt
    through the ``表格表头`` / ``表格文字`` paragraph styles. The rows are written as one piece of
    XML: building a large table cell by cell through python-docx takes seconds."""
    if caption is not None:
        _caption(doc, c, "table", caption)
    table = doc.add_table(rows=0, cols=len(header))
    table.style = "Table Grid"
    head_style, body_style = _table_styles(doc)
    widths = _column_widths(doc, header, rows)

    def row_xml(cells, style, head=False):
        props = "<w:trPr><w:tblHeader/></w:trPr>" if head else ""
        return (
            f"<w:tr>{props}"
            + "".join(
                f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p><w:pPr><w:pStyle w:val="{style}"/>'
                f'</w:pPr><w:r><w:t xml:space="preserve">{escape(str(text))}</w:t></w:r></w:p></w:tc>'
                for text, width in zip(cells, widths, strict=True)
            )
            + "</w:tr>"
        )

    xml = (
        f"<w:tbl {nsdecls('w')}>"
        + row_xml(header, head_style, head=True)
        + "".join(row_xml(row, body_style) for row in rows)
        + "</w:tbl>"
    )
    for tr in list(parse_xml(xml)):
        table._tbl.append(tr)
    for grid_col, width in zip(table._tbl.tblGrid.iterchildren(), widths, strict=True):
        grid_col.set(qn("w:w"), str(width))
    # the full width of the text, as the PDF's tables, columns shared by their contents' length
    width = table._tbl.tblPr.find(qn("w:tblW"))
    if width is None:
        width = parse_xml(f"<w:tblW {nsdecls('w')}/>")
        table._tbl.tblPr.append(width)
    width.set(qn("w:w"), str(sum(widths)))
    width.set(qn("w:type"), "dxa")
    return table


def _text_width(text):
    """A text's width in Chinese characters (a Latin letter or digit is about half of one)."""
    return sum(0.55 if ord(ch) < 0x2E80 else 1 for ch in str(text))


def _column_widths(doc, header, rows):
    """Column widths in twentieths of a point, filling the text width. A column of short texts
    (codes, numbers, percentages, status words: at most six characters) gets the width its
    longest text needs, so T01 or 120% never wraps, whatever font Word or WPS substitutes; the
    other columns share the rest by their longest text (a name column gets room)."""
    section = doc.sections[-1]
    total = int((section.page_width - section.left_margin - section.right_margin) / 635)  # EMU → twips
    char, pad = 210, 230  # a 10.5 pt Chinese character; a cell's left and right margins
    fixed, weights = {}, {}
    for index, head in enumerate(header):
        longest = max([_text_width(row[index]) for row in rows] + [0])
        if longest <= 6:
            fixed[index] = int(max(longest, min(_text_width(head), 4), 1.5) * char * 1.15) + pad
        else:
            weights[index] = min(longest, 16) + 1
    rest = total - sum(fixed.values())
    if not weights or rest < len(weights) * 4 * char:  # all short, or too many: share by length
        weights = {i: min(max([_text_width(r[i]) for r in rows] + [3.5]), 16) + 1 for i in range(len(header))}
        fixed, rest = {}, total
    share = sum(weights.values())
    return [fixed[i] if i in fixed else rest * weights[i] // share for i in range(len(header))]


def _table_styles(doc):
    """The style ids of the table header and table text paragraph styles (made once per file)."""
    from docx.enum.style import WD_STYLE_TYPE

    styles = doc.styles
    ids = []
    for name, font, bold in (("表格表头", HEADING_FONT, True), ("表格文字", BODY_FONT, False)):
        try:
            style = styles[name]
        except KeyError:
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = styles["Normal"]
            style.font.size = Pt(10.5)
            style.font.bold = bold
            _set_fonts(style.element.get_or_add_rPr(), font)
        ids.append(style.style_id)
    return ids


def _png(svg, scale=CHART_SCALE):
    import cairosvg

    return cairosvg.svg2png(bytestring=str(svg).encode(), scale=scale)


def _figure(doc, c, svg, caption, width_cm=15.5):
    """A chart as a picture with its numbered caption under it, as in the PDF."""
    paragraph = doc.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run().add_picture(io.BytesIO(_png(svg)), width=Cm(width_cm))
    _caption(doc, c, "figure", caption)


def build_docx(snapshot: dict) -> bytes:
    """The report of a stored snapshot as .docx bytes (in Chinese, the report's language)."""
    with translation.override("zh-hans"):
        c = pdf.report_context(snapshot)
        return _document(snapshot, c)


def _styles(doc):
    normal = doc.styles["Normal"]
    normal.font.size = Pt(14)
    _set_fonts(normal.element.get_or_add_rPr(), BODY_FONT)
    for level, (name, size) in HEADING_FONTS.items():
        style = doc.styles[f"Heading {level}"]
        _set_fonts(style.element.get_or_add_rPr(), name)
        style.font.size = Pt(size)
        style.font.color.rgb = BLACK
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)


def _document(snapshot, c) -> bytes:
    doc = Document()
    _styles(doc)
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
        writer = (SECTIONS if c["evaluation"] else BRIEF_SECTIONS.get(c["kind"], {})).get(section["id"])
        if writer is not None:
            writer(doc, snapshot, c)
    _paragraph(doc, snapshot["issuer"], align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    if c["issued_text"]:
        _paragraph(doc, c["issued_text"], align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _annexes(doc, snapshot, c)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _office_text(doc, text, placeholder):
    for line in [line for line in (text or "").splitlines() if line.strip()] or []:
        _paragraph(doc, line.strip())
    if not (text or "").strip():
        _paragraph(doc, placeholder)


# ---------------------------------------------------------------- sections, as the PDF's partials


def _overview(doc, snapshot, c):
    o = c["overview"]
    t = o["totals"]
    text = _(
        "截至%(cutoff)s，纳入实施方案报送的单位共 %(units)s 个，其中省直部门和人民团体 %(provincial)s 个、市州和县（市、区）人民政府 %(local)s 个；省纲要办成员单位 %(members)s 个。"
    ) % {
        "cutoff": c["cutoff_text"],
        "units": o["units"],
        "provincial": o["provincial"],
        "local": o["local"],
        "members": o["members"],
    }
    if c["as_of"]:
        text += _(
            "应报送报送表 %(due)s 份，已审核通过 %(approved)s 份；按时报送 %(on_time)s 份（按时率 %(rate)s），逾期报送 %(late)s 份，未报 %(missing)s 份。"
        ) % {
            "due": t["due"],
            "approved": t["approved"],
            "on_time": t["on_time"],
            "rate": t["rate"],
            "late": t["late"],
            "missing": t["missing"],
        }
    _paragraph(doc, text)
    periods = c["compliance"]["periods"]
    if c["quarterly"] or not periods:
        return
    _table(
        doc,
        [_("报送期"), _("应报送"), _("已审核通过"), _("按时"), _("逾期"), _("未报"), _("按时率")],
        [
            [p["label"], p["due"], p["approved"], p["on_time"], p["late"], p["missing"], p["rate"]]
            for p in periods
        ]
        + [[_("合计"), t["due"], t["approved"], t["on_time"], t["late"], t["missing"], t["rate"]]],
        c,
        _("各报送期报送情况"),
    )
    if len(periods) > 1:
        _figure(doc, c, c["compliance"]["chart"], _("各报送期按时报送率（按时报送份数 ÷ 应报送份数）"))


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
    _heading(doc, _("（二）评估方法"), 2)
    _paragraph(
        doc,
        _(
            "本次评估以%(cutoff)s为数据截止日期，以%(known)s结束时各单位已审核通过的季度报送数据、省纲要办录入的抽样调查和监测结果为依据。目标指标按实施方案原文表述逐项判定：按增量累计的指标累计规划期内新增数，按现值的指标取最近一期数值，覆盖类指标取已覆盖数与应覆盖总数；须从基期值起算的指标，基期值未录入前不推算序时进度；每年考核的指标逐年判定；分地区考核的指标逐个地区判定。"
        )
        % {"cutoff": c["cutoff_text"], "known": c["knowledge_text"]},
    )
    _heading(doc, _("（三）数据来源与报送情况"), 2)
    _overview(doc, snapshot, c)


def _judgement(doc, snapshot, c):
    j = c["judgement"]
    parts = "，".join(
        _("%(label)s %(n)s 项（%(share)s）") % {"label": label, "n": n, "share": share}
        for label, n, share in j["by_status"]
    )
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
    if j["line_total"]:
        _paragraph(
            doc,
            _("各项工作措施最近一期审核通过的 %(lines)s 条进展中，%(parts)s。")
            % {"lines": j["line_total"], "parts": j["measures"]},
        )
    if j["self_units"]:
        _paragraph(
            doc,
            _(
                "%(members)s 个成员单位中 %(n)s 个的自评经审核通过，其承担的工作措施自评已完成 %(done)s 项、基本完成 %(mostly)s 项、未完成 %(not_done)s 项。"
            )
            % {
                "members": j["self_members"],
                "n": j["self_units"],
                "done": j["self_done"],
                "mostly": j["self_mostly"],
                "not_done": j["self_not_done"],
            },
        )
    _paragraph(
        doc,
        _("各成员单位和地方政府应报送季度报送表 %(due)s 份，审核通过 %(approved)s 份，按时报送率 %(rate)s。")
        % {"due": j["due"], "approved": j["approved"], "rate": j["on_time_rate"]},
    )
    _heading(doc, _("省纲要办意见"), 2)
    _office_text(doc, c["office"].get("overall"), _("（征求意见稿：省纲要办的总体评价待填写。）"))


def _years(row):
    return (
        f"（{row['texts']['years']}）"
        if row["time_scope"] == "per_year" and row["texts"]["years"] != "—"
        else ""
    )


def _targets_table(doc, c, caption=None):
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
                row["texts"]["status"] + _years(row),
            ]
            for row in c["rows"]
        ],
        c,
        caption,
    )


def _targets(doc, snapshot, c):
    _heading(doc, _("（一）总体完成情况"), 2)
    if c["as_of"]:
        _paragraph(
            doc,
            _("%(n)s 项目标指标中，%(parts)s。")
            % {
                "n": len(c["rows"]),
                "parts": "，".join(
                    _("%(label)s %(n)s 项") % {"label": s["label"], "n": s["n"]} for s in c["summary"]
                ),
            },
        )
        _figure(doc, c, c["status_chart"], _("目标指标完成情况分类统计"), width_cm=15.5)
        if not c["quarterly"]:
            _figure(
                doc,
                c,
                c["completion_chart"],
                _("各目标指标完成率（实际完成值 ÷ 目标值；分地区考核和里程碑类指标见下表）"),
            )
    _heading(
        doc,
        _("（二）各项目标指标最终完成情况") if c["final"] else _("（二）各项目标指标完成情况"),
        2,
    )
    _targets_table(doc, c, _("各项目标指标最终完成情况") if c["final"] else _("各项目标指标完成情况"))
    if c["milestones"]:
        _table(
            doc,
            [_("编号"), _("目标指标"), _("实施方案表述"), _("是否完成"), _("状态")],
            [
                [r["code"], r["name"], r["bound_text"], f"{r['mark']} {r['done_text']}", r["cls_label"]]
                for r in c["milestones"]
            ],
            c,
            _("里程碑类目标指标完成情况"),
        )
    if c["trend_charts"]:
        _heading(doc, _("（三）主要指标变化趋势"), 2)
        _paragraph(
            doc,
            _(
                "实线为各报送期实际完成值，虚线为序时进度目标值，红线为目标值；里程碑类指标只判定完成与否，见上表。"
            ),
            size=10.5,
        ).paragraph_format.keep_with_next = True
        for pair in c["trend_rows"]:
            paragraph = doc.add_paragraph()
            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for chart in pair:
                paragraph.add_run().add_picture(io.BytesIO(_png(chart["svg"], TREND_SCALE)), width=Cm(7.7))
            _paragraph(
                doc,
                "　　".join(f"{ch['code']} {ch['name']}（{ch['cls_label']}）" for ch in pair),
                size=9,
                align=WD_ALIGN_PARAGRAPH.CENTER,
                indent=False,
            )
        _caption(doc, c, "figure", _("主要指标变化趋势"))


def _initiative(doc, c, i):
    label = f"{i['number']}." if i.get("number") else i["label"]
    _heading(doc, f"{label}{i['title']}", 3)
    if i["leads"] or i["responsibles"]:
        _paragraph(
            doc,
            f"{_('牵头单位')}：{'、'.join(i['leads']) or '—'}；{_('责任单位')}：{'、'.join(i['responsibles']) or '—'}",
            size=12,
        )
    for part in i["parts"]:
        _paragraph(
            doc,
            f"{part['title']}　{_('牵头单位')}：{'、'.join(part['leads']) or '—'}；"
            f"{_('责任单位')}：{'、'.join(part['responsibles']) or '—'}",
            size=12,
        )
    if i["target_rows"]:
        _table(
            doc,
            [_("编号"), _("目标指标"), _("目标值"), _("实际完成值"), _("完成率"), _("状态")],
            [
                [
                    r["code"],
                    r["name"],
                    r["bound_text"],
                    r["texts"]["actual"],
                    r["texts"]["completion"],
                    r["cls_label"],
                ]
                for r in i["target_rows"]
            ],
            c,
            _("%(title)s目标指标") % {"title": i["title"]},
        )
    if i["line_total"]:
        _paragraph(
            doc,
            _(
                "共 %(measures)s 项工作措施。%(period)s有 %(units)s 个单位报送的 %(lines)s 条措施进展审核通过："
            )
            % {
                "measures": i["measure_count"],
                "period": c["as_of"]["label"],
                "units": i["units_reported"],
                "lines": i["line_total"],
            }
            + i["lines_text"]
            + "。",
            size=12,
        )
    else:
        _paragraph(
            doc,
            _("共 %(measures)s 项工作措施；本期尚无审核通过的措施进展。") % {"measures": i["measure_count"]},
            size=12,
        )
    if i.get("highlights"):  # the office's picks, before the excerpts (as in the PDF)
        _paragraph(doc, _("典型经验"), font=HEADING_FONT, size=12, indent=False)
        for e in i["highlights"]:
            where = " · ".join(x for x in (e["period"], e.get("measure")) if x)
            _paragraph(doc, f"{e['unit']}（{where}）：{e['text']}", size=12)
    if i.get("excerpts"):
        _paragraph(doc, _("工作进展摘录"), font=HEADING_FONT, size=12, indent=False)
        for e in i["excerpts"]:
            _paragraph(doc, f"{e['unit']}（{e['period']} · {e['measure']}）：{e['text']}", size=12)


def _initiatives(doc, snapshot, c):
    _heading(doc, _("（一）六项提升行动"), 2)
    for i in c["actions"]:
        _initiative(doc, c, i)
    _heading(doc, _("（二）七项重点工程"), 2)
    for i in c["projects"]:
        _initiative(doc, c, i)


def _met(flag):
    return "—" if flag is None else _("达标") if flag else _("未达标")


def _support(doc, snapshot, c):
    _heading(doc, _("（一）科普经费投入"), 2)
    f = c["funding"]
    if f and f["year"]:
        _paragraph(
            doc,
            _("%(year)s年，省级人均科普经费 %(province)s 元/人（目标：不低于 %(floor)s 元/人）")
            % {
                "year": f["year"],
                "province": f["province"] or "—",
                "floor": f["floors"].get("province") or "—",
            }
            + (
                ("，" + (_("已达标") if f["province_met"] else _("未达标")))
                if f["province_met"] is not None
                else ""
            )
            + "。",
        )
        _figure(
            doc,
            c,
            f["chart"],
            _("%(year)s年各市州人均科普经费（元/人），虚线为目标值") % {"year": f["year"]},
        )
        floors = f["floors"]
        _table(
            doc,
            [
                _("地区"),
                _("所属市州"),
                _("本年度科普经费（万元）"),
                _("常住人口（万人）"),
                _("人均科普经费（元）"),
                _("人均 ≥ %(v)s 元") % {"v": floors.get("prefecture") or "—"},
                _("县级 ≥ %(v)s 万元") % {"v": floors.get("county_funding") or "—"},
            ],
            [
                [
                    r["name"],
                    "",
                    r["funding"] or "—",
                    r["population"] or "—",
                    r["per_capita"] or "—",
                    _met(r["per_capita_met"]),
                    "—",
                ]
                for r in f["prefectures"]
            ]
            + [
                [
                    r["name"],
                    r["parent"],
                    r["funding"] or "—",
                    r["population"] or "—",
                    r["per_capita"] or "—",
                    _met(r["per_capita_met"]),
                    _met(r["funding_met"]),
                ]
                for r in f["counties"]
            ],
            c,
            _("%(year)s年各市州、县（市、区）科普经费") % {"year": f["year"]},
        )
    else:
        _paragraph(doc, _("截止日期前尚无审核通过的地区科普经费数据。"))
    _heading(doc, _("（二）季度报送制度落实情况"), 2)
    t = c["compliance"]["totals"]
    _paragraph(
        doc,
        _(
            "各单位应报送报送表 %(due)s 份，按时报送 %(on_time)s 份（按时率 %(rate)s），逾期 %(late)s 份，未报 %(missing)s 份。各单位情况如下表（按时率低于 80%% 的单位加粗标出）。"
        )
        % {
            "due": t["due"],
            "on_time": t["on_time"],
            "rate": t["rate"],
            "late": t["late"],
            "missing": t["missing"],
        },
    )
    _table(
        doc,
        [_("单位"), _("应报送"), _("已审核通过"), _("按时"), _("逾期"), _("未报"), _("按时率")],
        [
            [u["name"], u["due"], u["approved"], u["on_time"], u["late"], u["missing"], u["rate"]]
            for u in c["compliance"]["units"]
        ],
        c,
        _("各单位季度报送情况"),
    )


def _self_assessments(doc, snapshot, c):
    sa = snapshot.get("self_assessments")
    if not sa:
        _paragraph(doc, _("省纲要办尚未开启本次评估的成员单位自评。"))
        return
    if not sa["units"]:
        _paragraph(doc, _("尚无审核通过的自评报告。"))
        return
    _paragraph(
        doc,
        _(
            "%(round)s中，%(members)s 个成员单位有 %(n)s 个的自评报告经省纲要办审核通过，以下按单位摘录；未通过审核的自评不计入。"
        )
        % {"round": sa["round"], "members": sa["members"], "n": len(sa["units"])},
    )
    for unit in sa["units"]:
        _heading(doc, unit["unit"], 3)
        counts = unit["counts"]
        text = _(
            "承担的工作措施自评：已完成 %(done)s 项，基本完成 %(mostly)s 项，未完成 %(not_done)s 项。"
        ) % {
            "done": counts.get("done", 0),
            "mostly": counts.get("mostly", 0),
            "not_done": counts.get("not_done", 0),
        }
        if unit.get("not_done"):
            text += f"{_('未完成')}：{'；'.join(unit['not_done'])}。"
        _paragraph(doc, text)
        if unit["achievements"]:
            _paragraph(doc, f"{_('主要成效')}：{unit['achievements']}")
        if unit.get("problems"):
            _paragraph(doc, f"{_('存在的问题')}：{unit['problems']}")


def _unit_summary(doc, snapshot, c):
    tasks = c["unit_tasks"]
    if not tasks:
        return
    _paragraph(
        doc,
        _(
            "下表列出各单位承担的任务、季度报送情况，以及%(period)s审核通过的措施进展中已完成或常态化推进的条数。"
        )
        % {"period": c["as_of"]["label"] if c["as_of"] else "—"},
    )
    rows = []
    for u in tasks["all"]:
        k = u["compliance"] or {}
        rows.append(
            [
                u["name"],
                len(u["leads"]),
                len(u["responsibles"]),
                k.get("due", ""),
                k.get("on_time", ""),
                k.get("late", ""),
                k.get("missing", ""),
                k.get("rate", ""),
                f"{u['lines_done']} / {u['line_total']}" if u["line_total"] else "—",
            ]
        )
    _table(
        doc,
        [
            _("单位"),
            _("牵头任务"),
            _("参与任务"),
            _("应报送"),
            _("按时"),
            _("逾期"),
            _("未报"),
            _("按时率"),
            _("措施进展（已完成、常态化 / 合计）"),
        ],
        rows,
        c,
        _("各单位任务与报送情况"),
    )


def _problems(doc, snapshot, c):
    _heading(doc, _("（一）各单位反映的问题"), 2)
    if not c["problem_initiatives"]:
        _paragraph(doc, _("审核通过的报送表中没有反映问题。"))
    for initiative in c["problem_initiatives"]:
        _heading(doc, initiative["title"], 3)
        for n, problem in enumerate(initiative["problems"], 1):
            units = "、".join(problem["units"][:5])
            if len(problem["units"]) > 5:
                units += _("等 %(n)s 个单位") % {"n": len(problem["units"])}
            _paragraph(doc, f"{n}. {problem['text']}（{units}）")
    final = c["final"]
    _heading(doc, _("（二）未实现的目标指标") if final else _("（二）进度滞后的目标指标"), 2)
    if c["lagging"]:
        _table(
            doc,
            [_("编号"), _("目标指标"), _("目标值"), _("实际完成值"), _("完成率"), _("负责单位")],
            [
                [
                    r["code"],
                    r["name"],
                    r["bound_text"],
                    r["texts"]["actual"],
                    r["texts"]["completion"],
                    r["owner"],
                ]
                for r in c["lagging"]
            ],
            c,
            _("未实现的目标指标") if final else _("进度滞后的目标指标"),
        )
    else:
        _paragraph(doc, _("全部目标指标均已实现或暂无数据。") if final else _("没有进度滞后的目标指标。"))
    if c["evaluation"]:
        _heading(doc, _("（三）省纲要办意见"), 2)
        _office_text(doc, c["office"].get("problems"), _("（征求意见稿：省纲要办对存在问题的分析待填写。）"))


def _next(doc, snapshot, c):
    if c["evaluation"] and c["next_by_owner"]:
        _heading(doc, _("（一）针对滞后指标的工作"), 2)
        _paragraph(
            doc,
            _(
                "以下目标指标未达到序时进度或未实现，请负责单位对照实施方案分析原因、制定措施，在下一步工作中重点推进："
            ),
        )
        for owner, rows in c["next_by_owner"]:
            _paragraph(
                doc,
                f"{owner}："
                + "；".join(
                    f"{r['code']} {r['name']}（{r['texts']['actual']}，{r['bound_text']}）" for r in rows
                )
                + "。",
            )
        _heading(doc, _("（二）省纲要办工作安排"), 2)
    if c["draft"] or snapshot.get("next_steps"):
        _office_text(doc, snapshot.get("next_steps"), _("（征求意见稿：省纲要办的下一步工作安排待填写。）"))
    else:
        _paragraph(doc, _("（省纲要办尚未填写下一步工作安排。）"))


# ---------------------------------------------------------------- annexes (landscape pages)


def _annex_targets(doc, c, title):
    _table(
        doc,
        [
            _("编号"),
            _("目标指标"),
            _("所属任务"),
            _("基期值"),
            _("目标值"),
            _("实际完成值"),
            _("序时进度目标值"),
            _("完成率"),
            _("预计完成值"),
            _("状态"),
            _("负责单位"),
            _("数据来源"),
        ],
        [
            [
                r["code"],
                r["name"],
                r["initiative_title"],
                r["texts"]["baseline"],
                r["bound_text"] + (_("（每年）") if r["time_scope"] == "per_year" else ""),
                r["texts"]["actual"],
                r["texts"]["expected"],
                r["texts"]["completion"],
                r["texts"]["forecast"],
                r["cls_label"] + _years(r),
                r["owner"],
                r["source"],
            ]
            for r in c["rows"]
        ],
        c,
        title,
    )


def _annex_measurement(doc, c, title):
    _table(
        doc,
        [
            _("编号"),
            _("目标指标"),
            _("实施方案表述"),
            _("考核方式"),
            _("基期值及出处"),
            _("数据来源"),
            _("负责单位"),
        ],
        [
            [r["code"], r["name"], r["phrase"], r["rule"], r["baseline"], r["source"], r["owner"]]
            for r in c["annex_measurement"]
        ],
        c,
        title,
    )


def _annex_members(doc, c, title):
    _paragraph(
        doc,
        _(
            "省纲要办成员单位共 %(n)s 个。“牵头”为实施方案明确的牵头单位，“参与”为责任单位（含“省纲要办各成员单位”）。"
        )
        % {"n": len(c["member_assignments"])},
        size=12,
    )
    _table(
        doc,
        [_("成员单位"), _("牵头任务"), _("参与任务（责任单位）")],
        [
            [u["name"], "、".join(u["leads"]) or "—", "、".join(u["responsibles"]) or "—"]
            for u in c["member_assignments"]
        ],
        c,
        title,
    )


def _annex_compliance(doc, c, title):
    compliance = c["compliance"]
    _paragraph(
        doc,
        "　".join(f"{mark or _('空白')} {label}" for _kind, mark, label in compliance["legend"])
        + "。"
        + _("表头数字为季度，“基”为2021年基期。"),
        size=10.5,
        indent=False,
    )
    heads = [f"{p['short']}" for p in compliance["periods"]]
    _table(
        doc,
        [_("单位"), *heads, _("按时"), _("逾期"), _("未报"), _("按时率")],
        [
            [
                u["name"],
                *[mark for _kind, mark, _label in u["cells"]],
                u["on_time"],
                u["late"],
                u["missing"],
                u["rate"],
            ]
            for u in compliance["units"]
        ],
        c,
        title,
    )


ANNEXES = {
    "annex-targets": _annex_targets,
    "annex-measurement": _annex_measurement,
    "annex-members": _annex_members,
    "annex-compliance": _annex_compliance,
}


def _annexes(doc, snapshot, c):
    """Each annex on landscape pages, headed 附件N　title, its table numbered as in the PDF."""
    for annex in c["annexes"]:
        section = doc.add_section()
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21)
        section.top_margin = section.bottom_margin = Cm(2)
        section.left_margin = section.right_margin = Cm(2)
        _heading(doc, _("附件%(n)s") % {"n": annex["number"]} + f"　{annex['title']}")
        writer = ANNEXES.get(annex["id"])
        if writer is not None:
            # the table's caption as the PDF's (the compliance matrix has its own)
            title = _("各单位各报送期报送情况") if annex["id"] == "annex-compliance" else annex["title"]
            writer(doc, c, title)


SECTIONS = {
    "method": _method,
    "judgement": _judgement,
    "targets": _targets,
    "tasks": _initiatives,
    "support": _support,
    "self": _self_assessments,
    "units": _unit_summary,
    "problems": _problems,
    "next": _next,
}


def _baselines(doc, snapshot, c):
    _table(
        doc,
        [_("编号"), _("目标指标"), _("所属任务"), _("基期值"), _("目标值"), _("目标年份"), _("负责单位")],
        [
            [
                r["code"],
                r["name"],
                r["initiative_title"],
                r["texts"]["baseline"],
                r["bound_text"] + (_("（每年）") if r["time_scope"] == "per_year" else ""),
                r["deadline_year"],
                r["owner"],
            ]
            for r in c["rows"]
        ],
        c,
        _("目标指标及基期值"),
    )


def _unit_tasks(doc, snapshot, c):
    tasks = c["unit_tasks"]
    if not tasks:
        return
    _table(
        doc,
        [_("单位"), _("牵头任务"), _("参与任务（责任单位）")],
        [
            [u["name"], "、".join(u["leads"]) or "—", "、".join(u["responsibles"]) or "—"]
            for u in tasks["assigned"]
        ],
        c,
        _("各单位任务分解"),
    )


# The 2021 mobilisation report and the quarterly brief: the parts they share with the evaluations.
BRIEF_SECTIONS = {
    "mobilisation": {"targets": _baselines, "units": _unit_tasks, "overview": _overview, "next": _next},
    "quarterly": {
        "overview": _overview,
        "targets": _targets,
        "tasks": _initiatives,
        "problems": _problems,
        "next": _next,
    },
}
