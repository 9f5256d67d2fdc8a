"""The quarterly reporting cycle: draft → submitted → approved | returned → draft."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from targets.models import TargetFigure
from targets.submission.services import save_form
from tasks import rules, services
from tasks.choices import EventAction, NotificationKind, SubmissionStatus
from tasks.models import DeadlineExtension, Notification, Period, Submission, SubmissionEvent
from tests.factories import open_period
from units.models import Unit

pytestmark = pytest.mark.django_db


def fill_everything(submission, user):
    """Fill every line and figure of the form with plausible values."""
    lines = {line.pk: {"status": "in_progress", "progress": "开展培训3期"} for line in submission.lines.all()}
    figures = {}
    for figure in submission.figures.select_related("target"):
        if figure.target.combine == "coverage":
            figures[figure.pk] = {"covered": "3", "total": "8"}
        elif figure.target.combine == "milestone":
            figures[figure.pk] = {"done": "no"}
        else:
            figures[figure.pk] = {"value": "120"}
    return save_form(submission.pk, by=user, version=submission.version, lines=lines, figures=figures)


def test_periods_cover_the_baseline_and_every_quarter_to_2025():
    open_period()
    periods = list(Period.objects.order_by("year", "quarter"))
    assert (periods[0].year, periods[0].quarter, periods[0].is_baseline) == (2021, 4, True)
    assert len(periods) == 1 + 16
    q3 = Period.objects.get(year=2024, quarter=3)
    assert q3.deadline == datetime.date(2024, 10, 10)
    assert services.generate_periods(q3.plan) == 0


def test_a_new_form_has_a_line_per_assigned_measure_and_figure_per_reported_target(submission):
    measures = {line.measure.code for line in submission.lines.select_related("measure")}
    # 省教育厅 leads A1 (6 measures), is responsible in A2, A3, P2, P3, P4, P5, P6, and, as an
    # office member, A6, P1-2, P1-3 and P7; not in P1-1 (生态科普).
    assert {"A1.1", "A1.6", "A6.1", "P7.1", "P1.2", "P1.3"} <= measures
    assert "P1.1" not in measures
    targets = set(submission.figures.values_list("target__code", flat=True))
    assert {"T11", "T12"} <= targets


def test_a_local_government_form_asks_for_its_regions_funding(period, db):
    county = Unit.objects.get(code="chengdong")
    submission = services.ensure_submission(county, period)
    assert submission.region_figure.region.code == "630102"
    assert submission.lines.count() == 0


def test_reporter_saves_a_draft_and_history_is_kept(submission, reporter):
    line = submission.lines.first()
    save_form(submission.pk, by=reporter, version=submission.version, lines={line.pk: {"progress": "第一次"}})
    submission.refresh_from_db()
    save_form(submission.pk, by=reporter, version=submission.version, lines={line.pk: {"progress": "第二次"}})
    line.refresh_from_db()
    assert line.progress == "第二次"
    history = list(line.history.order_by("history_date").values_list("progress", "history_user__username"))
    assert history[-2:] == [("第一次", "jyt-reporter"), ("第二次", "jyt-reporter")]
    assert SubmissionEvent.objects.filter(submission=submission, action=EventAction.SAVED).count() == 2


def test_a_stale_save_is_refused_and_changes_nothing(submission, reporter, approver):
    line = submission.lines.first()
    version = submission.version
    save_form(submission.pk, by=approver, version=version, lines={line.pk: {"progress": "审核员先保存"}})
    with pytest.raises(services.StaleEdit):
        save_form(submission.pk, by=reporter, version=version, lines={line.pk: {"progress": "填报员后保存"}})
    line.refresh_from_db()
    assert line.progress == "审核员先保存"


def test_the_stale_save_page_shows_what_changed_and_keeps_the_typed_text(
    client, submission, reporter, approver
):
    line = submission.lines.first()
    url = reverse("targets:submission_detail", args=[submission.pk])
    client.force_login(reporter)
    page = client.get(url)
    loaded_at = page.context["loaded_at"]
    save_form(
        submission.pk, by=approver, version=submission.version, lines={line.pk: {"progress": "审核员的修改"}}
    )
    response = client.post(
        url,
        {
            "version": submission.version,
            "loaded_at": loaded_at,
            f"line-{line.pk}-progress": "填报员输入的文字",
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "填报员输入的文字" in html
    assert "审核员的修改" in html
    assert "jyt-approver" in html


def test_reporter_cannot_submit_but_approver_can(submission, reporter, approver, office):
    fill_everything(submission, reporter)
    with pytest.raises(PermissionDenied):
        services.submit_submission(submission, by=reporter)
    services.submit_submission(submission, by=approver)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.SUBMITTED
    assert submission.submitted_by == approver
    assert Notification.objects.filter(user=office, kind=NotificationKind.SUBMITTED).exists()


def test_submit_with_missing_figures_is_refused_with_the_list(submission, approver):
    with pytest.raises(ValidationError) as refused:
        services.submit_submission(submission, by=approver)
    assert any("T12" in m for m in refused.value.messages)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.DRAFT


def test_office_returns_with_a_required_comment_then_approves_the_resubmission(
    submission, reporter, approver, office
):
    fill_everything(submission, reporter)
    services.submit_submission(submission, by=approver)
    with pytest.raises(services.WorkflowError):
        services.return_submission(submission, by=office, comment="  ")
    services.return_submission(submission, by=office, comment="请补充培训人数来源")
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.RETURNED
    assert submission.review_comment == "请补充培训人数来源"
    assert Notification.objects.filter(user=reporter, kind=NotificationKind.RETURNED).exists()
    fill_everything(submission, reporter)
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.APPROVED
    actions = list(submission.events.values_list("action", flat=True))
    # the second fill repeats the same values, so it records no save
    assert actions == ["created", "saved", "submitted", "returned", "submitted", "approved"]


def test_approved_forms_are_locked(submission, reporter, approver, office):
    fill_everything(submission, reporter)
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)
    submission.refresh_from_db()
    with pytest.raises(services.WorkflowError):
        save_form(submission.pk, by=reporter, version=submission.version, lines={})


def test_reopening_needs_a_reason_and_the_correction_is_approved_again(
    submission, reporter, approver, office
):
    fill_everything(submission, reporter)
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)
    with pytest.raises(services.WorkflowError):
        services.reopen_submission(submission, by=office, reason="")
    services.reopen_submission(submission, by=office, reason="T12 数字有误")
    submission.refresh_from_db()
    assert (submission.status, submission.revision) == (SubmissionStatus.RETURNED, 1)
    figure = submission.figures.get(target__code="T12")
    save_form(submission.pk, by=reporter, version=submission.version, figures={figure.pk: {"value": "100"}})
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)
    assert TargetFigure.objects.approved().get(submission=submission, target__code="T12").value == 100


@pytest.mark.parametrize(
    ("raw", "message"),
    [("-5", "不能为负数"), ("abc", "不是数字"), ("12.5", "应为整数"), ("1e20", "数值过大")],
)
def test_bad_numbers_are_refused_and_nothing_is_saved(submission, reporter, raw, message):
    figure = submission.figures.get(target__code="T12")
    line = submission.lines.first()
    with pytest.raises(ValidationError) as refused:
        save_form(
            submission.pk,
            by=reporter,
            version=submission.version,
            lines={line.pk: {"progress": "不应保存"}},
            figures={figure.pk: {"value": raw}},
        )
    assert any(message in m for m in refused.value.messages)
    line.refresh_from_db()
    assert line.progress == ""


def test_percentages_over_100_are_refused(period, db):
    mzt = Unit.objects.get(code="mzt")
    from tests.conftest import make_user

    user = make_user("mzt-reporter", "reporter", "mzt")
    submission = services.ensure_submission(mzt, period, by=user)
    figure = submission.figures.get(target__code="T20")
    with pytest.raises(ValidationError, match="不能超过 100"):
        save_form(submission.pk, by=user, version=submission.version, figures={figure.pk: {"value": "120"}})


def test_a_jump_needs_an_explanation_before_submit(period, submission, reporter, approver, office):
    fill_everything(submission, reporter)
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)
    later = Period.objects.get(year=2024, quarter=4)
    later.state = "open"
    later.save()
    nxt = services.ensure_submission(submission.unit, later, by=reporter)
    fill_everything(nxt, reporter)
    figure = nxt.figures.get(target__code="T12")
    nxt.refresh_from_db()
    save_form(nxt.pk, by=reporter, version=nxt.version, figures={figure.pk: {"value": "2000"}})
    with pytest.raises(ValidationError) as refused:
        services.submit_submission(nxt, by=approver)
    assert any("变动说明" in m for m in refused.value.messages)
    nxt.refresh_from_db()
    save_form(
        nxt.pk,
        by=reporter,
        version=nxt.version,
        figures={figure.pk: {"value": "2000", "explanation": "集中培训"}},
    )
    services.submit_submission(nxt, by=approver)


def test_other_units_cannot_edit_and_office_cannot_edit_figures(submission, other_reporter, office, viewer):
    for user in (other_reporter, office, viewer):
        with pytest.raises(PermissionDenied):
            save_form(submission.pk, by=user, version=submission.version, lines={})


def test_only_the_office_approves_returns_and_reopens(submission, reporter, approver, viewer):
    fill_everything(submission, reporter)
    services.submit_submission(submission, by=approver)
    for user in (reporter, approver, viewer):
        with pytest.raises(PermissionDenied):
            services.approve_submission(submission, by=user)
        with pytest.raises(PermissionDenied):
            services.return_submission(submission, by=user, comment="x")


def test_deadline_extension_needs_a_reason_and_a_later_date(period, office):
    unit = Unit.objects.get(code="jyt")
    with pytest.raises(services.WorkflowError):
        services.extend_deadline(
            period, unit, deadline=period.deadline + datetime.timedelta(days=5), reason="", by=office
        )
    with pytest.raises(services.WorkflowError):
        services.extend_deadline(period, unit, deadline=period.deadline, reason="系统故障", by=office)
    extension = services.extend_deadline(
        period, unit, deadline=period.deadline + datetime.timedelta(days=5), reason="系统故障", by=office
    )
    stored = DeadlineExtension.objects.get(period=period, unit=unit)
    assert rules.deadline_for(period, stored) == extension.deadline
    assert rules.deadline_for(period, None) == period.deadline


def test_one_submission_per_unit_and_period_is_a_database_rule(submission):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.create(unit=submission.unit, period=submission.period)


def test_a_stale_save_is_merged_when_the_others_changed_other_fields(submission, reporter, approver):
    """Reporter and approver open the form; the approver fixes line A and a figure; the reporter,
    whose page still shows the old values, writes line B and saves the whole form: both stay."""
    first, second = submission.lines.order_by("pk")[:2]
    figure = submission.figures.filter(target__combine="increment").first()
    version = submission.version
    loaded = ({first.pk: {"progress": ""}, second.pk: {"progress": ""}}, {figure.pk: {"value": ""}}, {})
    save_form(
        submission.pk,
        by=approver,
        version=version,
        lines={first.pk: {"progress": "审核员补充的进展"}},
        figures={figure.pk: {"value": "120"}},
    )
    saved = save_form(
        submission.pk,
        by=reporter,
        version=version,
        base=loaded,
        lines={first.pk: {"progress": ""}, second.pk: {"progress": "填报员的进展"}},
        figures={figure.pk: {"value": ""}},
    )
    first.refresh_from_db(), second.refresh_from_db(), figure.refresh_from_db()
    assert (first.progress, second.progress, figure.value) == ("审核员补充的进展", "填报员的进展", 120)
    assert saved.merged == {("line", first.pk, "progress"), ("figure", figure.pk, "value")}
    assert saved.version == version + 2


def test_a_stale_save_that_changes_the_same_field_is_refused_whole(submission, reporter, approver):
    first, second = submission.lines.order_by("pk")[:2]
    version = submission.version
    save_form(submission.pk, by=approver, version=version, lines={first.pk: {"progress": "审核员的文字"}})
    with pytest.raises(services.StaleEdit) as refused:
        save_form(
            submission.pk,
            by=reporter,
            version=version,
            base=({first.pk: {"progress": ""}, second.pk: {"progress": ""}}, {}, {}),
            lines={first.pk: {"progress": "填报员的文字"}, second.pk: {"progress": "另一行"}},
        )
    assert refused.value.changes == [("line", first.pk, "progress")]
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.progress, second.progress) == ("审核员的文字", "")  # nothing of the refused save


def test_the_same_user_in_two_tabs_does_not_undo_their_own_text(client, submission, reporter):
    """Tab 1 saves line A; tab 2, opened before and still showing A empty, saves line B: A keeps
    tab 1's text (the merge compares with what each page was loaded with, not with who saved)."""
    first, second = submission.lines.order_by("pk")[:2]
    url = reverse("targets:submission_detail", args=[submission.pk])
    client.force_login(reporter)
    tabs = [client.get(url).context for _ in range(2)]

    def post(tab, values):
        data = {"version": tab["submission"].version, "base": tab["form_base"]}
        data.update(json.loads(tab["form_base"]))
        data.update(values)
        return client.post(url, data, headers={"X-Autosave": "1"})

    assert post(tabs[0], {f"line-{first.pk}-progress": "第一个标签页写的"}).json()["ok"]
    body = post(tabs[1], {f"line-{second.pk}-progress": "第二个标签页写的"}).json()
    assert body["ok"] and body["merged"]
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.progress, second.progress) == ("第一个标签页写的", "第二个标签页写的")


