"""Evaluation rounds and the units' self-assessments (自评): workflow, limits, pages, selector."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from tasks import services
from tasks.choices import EvaluationKind, EventAction, Judgement, PeriodState, SubmissionStatus
from tasks.models import EvaluationRound, SelfAssessment, SelfAssessmentEvent
from tasks.selectors import approved_self_assessments, current_plan, round_for, unit_evaluations
from units.models import Unit

pytestmark = pytest.mark.django_db

DEADLINE = datetime.date(2099, 12, 31)


@pytest.fixture
def final_round(office):
    return services.open_round(current_plan(), EvaluationKind.FINAL, deadline=DEADLINE, by=office)


@pytest.fixture
def jyt():
    return Unit.objects.get(code="jyt")


def judge_all(assessment, by, value=Judgement.DONE):
    rows = {row.pk: {"judgement": value, "note": "已按计划完成"} for row in assessment.judgements.all()}
    return services.save_self_assessment(
        assessment.pk,
        by=by,
        version=assessment.version,
        texts={
            "achievements": "建成青少年科学教育体系",
            "problems": "农牧区覆盖不足",
            "next_steps": "继续推进",
        },
        judgements=rows,
    )


def test_the_whole_workflow(final_round, jyt, reporter, approver, office):
    assert final_round.year == current_plan().end_year == 2025
    assert final_round.state == PeriodState.OPEN
    assessment = services.ensure_self_assessment(final_round, jyt, by=reporter)
    # one judgement row per measure assigned to the unit: the quarterly form's function
    expected = [m.pk for m in services.assigned_measures(jyt, current_plan())]
    assert expected
    assert list(assessment.judgements.values_list("measure_id", flat=True)) == expected

    # submit refused while a measure lacks a judgement, naming the measures; nothing changes
    first = assessment.judgements.select_related("measure").first()
    services.save_self_assessment(
        assessment.pk,
        by=reporter,
        version=assessment.version,
        texts={},
        judgements={first.pk: {"judgement": "done"}},
    )
    with pytest.raises(services.WorkflowError) as refused:
        services.submit_self_assessment(assessment, by=approver)
    missing = assessment.judgements.exclude(pk=first.pk).select_related("measure").first().measure
    assert "未填写完成情况" in str(refused.value) and missing.title in str(refused.value)
    assert first.measure.title not in str(refused.value)
    assessment.refresh_from_db()
    assert assessment.status == SubmissionStatus.DRAFT

    # a reporter may not submit; the approver does
    assessment = judge_all(assessment, reporter)
    with pytest.raises(PermissionDenied):
        services.submit_self_assessment(assessment, by=reporter)
    assessment = services.submit_self_assessment(assessment, by=approver)
    assert assessment.status == SubmissionStatus.SUBMITTED
    with pytest.raises(PermissionDenied):  # locked
        services.save_self_assessment(
            assessment.pk, by=reporter, version=assessment.version, texts={}, judgements={}
        )

    # return needs a comment; then back to the unit, editable again
    with pytest.raises(services.WorkflowError):
        services.return_self_assessment(assessment, by=office, comment="  ")
    assessment = services.return_self_assessment(assessment, by=office, comment="请补充成效数据")
    assert assessment.status == SubmissionStatus.RETURNED and assessment.review_comment == "请补充成效数据"
    assessment = services.save_self_assessment(
        assessment.pk,
        by=reporter,
        version=assessment.version,
        texts={"achievements": "补充后的成效"},
        judgements={},
    )
    assessment = services.submit_self_assessment(assessment, by=approver)
    with pytest.raises(PermissionDenied):
        services.approve_self_assessment(assessment, by=approver)
    assessment = services.approve_self_assessment(assessment, by=office)
    assert assessment.is_approved
    with pytest.raises(services.WorkflowError):
        services.return_self_assessment(assessment, by=office, comment="再改")

    actions = list(
        SelfAssessmentEvent.objects.filter(self_assessment=assessment).values_list("action", flat=True)
    )
    assert actions == [
        EventAction.CREATED,
        EventAction.SAVED,
        EventAction.SAVED,
        EventAction.SUBMITTED,
        EventAction.RETURNED,
        EventAction.SAVED,
        EventAction.SUBMITTED,
        EventAction.APPROVED,
    ]
    assert assessment.history.count() >= 5

    # the report's selector
    [row] = approved_self_assessments(round_for(current_plan(), EvaluationKind.FINAL))
    assert row["unit"] == jyt and row["achievements"] == "补充后的成效"
    assert [j["measure"].pk for j in row["judgements"]] == expected
    assert row["counts"] == {"done": len(expected), "mostly": 0, "not_done": 0}
    assert row["judgements"][0]["label"] == "已完成"
    assert round_for(current_plan(), EvaluationKind.MIDTERM) is None


def test_a_round_cannot_be_opened_twice(final_round, office, reporter):
    with pytest.raises(services.WorkflowError) as refused:
        services.open_round(current_plan(), EvaluationKind.FINAL, deadline=DEADLINE, by=office)
    assert "总结评估已经开启过，不能重复开启" in str(refused.value)
    assert EvaluationRound.objects.count() == 1
    with pytest.raises(PermissionDenied):
        services.open_round(current_plan(), EvaluationKind.MIDTERM, deadline=DEADLINE, by=reporter)
    # through the page: the message, and still one round
    client = Client()
    client.force_login(office)
    response = client.post(
        reverse("tasks:round_list"), {"kind": "final", "deadline": "2099-12-31"}, follow=True
    )
    assert "不能重复开启" in response.content.decode()
    assert EvaluationRound.objects.count() == 1


def test_a_10000_character_narrative_is_refused_and_loses_nothing(final_round, jyt, reporter):
    client = Client()
    client.force_login(reporter)
    long_text = "成" * 10000
    response = client.post(
        reverse("tasks:self_assessment_mine", args=[final_round.pk]),
        {"achievements": long_text, "problems": "问题"},
    )
    assessment = SelfAssessment.objects.get(round=final_round, unit=jyt)
    assert response.status_code == 400
    page = response.content.decode()
    assert "超过 5000 字的上限" in page and "共 10000 字" in page
    assert long_text in page  # the typed text is shown again
    assessment.refresh_from_db()
    assert assessment.achievements == "" and assessment.problems == ""  # nothing half-written
    with pytest.raises(ValidationError):
        services.save_self_assessment(
            assessment.pk,
            by=reporter,
            version=assessment.version,
            texts={"next_steps": long_text},
            judgements={},
        )


def test_markup_is_stored_as_typed_and_escaped_when_shown(final_round, jyt, reporter, office):
    markup = '<script>alert("x")</script><b>成效</b>'
    client = Client()
    client.force_login(reporter)
    client.post(reverse("tasks:self_assessment_mine", args=[final_round.pk]), {"achievements": markup})
    assessment = SelfAssessment.objects.get(round=final_round, unit=jyt)
    assert assessment.achievements == markup
    client.force_login(office)
    page = client.get(reverse("tasks:self_assessment_detail", args=[assessment.pk])).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert '<script>alert("x")</script>' not in page


def test_the_page_workflow_and_the_inbox_link(final_round, jyt, reporter, approver, office):
    client = Client()
    client.force_login(reporter)
    inbox = client.get(reverse("tasks:inbox")).content.decode()
    assert reverse("tasks:self_assessment_mine", args=[final_round.pk]) in inbox
    page = client.get(reverse("tasks:self_assessment_mine", args=[final_round.pk]))
    assert page.status_code == 200 and not SelfAssessment.objects.exists()  # GET writes nothing
    measures = list(services.assigned_measures(jyt, current_plan()))
    data = {"achievements": "成效", "problems": "问题", "next_steps": "计划"}
    data.update({f"m-{m.pk}-judgement": "mostly" for m in measures})
    response = client.post(reverse("tasks:self_assessment_mine", args=[final_round.pk]), data)
    assessment = SelfAssessment.objects.get(round=final_round, unit=jyt)
    assert response.status_code == 302
    assert set(assessment.judgements.values_list("judgement", flat=True)) == {"mostly"}
    client.force_login(approver)
    client.post(reverse("tasks:self_assessment_submit", args=[assessment.pk]))
    client.force_login(office)
    overview = client.get(reverse("tasks:round_detail", args=[final_round.pk])).content.decode()
    assert reverse("tasks:self_assessment_detail", args=[assessment.pk]) in overview
    client.post(reverse("tasks:self_assessment_approve", args=[assessment.pk]))
    assessment.refresh_from_db()
    assert assessment.status == SubmissionStatus.APPROVED
    assert unit_evaluations(jyt)[0]["status"] == SubmissionStatus.APPROVED


def test_a_closed_round_takes_no_new_self_assessment(final_round, jyt, reporter, office):
    services.set_round_state(final_round, PeriodState.CLOSED, by=office)
    with pytest.raises(PermissionDenied):
        services.ensure_self_assessment(final_round, jyt, by=reporter)


def test_the_api_scopes_and_steps(final_round, jyt, reporter, approver, office, other_reporter, api_client):
    assessment = judge_all(services.ensure_self_assessment(final_round, jyt, by=reporter), reporter)
    api_client.force_authenticate(other_reporter)
    assert api_client.get(reverse("selfassessment-list")).json()["count"] == 0
    api_client.force_authenticate(approver)
    assert api_client.post(reverse("selfassessment-submit", args=[assessment.pk])).status_code == 200
    api_client.force_authenticate(office)
    response = api_client.post(reverse("selfassessment-return", args=[assessment.pk]), {}, format="json")
    assert response.status_code == 409 and "退回意见" in response.json()["detail"]
    response = api_client.post(reverse("selfassessment-approve", args=[assessment.pk]))
    assert response.status_code == 200 and response.json()["status"] == "approved"


def test_the_demo_self_assessments_are_deterministic(office):
    from reports.management.demo import APPROVED_SELF_ASSESSMENTS, build_demo_self_assessments

    today = datetime.date(2027, 3, 1)
    counts = build_demo_self_assessments(today=today)
    assert counts == {"approved": APPROVED_SELF_ASSESSMENTS, "submitted": 1, "draft": 1}
    evaluation = round_for(current_plan(), EvaluationKind.FINAL)
    assert evaluation.state == PeriodState.OPEN and evaluation.deadline > today and evaluation.year == 2025
    by_unit = {a.unit.code: a for a in SelfAssessment.objects.filter(round=evaluation).select_related("unit")}
    assert (
        by_unit["jyt"].status == SubmissionStatus.DRAFT
        and by_unit["kjt"].status == SubmissionStatus.SUBMITTED
    )
    assert services.missing_judgements(by_unit["jyt"])  # the draft cannot be submitted yet
    assert not services.missing_judgements(by_unit["kjt"])
    approved = approved_self_assessments(evaluation)
    assert len(approved) == APPROVED_SELF_ASSESSMENTS
    assert all(j["judgement"] for row in approved for j in row["judgements"])
    snapshot = [
        (r["unit"].code, r["achievements"], [j["judgement"] for j in r["judgements"]]) for r in approved
    ]
    assert build_demo_self_assessments(today=today) == {}  # a second run changes nothing
    build_demo_self_assessments(today=today, reset=True)
    again = approved_self_assessments(evaluation)
    assert [
        (r["unit"].code, r["achievements"], [j["judgement"] for j in r["judgements"]]) for r in again
    ] == snapshot


def test_the_office_finds_submitted_self_assessments_and_approves_from_the_round_page(
    final_round, jyt, reporter, approver, office
):
    assessment = services.submit_self_assessment(
        judge_all(services.ensure_self_assessment(final_round, jyt, by=reporter), reporter), by=approver
    )
    client = Client()
    client.force_login(office)
    detail = reverse("tasks:self_assessment_detail", args=[assessment.pk])
    assert detail in client.get(reverse("tasks:review_queue")).content.decode()
    page = client.get(reverse("tasks:round_detail", args=[final_round.pk])).content.decode()
    approve = reverse("tasks:self_assessment_approve", args=[assessment.pk])
    assert approve in page
    assert client.post(approve).status_code == 302
    assessment.refresh_from_db()
    assert assessment.is_approved
    assert approve not in client.get(reverse("tasks:round_detail", args=[final_round.pk])).content.decode()


def test_a_measure_assigned_after_the_start_must_be_judged_too(final_round, jyt, reporter, approver):
    from tasks.models import Assignment, Initiative

    assessment = judge_all(services.ensure_self_assessment(final_round, jyt, by=reporter), reporter)
    assigned = {m.initiative_id for m in services.assigned_measures(jyt, current_plan())}
    initiative = Initiative.objects.filter(plan=current_plan()).exclude(pk__in=assigned).first()
    Assignment.objects.create(initiative=initiative, role="responsible", unit=jyt)
    with pytest.raises(services.WorkflowError) as refused:
        services.submit_self_assessment(assessment, by=approver)
    assert initiative.measures.first().title in str(refused.value)
    # the next save of the unit's page gives it the new rows
    services.ensure_self_assessment(final_round, jyt, by=reporter)
    assessment = judge_all(SelfAssessment.objects.get(pk=assessment.pk), reporter)
    assert services.submit_self_assessment(assessment, by=approver).awaits_review


def test_the_page_shows_and_saves_a_newly_assigned_measure(final_round, jyt, reporter):
    from tasks.models import Assignment, Initiative

    assessment = judge_all(services.ensure_self_assessment(final_round, jyt, by=reporter), reporter)
    assigned = {m.initiative_id for m in services.assigned_measures(jyt, current_plan())}
    initiative = Initiative.objects.filter(plan=current_plan()).exclude(pk__in=assigned).first()
    Assignment.objects.create(initiative=initiative, role="responsible", unit=jyt)
    measure = initiative.measures.first()
    client = Client()
    client.force_login(reporter)
    url = reverse("tasks:self_assessment_detail", args=[assessment.pk])
    assert f"m-{measure.pk}-judgement" in client.get(url).content.decode()
    assessment.refresh_from_db()
    client.post(url, {"version": assessment.version, f"m-{measure.pk}-judgement": "not_done"})
    assert assessment.judgements.get(measure=measure).judgement == "not_done"
    assert measure not in services.missing_judgements(assessment)
