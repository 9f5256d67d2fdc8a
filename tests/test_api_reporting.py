"""The reporting API: periods and submissions, with the same permissions as the pages."""

import pytest
from rest_framework.authtoken.models import Token

from tasks import services
from tasks.choices import PeriodState, SubmissionStatus
from tasks.models import Evidence, Period, Submission
from tests.conftest import make_user
from units.models import Unit

pytestmark = pytest.mark.django_db

REAL_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def url(submission=None, action=None):
    if submission is None:
        return "/api/v1/submissions/"
    pk = submission if isinstance(submission, int) else submission.pk
    return f"/api/v1/submissions/{pk}/" + (f"{action}/" if action else "")


def as_(client, user):
    client.force_authenticate(user)
    return client


def full_body(submission):
    """A PATCH body that fills every line and figure, like the page's 保存草稿 with everything typed."""
    submission.refresh_from_db()
    figures = []
    for figure in submission.figures.select_related("target"):
        if figure.target.combine == "coverage":
            figures.append({"id": figure.pk, "covered": "3", "total": "8"})
        elif figure.target.combine == "milestone":
            figures.append({"id": figure.pk, "done": False})
        else:
            figures.append({"id": figure.pk, "value": 120})
    return {
        "version": submission.version,
        "lines": [
            {"id": line.pk, "status": "in_progress", "progress": "开展教师培训3期"}
            for line in submission.lines.all()
        ],
        "figures": figures,
    }


def fill(client, submission, user):
    response = as_(client, user).patch(url(submission), full_body(submission), format="json")
    assert response.status_code == 200, response.json()
    return response


def submitted(client, submission, reporter, approver):
    fill(client, submission, reporter)
    response = as_(client, approver).post(url(submission, "submit"))
    assert response.status_code == 200, response.json()
    return response


# Periods -------------------------------------------------------------------------------


def test_every_logged_in_user_reads_the_periods(api_client, period, other_reporter):
    rows = as_(api_client, other_reporter).get("/api/v1/periods/", {"year": 2024}).json()["results"]
    assert [(r["quarter"], r["state"]) for r in rows] == [
        (1, "planned"),
        (2, "planned"),
        (3, "open"),
        (4, "planned"),
    ]
    assert rows[2]["label"] == "2024年第3季度"
    assert rows[2]["deadline"] == "2024-10-10"
    assert set(rows[2]) == {"id", "year", "quarter", "label", "is_baseline", "opens_on", "deadline", "state"}


def test_periods_filter_by_state_and_refuse_unknown_filters(api_client, period, viewer):
    as_(api_client, viewer)
    open_rows = api_client.get("/api/v1/periods/", {"state": "open"}).json()["results"]
    assert [r["id"] for r in open_rows] == [period.pk]
    assert api_client.get("/api/v1/periods/", {"quarter": 3}).status_code == 400


def test_the_baseline_period_is_labelled_as_such(api_client, period, viewer):
    rows = as_(api_client, viewer).get("/api/v1/periods/", {"year": 2021}).json()["results"]
    assert [(r["label"], r["is_baseline"]) for r in rows] == [("2021年（基期）", True)]


def test_periods_are_read_only(api_client, period, office):
    response = as_(api_client, office).patch(f"/api/v1/periods/{period.pk}/", {"state": "closed"})
    assert response.status_code == 405
    period.refresh_from_db()
    assert period.state == PeriodState.OPEN


