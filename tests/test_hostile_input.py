"""Hostile input: markup and script in narratives, formulas in cells, files that lie about what
they are or where they go, enormous numbers, text in the wrong encoding.

Each one is refused with a message in Chinese, or stored harmlessly and shown escaped; and each
test also checks that what the form already held was neither lost nor changed.
"""

import io
import json
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reports.rollup.rollups import rollup
from targets.models import RegionFigure, TargetFigure
from targets.submission.services import MAX_VALUE, save_form
from tasks import services
from tasks.choices import SubmissionStatus
from tasks.models import Evidence, Submission
from tasks.selectors import current_plan
from tests.conftest import make_user
from tests.factories import open_period
from tests.test_excel import download, put, upload
from tests.test_workflow import fill_everything
from units.choices import Role
from units.models import Unit

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
ESCAPED = {SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;", IMG: "&lt;img src=x onerror=alert(1)&gt;"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ENORMOUS = ["1e400", "9" * 40, "NaN", "Infinity", "-Infinity", "sNaN", "1e-30", "1E+999999999"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def period():
    return open_period()


@pytest.fixture
def submission(period, reporter):
    """省教育厅's form with every line and figure filled in and one evidence file."""
    submission = fill_everything(
        services.ensure_submission(Unit.objects.get(code="jyt"), period, by=reporter), reporter
    )
    services.add_evidence(submission, SimpleUploadedFile("会议纪要.pdf", PDF), by=reporter)
    return Submission.objects.get(pk=submission.pk)


def saved(submission):
    """Everything the form holds, to compare before and after a refused or neutralised input."""
    return {
        "version": Submission.objects.get(pk=submission.pk).version,
        "lines": list(submission.lines.order_by("pk").values_list("pk", "status", "progress", "problems")),
        "figures": list(
            TargetFigure.objects.filter(submission=submission)
            .order_by("pk")
            .values_list("pk", "value", "covered", "total", "done", "source_note", "explanation")
        ),
        "region": list(
            RegionFigure.objects.filter(submission=submission).values_list("funding", "population")
        ),
        "evidence": [
            (e.pk, e.original_name, e.file.name, e.file.open("rb").read())
            for e in Evidence.objects.filter(submission=submission).order_by("pk")
        ],
    }


def html(response):
    return response.content.decode()


def assert_escaped(page, *texts):
    for text in texts:
        assert text not in page, f"{text!r} is in the page unescaped"
        assert ESCAPED[text] in page, f"{text!r} is not in the page at all"


def api_patch(api_client, user, submission, body):
    api_client.force_authenticate(user)
    return api_client.patch(f"/api/v1/submissions/{submission.pk}/", body, format="json")


def form_post(client, submission, fields):
    version = Submission.objects.get(pk=submission.pk).version
    return client.post(
        reverse("targets:submission_detail", args=[submission.pk]), {"version": version, **fields}
    )


# ---------------------------------------------------------------- markup and script in narratives


def test_script_typed_into_the_form_is_escaped_on_the_form_and_history_pages(
    client, submission, reporter, office
):
    line = submission.lines.order_by("sort_order").first()
    other_lines = saved(submission)["lines"][1:]
    client.force_login(reporter)

    response = form_post(
        client, submission, {f"line-{line.pk}-progress": SCRIPT, f"line-{line.pk}-problems": IMG}
    )

    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.progress, line.problems) == (SCRIPT, IMG)  # stored as typed, escaped when shown
    assert saved(submission)["lines"][1:] == other_lines
    for user in (reporter, office):
        client.force_login(user)
        assert_escaped(
            html(client.get(reverse("targets:submission_detail", args=[submission.pk]))), SCRIPT, IMG
        )
        assert_escaped(
            html(client.get(reverse("targets:submission_history", args=[submission.pk]))), SCRIPT, IMG
        )


