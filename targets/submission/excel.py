"""Excel for the quarterly form (download, fill in, upload back) and the office's data exports.

The form's workbook has one sheet per part of the web form (工作措施进展, 指标数据, and for local
governments 地区科普经费) and a hidden sheet (说明) that says which unit, period, submission and
version it was made from. Every data sheet keeps the row's database id in a hidden, locked key
column (行号); only the cells a unit may fill in are unlocked. Sheet protection has no password
on purpose: it guards against slips, not against a determined user, and the upload checks every
cell again anyway.

An upload is checked completely before anything is written: the file's kind and size, that it is
this submission's form at its current version, the sheets and columns, every row's key and
every value (with the web form's own rules, ``clean_figure`` and ``clean_region_figure``). Any
problem refuses the whole file with a row-by-row report; otherwise the rows are saved with
``save_form`` as one edit recorded as an Excel import.

The exports list approved figures only, with a fixed number of queries whatever the row count.
Text that a spreadsheet could take for a formula is prefixed with a single quote.
"""

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from portal.names import display_name, pick
from portal.numbers import plain
from portal.text import enumeration, labelled
from targets.choices import Combine
from targets.models import RegionFigure, Target, TargetFigure
from targets.submission.services import clean_figure, clean_region_figure, save_form
from tasks import services as task_services
from tasks.choices import EventAction, MeasureStatus, SubmissionStatus
from tasks.models import Period
from units.models import Unit
from units.people import person_name

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# A 5 MB zip can unpack to gigabytes; a real form unpacks to well under a megabyte.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# The first row of the hidden sheet: marks a workbook made by this module, in this layout.
FORM_MARKER = "kepu-submission-form"
FORM_FORMAT = "1"
# The web form's limits (the textareas' maxlength and the model fields).
TEXT_LIMITS = {"progress": 4000, "problems": 2000, "next_steps": 2000}
SOURCE_NOTE_LIMIT = 500
EXPLANATION_LIMIT = 2000

# Column keys with their headers; headers are looked up by text on upload, so their order in a
# file does not matter. Widths are in Excel's character units.
LINE_COLUMNS = [
    ("id", gettext_lazy("行号"), 8),
    ("code", gettext_lazy("编号"), 9),
    ("title", gettext_lazy("工作措施"), 42),
    ("status", gettext_lazy("推进状态"), 11),
    ("progress", gettext_lazy("工作进展"), 60),
    ("problems", gettext_lazy("存在问题"), 40),
    ("next_steps", gettext_lazy("下一步计划"), 40),
]
LINE_EDITABLE = ("status", "progress", "problems", "next_steps")
FIGURE_COLUMNS = [
    ("id", gettext_lazy("行号"), 8),
    ("code", gettext_lazy("指标编号"), 9),
    ("name", gettext_lazy("指标名称"), 36),
    ("bound", gettext_lazy("目标值"), 18),
    ("combine", gettext_lazy("汇总方式"), 10),
    ("asks", gettext_lazy("填报内容"), 20),
    ("value", gettext_lazy("数值"), 12),
    ("covered", gettext_lazy("已覆盖"), 10),
    ("total", gettext_lazy("应覆盖总数"), 12),
    ("done", gettext_lazy("是否已完成"), 12),
    ("source_note", gettext_lazy("数据来源说明"), 32),
    ("explanation", gettext_lazy("变动说明"), 32),
]
FIGURE_EDITABLE = ("value", "covered", "total", "done", "source_note", "explanation")
REGION_COLUMNS = [
    ("id", gettext_lazy("行号"), 8),
    ("region", gettext_lazy("地区"), 20),
    ("funding", gettext_lazy("本年度科普经费（万元）"), 22),
    ("population", gettext_lazy("常住人口（万人）"), 18),
    ("source_note", gettext_lazy("数据来源说明"), 40),
    ("narrative", gettext_lazy("本地区工作进展"), 60),
]
REGION_EDITABLE = ("funding", "population", "source_note", "narrative")
# Files downloaded before the narrative column existed still upload (their narrative is kept).
REGION_REQUIRED = ("id", "funding", "population", "source_note")

# The value cells a figure row uses, by the target's combination rule.
VALUE_FIELDS = {
    Combine.INCREMENT: ("value",),
    Combine.LEVEL: ("value",),
    Combine.COVERAGE: ("covered", "total"),
    Combine.MILESTONE: ("done",),
}

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
EDITABLE_FILL = PatternFill("solid", fgColor="FFF9E0")  # light yellow: "fill in here"
UNUSED_FILL = PatternFill("solid", fgColor="EEEEEE")  # grey: not asked for this row
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)


def _lines_sheet_title():
    return _("工作措施进展")


def _figures_sheet_title():
    return _("指标数据")


