"""Excel: the quarterly form as a workbook (download, fill in, upload back) and the office's exports."""

import csv
import io
from urllib.parse import quote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from targets.models import RegionFigure, TargetFigure
from targets.submission.services import save_form
from tasks import services
from tasks.choices import EventAction, MeasureStatus, SubmissionStatus
from tasks.models import Submission, SubmissionEvent
from tests.conftest import make_user
from tests.factories import open_period
from units.choices import Role
from units.models import Unit

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(client, submission):
    response = client.get(reverse("targets:submission_excel", args=[submission.pk]))
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.content))


def upload(client, submission, workbook_or_bytes, name="进展报送.xlsx"):
    if isinstance(workbook_or_bytes, bytes):
        content = workbook_or_bytes
    else:
        buffer = io.BytesIO()
        workbook_or_bytes.save(buffer)
        content = buffer.getvalue()
    return client.post(
        reverse("targets:submission_excel_upload", args=[submission.pk]),
        {"file": SimpleUploadedFile(name, content, content_type=XLSX)},
    )


def column(ws, header):
    for cell in ws[1]:
        if cell.value == header:
            return cell.column
    raise AssertionError(f"no column {header}")


def row_of(ws, key):
    for row in range(2, ws.max_row + 1):
        if ws.cell(row=row, column=1).value == key:
            return row
    raise AssertionError(f"no row {key}")


def put(ws, key, header, value):
    ws.cell(row=row_of(ws, key), column=column(ws, header)).value = value


def text_of(response):
    return response.content.decode()


# Download -------------------------------------------------------------------------------------


def test_the_form_downloads_with_a_chinese_file_name_and_its_current_values(client, submission, reporter):
    line = submission.lines.select_related("measure").first()
    t12 = submission.figures.get(target__code="T12")
    save_form(
        submission.pk,
        by=reporter,
        version=submission.version,
        lines={line.pk: {"status": "ongoing", "progress": "=已开展培训"}},
        figures={t12.pk: {"value": "450", "source_note": "教育厅统计"}},
    )
    client.force_login(reporter)
    response = client.get(reverse("targets:submission_excel", args=[submission.pk]))

    assert response["Content-Type"] == XLSX
    assert (
        "filename*=UTF-8''" + quote("省教育厅-2024年第3季度-进展报送.xlsx") in response["Content-Disposition"]
    )
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["工作措施进展", "指标数据", "说明"]
    assert wb["说明"].sheet_state == "hidden"
    lines = wb["工作措施进展"]
    assert [c.value for c in lines[1]] == [
        "行号",
        "编号",
        "工作措施",
        "推进状态",
        "工作进展",
        "存在问题",
        "下一步计划",
    ]
    assert lines.column_dimensions["A"].hidden
    assert lines.freeze_panes == "A2"
    assert lines.protection.sheet
    row = row_of(lines, line.pk)
    assert lines.cell(row=row, column=2).value == line.measure.code
    assert lines.cell(row=row, column=4).value == "常态化"
    assert lines.cell(row=row, column=5).value == "=已开展培训"  # text stays text, not a formula
    assert lines.cell(row=row, column=5).data_type == "s"
    assert not lines.cell(row=row, column=5).protection.locked
    assert lines.cell(row=row, column=1).protection.locked
    dropdowns = lines.data_validations.dataValidation
    assert dropdowns[0].formula1 == '"未启动,推进中,已完成,常态化"'
    figures = wb["指标数据"]
    assert [c.value for c in figures[1]] == [
        "行号",
        "指标编号",
        "指标名称",
        "目标值",
        "汇总方式",
        "填报内容",
        "数值",
        "已覆盖",
        "应覆盖总数",
        "是否已完成",
        "数据来源说明",
        "变动说明",
    ]
    row = row_of(figures, t12.pk)
    assert [figures.cell(row=row, column=c).value for c in (2, 3, 5, 6, 7, 11)] == [
        "T12",
        "每年培训科学教师",
        "增量累计",
        "本季度新增（名）",
        450,
        "教育厅统计",
    ]
    assert figures.cell(row=row, column=8).protection.locked  # 已覆盖 is not asked for T12
    meta = {r[0]: r[1] for r in wb["说明"].iter_rows(values_only=True)}
    assert (meta["unit_code"], meta["year"], meta["quarter"]) == ("jyt", 2024, 3)
    assert (meta["submission_id"], meta["version"]) == (submission.pk, 2)