def test_script_saved_through_the_api_is_escaped_on_the_pages_and_returned_as_typed(
    client, api_client, submission, reporter
):
    line = submission.lines.order_by("sort_order").first()
    figure = submission.figures.get(target__code="T11")
    before = saved(submission)

    response = api_patch(
        api_client,
        reporter,
        submission,
        {
            "version": before["version"],
            "lines": [{"id": line.pk, "next_steps": SCRIPT}],
            "figures": [{"id": figure.pk, "source_note": IMG, "explanation": SCRIPT}],
        },
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert next(row for row in body["lines"] if row["id"] == line.pk)["next_steps"] == SCRIPT
    assert next(row for row in body["figures"] if row["id"] == figure.pk)["source_note"] == IMG
    after = saved(submission)
    assert after["figures"] != before["figures"]
    assert [row[:5] for row in after["figures"]] == [row[:5] for row in before["figures"]]  # the numbers
    client.force_login(reporter)
    assert_escaped(html(client.get(reverse("targets:submission_detail", args=[submission.pk]))), SCRIPT, IMG)
    assert_escaped(html(client.get(reverse("targets:submission_history", args=[submission.pk]))), SCRIPT, IMG)


def test_approved_narratives_with_script_are_escaped_on_the_dashboard(
    client, api_client, submission, reporter, approver, office
):
    """The initiative page shows approved narratives to the office and to the lead unit (省教育厅
    leads A1); the target page lists the problems of units behind; the unit page their lines."""
    line = submission.lines.filter(measure__initiative__code="A1").order_by("sort_order").first()
    response = api_patch(
        api_client,
        reporter,
        submission,
        {"version": submission.version, "lines": [{"id": line.pk, "progress": SCRIPT, "problems": IMG}]},
    )
    assert response.status_code == 200
    submission.refresh_from_db()
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)
    rollup(current_plan())
    before = saved(submission)
    period = f"?period={submission.period_id}"

    for user in (office, reporter):
        client.force_login(user)
        page = html(client.get(reverse("reports:initiative_detail", args=["A1"]) + period))
        assert_escaped(page, SCRIPT, IMG)
    client.force_login(office)
    assert_escaped(html(client.get(reverse("reports:unit_detail", args=["jyt"]) + period)), SCRIPT, IMG)
    assert saved(submission) == before


def test_a_return_comment_with_script_is_escaped_in_the_notifications_and_on_the_form(
    client, submission, reporter, approver, office
):
    services.submit_submission(submission, by=approver)
    client.force_login(office)
    response = client.post(
        reverse("tasks:submission_return", args=[submission.pk]), {"comment": SCRIPT + IMG}
    )
    assert response.status_code == 302
    client.force_login(reporter)

    assert_escaped(html(client.get(reverse("tasks:notification_list"))), SCRIPT, IMG)
    assert_escaped(html(client.get(reverse("targets:submission_detail", args=[submission.pk]))), SCRIPT, IMG)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.RETURNED


def test_script_and_formulas_saved_through_the_api_stay_text_in_the_excel_workbook(
    client, api_client, submission, reporter
):
    line = submission.lines.order_by("sort_order").first()
    formula = "=cmd|' /C calc'!A0"
    response = api_patch(
        api_client,
        reporter,
        submission,
        {"version": submission.version, "lines": [{"id": line.pk, "progress": SCRIPT, "problems": formula}]},
    )
    assert response.status_code == 200
    client.force_login(reporter)

    content = client.get(reverse("targets:submission_excel", args=[submission.pk])).content

    sheet = openpyxl.load_workbook(io.BytesIO(content))["工作措施进展"]
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value in (SCRIPT, formula)}
    assert set(cells) == {SCRIPT, formula}
    assert {cell.data_type for cell in cells.values()} == {"s"}  # text, not a formula
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert not any(b"<f>" in xml or b"<f " in xml for xml in sheets)