def _region_sheet_title():
    return _("地区科普经费")


def _status_labels():
    """{value: label} of the measure statuses in the active language."""
    return {value: str(label) for value, label in MeasureStatus.choices}


def _done_labels():
    return {True: _("已完成"), False: _("未完成")}


def _clean_text(text):
    """Drop the control characters an xlsx file cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def sheet_cell(ws, value, *, row=None, column=None):
    """The one way the portal writes a workbook cell, in every sheet (visible, hidden, exports).

    Text is cleaned of the characters an xlsx file cannot hold and stored as text: a value that
    starts with = + - @ (a unit's or a user's name, a progress note) is never a formula in the
    file. With ``row`` and ``column`` the cell of a normal sheet; otherwise a new cell for
    ``ws.append`` (write-only sheets too).
    """
    cell = ws.cell(row=row, column=column) if row is not None else WriteOnlyCell(ws)
    if isinstance(value, str):
        cell.value = _clean_text(value)
        cell.data_type = "s"  # openpyxl took a leading "=" for a formula
    else:
        cell.value = value
    return cell


def _number_cell(value):
    """A Decimal as Excel will show it: 120.0000 → 120, 2.2000 → 2.2."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def asks_for(target):
    """What a unit enters for the target, e.g. 本季度新增（人次） or 已覆盖数和应覆盖总数."""
    if target.combine == Combine.INCREMENT:
        return _("本季度新增（%(unit)s）") % {"unit": target.unit}
    if target.combine == Combine.LEVEL:
        return _("当前值（%(unit)s）") % {"unit": target.unit}
    if target.combine == Combine.COVERAGE:
        return _("已覆盖数和应覆盖总数")
    return _("是否已完成")


def line_label(line):
    """A measure line as the report names it: A1.1 title, or the work point's title."""
    if line.measure_id:
        return f"{line.measure.code} {line.measure.title}"
    return line.work_point.title


def _period_label(year, quarter, is_baseline):
    return Period(year=year, quarter=quarter, is_baseline=is_baseline).label


def form_filename(submission):
    """e.g. 省教育厅-2024年第3季度-进展报送.xlsx"""
    return _("%(unit)s-%(period)s-进展报送.xlsx") % {
        "unit": display_name(submission.unit),
        "period": submission.period.label,
    }


# Download ------------------------------------------------------------------------------------


def _header(ws, columns):
    for index, (_key, label, width) in enumerate(columns, start=1):
        cell = sheet_cell(ws, str(label), row=1, column=index)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = WRAP
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.column_dimensions["A"].hidden = True  # the key: the row's id in the database
    ws.freeze_panes = "A2"


