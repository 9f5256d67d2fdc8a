"""A NUL character in any field the views and the API used to strip themselves is refused before
the view by ``portal.security.NulByteMiddleware``: 400 with the Chinese message, nothing written.

The views no longer strip NUL (``.replace("\\x00", "")``); this test is what makes that safe.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tasks import services
from tasks.models import DeadlineExtension, Evidence, SubmissionEvent

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "空字符"


def assert_refused(response):
    assert response.status_code == 400, response.status_code
    assert NUL_MESSAGE in response.content.decode()


def test_the_form_page_and_its_buttons_refuse_nul(
    client, submission, reporter, approver, office, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    events_before = SubmissionEvent.objects.filter(submission=submission).count()

    client.force_login(reporter)
    line = submission.lines.first()
    assert_refused(
        client.post(
            reverse("targets:submission_detail", args=[submission.pk]),
            {"version": submission.version, f"line-{line.pk}-progress": "培训\x00"},
        )
    )
    assert_refused(
        client.post(
            reverse("tasks:evidence_upload", args=[submission.pk]),
            {"file": SimpleUploadedFile("签到表.pdf", b"%PDF-1.4\n%%EOF\n"), "description": "签到\x00"},
        )
    )
    assert not Evidence.objects.filter(submission=submission).exists()

    client.force_login(office)
    assert_refused(
        client.post(reverse("tasks:submission_return", args=[submission.pk]), {"comment": "请补充\x00"})
    )
    assert_refused(
        client.post(reverse("tasks:submission_reopen", args=[submission.pk]), {"comment": "更正\x00"})
    )
    assert_refused(client.get(reverse("tasks:review_queue"), {"q": "教育\x00"}))

    submission.refresh_from_db()
    assert submission.lines.get(pk=line.pk).progress != "培训"
    assert SubmissionEvent.objects.filter(submission=submission).count() == events_before


def test_an_extension_with_nul_in_the_unit_or_reason_is_refused(client, office, period):
    client.force_login(office)
    url = reverse("tasks:extension_create", args=[period.pk])
    deadline = (period.deadline + datetime.timedelta(days=5)).isoformat()
    assert_refused(client.post(url, {"unit": "jyt\x00", "deadline": deadline, "reason": "雪灾"}))
    assert_refused(client.post(url, {"unit": "jyt", "deadline": deadline, "reason": "雪灾\x00"}))
    assert not DeadlineExtension.objects.filter(period=period).exists()


def test_the_api_refuses_nul_in_comment_reason_and_description(api_client, submission, office, reporter):
    api_client.force_authenticate(office)
    for action, field in (("return", "comment"), ("reopen", "reason")):
        response = api_client.post(
            f"/api/v1/submissions/{submission.pk}/{action}/", {field: "文字\x00"}, format="json"
        )
        assert_refused(response)
    api_client.force_authenticate(reporter)
    response = api_client.post(
        f"/api/v1/submissions/{submission.pk}/evidence/",
        {"file": SimpleUploadedFile("签到表.pdf", b"%PDF-1.4\n%%EOF\n"), "description": "签到\x00"},
        format="multipart",
    )
    assert_refused(response)
    assert not Evidence.objects.filter(submission=submission).exists()


def test_a_self_assessment_return_with_nul_is_refused(client, office, approver):
    from tasks.choices import EvaluationKind
    from tasks.models import SelfAssessment
    from tasks.selectors import current_plan

    evaluation = services.open_round(
        current_plan(), EvaluationKind.FINAL, deadline=datetime.date(2099, 12, 31), by=office
    )
    assessment = services.ensure_self_assessment(evaluation, approver.membership.unit, by=approver)
    client.force_login(office)
    assert_refused(
        client.post(reverse("tasks:self_assessment_return", args=[assessment.pk]), {"comment": "请补充\x00"})
    )
    assert SelfAssessment.objects.get(pk=assessment.pk).status == assessment.status