def test_a_formula_saved_through_the_api_is_neutralised_in_the_offices_exports(
    client, api_client, submission, reporter, approver, office
):
    """The cross-check of tests/test_excel.py's formula tests, with text that came in by the API."""
    figure = submission.figures.get(target__code="T11")
    response = api_patch(
        api_client,
        reporter,
        submission,
        {
            "version": submission.version,
            "figures": [{"id": figure.pk, "source_note": "=cmd|' /C calc'!A0", "explanation": "@SUM(1+1)"}],
        },
    )
    assert response.status_code == 200
    submission.refresh_from_db()
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)
    client.force_login(office)

    csv = client.get(reverse("targets:figures_export_csv"))
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(reverse("targets:figures_export_xlsx")).content))

    assert "'=cmd|' /C calc'!A0" in text and "'@SUM(1+1)" in text
    cells = [cell for row in workbook["指标数据"].iter_rows(values_only=True) for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(1+1)" in cells
    assert not any(isinstance(cell, str) and cell.startswith(("=", "@")) for cell in cells)
    figure.refresh_from_db()
    assert figure.source_note == "=cmd|' /C calc'!A0"  # the stored text is what the unit typed


# ---------------------------------------------------------------- uploads that lie


def plain_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "不是 Word 文件")
    return buffer.getvalue()


LYING_FILES = [
    ("现场照片.png", PDF, "的内容不是 PNG 文件"),
    ("工作总结.docx", plain_zip(), "的内容不是 Word 文件"),
    ("通知.pdf", b"", "是空文件"),
    ("数据.xlsx", "单位,人数\n教育厅,120\n".encode("gbk"), "的内容不是 Excel 文件"),
    ("脚本.exe", b"MZ\x90\x00", "不支持的文件类型"),
]


@pytest.mark.parametrize(
    ("name", "content", "message"), LYING_FILES, ids=["png", "docx", "empty", "csv", "exe"]
)
def test_a_file_whose_content_does_not_match_its_name_is_refused_on_the_page(
    client, submission, reporter, name, content, message
):
    before = saved(submission)
    client.force_login(reporter)

    response = client.post(
        reverse("tasks:evidence_upload", args=[submission.pk]),
        {"file": SimpleUploadedFile(name, content)},
        follow=True,
    )

    assert response.status_code == 200
    assert message in html(response)
    assert saved(submission) == before


@pytest.mark.parametrize(
    ("name", "content", "message"), LYING_FILES, ids=["png", "docx", "empty", "csv", "exe"]
)
def test_a_file_whose_content_does_not_match_its_name_is_refused_by_the_api(
    api_client, submission, reporter, name, content, message
):
    before = saved(submission)
    api_client.force_authenticate(reporter)

    response = api_client.post(
        f"/api/v1/submissions/{submission.pk}/evidence/",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )

    assert response.status_code == 400
    assert message in " ".join(response.json()["detail"])
    assert saved(submission) == before


def test_a_file_over_the_size_limit_is_refused(client, api_client, submission, reporter, monkeypatch):
    monkeypatch.setattr("tasks.evidence.MAX_BYTES", 1024 * 1024)
    big = PDF + b"0" * (1024 * 1024)
    before = saved(submission)
    client.force_login(reporter)

    page = client.post(
        reverse("tasks:evidence_upload", args=[submission.pk]),
        {"file": SimpleUploadedFile("扫描件.pdf", big)},
        follow=True,
    )
    api_client.force_authenticate(reporter)
    api = api_client.post(
        f"/api/v1/submissions/{submission.pk}/evidence/", {"file": SimpleUploadedFile("扫描件.pdf", big)}
    )

    assert "超过 1 MB 的上限" in html(page)
    assert api.status_code == 400 and "超过 1 MB 的上限" in api.json()["detail"][0]
    assert saved(submission) == before


# ---------------------------------------------------------------- file names that try to escape


TRICKY_NAMES = [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\boot.ini.pdf", "boot.ini.pdf"),
    ("nul\x00byte.pdf", "nulbyte.pdf"),
    ("con\x07trol\x1b\u202echars.pdf", "controlchars.pdf"),
    ("<script>alert(1)<\\script>.pdf", "script.pdf"),
]