def test_a_local_governments_form_has_the_regional_funding_sheet(client, period):
    user = make_user("cd-reporter", Role.REPORTER, "chengdong")
    submission = services.ensure_submission(Unit.objects.get(code="chengdong"), period, by=user)
    client.force_login(user)
    wb = download(client, submission)
    assert wb.sheetnames == ["工作措施进展", "指标数据", "地区科普经费", "说明"]
    region = wb["地区科普经费"]
    assert [c.value for c in region[1]] == [
        "行号",
        "地区",
        "本年度科普经费（万元）",
        "常住人口（万人）",
        "数据来源说明",
        "本地区工作进展",
    ]
    assert region.cell(row=2, column=2).value == "城东区"


def test_a_viewers_copy_has_every_cell_locked(client, submission, viewer):
    client.force_login(viewer)
    wb = download(client, submission)
    assert wb["工作措施进展"].cell(row=2, column=5).protection.locked


# Upload ---------------------------------------------------------------------------------------


def test_a_filled_in_workbook_is_saved_as_one_excel_import(client, submission, reporter):
    lines = list(submission.lines.order_by("sort_order"))
    t11 = submission.figures.get(target__code="T11")
    t12 = submission.figures.get(target__code="T12")
    client.force_login(reporter)
    wb = download(client, submission)
    put(wb["工作措施进展"], lines[0].pk, "推进状态", "推进中")
    put(wb["工作措施进展"], lines[0].pk, "工作进展", "举办科学教师培训班3期")
    put(wb["工作措施进展"], lines[1].pk, "推进状态", "已完成")
    put(wb["工作措施进展"], lines[1].pk, "下一步计划", "总结经验")
    put(wb["指标数据"], t11.pk, "数值", 1200)
    put(wb["指标数据"], t12.pk, "数值", "450")
    put(wb["指标数据"], t12.pk, "数据来源说明", "省教育厅培训台账")

    response = upload(client, submission, wb)

    assert response.status_code == 302
    assert response.url == reverse("targets:submission_detail", args=[submission.pk])
    lines[0].refresh_from_db()
    lines[1].refresh_from_db()
    assert (lines[0].status, lines[0].progress) == (MeasureStatus.IN_PROGRESS, "举办科学教师培训班3期")
    assert (lines[1].status, lines[1].next_steps) == (MeasureStatus.DONE, "总结经验")
    t11.refresh_from_db()
    t12.refresh_from_db()
    assert (t11.value, t12.value, t12.source_note) == (1200, 450, "省教育厅培训台账")
    event = SubmissionEvent.objects.get(submission=submission, action=EventAction.IMPORTED)
    assert event.actor == reporter
    assert lines[0].history.latest().history_user == reporter
    assert t12.history.latest().history_user == reporter
    # rows left as they were are not rewritten: their only history record is their creation
    assert lines[2].history.count() == 1
    submission.refresh_from_db()
    assert submission.version == 2
    page = client.get(response.url)
    assert "已从 Excel 导入：37 行工作措施、2 项指标数据" in text_of(page)


def test_coverage_and_milestone_figures_are_read_from_their_own_columns(client, period, other_reporter):
    submission = services.ensure_submission(Unit.objects.get(code="kx"), period, by=other_reporter)
    t24 = submission.figures.get(target__code="T24")
    t25 = submission.figures.get(target__code="T25")
    client.force_login(other_reporter)
    wb = download(client, submission)
    sheet = wb["指标数据"]
    put(sheet, t24.pk, "是否已完成", "已完成")
    put(sheet, t25.pk, "已覆盖", 5)
    put(sheet, t25.pk, "应覆盖总数", 8)
    put(sheet, t25.pk, "数值", 99)  # not asked for a coverage target: ignored

    assert upload(client, submission, wb).status_code == 302
    t24.refresh_from_db()
    t25.refresh_from_db()
    assert t24.done is True
    assert (t25.covered, t25.total, t25.value) == (5, 8, None)