def test_autosave_merges_and_keeps_merging_until_the_page_is_reloaded(client, submission, reporter, approver):
    """The reporter's page autosaves twice after the approver changed another line: neither save
    undoes the approver's text, and the page keeps its old version until it is reloaded (its base
    becomes what it posted, as static/js/autosave.js does)."""
    first, second = submission.lines.order_by("pk")[:2]
    url = reverse("targets:submission_detail", args=[submission.pk])
    client.force_login(reporter)
    page = client.get(url)
    version, base = page.context["submission"].version, page.context["form_base"]
    fields = json.loads(base)
    save_form(submission.pk, by=approver, version=version, lines={first.pk: {"progress": "审核员的文字"}})
    for text in ("填报员第一次", "填报员第二次"):
        fields[f"line-{second.pk}-progress"] = text
        response = client.post(url, {"version": version, "base": base, **fields}, headers={"X-Autosave": "1"})
        assert response.status_code == 200
        body = response.json()
        assert body["ok"] and body["merged"] and body["version"] == version
        assert "保留了其他人同时所做的修改" in body["message"]
        base = json.dumps(fields, ensure_ascii=False)
        first.refresh_from_db(), second.refresh_from_db()
        assert (first.progress, second.progress) == ("审核员的文字", text)


def test_a_stale_save_without_the_loaded_values_is_refused(client, submission, reporter, approver):
    """A page that sends no base (or an unreadable one) cannot be merged: refused, as before."""
    first, second = submission.lines.order_by("pk")[:2]
    url = reverse("targets:submission_detail", args=[submission.pk])
    client.force_login(reporter)
    version = client.get(url).context["submission"].version
    save_form(submission.pk, by=approver, version=version, lines={first.pk: {"progress": "审核员的文字"}})
    for base in (None, "not json", '{"line-1-progress": 5}'):
        data = {"version": version, f"line-{second.pk}-progress": "填报员的文字"}
        if base is not None:
            data["base"] = base
        assert client.post(url, data).status_code == 409
    second.refresh_from_db()
    assert second.progress == ""