# Who may do what -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("get", None),
        ("patch", None),
        ("post", "submit"),
        ("post", "approve"),
        ("post", "return"),
        ("post", "reopen"),
        ("post", "evidence"),
    ],
)
def test_anonymous_callers_get_401_on_every_submission_endpoint(api_client, submission, method, action):
    response = getattr(api_client, method)(url(submission, action), {}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize("path", ["/api/v1/submissions/", "/api/v1/periods/"])
def test_anonymous_callers_get_401_on_the_lists(api_client, path):
    assert api_client.get(path).status_code == 401
    assert api_client.post(path, {}).status_code == 401


DETAIL_MATRIX = {"reporter": 200, "approver": 200, "other_unit": 404, "office": 200, "viewer": 200}


@pytest.mark.parametrize(("persona", "expected"), DETAIL_MATRIX.items())
def test_who_may_read_a_units_form(api_client, submission, personas, persona, expected):
    response = as_(api_client, personas[persona]).get(url(submission))
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["unit"] == "jyt"


@pytest.mark.parametrize("pk", ["999999", "abc"])
def test_a_form_that_does_not_exist_is_a_404(api_client, office, pk):
    response = as_(api_client, office).get(f"/api/v1/submissions/{pk}/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_unit_staff_list_only_their_units_forms(api_client, submission, period, other_reporter, viewer):
    kx = services.ensure_submission(Unit.objects.get(code="kx"), period, by=other_reporter)
    mine = as_(api_client, other_reporter).get(url()).json()
    assert [row["id"] for row in mine["results"]] == [kx.pk]
    # Asking for another unit by name does not help either.
    assert api_client.get(url(), {"unit": "jyt"}).json()["count"] == 0
    everyone = as_(api_client, viewer).get(url()).json()
    assert {row["unit"] for row in everyone["results"]} == {"jyt", "kx"}


PATCH_MATRIX = {"reporter": 200, "approver": 200, "other_unit": 404, "office": 403, "viewer": 403}


@pytest.mark.parametrize(("persona", "expected"), PATCH_MATRIX.items())
def test_who_may_save_a_draft(api_client, submission, personas, persona, expected):
    line = submission.lines.first()
    body = {"version": submission.version, "lines": [{"id": line.pk, "progress": "已完成培训"}]}
    response = as_(api_client, personas[persona]).patch(url(submission), body, format="json")
    assert response.status_code == expected
    line.refresh_from_db()
    assert (line.progress == "已完成培训") == (expected == 200)


def test_the_office_is_told_why_it_cannot_edit(api_client, submission, office):
    body = {"version": submission.version, "lines": []}
    response = as_(api_client, office).patch(url(submission), body, format="json")
    assert response.status_code == 403
    assert "省纲要办和查阅人员也不能修改" in response.json()["detail"]


SUBMIT_MATRIX = {"reporter": 403, "approver": 200, "other_unit": 404, "office": 403, "viewer": 403}


@pytest.mark.parametrize(("persona", "expected"), SUBMIT_MATRIX.items())
def test_only_the_unit_approver_submits(api_client, submission, reporter, personas, persona, expected):
    fill(api_client, submission, reporter)
    response = as_(api_client, personas[persona]).post(url(submission, "submit"))
    assert response.status_code == expected
    submission.refresh_from_db()
    assert (submission.status == SubmissionStatus.SUBMITTED) == (expected == 200)


def test_a_reporter_is_told_to_ask_the_approver(api_client, submission, reporter):
    fill(api_client, submission, reporter)
    response = api_client.post(url(submission, "submit"))
    assert response.status_code == 403
    assert "只有本单位审核员可以提交" in response.json()["detail"]


REVIEW_MATRIX = {"reporter": 403, "approver": 403, "other_unit": 404, "office": 200, "viewer": 403}


@pytest.mark.parametrize(("persona", "expected"), REVIEW_MATRIX.items())
@pytest.mark.parametrize(
    ("action", "body", "after"),
    [
        ("approve", {}, SubmissionStatus.APPROVED),
        ("return", {"comment": "请补充培训人数来源"}, SubmissionStatus.RETURNED),
    ],
)
def test_only_the_office_approves_and_returns(
    api_client, submission, reporter, approver, personas, persona, expected, action, body, after
):
    submitted(api_client, submission, reporter, approver)
    response = as_(api_client, personas[persona]).post(url(submission, action), body, format="json")
    assert response.status_code == expected
    submission.refresh_from_db()
    assert submission.status == (after if expected == 200 else SubmissionStatus.SUBMITTED)


@pytest.mark.parametrize(("persona", "expected"), REVIEW_MATRIX.items())
def test_only_the_office_reopens(
    api_client, submission, reporter, approver, office, personas, persona, expected
):
    submitted(api_client, submission, reporter, approver)
    assert as_(api_client, office).post(url(submission, "approve")).status_code == 200
    response = as_(api_client, personas[persona]).post(
        url(submission, "reopen"), {"reason": "T12 数字有误"}, format="json"
    )
    assert response.status_code == expected
    submission.refresh_from_db()
    assert submission.status == (SubmissionStatus.RETURNED if expected == 200 else SubmissionStatus.APPROVED)


@pytest.mark.parametrize("method", ["put", "delete"])
def test_forms_are_never_replaced_or_deleted(api_client, submission, reporter, method):
    response = getattr(as_(api_client, reporter), method)(url(submission), {}, format="json")
    assert response.status_code == 405
    assert Submission.objects.filter(pk=submission.pk).exists()


# Starting a form -----------------------------------------------------------------------


def test_a_reporter_starts_the_units_form_once(api_client, period, reporter):
    as_(api_client, reporter)
    first = api_client.post(url(), {"unit": "jyt", "period": period.pk}, format="json")
    assert first.status_code == 201
    body = first.json()
    assert (body["unit"], body["period"], body["status"]) == ("jyt", period.pk, "draft")
    assert first["Location"].endswith(url(body["id"]))
    assert {"T11", "T12"} <= {f["target"] for f in body["figures"]}
    assert any(line["measure"] == "A1.1" for line in body["lines"])
    again = api_client.post(url(), {"unit": "jyt", "period": period.pk}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert Submission.objects.filter(unit__code="jyt", period=period).count() == 1


@pytest.mark.parametrize("persona", ["other_unit", "office", "viewer"])
def test_only_the_units_own_staff_start_its_form(api_client, period, personas, persona):
    response = as_(api_client, personas[persona]).post(
        url(), {"unit": "jyt", "period": period.pk}, format="json"
    )
    assert response.status_code == 403
    assert "只有本单位的填报员和审核员" in response.json()["detail"]
    assert not Submission.objects.filter(unit__code="jyt").exists()


def test_a_form_cannot_be_started_for_a_period_that_is_not_open(api_client, period, approver):
    planned = Period.objects.get(year=2024, quarter=4)
    response = as_(api_client, approver).post(url(), {"unit": "jyt", "period": planned.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == ["2024年第4季度 尚未开放填报或已关闭。"]
    assert not Submission.objects.exists()


def test_starting_a_form_for_an_unknown_unit_is_a_400(api_client, period, approver):
    response = as_(api_client, approver).post(url(), {"unit": "nope", "period": period.pk}, format="json")
    assert response.status_code == 400
    assert "unit" in response.json()


# Filling in ----------------------------------------------------------------------------


def test_a_saved_draft_shows_in_the_detail_with_a_new_version_and_etag(api_client, submission, reporter):
    version = submission.version
    response = fill(api_client, submission, reporter)
    body = response.json()
    assert body["version"] == version + 1
    assert response["ETag"] == f'W/"{version + 1}"'
    assert {line["status"] for line in body["lines"]} == {"in_progress"}
    assert {f["target"]: f["value"] for f in body["figures"]} == {"T11": "120.0000", "T12": "120.0000"}
    assert body["events"][-1]["action"] == "saved"
    assert body["events"][-1]["actor"] == "jyt-reporter"
    assert body["can_edit"] is True


def test_the_detail_carries_the_version_as_etag(api_client, submission, viewer):
    response = as_(api_client, viewer).get(url(submission))
    assert response["ETag"] == f'W/"{submission.version}"'
    assert response.json()["can_edit"] is False


def test_fields_left_out_of_a_patch_keep_their_saved_values(api_client, submission, reporter):
    fill(api_client, submission, reporter)
    submission.refresh_from_db()
    figure = submission.figures.get(target__code="T12")
    line = submission.lines.first()
    body = {
        "version": submission.version,
        "figures": [{"id": figure.pk, "source_note": "省教育厅培训台账"}],
        "lines": [{"id": line.pk, "problems": "经费不足"}],
    }
    assert as_(api_client, reporter).patch(url(submission), body, format="json").status_code == 200
    figure.refresh_from_db()
    line.refresh_from_db()
    assert (figure.value, figure.source_note) == (120, "省教育厅培训台账")
    assert (line.status, line.progress, line.problems) == ("in_progress", "开展教师培训3期", "经费不足")


def test_a_figure_is_emptied_with_null(api_client, submission, reporter):
    fill(api_client, submission, reporter)
    submission.refresh_from_db()
    figure = submission.figures.get(target__code="T12")
    body = {"version": submission.version, "figures": [{"id": figure.pk, "value": None}]}
    assert as_(api_client, reporter).patch(url(submission), body, format="json").status_code == 200
    figure.refresh_from_db()
    assert figure.value is None


def test_a_milestone_figure_takes_true_or_false(api_client, period, other_reporter):
    kx = services.ensure_submission(Unit.objects.get(code="kx"), period, by=other_reporter)
    figure = kx.figures.get(target__code="T24")
    as_(api_client, other_reporter)
    body = {"version": kx.version, "figures": [{"id": figure.pk, "done": True}]}
    assert api_client.patch(url(kx), body, format="json").status_code == 200
    figure.refresh_from_db()
    assert figure.done is True
    body = {"version": kx.version + 1, "figures": [{"id": figure.pk, "done": False}]}
    assert api_client.patch(url(kx), body, format="json").status_code == 200
    figure.refresh_from_db()
    assert figure.done is False


def test_a_local_government_saves_part_of_its_regions_funding(api_client, period):
    user = make_user("chengdong-reporter", "reporter", "chengdong")
    form = services.ensure_submission(Unit.objects.get(code="chengdong"), period, by=user)
    as_(api_client, user)
    body = {"version": form.version, "region": {"funding": "30", "population": 47.5}}
    response = api_client.patch(url(form), body, format="json")
    assert response.status_code == 200
    assert response.json()["region_figure"]["per_capita"] == "0.63"
    body = {"version": form.version + 1, "region": {"source_note": "区财政局"}}
    region = api_client.patch(url(form), body, format="json").json()["region_figure"]
    assert (region["funding"], region["population"], region["source_note"]) == ("30.00", "47.50", "区财政局")


def test_a_unit_without_a_region_cannot_send_region_figures(api_client, submission, reporter):
    body = {"version": submission.version, "region": {"funding": "30"}}
    response = as_(api_client, reporter).patch(url(submission), body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == ["本单位不报送地区科普经费。"]


@pytest.mark.parametrize(("raw", "message"), [("-5", "不能为负数"), ("abc", "不是数字"), (-5, "不能为负数")])
def test_bad_numbers_are_a_400_in_chinese_and_nothing_is_saved(
    api_client, submission, reporter, raw, message
):
    figure = submission.figures.get(target__code="T12")
    line = submission.lines.first()
    body = {
        "version": submission.version,
        "lines": [{"id": line.pk, "progress": "不应保存"}],
        "figures": [{"id": figure.pk, "value": raw}],
    }
    response = as_(api_client, reporter).patch(url(submission), body, format="json")
    assert response.status_code == 400
    problems = response.json()["detail"]
    assert len(problems) == 1
    assert message in problems[0] and "T12" in problems[0]
    line.refresh_from_db()
    submission_after = Submission.objects.get(pk=submission.pk)
    assert line.progress == ""
    assert submission_after.version == submission.version


def test_every_bad_figure_is_listed_at_once(api_client, submission, reporter):
    t11 = submission.figures.get(target__code="T11")
    t12 = submission.figures.get(target__code="T12")
    body = {
        "version": submission.version,
        "figures": [{"id": t11.pk, "value": "-5"}, {"id": t12.pk, "value": "12.5"}],
    }
    problems = as_(api_client, reporter).patch(url(submission), body, format="json").json()["detail"]
    assert len(problems) == 2
    assert "不能为负数" in problems[0] and "应为整数" in problems[1]


def test_an_unknown_measure_status_is_a_400(api_client, submission, reporter):
    line = submission.lines.first()
    body = {"version": submission.version, "lines": [{"id": line.pk, "status": "finished"}]}
    response = as_(api_client, reporter).patch(url(submission), body, format="json")
    assert response.status_code == 400
    assert "status" in response.json()["lines"][0]


def test_rows_of_another_form_are_refused(api_client, submission, period, reporter, other_reporter):
    kx = services.ensure_submission(Unit.objects.get(code="kx"), period, by=other_reporter)
    foreign_line = kx.lines.first()
    foreign_figure = kx.figures.first()
    as_(api_client, reporter)
    body = {"version": submission.version, "lines": [{"id": foreign_line.pk, "progress": "篡改"}]}
    response = api_client.patch(url(submission), body, format="json")
    assert response.status_code == 400
    assert "不属于这张报送表" in response.json()["detail"][0]
    body = {"version": submission.version, "figures": [{"id": foreign_figure.pk, "value": "1"}]}
    assert api_client.patch(url(submission), body, format="json").status_code == 400
    foreign_line.refresh_from_db()
    assert foreign_line.progress == ""


def test_a_row_given_twice_is_a_400(api_client, submission, reporter):
    line = submission.lines.first()
    rows = [{"id": line.pk, "progress": "一"}, {"id": line.pk, "progress": "二"}]
    response = as_(api_client, reporter).patch(
        url(submission), {"version": submission.version, "lines": rows}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["lines"] == [f"同一行不能出现两次：{line.pk}"]


def test_a_patch_without_a_version_is_a_400(api_client, submission, reporter):
    response = as_(api_client, reporter).patch(url(submission), {"lines": []}, format="json")
    assert response.status_code == 400
    assert "If-Match" in response.json()["version"][0]


# Two people, one form ------------------------------------------------------------------


def test_a_stale_version_is_a_409_and_changes_nothing(api_client, submission, reporter, approver):
    line = submission.lines.first()
    version = submission.version
    first = {"version": version, "lines": [{"id": line.pk, "progress": "审核员先保存"}]}
    assert as_(api_client, approver).patch(url(submission), first, format="json").status_code == 200
    second = {"version": version, "lines": [{"id": line.pk, "progress": "填报员后保存"}]}
    response = as_(api_client, reporter).patch(url(submission), second, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == version + 1
    assert "保存失败" in body["detail"]
    line.refresh_from_db()
    assert line.progress == "审核员先保存"


@pytest.mark.parametrize("header", ['W/"{v}"', '"{v}"', "{v}", 'W/"1000", W/"{v}"', "*"])
def test_if_match_with_the_current_version_saves(api_client, submission, reporter, header):
    line = submission.lines.first()
    body = {"lines": [{"id": line.pk, "progress": "用 If-Match 保存"}]}
    response = as_(api_client, reporter).patch(
        url(submission), body, format="json", HTTP_IF_MATCH=header.format(v=submission.version)
    )
    assert response.status_code == 200
    assert response["ETag"] == f'W/"{submission.version + 1}"'


@pytest.mark.parametrize("header", ['W/"{old}"', "{old}", "garbage"])
def test_if_match_with_another_version_is_a_412(api_client, submission, reporter, approver, header):
    line = submission.lines.first()
    old = submission.version
    fill(api_client, submission, approver)
    body = {"lines": [{"id": line.pk, "progress": "基于旧版本"}]}
    response = as_(api_client, reporter).patch(
        url(submission), body, format="json", HTTP_IF_MATCH=header.format(old=old)
    )
    assert response.status_code == 412
    assert response.json()["current_version"] == old + 1
    assert "版本不符" in response.json()["detail"]
    line.refresh_from_db()
    assert line.progress == "开展教师培训3期"


# The workflow --------------------------------------------------------------------------


def test_the_full_workflow_through_the_api(api_client, period, reporter, approver, office):
    # The reporter starts and fills in the form; the approver submits it.
    as_(api_client, reporter)
    pk = api_client.post(url(), {"unit": "jyt", "period": period.pk}, format="json").json()["id"]
    submission = Submission.objects.get(pk=pk)
    fill(api_client, submission, reporter)
    assert as_(api_client, approver).post(url(pk, "submit")).json()["status"] == "submitted"

    # A submitted form is locked for the unit.
    submission.refresh_from_db()
    locked = as_(api_client, reporter).patch(url(pk), full_body(submission), format="json")
    assert locked.status_code == 409
    assert "已提交" in locked.json()["detail"]

    # The office returns it with a comment; the unit corrects and resubmits; the office approves.
    returned = as_(api_client, office).post(
        url(pk, "return"), {"comment": "请补充培训人数来源"}, format="json"
    )
    assert (returned.json()["status"], returned.json()["review_comment"]) == (
        "returned",
        "请补充培训人数来源",
    )
    fill(api_client, submission, reporter)
    as_(api_client, approver).post(url(pk, "submit"))
    approved = as_(api_client, office).post(url(pk, "approve")).json()
    assert (approved["status"], approved["reviewed_by"]) == ("approved", "office")

    # Approved is locked: a save is a 409 with the message, never a 500.
    submission.refresh_from_db()
    refused = as_(api_client, reporter).patch(url(pk), full_body(submission), format="json")
    assert refused.status_code == 409
    assert "已锁定" in refused.json()["detail"]
    evidence = api_client.post(
        url(pk, "evidence"), {"file": pdf_upload("late.pdf", REAL_PDF)}, format="multipart"
    )
    assert evidence.status_code == 403

    # The office reopens it with a reason: returned, revision 1.
    reopened = (
        as_(api_client, office).post(url(pk, "reopen"), {"reason": "T12 数字有误"}, format="json").json()
    )
    assert (reopened["status"], reopened["revision"]) == ("returned", 1)
    actions = [event["action"] for event in reopened["events"]]
    # The second fill repeats the same values: a save that changes nothing leaves no event.
    assert actions == ["created", "saved", "submitted", "returned", "submitted", "approved", "reopened"]


def test_submitting_an_incomplete_form_lists_what_is_missing(api_client, submission, approver):
    response = as_(api_client, approver).post(url(submission, "submit"))
    assert response.status_code == 400
    problems = response.json()["detail"]
    assert any("T12" in problem and "请填写本季度新增数" in problem for problem in problems)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.DRAFT


@pytest.mark.parametrize("body", [{}, {"comment": "   "}])
def test_returning_without_a_comment_is_refused_with_the_message(
    api_client, submission, reporter, approver, office, body
):
    submitted(api_client, submission, reporter, approver)
    response = as_(api_client, office).post(url(submission, "return"), body, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "退回时必须填写退回意见。"
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED


def test_reopening_without_a_reason_is_refused_with_the_message(
    api_client, submission, reporter, approver, office
):
    submitted(api_client, submission, reporter, approver)
    as_(api_client, office).post(url(submission, "approve"))
    response = api_client.post(url(submission, "reopen"), {}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "重新开放时必须填写原因。"


def test_approving_a_draft_is_a_409(api_client, submission, office):
    response = as_(api_client, office).post(url(submission, "approve"))
    assert response.status_code == 409
    assert "草稿" in response.json()["detail"]


# Evidence ------------------------------------------------------------------------------


def pdf_upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_a_real_pdf_is_attached_and_can_be_downloaded(api_client, submission, reporter, viewer):
    as_(api_client, reporter)
    response = api_client.post(
        url(submission, "evidence"),
        {"file": pdf_upload("培训通知.pdf", REAL_PDF), "description": "培训通知"},
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["original_name"], body["kind"], body["size"]) == ("培训通知.pdf", "pdf", len(REAL_PDF))
    listed = as_(api_client, viewer).get(url(submission)).json()["evidence"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert listed[0]["download_url"] == f"http://testserver/evidence/{body['id']}/"
    api_client.logout()
    api_client.force_login(viewer)  # the download is a page: session log-in
    download = api_client.get(listed[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == REAL_PDF


def test_a_text_file_named_pdf_is_refused_with_the_reason(api_client, submission, reporter):
    response = as_(api_client, reporter).post(
        url(submission, "evidence"), {"file": pdf_upload("报告.pdf", b"just some text")}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["detail"] == ["文件“报告.pdf”的内容不是 PDF 文件，请检查后重新上传。"]
    assert not Evidence.objects.exists()


def test_an_upload_without_a_file_is_a_400(api_client, submission, reporter):
    response = as_(api_client, reporter).post(url(submission, "evidence"), {}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"] == ["请选择要上传的文件。"]


@pytest.mark.parametrize(("persona", "expected"), [("viewer", 403), ("office", 403), ("other_unit", 404)])
def test_only_the_unit_uploads_evidence(api_client, submission, personas, persona, expected):
    response = as_(api_client, personas[persona]).post(
        url(submission, "evidence"), {"file": pdf_upload("a.pdf", REAL_PDF)}, format="multipart"
    )
    assert response.status_code == expected
    assert not Evidence.objects.exists()


# Tokens, filters, queries, schema --------------------------------------------------------


def test_token_authentication_works_for_reading_saving_and_submitting(
    api_client, submission, reporter, approver
):
    reporter_token = Token.objects.create(user=reporter)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {reporter_token.key}")
    assert api_client.get(url()).json()["count"] == 1
    assert api_client.patch(url(submission), full_body(submission), format="json").status_code == 200
    assert api_client.post(url(submission, "submit")).status_code == 403
    approver_token = Token.objects.create(user=approver)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {approver_token.key}")
    response = api_client.post(url(submission, "submit"))
    assert response.status_code == 200
    submission.refresh_from_db()
    assert submission.submitted_by == approver


def test_submissions_filter_by_unit_period_status_and_year(
    api_client, submission, period, reporter, approver, office
):
    other = services.ensure_submission(Unit.objects.get(code="kx"), period)
    submitted(api_client, submission, reporter, approver)
    as_(api_client, office)

    def ids(**params):
        return {row["id"] for row in api_client.get(url(), params).json()["results"]}

    assert ids(unit="kx") == {other.pk}
    assert ids(status="submitted") == {submission.pk}
    assert ids(period=period.pk) == {submission.pk, other.pk}
    assert ids(year=2024) == {submission.pk, other.pk}
    assert ids(year=2023) == set()
    assert api_client.get(url(), {"status": "lost"}).status_code == 400
    assert api_client.get(url(), {"colour": "red"}).status_code == 400


def test_the_list_needs_the_same_queries_for_many_forms(
    api_client, period, office, django_assert_max_num_queries
):
    codes = ["jyt", "kx", "kjt", "mzt", "chengdong", "rst", "wjw"]
    for code in codes[:2]:
        services.ensure_submission(Unit.objects.get(code=code), period)
    as_(api_client, office)
    with django_assert_max_num_queries(4):
        assert api_client.get(url()).json()["count"] == 2
    for code in codes[2:]:
        services.ensure_submission(Unit.objects.get(code=code), period)
    with django_assert_max_num_queries(4):
        assert api_client.get(url()).json()["count"] == len(codes)


def test_the_detail_needs_a_fixed_number_of_queries(
    api_client, submission, reporter, viewer, django_assert_max_num_queries
):
    fill(api_client, submission, reporter)
    api_client.post(url(submission, "evidence"), {"file": pdf_upload("a.pdf", REAL_PDF)}, format="multipart")
    with django_assert_max_num_queries(10):
        body = as_(api_client, viewer).get(url(submission)).json()
    assert len(body["lines"]) > 10 and len(body["evidence"]) == 1


def test_the_schema_documents_the_reporting_endpoints(client, viewer):
    client.force_login(viewer)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in (
        "/api/v1/periods/",
        "/api/v1/submissions/{id}/",
        "/api/v1/submissions/{id}/submit/",
        "/api/v1/submissions/{id}/return/",
        "/api/v1/submissions/{id}/evidence/",
    ):
        assert path in text
    assert "If-Match" in text
    assert "SubmissionStaleVersion" in text