def _protect(ws, title):
    """Lock the sheet (no password, see the module docstring) but let users resize and filter."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.protection.sort = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    ws.oddHeader.center.text = _clean_text(title)


def _put(ws, row, column, value, *, editable, unused=False, text=False):
    # Text the user typed stays text: "=..." in a progress note must not become a formula.
    cell = sheet_cell(ws, value, row=row, column=column)
    cell.alignment = WRAP
    if text:
        cell.number_format = "@"  # keep "1-2" as typed instead of a date
    if editable:
        cell.protection = UNLOCKED
        cell.fill = EDITABLE_FILL
    elif unused:
        cell.fill = UNUSED_FILL
    return cell


def _list_validation(values, title, message):
    validation = DataValidation(
        type="list",
        formula1='"{}"'.format(",".join(values)),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=title,
        error=message,
    )
    validation.showInputMessage = True
    validation.promptTitle = title
    validation.prompt = message
    return validation


def _write_meta(wb, submission, user):
    ws = wb.create_sheet(_("说明"))
    who = person_name(user, missing="")
    rows = [
        (FORM_MARKER, FORM_FORMAT, _("本工作表由平台生成，用于核对上传的文件，请勿修改。")),
        ("unit_code", submission.unit.code, _("单位代码")),
        ("unit_name", display_name(submission.unit, full=True), _("单位")),
        ("period_id", submission.period_id, _("报送期")),
        ("year", submission.period.year, _("年度")),
        ("quarter", submission.period.quarter, _("季度")),
        ("baseline", int(submission.period.is_baseline), _("基期")),
        ("submission_id", submission.pk, _("报送表")),
        ("version", submission.version, _("版本")),
        ("downloaded_at", timezone.localtime().strftime("%Y-%m-%d %H:%M"), _("下载时间")),
        ("downloaded_by", who, _("下载人")),
        ("language", translation.get_language() or "", _("语言")),
    ]
    for row in rows:
        ws.append([sheet_cell(ws, value) for value in row])  # names may start with "=" too
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 50
    ws.protection.sheet = True
    ws.sheet_state = "hidden"


def _write_lines(wb, submission, editable, title):
    ws = wb.active
    ws.title = _lines_sheet_title()
    _header(ws, LINE_COLUMNS)
    labels = _status_labels()
    lines = submission.lines.select_related("measure", "work_point").order_by("sort_order")
    row = 1
    for line in lines:
        row += 1
        if line.measure_id:
            code, name = line.measure.code, line.measure.title
        else:
            code = f"{line.work_point.year}-{line.work_point.number}"
            name = _("【年度重点工作任务】%(title)s") % {"title": line.work_point.title}
        _put(ws, row, 1, line.pk, editable=False)
        _put(ws, row, 2, code, editable=False)
        _put(ws, row, 3, name, editable=False)
        _put(ws, row, 4, labels.get(line.status, line.status), editable=editable)
        _put(ws, row, 5, line.progress, editable=editable, text=True)
        _put(ws, row, 6, line.problems, editable=editable, text=True)
        _put(ws, row, 7, line.next_steps, editable=editable, text=True)
    if row > 1:
        validation = _list_validation(
            list(labels.values()),
            _("推进状态"),
            _("请从下拉列表中选择：%(choices)s") % {"choices": "、".join(labels.values())},
        )
        ws.add_data_validation(validation)
        validation.add(f"D2:D{row}")
    _protect(ws, title)


def _write_figures(wb, submission, editable, title):
    ws = wb.create_sheet(_figures_sheet_title())
    _header(ws, FIGURE_COLUMNS)
    done_labels = _done_labels()
    done_cells = []
    row = 1
    for figure in submission.figures.select_related("target").order_by("target__sort_order"):
        row += 1
        target = figure.target
        used = VALUE_FIELDS.get(target.combine, ("value",))
        _put(ws, row, 1, figure.pk, editable=False)
        _put(ws, row, 2, target.code, editable=False)
        _put(ws, row, 3, display_name(target), editable=False)
        _put(ws, row, 4, target.bound_text, editable=False)
        _put(ws, row, 5, target.get_combine_display(), editable=False)
        _put(ws, row, 6, asks_for(target), editable=False)
        values = {
            "value": _number_cell(figure.value),
            "covered": _number_cell(figure.covered),
            "total": _number_cell(figure.total),
            "done": done_labels.get(figure.done, ""),
        }
        for column, key in enumerate(("value", "covered", "total", "done"), start=7):
            wanted = key in used
            _put(
                ws,
                row,
                column,
                values[key] if wanted else None,
                editable=editable and wanted,
                unused=not wanted,
            )
        if "done" in used:
            done_cells.append(f"J{row}")
        _put(ws, row, 11, figure.source_note, editable=editable, text=True)
        _put(ws, row, 12, figure.explanation, editable=editable, text=True)
    if done_cells:
        validation = _list_validation(
            list(done_labels.values()),
            _("是否已完成"),
            _("请从下拉列表中选择“%(yes)s”或“%(no)s”。")
            % {"yes": done_labels[True], "no": done_labels[False]},
        )
        ws.add_data_validation(validation)
        validation.add(" ".join(done_cells))
    _protect(ws, title)


def _write_region(wb, region_figure, editable, title):
    ws = wb.create_sheet(_region_sheet_title())
    _header(ws, REGION_COLUMNS)
    _put(ws, 2, 1, region_figure.pk, editable=False)
    _put(ws, 2, 2, display_name(region_figure.region), editable=False)
    _put(ws, 2, 3, _number_cell(region_figure.funding), editable=editable)
    _put(ws, 2, 4, _number_cell(region_figure.population), editable=editable)
    _put(ws, 2, 5, region_figure.source_note, editable=editable, text=True)
    _put(ws, 2, 6, region_figure.narrative, editable=editable, text=True)
    _protect(ws, title)


def build_form_workbook(submission, *, user, editable) -> bytes:
    """The submission's form as an xlsx file, pre-filled with the current values.

    ``editable`` unlocks the cells a unit fills in; a read-only copy (office, viewers, locked
    forms) has every cell locked.
    """
    title = f"{display_name(submission.unit, full=True)} · {submission.period.label}"
    wb = openpyxl.Workbook()
    wb.properties.title = title
    wb.properties.creator = _("青海省全民科学素质行动实施进展平台")
    _write_lines(wb, submission, editable, title)
    _write_figures(wb, submission, editable, title)
    region_figure = RegionFigure.objects.filter(submission=submission).select_related("region").first()
    if region_figure is not None:
        _write_region(wb, region_figure, editable, title)
    _write_meta(wb, submission, user)
    wb.active = 0
    # Structure protection keeps the hidden sheet hidden and the sheets' names as they are.
    wb.security = WorkbookProtection(lockStructure=True)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# Upload --------------------------------------------------------------------------------------


class ExcelRejected(Exception):
    """An uploaded file was refused; ``messages`` say why (every problem found), in Chinese."""

    def __init__(self, messages, *, status=400):
        self.messages = list(messages)
        self.status = status
        super().__init__("; ".join(self.messages))


@dataclass
class FormData:
    """What an uploaded form says, checked and ready for ``save_form``."""

    version: int
    lines: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    region: dict | None = None


def _open_workbook(upload):
    """The upload as a read-only workbook, after checking its size and that it really is xlsx."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ExcelRejected(
            [
                _("文件大小为 %(size).1f MB，超过 %(max)d MB 的上限。")
                % {"size": size / 1048576, "max": MAX_UPLOAD_BYTES // 1048576}
            ]
        )
    upload.seek(0)
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ExcelRejected([_("文件大小超过 %(max)d MB 的上限。") % {"max": MAX_UPLOAD_BYTES // 1048576}])
    not_excel = _(
        "“%(name)s”不是有效的 Excel 文件（.xlsx）。请上传从本平台下载、用 Excel 或 WPS 填写后保存的 .xlsx 文件。"
    ) % {"name": getattr(upload, "name", "") or ""}
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):  # the old .xls format
        raise ExcelRejected([not_excel + _("不支持旧版 .xls 格式，请另存为 .xlsx。")])
    buffer = io.BytesIO(data)
    try:
        with zipfile.ZipFile(buffer) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ExcelRejected([not_excel]) from None
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ExcelRejected([not_excel])
    if sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
        raise ExcelRejected([_("文件解压后过大，不像是本平台的报送表。")])
    buffer.seek(0)
    try:
        return openpyxl.load_workbook(buffer, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged file
        raise ExcelRejected([not_excel]) from None


def _read_meta(wb):
    """{key: value} of the hidden sheet, or None when the workbook was not made by the portal."""
    for ws in wb.worksheets:
        rows = ws.iter_rows(min_row=1, max_col=2, values_only=True)
        first = next(rows, None)
        if not first or first[0] != FORM_MARKER:
            continue
        meta = {"format": str(first[1]) if len(first) > 1 else ""}
        for row in rows:
            if row and row[0] is not None:
                meta[str(row[0])] = row[1] if len(row) > 1 else None
        return meta
    return None


def _int(value):
    """An id or count from a cell: 12, 12.0 and "12" are 12; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _text(value):
    """A text cell as the user meant it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ")
    return str(value).strip()


def _raw_number(value, number_format):
    """A number cell as text for the web form's parser; "85%" typed in Excel means 85."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "%" in (number_format or ""):
            try:
                return str(Decimal(str(value)) * 100)
            except InvalidOperation:
                return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return _text(value)


def _sheet(wb, title):
    return wb[title] if title in wb.sheetnames else None


def _columns(ws, columns, required, errors):
    """{key: column index} from the header row; adds 缺少列 to ``errors`` when any is missing."""
    header = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
    found = {}
    for index, text in enumerate(header):
        if text is not None:
            found.setdefault(str(text).strip(), index)
    positions, missing = {}, []
    for key, label, _width in columns:
        if str(label) in found:
            positions[key] = found[str(label)]
        elif key in required:
            missing.append(str(label))
    if missing:
        errors.append(
            _("%(sheet)s：缺少列：%(columns)s。请使用本平台下载的表格，不要删除或改名表头。")
            % {"sheet": ws.title, "columns": enumeration(missing)}
        )
        return None
    return positions


def _rows(ws, positions):
    """(Excel row number, {key: (value, number format)}) for each row that is not blank."""
    for number, row in enumerate(ws.iter_rows(min_row=2), start=2):
        cells = {}
        for key, index in positions.items():
            cell = row[index] if index < len(row) else None
            value = getattr(cell, "value", None)
            if isinstance(value, str) and not value.strip():
                value = None
            cells[key] = (value, getattr(cell, "number_format", "General"))
        if any(value is not None for value, _format in cells.values()):
            yield number, cells


def _row_prefix(sheet, number, label=None):
    if label:
        return _("%(sheet)s 第%(row)s行（%(label)s）") % {"sheet": sheet, "row": number, "label": label}
    return _("%(sheet)s 第%(row)s行") % {"sheet": sheet, "row": number}


def _row_message(prefix, label, message):
    """Join a row's prefix and a message of the web form's checks, which start with the label."""
    if label and message.startswith(label):
        rest = message[len(label) :]
        if rest.startswith("（"):  # "（已覆盖）：…" names the column
            return prefix + rest[1:].replace("）", "", 1)
        return labelled(prefix, rest.lstrip("：: "))
    return labelled(prefix, message)


def _key_problem(sheet, number, key, known, seen):
    """A message when a row's key is missing, foreign or repeated; None when it is fine."""
    if key is None:
        return _("%(where)s：缺少行号，请不要在表中插入新行或修改隐藏的行号列。") % {
            "where": _row_prefix(sheet, number)
        }
    if key not in known:
        return _("%(where)s：行号 %(key)s 不属于这张报送表，请不要从其他报送表复制行或新增行。") % {
            "where": _row_prefix(sheet, number),
            "key": key,
        }
    if key in seen:
        return _("%(where)s：行号 %(key)s 重复出现，请删除重复的行。") % {
            "where": _row_prefix(sheet, number),
            "key": key,
        }
    return None


def _too_long(prefix, column, text, limit):
    return _("%(where)s：%(column)s不能超过 %(max)s 字（现为 %(n)s 字）。") % {
        "where": prefix,
        "column": column,
        "max": limit,
        "n": len(text),
    }


def _check_identity(meta, submission):
    """Refuse a workbook made for another unit, period or submission, or an out-of-date one."""
    unit_code = str(meta.get("unit_code") or "")
    year, quarter = _int(meta.get("year")), _int(meta.get("quarter"))
    period = submission.period
    if unit_code != submission.unit.code or (year, quarter) != (period.year, period.quarter):
        unit = Unit.objects.filter(code=unit_code).first()
        file_unit = display_name(unit) if unit else (meta.get("unit_name") or unit_code or "?")
        file_period = (
            _period_label(year, quarter, bool(_int(meta.get("baseline")))) if year and quarter else "?"
        )
        raise ExcelRejected(
            [
                _(
                    "这是 %(unit)s 单位 / %(period)s 期的报送表，不能上传到本表（%(here_unit)s / %(here_period)s）。"
                )
                % {
                    "unit": file_unit,
                    "period": file_period,
                    "here_unit": display_name(submission.unit),
                    "here_period": period.label,
                }
            ]
        )
    if _int(meta.get("submission_id")) != submission.pk:
        raise ExcelRejected([_("这个文件不是从这张报送表下载的，请在本表页面重新下载 Excel 填报表。")])
    version = _int(meta.get("version"))
    if version != submission.version:
        raise ExcelRejected([stale_message(submission, meta.get("downloaded_at"))], status=409)
    return version


def stale_message(submission, downloaded_at):
    """The form changed after the file was downloaded: say when, by whom, and what to do."""
    who = submission.updated_by
    return _(
        "您于 %(downloaded)s 下载 Excel 之后，这张报送表已被 %(who)s 于 %(when)s 修改。"
        "为免覆盖他人的修改，请重新下载 Excel 填报表，在新表中填写后再上传。"
    ) % {
        "downloaded": downloaded_at or "?",
        "who": person_name(who, missing="?"),
        "when": timezone.localtime(submission.updated_at).strftime("%Y-%m-%d %H:%M"),
    }


def _read_lines(ws, submission, status_by_label, choices_text, errors):
    positions = _columns(ws, LINE_COLUMNS, ("id", *LINE_EDITABLE), errors)
    if positions is None:
        return {}
    lines = {line.pk: line for line in submission.lines.select_related("measure", "work_point")}
    rows, seen = {}, set()
    column_labels = {key: str(label) for key, label, _w in LINE_COLUMNS}
    for number, cells in _rows(ws, positions):
        key = _int(cells["id"][0])
        problem = _key_problem(ws.title, number, key, lines, seen)
        if problem:
            errors.append(problem)
            continue
        seen.add(key)
        label = line_label(lines[key])
        prefix = _row_prefix(ws.title, number, label)
        data = {}
        status = _text(cells["status"][0])
        if not status:
            errors.append(
                _("%(where)s：推进状态不能为空，请从下拉列表中选择（%(choices)s）。")
                % {"where": prefix, "choices": choices_text}
            )
        elif status not in status_by_label:
            errors.append(
                _("%(where)s：推进状态“%(value)s”无效，请从下拉列表中选择（%(choices)s）。")
                % {"where": prefix, "value": status, "choices": choices_text}
            )
        else:
            data["status"] = status_by_label[status]
        for name, limit in TEXT_LIMITS.items():
            text = _text(cells[name][0])
            if len(text) > limit:
                errors.append(_too_long(prefix, column_labels[name], text, limit))
            data[name] = text
        rows[key] = data
    return rows


def _read_figures(ws, submission, done_by_label, errors):
    positions = _columns(ws, FIGURE_COLUMNS, ("id", *FIGURE_EDITABLE), errors)
    if positions is None:
        return {}
    figures = {f.pk: f for f in submission.figures.select_related("target")}
    rows, seen = {}, set()
    column_labels = {key: str(label) for key, label, _w in FIGURE_COLUMNS}
    for number, cells in _rows(ws, positions):
        key = _int(cells["id"][0])
        problem = _key_problem(ws.title, number, key, figures, seen)
        if problem:
            errors.append(problem)
            continue
        seen.add(key)
        target = figures[key].target
        label = f"{target.code} {target.name}"
        prefix = _row_prefix(ws.title, number, label)
        data = {
            "source_note": _text(cells["source_note"][0]),
            "explanation": _text(cells["explanation"][0]),
        }
        # Only the cells the target's rule asks for are read; the others are locked and grey.
        for name in VALUE_FIELDS.get(target.combine, ("value",)):
            value, number_format = cells[name]
            if name == "done":
                if isinstance(value, bool):
                    data["done"] = "yes" if value else "no"
                else:
                    text = _text(value)
                    data["done"] = done_by_label.get(text, text)
            else:
                data[name] = _raw_number(value, number_format)
        _cleaned, problems = clean_figure(target, data)
        errors.extend(_row_message(prefix, label, message) for message in problems)
        if len(data["source_note"]) > SOURCE_NOTE_LIMIT:
            errors.append(
                _too_long(prefix, column_labels["source_note"], data["source_note"], SOURCE_NOTE_LIMIT)
            )
        if len(data["explanation"]) > EXPLANATION_LIMIT:
            errors.append(
                _too_long(prefix, column_labels["explanation"], data["explanation"], EXPLANATION_LIMIT)
            )
        rows[key] = data
    return rows


def _read_region(ws, region_figure, errors):
    positions = _columns(ws, REGION_COLUMNS, REGION_REQUIRED, errors)
    if positions is None:
        return None
    region = None
    seen = set()
    for number, cells in _rows(ws, positions):
        key = _int(cells["id"][0])
        problem = _key_problem(ws.title, number, key, {region_figure.pk}, seen)
        if problem:
            errors.append(problem)
            continue
        seen.add(key)
        prefix = _row_prefix(ws.title, number, region_figure.region.name)
        region = {
            "funding": _raw_number(*cells["funding"]),
            "population": _raw_number(*cells["population"]),
            "source_note": _text(cells["source_note"][0]),
        }
        if "narrative" in cells:
            region["narrative"] = _text(cells["narrative"][0])
        _cleaned, problems = clean_region_figure(region)
        errors.extend(labelled(prefix, message) for message in problems)
        if len(region["source_note"]) > SOURCE_NOTE_LIMIT:
            errors.append(
                _too_long(prefix, str(REGION_COLUMNS[4][1]), region["source_note"], SOURCE_NOTE_LIMIT)
            )
    return region


def _file_language(meta):
    """The language the file's headers were written in (they are looked up by their text)."""
    language = str(meta.get("language") or "")
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def read_form_workbook(submission, upload) -> FormData:
    """Check an uploaded form against ``submission`` completely; raise ExcelRejected listing
    every problem, or return what to save. Nothing is written here."""
    wb = _open_workbook(upload)
    try:
        meta = _read_meta(wb)
        if meta is None:
            raise ExcelRejected(
                [
                    _(
                        "这不是从本平台下载的报送表（缺少“说明”工作表）。请先下载 Excel 填报表，在其中填写后再上传。"
                    )
                ]
            )
        version = _check_identity(meta, submission)
        # Sheet names, headers and list labels are those of the language the file was made in;
        # the report itself speaks the user's current language.
        with translation.override(_file_language(meta)):
            sheet_titles = (_lines_sheet_title(), _figures_sheet_title(), _region_sheet_title())
            file_statuses = _status_labels()
            file_done = _done_labels()
        with translation.override(None):  # the source language (Chinese) is always understood
            source_statuses = _status_labels()
            source_done = _done_labels()
        status_by_label = {value: value for value in MeasureStatus.values}
        for labels in (source_statuses, file_statuses):
            status_by_label.update({label: value for value, label in labels.items()})
        done_by_label = {}
        for labels in (source_done, file_done):
            done_by_label.update({labels[True]: "yes", labels[False]: "no"})
        choices_text = enumeration(file_statuses.values())

        region_figure = RegionFigure.objects.filter(submission=submission).select_related("region").first()
        wanted = [sheet_titles[0], sheet_titles[1]] + ([sheet_titles[2]] if region_figure else [])
        missing = [title for title in wanted if title not in wb.sheetnames]
        if missing:
            raise ExcelRejected(
                [
                    _("缺少工作表：%(sheets)s。请使用本平台下载的表格，不要删除或改名工作表。")
                    % {"sheets": enumeration(missing)}
                ]
            )
        errors = []
        data = FormData(version=version)
        data.lines = _read_lines(
            _sheet(wb, sheet_titles[0]), submission, status_by_label, choices_text, errors
        )
        data.figures = _read_figures(_sheet(wb, sheet_titles[1]), submission, done_by_label, errors)
        if region_figure is not None:
            data.region = _read_region(_sheet(wb, sheet_titles[2]), region_figure, errors)
        if errors:
            raise ExcelRejected(errors)
        return data
    finally:
        wb.close()


def import_form_workbook(submission, upload, *, by):
    """Check an uploaded form and save it as one edit (an Excel import in the form's history).

    Returns (lines read, figures read). Raises ExcelRejected when the file is refused; nothing
    is saved then. PermissionDenied from the services propagates.
    """
    data = read_form_workbook(submission, upload)
    try:
        save_form(
            submission.pk,
            by=by,
            version=data.version,
            lines=data.lines,
            figures=data.figures,
            region=data.region,
            action=EventAction.IMPORTED,
        )
    except task_services.StaleEdit as exc:  # someone saved between the check and the lock
        submission.refresh_from_db()
        raise ExcelRejected([str(exc)], status=409) from exc
    except ValidationError as exc:
        raise ExcelRejected(exc.messages) from exc
    except task_services.WorkflowError as exc:
        raise ExcelRejected([str(exc)]) from exc
    return len(data.lines), len(data.figures)


# Office exports ------------------------------------------------------------------------------

# Characters that make Excel, WPS or LibreOffice read a cell as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text):
    """Prefix text a spreadsheet would take for a formula with a single quote."""
    if isinstance(text, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def export_filters(params):
    """Checked filters from the query string: {year, quarter, target}. Raises ValueError with a
    message for the user when a value is bad."""
    filters = {}
    year = (params.get("year") or "").strip()
    if year:
        if not (year.isdigit() and len(year) == 4 and 2000 <= int(year) <= 2100):
            raise ValueError(_("年度“%(value)s”无效，请填写四位数的年份，如 2024。") % {"value": year})
        filters["year"] = int(year)
    quarter = (params.get("quarter") or "").strip()
    if quarter:
        if quarter not in ("1", "2", "3", "4"):
            raise ValueError(_("季度“%(value)s”无效，应为 1、2、3 或 4。") % {"value": quarter})
        filters["quarter"] = int(quarter)
    code = (params.get("target") or "").strip().upper()
    if code:
        if not Target.objects.filter(code=code).exists():
            raise ValueError(_("没有编号为“%(value)s”的目标指标。") % {"value": code})
        filters["target"] = code
    return filters


def export_filename(filters, extension):
    parts = [_("指标数据")]
    if "year" in filters:
        parts.append(_("%(year)s年") % {"year": filters["year"]})
    if "quarter" in filters:
        parts.append(_("第%(q)s季度") % {"q": filters["quarter"]})
    if "target" in filters:
        parts.append(filters["target"])
    parts.append(timezone.localdate().strftime("%Y%m%d"))
    return "-".join(parts) + "." + extension


FIGURE_EXPORT_HEADERS = [
    gettext_lazy("报送期"),
    gettext_lazy("单位代码"),
    gettext_lazy("单位"),
    gettext_lazy("指标编号"),
    gettext_lazy("指标名称"),
    gettext_lazy("汇总方式"),
    gettext_lazy("数值"),
    gettext_lazy("已覆盖"),
    gettext_lazy("应覆盖总数"),
    gettext_lazy("是否已完成"),
    gettext_lazy("数据来源说明"),
    gettext_lazy("变动说明"),
    gettext_lazy("审核时间"),
]
FIGURE_EXPORT_WIDTHS = [16, 12, 28, 9, 36, 10, 12, 10, 12, 11, 36, 36, 17]
REGION_EXPORT_HEADERS = [
    gettext_lazy("报送期"),
    gettext_lazy("单位代码"),
    gettext_lazy("单位"),
    gettext_lazy("地区代码"),
    gettext_lazy("地区"),
    gettext_lazy("本年度科普经费（万元）"),
    gettext_lazy("常住人口（万人）"),
    gettext_lazy("人均科普经费（元/人）"),
    gettext_lazy("数据来源说明"),
    gettext_lazy("审核时间"),
]
REGION_EXPORT_WIDTHS = [16, 12, 28, 14, 16, 20, 16, 20, 36, 17]


def _period_filter(queryset, filters):
    if "year" in filters:
        queryset = queryset.filter(submission__period__year=filters["year"])
    if "quarter" in filters:
        queryset = queryset.filter(submission__period__quarter=filters["quarter"])
    return queryset


def figure_export_rows(filters):
    """Approved figures as rows of typed values (Decimal, datetime, str, None), one query."""
    queryset = _period_filter(TargetFigure.objects.approved(), filters)
    if "target" in filters:
        queryset = queryset.filter(target__code=filters["target"])
    queryset = queryset.order_by(
        "submission__period__year",
        "submission__period__quarter",
        "submission__unit__sort_order",
        "submission__unit__code",
        "target__sort_order",
        "target__code",
    ).values_list(
        "submission__period__year",
        "submission__period__quarter",
        "submission__period__is_baseline",
        "submission__unit__code",
        "submission__unit__name",
        "target__code",
        "target__name",
        "target__combine",
        "value",
        "covered",
        "total",
        "done",
        "source_note",
        "explanation",
        "submission__reviewed_at",
        "submission__unit__name_en",
        "target__name_en",
    )
    combine_labels = dict(Combine.choices)
    done_labels = _done_labels()
    periods = {}
    for *row, unit_en, name_en in queryset.iterator(chunk_size=2000):
        (year, quarter, baseline, unit_code, unit_name, code, name, combine) = row[:8]
        value, covered, total, done, source_note, explanation, reviewed_at = row[8:]
        unit_name, name = pick(unit_name, unit_en)[0], pick(name, name_en)[0]  # by language
        period = periods.get((year, quarter, baseline))
        if period is None:
            period = periods[(year, quarter, baseline)] = str(_period_label(year, quarter, baseline))
        yield [
            period,
            unit_code,
            unit_name,
            code,
            name,
            str(combine_labels.get(combine, combine)),
            value,
            covered,
            total,
            done_labels.get(done, ""),
            source_note,
            explanation,
            reviewed_at,
        ]


def region_export_rows(filters):
    """Approved regional funding figures (the target filter does not apply to them), one query."""
    queryset = _period_filter(
        RegionFigure.objects.filter(submission__status=SubmissionStatus.APPROVED), filters
    )
    queryset = queryset.order_by(
        "submission__period__year", "submission__period__quarter", "region__code"
    ).values_list(
        "submission__period__year",
        "submission__period__quarter",
        "submission__period__is_baseline",
        "submission__unit__code",
        "submission__unit__name",
        "region__code",
        "region__name",
        "funding",
        "population",
        "source_note",
        "submission__reviewed_at",
        "submission__unit__name_en",
        "region__name_en",
        "region__pinyin",
    )
    for *row, unit_en, region_en, pinyin in queryset.iterator(chunk_size=2000):
        year, quarter, baseline, unit_code, unit_name, region_code, region_name = row[:7]
        unit_name, region_name = pick(unit_name, unit_en)[0], pick(region_name, region_en, pinyin)[0]
        funding, population, source_note, reviewed_at = row[7:]
        per_capita = None
        if funding is not None and population:
            per_capita = (funding / population).quantize(Decimal("0.01"))
        yield [
            str(_period_label(year, quarter, baseline)),
            unit_code,
            unit_name,
            region_code,
            region_name,
            funding,
            population,
            per_capita,
            source_note,
            reviewed_at,
        ]


def _local(moment):
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, datetime.datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    return neutralise(str(value))


class _Echo:
    """A file-like object whose write() returns what it was given (for csv.writer streaming)."""

    def write(self, value):
        return value


def iter_figures_csv(filters):
    """The figures export as CSV bytes, chunk by chunk: UTF-8 with a BOM and CRLF line ends, so
    Excel on a Chinese Windows opens it as Unicode."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff".encode()
    yield writer.writerow([str(h) for h in FIGURE_EXPORT_HEADERS]).encode()
    for row in figure_export_rows(filters):
        yield writer.writerow([_csv_value(v) for v in row]).encode()


def _xlsx_sheet(wb, title, headers, widths, rows):
    ws = wb.create_sheet(title)
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    header = []
    for text in headers:
        cell = sheet_cell(ws, str(text))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        header.append(cell)
    ws.append(header)
    for row in rows:
        out = []
        for value in row:
            if isinstance(value, Decimal):
                out.append(sheet_cell(ws, _number_cell(value)))
            elif isinstance(value, datetime.datetime):
                cell = sheet_cell(ws, _local(value).replace(tzinfo=None))
                cell.number_format = "yyyy-mm-dd hh:mm"
                out.append(cell)
            else:
                # The quote as in the CSV export: a program that saves the sheet as CSV keeps it safe.
                out.append(sheet_cell(ws, neutralise(value)))
        ws.append(out)


def write_figures_xlsx(filters) -> bytes:
    """The figures export as an xlsx file: figures, then regional funding on a second sheet."""
    wb = openpyxl.Workbook(write_only=True)
    _xlsx_sheet(wb, _("指标数据"), FIGURE_EXPORT_HEADERS, FIGURE_EXPORT_WIDTHS, figure_export_rows(filters))
    _xlsx_sheet(
        wb, _("地区科普经费"), REGION_EXPORT_HEADERS, REGION_EXPORT_WIDTHS, region_export_rows(filters)
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
