"""Review at a glance: a resubmitted form says what changed since it was returned (本次修改), keeps
审核通过 / 退回修改 at the top, folds the measures left alone, and names people and numbers as
people read them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from targets.submission.services import save_form
from targets.submission.views import review_summary
from tasks import services

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def fill(submission, user, number="120"):
    lines = {line.pk: {"status": "in_progress", "progress": "开展培训3期"} for line in submission.lines.all()}
    figures = {}
    for figure in submission.figures.select_related("target"):
        if figure.target.combine == "coverage":
            figures[figure.pk] = {"covered": "3", "total": "8"}
        elif figure.target.combine == "milestone":
            figures[figure.pk] = {"done": "no"}
        else:
            figures[figure.pk] = {"value": number}
    return save_form(submission.pk, by=user, version=submission.version, lines=lines, figures=figures)


@pytest.fixture
def resubmitted(submission, reporter, approver, office):
    """省教育厅's form: filled, submitted, returned, one figure and one measure changed, a file
    added, submitted again."""
    office.first_name, office.last_name = "纲要办", "王"
    office.save()
    fill(submission, reporter)
    old_file = services.add_evidence(
        submission, SimpleUploadedFile("旧的.pdf", PDF, "application/pdf"), by=reporter
    )
    services.submit_submission(submission, by=approver)
    services.return_submission(submission, by=office, comment="请核对T12")
    submission.refresh_from_db()
    figure = submission.figures.exclude(target__combine__in=["coverage", "milestone"]).first()
    line = submission.lines.order_by("sort_order").first()
    save_form(
        submission.pk,
        by=reporter,
        version=submission.version,
        lines={line.pk: {"progress": "开展培训5期，覆盖教师1200人"}},
        figures={figure.pk: {"value": "12345", "explanation": "新增暑期培训班"}},
    )
    services.add_evidence(submission, SimpleUploadedFile("新的.pdf", PDF, "application/pdf"), by=reporter)
    services.remove_evidence(old_file, by=reporter)
    services.submit_submission(submission, by=approver)
    submission.refresh_from_db()
    return submission, figure, line


def test_the_summary_lists_each_change_since_the_return_with_formatted_numbers(resubmitted):
    submission, _figure, line = resubmitted
    summary = review_summary(submission)
    assert [(c["old_text"], c["new_text"]) for c in summary["figures"]] == [("120", "12,345")]
    assert [c["new_text"] for c in summary["lines"]] == ["开展培训5期，覆盖教师1200人"]
    assert summary["changed_line_ids"] == {line.pk}
    assert summary["evidence_added"] == ["新的.pdf"] and summary["evidence_removed"] == ["旧的.pdf"]


def test_a_form_never_returned_has_no_summary_and_a_change_undone_is_no_change(
    submission, reporter, approver, office
):
    fill(submission, reporter)
    services.submit_submission(submission, by=approver)
    assert review_summary(submission) is None
    services.return_submission(submission, by=office, comment="再看看")
    submission.refresh_from_db()
    line = submission.lines.first()
    save_form(submission.pk, by=reporter, version=submission.version, lines={line.pk: {"progress": "临时"}})
    submission.refresh_from_db()
    save_form(
        submission.pk, by=reporter, version=submission.version, lines={line.pk: {"progress": "开展培训3期"}}
    )
    services.submit_submission(submission, by=approver)
    summary = review_summary(submission)
    assert summary["empty"] and summary["lines"] == []


def test_the_office_sees_the_summary_the_review_bar_and_folded_measures(client, resubmitted, office):
    submission, _figure, line = resubmitted
    client.force_login(office)
    html = client.get(reverse("targets:submission_detail", args=[submission.pk])).content.decode()
    assert 'id="changes-summary"' in html and "本次修改" in html
    assert "12,345" in html and office.get_full_name() in html
    bar = html.index('id="review-bar"')
    assert bar < html.index('id="changes-summary"') < html.index('id="submission-form"')
    assert reverse("tasks:submission_approve", args=[submission.pk]) in html[bar : bar + 600]
    folded = html.count('<details class="folded">')
    assert folded == submission.lines.count() - 1
    assert f'<details class="folded"><summary>{line.measure.code}' not in html


def test_unit_staff_see_neither_the_review_bar_nor_the_summary_while_editing(client, submission, reporter):
    client.force_login(reporter)
    html = client.get(reverse("targets:submission_detail", args=[submission.pk])).content.decode()
    assert 'id="review-bar"' not in html and 'id="changes-summary"' not in html


def test_the_history_page_names_people_and_writes_numbers_for_people(client, resubmitted, office, reporter):
    submission, _figure, _line = resubmitted
    reporter.first_name, reporter.last_name = "小明", "李"
    reporter.save()
    client.force_login(office)
    html = client.get(reverse("targets:submission_history", args=[submission.pk])).content.decode()
    assert reporter.get_full_name() in html
    assert "12,345" in html and ".0000" not in html


def test_an_approved_form_says_who_approved_it_and_when(client, resubmitted, office):
    submission, _figure, _line = resubmitted
    services.approve_submission(submission, by=office)
    submission.refresh_from_db()
    client.force_login(office)
    html = client.get(reverse("targets:submission_detail", args=[submission.pk])).content.decode()
    assert "最后修改于" not in html
    assert "审核通过" in html and submission.reviewed_at.astimezone().strftime("%Y-%m-%d") in html
    assert office.get_full_name() in html
    assert 'id="review-bar"' not in html