@pytest.mark.parametrize(
    ("name", "expected"), TRICKY_NAMES, ids=["dotdot", "backslash", "nul", "control", "markup"]
)
def test_path_tricks_in_evidence_names_are_neutralised(
    client, api_client, submission, reporter, name, expected, settings
):
    before = saved(submission)
    client.force_login(reporter)
    api_client.force_authenticate(reporter)

    client.post(
        reverse("tasks:evidence_upload", args=[submission.pk]), {"file": SimpleUploadedFile(name, PDF)}
    )
    api = api_client.post(
        f"/api/v1/submissions/{submission.pk}/evidence/",
        {"file": SimpleUploadedFile(name, PDF)},
        format="multipart",
    )

    assert api.status_code == 201
    new = list(
        Evidence.objects.filter(submission=submission).exclude(pk__in=[e[0] for e in before["evidence"]])
    )
    assert len(new) == 2
    for evidence in new:
        assert evidence.original_name.endswith(expected)
        assert not re.search(r"[/\\\x00-\x1f<>]", evidence.original_name)
        assert not evidence.original_name.startswith(".")
        stored = evidence.file.path
        assert stored.startswith(str(settings.MEDIA_ROOT / "evidence"))
        assert ".." not in evidence.file.name and "\x00" not in evidence.file.name
        download = client.get(reverse("tasks:evidence_download", args=[evidence.pk]))
        assert download.status_code == 200
        disposition = download["Content-Disposition"]
        assert "/" not in disposition.split("filename", 1)[1] and ".." not in disposition
        assert b"".join(download.streaming_content) == PDF
    assert saved(submission)["evidence"][: len(before["evidence"])] == before["evidence"]
    assert {k: v for k, v in saved(submission).items() if k != "evidence"} == {
        k: v for k, v in before.items() if k != "evidence"
    }