def test_a_percentage_typed_with_a_percent_sign_means_that_percentage(client, period):
    user = make_user("mzt-reporter", Role.REPORTER, "mzt")
    submission = services.ensure_submission(Unit.objects.get(code="mzt"), period, by=user)
    t20 = submission.figures.get(target__code="T20")
    client.force_login(user)
    wb = download(client, submission)
    sheet = wb["指标数据"]
    cell = sheet.cell(row=row_of(sheet, t20.pk), column=column(sheet, "数值"), value=0.85)
    cell.number_format = "0%"  # what Excel does when one types 85%

    assert upload(client, submission, wb).status_code == 302
    t20.refresh_from_db()
    assert t20.value == 85


def test_one_bad_row_among_good_ones_saves_nothing_and_the_report_names_the_row(client, submission, reporter):
    line = submission.lines.order_by("sort_order").first()
    t11 = submission.figures.get(target__code="T11")
    t12 = submission.figures.get(target__code="T12")
    client.force_login(reporter)
    wb = download(client, submission)
    put(wb["工作措施进展"], line.pk, "工作进展", "这一行本身没有问题")
    put(wb["指标数据"], t11.pk, "数值", 1200)
    put(wb["指标数据"], t12.pk, "数值", "abc")

    response = upload(client, submission, wb)

    assert response.status_code == 400
    assert "指标数据 第3行（T12 每年培训科学教师）：“abc”不是数字，请输入阿拉伯数字。" in text_of(response)
    line.refresh_from_db()
    t11.refresh_from_db()
    assert (line.progress, t11.value) == ("", None)
    submission.refresh_from_db()
    assert submission.version == 1
    assert not SubmissionEvent.objects.filter(submission=submission, action=EventAction.IMPORTED).exists()


def test_every_bad_row_is_reported_at_once(client, submission, reporter):
    line = submission.lines.order_by("sort_order").first()
    t11 = submission.figures.get(target__code="T11")
    t12 = submission.figures.get(target__code="T12")
    client.force_login(reporter)
    wb = download(client, submission)
    put(wb["工作措施进展"], line.pk, "推进状态", "进行中")
    put(wb["指标数据"], t11.pk, "数值", -5)
    put(wb["指标数据"], t12.pk, "数值", 12.5)

    html = text_of(upload(client, submission, wb))

    assert f"工作措施进展 第2行（{line.measure.code} {line.measure.title}）：推进状态“进行中”无效" in html
    assert "指标数据 第2行（T11 培训科学教师（五年累计））：不能为负数。" in html
    assert "指标数据 第3行（T12 每年培训科学教师）：应为整数。" in html


def test_an_emptied_status_is_refused(client, submission, reporter):
    line = submission.lines.order_by("sort_order").first()
    client.force_login(reporter)
    wb = download(client, submission)
    put(wb["工作措施进展"], line.pk, "推进状态", None)
    response = upload(client, submission, wb)
    assert response.status_code == 400
    assert "推进状态不能为空" in text_of(response)


def test_a_workbook_missing_a_column_is_refused(client, submission, reporter):
    client.force_login(reporter)
    wb = download(client, submission)
    wb["工作措施进展"].delete_cols(column(wb["工作措施进展"], "工作进展"))
    response = upload(client, submission, wb)
    assert response.status_code == 400
    assert "工作措施进展：缺少列：工作进展" in text_of(response)


def test_a_workbook_missing_a_sheet_is_refused(client, submission, reporter):
    client.force_login(reporter)
    wb = download(client, submission)
    del wb["指标数据"]
    response = upload(client, submission, wb)
    assert response.status_code == 400
    assert "缺少工作表：指标数据" in text_of(response)


def test_another_units_workbook_is_refused(client, period, submission, reporter, other_reporter):
    kx_submission = services.ensure_submission(Unit.objects.get(code="kx"), period, by=other_reporter)
    client.force_login(other_reporter)
    wb = download(client, kx_submission)
    client.force_login(reporter)
    response = upload(client, submission, wb)
    assert response.status_code == 400
    assert "这是 省科协 单位 / 2024年第3季度 期的报送表，不能上传到本表" in text_of(response)