def test_after_a_conflict_the_page_shows_the_others_text_where_the_user_typed_nothing(
    client, submission, reporter, approver
):
    first, second = submission.lines.order_by("pk")[:2]
    url = reverse("targets:submission_detail", args=[submission.pk])
    client.force_login(reporter)
    page = client.get(url)
    version, base = page.context["submission"].version, page.context["form_base"]
    save_form(
        submission.pk,
        by=approver,
        version=version,
        lines={first.pk: {"progress": "审核员改的第一行"}, second.pk: {"progress": "审核员改的第二行"}},
    )
    response = client.post(
        url,
        {
            **json.loads(base),
            "version": version,
            "base": base,
            f"line-{first.pk}-progress": "填报员改的第一行",
        },
    )
    assert response.status_code == 409
    shown = {line.pk: line.progress for group in response.context["line_groups"] for line in group[1]}
    assert shown[first.pk] == "填报员改的第一行"  # the user's text, to reconcile by hand
    assert shown[second.pk] == "审核员改的第二行"  # not the stale blank the page posted


def test_a_notification_reads_in_each_readers_language_whoever_caused_it(
    client, submission, reporter, approver, office
):
    """The office works in English and returns the form; the reporter reads Chinese, and an
    English-reading approver reads English: each sees the message in their own language."""
    import html

    from django.utils import translation

    fill_everything(submission, reporter)
    services.submit_submission(submission, by=approver)
    with translation.override("en"):
        services.return_submission(submission, by=office, comment="请补充来源")
    note = Notification.objects.get(user=reporter, kind=NotificationKind.RETURNED)
    assert "被退回修改：请补充来源" in note.message
    assert "returned" in note.message_en.lower() and "请补充来源" in note.message_en
    client.force_login(reporter)
    assert "被退回修改" in client.get(reverse("tasks:notification_list")).content.decode()
    client.force_login(approver)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("tasks:notification_list")).content.decode()
    assert html.escape(note.message_en) in page and "被退回修改" not in page