def test_a_300_character_file_name_is_shortened_and_the_download_uses_the_short_name(
    client, submission, reporter
):
    name = "工作总结" * 74 + "附件.pdf"  # 302 characters
    before = saved(submission)
    client.force_login(reporter)

    client.post(
        reverse("tasks:evidence_upload", args=[submission.pk]), {"file": SimpleUploadedFile(name, PDF)}
    )

    evidence = Evidence.objects.filter(submission=submission).order_by("-pk").first()
    assert evidence.pk not in [e[0] for e in before["evidence"]]
    assert len(evidence.original_name) <= 200
    assert len(evidence.file.name) <= Evidence._meta.get_field("file").max_length
    download = client.get(reverse("tasks:evidence_download", args=[evidence.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert saved(submission)["evidence"][:1] == before["evidence"]


def test_an_excel_upload_with_markup_in_its_name_is_refused_and_the_name_is_shown_escaped(
    client, submission, reporter
):
    before = saved(submission)
    client.force_login(reporter)

    response = upload(client, submission, b"not a workbook", name="<img src=x onerror=alert(1)>.xlsx")

    assert response.status_code == 400
    assert "不是有效的 Excel 文件" in html(response)
    assert_escaped(html(response), IMG)
    assert saved(submission) == before


# ---------------------------------------------------------------- enormous numbers


def is_safe(value):
    return value is None or (value.is_finite() and 0 <= value <= MAX_VALUE)


@pytest.mark.parametrize("raw", ENORMOUS)
def test_enormous_numbers_typed_into_the_form_are_refused_with_a_message(client, submission, reporter, raw):
    t11 = submission.figures.get(target__code="T11")
    before = saved(submission)
    client.force_login(reporter)

    response = form_post(client, submission, {f"fig-{t11.pk}-value": raw})

    assert response.status_code == 400
    assert "T11" in html(response)
    assert re.search("不是数字|有效的数字|数值过大|应为整数", html(response))
    assert saved(submission) == before


@pytest.mark.parametrize("raw", [*ENORMOUS, 1e308, 10**40, -(10**40)])
def test_enormous_numbers_sent_to_the_api_are_refused_with_a_message(api_client, submission, reporter, raw):
    t11 = submission.figures.get(target__code="T11")
    before = saved(submission)

    response = api_patch(
        api_client,
        reporter,
        submission,
        {"version": before["version"], "figures": [{"id": t11.pk, "value": raw}]},
    )

    assert response.status_code == 400
    assert "T11" in json.dumps(response.json(), ensure_ascii=False)
    assert saved(submission) == before


def test_numbers_that_are_not_json_are_refused_by_the_api(api_client, submission, reporter):
    t11 = submission.figures.get(target__code="T11")
    before = saved(submission)
    api_client.force_authenticate(reporter)
    for literal in ("NaN", "Infinity", "-Infinity", "1e400"):
        body = f'{{"version": {before["version"]}, "figures": [{{"id": {t11.pk}, "value": {literal}}}]}}'
        response = api_client.patch(
            f"/api/v1/submissions/{submission.pk}/", body, content_type="application/json"
        )
        assert response.status_code == 400, literal
    assert saved(submission) == before


def test_a_tiny_number_for_a_decimal_target_is_stored_rounded(client, period):
    """1e-30 of a percentage is 0 to four places: stored safely, not refused."""
    user = make_user("mzt-reporter", Role.REPORTER, "mzt")
    submission = services.ensure_submission(Unit.objects.get(code="mzt"), period, by=user)
    t20 = submission.figures.get(target__code="T20")
    client.force_login(user)

    response = form_post(client, submission, {f"fig-{t20.pk}-value": "1e-30"})

    assert response.status_code == 302
    t20.refresh_from_db()
    assert t20.value == Decimal("0")


@pytest.fixture
def county(period):
    user = make_user("chengdong-reporter", Role.REPORTER, "chengdong")
    submission = services.ensure_submission(Unit.objects.get(code="chengdong"), period, by=user)
    save_form(
        submission.pk, by=user, version=submission.version, region={"funding": "30", "population": "40"}
    )
    return user, Submission.objects.get(pk=submission.pk)


@pytest.mark.parametrize(
    "field,raw",
    [
        ("funding", "1e400"),
        ("funding", "9" * 40),
        ("funding", "NaN"),
        ("population", "Infinity"),
        ("population", "9" * 40),
        ("population", "999999999"),  # beyond what the column holds (万人): refused by a bound
    ],
)
def test_enormous_regional_funding_and_population_are_refused_on_the_page_and_by_the_api(
    client, api_client, county, field, raw
):
    user, submission = county
    before = saved(submission)
    client.force_login(user)

    page = form_post(client, submission, {f"region-{field}": raw})
    api = api_patch(api_client, user, submission, {"version": before["version"], "region": {field: raw}})

    assert page.status_code == 400 and api.status_code == 400
    assert saved(submission) == before


@pytest.mark.parametrize("raw", ["1e400", "9" * 40, "NaN", "Infinity", "-1e400", 1e300, 10**40])
def test_enormous_numbers_in_an_uploaded_workbook_are_refused_row_by_row(client, submission, reporter, raw):
    t11 = submission.figures.get(target__code="T11")
    before = saved(submission)
    client.force_login(reporter)
    workbook = download(client, submission)
    put(workbook["指标数据"], t11.pk, "数值", raw)

    response = upload(client, submission, workbook)

    assert response.status_code == 400
    assert "T11" in html(response) and "报送表中的内容没有任何改动" in html(response)
    assert saved(submission) == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/targets/?period=" + "9" * 40,
        "/api/v1/submissions/?period=1e400",
        "/api/v1/submissions/?year=" + "9" * 40,
        "/api/v1/submissions/" + "9" * 40 + "/",
        "/api/v1/periods/?year=-1e400",
        "/submissions/" + "9" * 30 + "/",
        "/dashboard/?period=" + "9" * 40,
        "/exports/figures.csv?year=" + "9" * 40,
    ],
)
def test_enormous_numbers_in_urls_are_a_4xx_or_ignored(client, api_client, submission, office, url):
    before = saved(submission)
    client.force_login(office)

    response = client.get(url)

    assert response.status_code < 500
    assert saved(submission) == before


def test_an_enormous_period_for_a_rollup_is_refused(api_client, office, period):
    api_client.force_authenticate(office)

    for raw in (10**40, "9" * 40, "²", -1, [], {"id": 1}):
        response = api_client.post("/api/v1/rollups/", {"period": raw}, format="json")
        assert response.status_code == 400, raw
    assert api_client.post("/api/v1/rollups/", [1, 2], format="json").status_code == 400


# ---------------------------------------------------------------- text in the wrong encoding


def test_a_gbk_csv_renamed_xlsx_is_not_a_valid_excel_file(client, submission, reporter):
    before = saved(submission)
    client.force_login(reporter)
    gbk_csv = "行号,工作进展\n1,开展科普讲座十二场\n".encode("gbk")

    response = upload(client, submission, gbk_csv, name="进展报送.xlsx")

    assert response.status_code == 400
    assert "不是有效的 Excel 文件" in html(response)
    assert saved(submission) == before


def test_gbk_text_posted_to_the_form_is_stored_as_harmless_text_or_refused_never_a_500(
    client, submission, reporter
):
    line, other = submission.lines.order_by("sort_order")[:2]
    client.force_login(reporter)
    version = Submission.objects.get(pk=submission.pk).version
    gbk = "开展科普讲座".encode("gbk")
    url = reverse("targets:submission_detail", args=[submission.pk])

    undeclared = client.generic(
        "POST",
        url,
        b"version=%d&line-%d-progress=%s" % (version, line.pk, gbk),
        content_type="application/x-www-form-urlencoded",
    )
    assert undeclared.status_code == 302
    line.refresh_from_db()
    # Bytes that are not UTF-8 and come without a charset are read as Latin-1 (Django's rule):
    # garbled but harmless text, which the unit sees and corrects. Browsers always send UTF-8.
    assert line.progress == gbk.decode("latin-1")
    before = saved(submission)
    declared = client.generic(
        "POST",
        url,
        "version={}&line-{}-progress={}".format(before["version"], line.pk, "开展科普讲座").encode("gbk"),
        content_type="application/x-www-form-urlencoded; charset=gbk",
    )
    assert declared.status_code == 400  # Django reads forms only in UTF-8 and says so
    assert saved(submission) == before
    assert submission.lines.get(pk=other.pk).progress == "开展培训3期"


def test_a_gbk_json_body_is_refused_by_the_api(api_client, submission, reporter):
    line = submission.lines.order_by("sort_order").first()
    before = saved(submission)
    api_client.force_authenticate(reporter)
    body = json.dumps(
        {"version": before["version"], "lines": [{"id": line.pk, "progress": "开展科普讲座"}]},
        ensure_ascii=False,
    ).encode("gbk")

    response = api_client.generic(
        "PATCH", f"/api/v1/submissions/{submission.pk}/", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert saved(submission) == before


@pytest.mark.parametrize(
    "path,query",
    [
        ("targets:target_list", "code=%FF%FE&combine=%C0%AF"),
        ("targets:target_list", "code=%00&unit=%00"),
        ("targets:unit_list", "x=%ED%A0%80"),
        ("reports:dashboard", "period=%FF"),
        ("reports:dashboard", "period=%C2%B2"),  # ², a digit that int() refuses
        ("targets:figures_export_csv", "target=%FF%FE&year=%C0"),
        ("targets:figures_export_csv", "target=%00&year=%C2%B2%C2%B2%C2%B2%C2%B2"),
        ("tasks:period_list", "%FF=%FE"),
        ("target-list", "code=%FF&period=%FE"),
        ("target-list", "period=%C2%B2"),
        ("submission-list", "unit=%FF%FE&status=%C0%AF"),
        ("submission-list", "unit=%00&period=%C2%B2"),
        ("unit-list", "code=%00&kind=%FF"),
        ("period-list", "state=%00"),
    ],
)
def test_query_strings_with_invalid_utf8_or_nul_bytes_are_a_4xx_or_ignored(
    client, submission, office, path, query
):
    before = saved(submission)
    client.force_login(office)

    response = client.get(reverse(path), QUERY_STRING=query)

    assert response.status_code < 500
    assert saved(submission) == before


def test_a_path_with_invalid_utf8_is_a_404(client, office):
    client.force_login(office)
    assert client.get("/units/%FF%FE/").status_code == 404
    assert client.get("/api/v1/units/%FF%FE/").status_code == 404


def test_nul_characters_typed_into_the_form_are_refused_or_dropped_never_a_500(client, submission, reporter):
    """PostgreSQL cannot store NUL in text; the page must not pass it on and fail."""
    line = submission.lines.order_by("sort_order").first()
    t11 = submission.figures.get(target__code="T11")
    client.force_login(reporter)

    response = form_post(
        client,
        submission,
        {f"line-{line.pk}-progress": "讲座\x00十二场", f"fig-{t11.pk}-source_note": "台账\x00"},
    )

    assert response.status_code in (302, 400)
    line.refresh_from_db()
    assert "\x00" not in line.progress
    assert "\x00" not in submission.figures.get(pk=t11.pk).source_note


def test_nul_characters_sent_to_the_api_are_refused(api_client, submission, reporter):
    line = submission.lines.order_by("sort_order").first()
    before = saved(submission)

    response = api_patch(
        api_client,
        reporter,
        submission,
        {"version": before["version"], "lines": [{"id": line.pk, "progress": "讲座\x00十二场"}]},
    )

    assert response.status_code == 400
    assert saved(submission) == before


def test_nul_characters_in_comments_and_descriptions_are_refused_on_the_pages_and_in_the_api(
    client, api_client, submission, reporter, approver, office
):
    """A NUL anywhere in a request is refused before any view (portal.security.NulByteMiddleware)."""
    services.submit_submission(submission, by=approver)
    client.force_login(office)
    refused = client.post(
        reverse("tasks:submission_return", args=[submission.pk]), {"comment": "请补充\x00佐证材料"}
    )
    assert refused.status_code == 400 and "空字符" in html(refused)
    submission.refresh_from_db()
    assert (submission.status, submission.review_comment) == (SubmissionStatus.SUBMITTED, "")
    services.return_submission(submission, by=office, comment="请补充佐证材料")
    files = Evidence.objects.filter(submission=submission).count()
    client.force_login(reporter)
    page = client.post(
        reverse("tasks:evidence_upload", args=[submission.pk]),
        {"file": SimpleUploadedFile("签到表.pdf", PDF), "description": "签到\x00表"},
    )
    api_client.force_authenticate(reporter)
    api = api_client.post(
        f"/api/v1/submissions/{submission.pk}/evidence/",
        {"file": SimpleUploadedFile("照片.pdf", PDF), "description": "照片\x00"},
        format="multipart",
    )
    assert (page.status_code, api.status_code) == (400, 400)
    assert "空字符" in api.json()["detail"]
    assert Evidence.objects.filter(submission=submission).count() == files


def test_nul_characters_in_a_return_comment_sent_to_the_api_are_refused(
    api_client, submission, approver, office
):
    services.submit_submission(submission, by=approver)
    api_client.force_authenticate(office)

    response = api_client.post(
        f"/api/v1/submissions/{submission.pk}/return/", {"comment": "数据\x00有误"}, format="json"
    )

    assert response.status_code == 400
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED


def test_an_extension_for_a_unit_code_with_a_nul_is_refused(client, period, office):
    client.force_login(office)
    response = client.post(
        reverse("tasks:extension_create", args=[period.pk]),
        {"unit": "jyt\x00", "deadline": "2024-12-31", "reason": "抗灾"},
    )
    assert response.status_code == 400
    assert not period.extensions.exists()


def test_marking_messages_read_ignores_ids_that_are_not_plain_numbers(client, submission, approver, office):
    services.submit_submission(submission, by=approver)  # a message for the office
    client.force_login(office)

    response = client.post(reverse("tasks:notification_read"), {"id": ["²", "9" * 40, "-1", "abc"]})

    assert response.status_code == 302
    assert office.notifications.filter(read_at__isnull=True).count() == 1


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_marking_messages_read_never_sends_the_user_to_another_site(client, office, next_url):
    client.force_login(office)

    response = client.post(reverse("tasks:notification_read"), {"next": next_url})

    assert response.status_code == 302
    assert response.url == reverse("tasks:notification_list")


def test_marking_messages_read_goes_back_to_a_page_of_the_portal(client, office):
    client.force_login(office)
    response = client.post(reverse("tasks:notification_read"), {"next": "/review/"})
    assert response.url == "/review/"


@pytest.mark.parametrize("raw", ["²", "9" * 40, "-1", "abc"])
def test_a_rollup_for_a_period_that_is_not_a_plain_number_is_refused_with_a_message(
    client, office, period, raw
):
    client.force_login(office)

    response = client.post(reverse("reports_office:rollup_runs"), {"period": raw}, follow=True)

    assert response.status_code == 200
    assert "所选报送期不存在" in html(response)