def test_another_periods_workbook_is_refused(client, submission, reporter):
    q4 = open_period(2024, 4)
    q4_submission = services.ensure_submission(submission.unit, q4, by=reporter)
    client.force_login(reporter)
    wb = download(client, q4_submission)
    response = upload(client, submission, wb)
    assert response.status_code == 400
    assert "这是 省教育厅 单位 / 2024年第4季度 期的报送表，不能上传到本表" in text_of(response)


def test_a_workbook_downloaded_before_someone_elses_save_is_refused(client, submission, reporter, approver):
    line = submission.lines.order_by("sort_order").first()
    client.force_login(reporter)
    wb = download(client, submission)
    save_form(
        submission.pk, by=approver, version=submission.version, lines={line.pk: {"progress": "审核员的修改"}}
    )
    put(wb["工作措施进展"], line.pk, "工作进展", "填报员在 Excel 中的修改")

    response = upload(client, submission, wb)

    assert response.status_code == 409
    html = text_of(response)
    assert "已被 jyt-approver 于" in html
    assert "请重新下载 Excel 填报表" in html
    line.refresh_from_db()
    assert line.progress == "审核员的修改"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("进展报送.xlsx", "这其实是一个文本文件".encode()),
        ("进展报送.xlsx", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"),
        ("进展报送.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512),
    ],
    ids=["text", "pdf", "old-xls"],
)
def test_a_file_that_is_not_really_xlsx_is_refused(client, submission, reporter, name, content):
    client.force_login(reporter)
    response = upload(client, submission, content, name=name)
    assert response.status_code == 400
    assert "不是有效的 Excel 文件" in text_of(response)


def test_a_zip_that_is_not_a_workbook_is_refused(client, submission, reporter):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    client.force_login(reporter)
    response = upload(client, submission, buffer.getvalue())
    assert "不是有效的 Excel 文件" in text_of(response)


def test_a_workbook_not_made_by_the_portal_is_refused(client, submission, reporter):
    client.force_login(reporter)
    response = upload(client, submission, openpyxl.Workbook())
    assert response.status_code == 400
    assert "这不是从本平台下载的报送表" in text_of(response)


def test_a_file_over_5_mb_is_refused(client, submission, reporter):
    client.force_login(reporter)
    response = upload(client, submission, b"PK\x03\x04" + b"\x00" * (5 * 1024 * 1024))
    assert response.status_code == 400
    assert "超过 5 MB 的上限" in text_of(response)


def test_rows_whose_key_is_not_in_this_form_are_refused(client, period, submission, reporter, other_reporter):
    kx_submission = services.ensure_submission(Unit.objects.get(code="kx"), period, by=other_reporter)
    foreign_line = kx_submission.lines.first()
    client.force_login(reporter)
    wb = download(client, submission)
    lines = wb["工作措施进展"]
    lines.append([foreign_line.pk, "X", "别的单位的措施", "推进中", "复制来的行"])
    figures = wb["指标数据"]
    figures.append([999999, "T99", "新增的指标", None, None, None, 5])
    figures.append([None, None, None, None, None, None, 7])

    response = upload(client, submission, wb)

    assert response.status_code == 400
    html = text_of(response)
    assert f"工作措施进展 第39行：行号 {foreign_line.pk} 不属于这张报送表" in html
    assert "指标数据 第4行：行号 999999 不属于这张报送表" in html
    assert "指标数据 第5行：缺少行号" in html
    foreign_line.refresh_from_db()
    assert foreign_line.progress == ""


def test_a_regional_funding_row_is_checked_and_a_corrected_file_can_be_uploaded_again(client, period):
    user = make_user("cd-reporter", Role.REPORTER, "chengdong")
    submission = services.ensure_submission(Unit.objects.get(code="chengdong"), period, by=user)
    region_figure = RegionFigure.objects.get(submission=submission)
    client.force_login(user)
    wb = download(client, submission)
    put(wb["地区科普经费"], region_figure.pk, "本年度科普经费（万元）", 30)
    put(wb["地区科普经费"], region_figure.pk, "常住人口（万人）", 0)

    refused = upload(client, submission, wb)
    assert refused.status_code == 400
    assert "地区科普经费 第2行（城东区）：常住人口（万人）必须大于 0。" in text_of(refused)

    put(wb["地区科普经费"], region_figure.pk, "常住人口（万人）", 40.5)
    assert upload(client, submission, wb).status_code == 302
    region_figure.refresh_from_db()
    assert (region_figure.funding, region_figure.population) == (30, 40.5)


# Who may download and upload ------------------------------------------------------------------


def test_other_units_get_404_for_the_workbook_and_its_upload(client, submission, other_reporter):
    client.force_login(other_reporter)
    assert client.get(reverse("targets:submission_excel", args=[submission.pk])).status_code == 404
    url = reverse("targets:submission_excel_upload", args=[submission.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


@pytest.mark.parametrize("persona", ["viewer", "office"])
def test_viewers_and_the_office_download_but_cannot_upload(client, submission, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(reverse("targets:submission_excel", args=[submission.pk])).status_code == 200
    url = reverse("targets:submission_excel_upload", args=[submission.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403


def test_a_submitted_form_cannot_be_uploaded_to(client, submission, reporter, approver):
    lines = {line.pk: {"status": "in_progress"} for line in submission.lines.all()}
    figures = {f.pk: {"value": "100"} for f in submission.figures.all()}
    save_form(submission.pk, by=reporter, version=submission.version, lines=lines, figures=figures)
    services.submit_submission(submission, by=approver)
    client.force_login(reporter)
    assert client.get(reverse("targets:submission_excel_upload", args=[submission.pk])).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client, submission):
    for name in ("targets:submission_excel", "targets:submission_excel_upload"):
        response = client.get(reverse(name, args=[submission.pk]))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_form_page_links_to_the_workbook_and_offers_upload_only_to_editors(
    client, submission, reporter, viewer
):
    url = reverse("targets:submission_detail", args=[submission.pk])
    upload_url = reverse("targets:submission_excel_upload", args=[submission.pk])
    client.force_login(reporter)
    html = text_of(client.get(url))
    assert reverse("targets:submission_excel", args=[submission.pk]) in html
    assert upload_url in html
    client.force_login(viewer)
    html = text_of(client.get(url))
    assert "下载Excel填报表" in html
    assert upload_url not in html


# Office exports -------------------------------------------------------------------------------


def approve(unit_code, period, office, *, source_note=""):
    """Fill in, submit and approve a unit's form for the period."""
    approver = make_user(f"{unit_code}-export-approver", Role.APPROVER, unit_code)
    submission = services.ensure_submission(Unit.objects.get(code=unit_code), period, by=approver)
    lines = {line.pk: {"status": "in_progress", "progress": "开展活动"} for line in submission.lines.all()}
    figures = {}
    for figure in submission.figures.select_related("target"):
        if figure.target.combine == "coverage":
            figures[figure.pk] = {"covered": "3", "total": "8"}
        elif figure.target.combine == "milestone":
            figures[figure.pk] = {"done": "yes"}
        else:
            figures[figure.pk] = {"value": "120", "source_note": source_note}
    region = {"funding": "30", "population": "40"} if hasattr(submission, "region_figure") else None
    save_form(
        submission.pk, by=approver, version=submission.version, lines=lines, figures=figures, region=region
    )
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)
    return submission


def export(client, name, query=""):
    response = client.get(reverse(name) + query)
    if response.streaming:
        return response, b"".join(response.streaming_content)
    return response, response.content


def csv_rows(content):
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_the_csv_export_lists_only_approved_figures_with_a_bom_and_crlf(
    client, period, office, other_reporter
):
    approve("jyt", period, office, source_note="=cmd|' /C calc'!A0")
    draft = services.ensure_submission(Unit.objects.get(code="kx"), period, by=other_reporter)
    save_form(
        draft.pk,
        by=other_reporter,
        version=draft.version,
        figures={draft.figures.get(target__code="T02").pk: {"value": "5"}},
    )
    client.force_login(office)

    response, content = export(client, "targets:figures_export_csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.count(b"\r\n") == 3 and b"\n" not in content.replace(b"\r\n", b"")
    rows = csv_rows(content)
    assert rows[0] == [
        "报送期",
        "单位代码",
        "单位",
        "指标编号",
        "指标名称",
        "汇总方式",
        "数值",
        "已覆盖",
        "应覆盖总数",
        "是否已完成",
        "数据来源说明",
        "变动说明",
        "审核时间",
    ]
    assert [(r[0], r[1], r[3], r[5], r[6], r[10]) for r in rows[1:]] == [
        ("2024年第3季度", "jyt", "T11", "增量累计", "120", "'=cmd|' /C calc'!A0"),
        ("2024年第3季度", "jyt", "T12", "增量累计", "120", "'=cmd|' /C calc'!A0"),
    ]


def test_the_xlsx_export_has_figures_and_regional_funding_with_formulas_neutralised(client, period, office):
    approve("kx", period, office, source_note="@SUM(1+1)")
    approve("chengdong", period, office)
    client.force_login(office)

    response, content = export(client, "targets:figures_export_xlsx")

    assert response.status_code == 200
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(content))
    assert wb.sheetnames == ["指标数据", "地区科普经费"]
    figures = list(wb["指标数据"].iter_rows(min_row=2, values_only=True))
    by_code = {row[3]: row for row in figures}
    assert sorted(by_code) == ["T02", "T03", "T04", "T05", "T07", "T08", "T24", "T25", "T26", "T34"]
    assert by_code["T02"][6] == 120
    assert by_code["T02"][10] == "'@SUM(1+1)"
    assert by_code["T24"][9] == "已完成"
    assert (by_code["T25"][7], by_code["T25"][8]) == (3, 8)
    assert by_code["T02"][12] is not None  # 审核时间
    regions = list(wb["地区科普经费"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[4], r[5], r[6], r[7]) for r in regions] == [("chengdong", "城东区", 30, 40, 0.75)]


def test_the_export_can_be_narrowed_to_a_period_and_a_target(client, period, office, viewer):
    approve("jyt", period, office)
    client.force_login(viewer)
    _response, content = export(client, "targets:figures_export_csv", "?year=2024&quarter=3&target=t12")
    assert [r[3] for r in csv_rows(content)[1:]] == ["T12"]
    _response, content = export(client, "targets:figures_export_csv", "?year=2023")
    assert len(csv_rows(content)) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?year=abc", "年度“abc”无效"),
        ("?year=24", "年度“24”无效"),
        ("?quarter=5", "季度“5”无效"),
        ("?target=T999", "没有编号为“T999”的目标指标"),
    ],
)
def test_bad_export_filters_get_400_with_a_message(client, office, query, message):
    client.force_login(office)
    for name in ("targets:figures_export_csv", "targets:figures_export_xlsx"):
        response = client.get(reverse(name) + query)
        assert response.status_code == 400
        assert message in response.content.decode()


def test_only_the_office_and_viewers_may_export(client, reporter, approver, viewer, office):
    for name in ("targets:figures_export_csv", "targets:figures_export_xlsx"):
        url = reverse(name)
        anonymous = client.get(url)
        assert anonymous.status_code == 302
        assert anonymous.url.startswith(reverse("login"))
        for user, expected in ((reporter, 403), (approver, 403), (viewer, 200), (office, 200)):
            client.force_login(user)
            assert client.get(url).status_code == expected
            client.logout()


@pytest.mark.parametrize("name", ["targets:figures_export_csv", "targets:figures_export_xlsx"])
def test_the_exports_query_count_does_not_grow_with_rows(client, period, office, name):
    client.force_login(office)
    approve("jyt", period, office)
    with CaptureQueriesContext(connection) as few:
        export(client, name)
    approve("kx", period, office)
    approve("chengdong", period, office)
    with CaptureQueriesContext(connection) as many:
        export(client, name)
    assert TargetFigure.objects.approved().count() == 12
    assert len(many) == len(few)
    assert len(few) <= 5


def test_figures_of_forms_back_with_the_unit_are_not_exported(client, period, office):
    submission = approve("jyt", period, office)
    services.reopen_submission(submission, by=office, reason="T12 数字有误")
    assert Submission.objects.get(pk=submission.pk).status == SubmissionStatus.RETURNED
    client.force_login(office)
    _response, content = export(client, "targets:figures_export_csv")
    assert len(csv_rows(content)) == 1
