"""Viewing never writes: a unit's form is created by its first save, not by opening it.

(Every page and endpoint × every role is also checked for writes in test_permission_matrix.)
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from targets.choices import Combine
from targets.submission.services import planned_figures
from tasks import services
from tasks.choices import EventAction, PeriodState
from tasks.models import Submission, SubmissionEvent
from tests.test_permission_matrix import writes
from units.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def jyt():
    return Unit.objects.get(code="jyt")


def start_url(unit, period):
    return reverse("targets:submission_start", args=[unit.code, period.pk])


def test_opening_a_form_not_yet_created_shows_the_planned_form_and_writes_nothing(
    client, reporter, period, jyt
):
    client.force_login(reporter)
    lines = services.planned_lines(jyt, period)
    assert lines, "省教育厅 has assigned measures"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(start_url(jyt, period))
    assert response.status_code == 200
    assert writes(queries) == []
    html = response.content.decode()
    for line in lines:
        assert f'name="line-m{line.measure_id}-progress"' in html
        assert line.measure.title in html
    assert not Submission.objects.filter(unit=jyt, period=period).exists()
    assert 'data-autosave=""' in html  # autosave starts once the form exists


def test_the_first_save_creates_the_form_with_what_was_typed(client, reporter, period, jyt):
    client.force_login(reporter)
    line = services.planned_lines(jyt, period)[0]
    figures, _region = planned_figures(jyt, period)
    figure = next(f for f in figures if f.target.combine == Combine.INCREMENT)
    response = client.post(
        start_url(jyt, period),
        {
            "version": "1",
            f"line-m{line.measure_id}-progress": "开展科学教师培训 3 期",
            f"fig-t{figure.target_id}-value": "120",
            "line-m999999-progress": "不属于本表的行",  # ignored, as the saved form ignores unknown rows
        },
    )
    submission = Submission.objects.get(unit=jyt, period=period)
    assert response.status_code == 302 and response["Location"] == reverse(
        "targets:submission_detail", args=[submission.pk]
    )
    assert submission.lines.get(measure_id=line.measure_id).progress == "开展科学教师培训 3 期"
    assert submission.figures.get(target_id=figure.target_id).value == 120
    actions = list(SubmissionEvent.objects.filter(submission=submission).values_list("action", flat=True))
    assert actions == [EventAction.CREATED, EventAction.SAVED]
    assert submission.lines.count() == len(services.planned_lines(jyt, period))


def test_a_refused_first_save_creates_nothing_and_keeps_the_typing(client, reporter, period, jyt):
    client.force_login(reporter)
    line = services.planned_lines(jyt, period)[0]
    figures, _region = planned_figures(jyt, period)
    figure = next(f for f in figures if f.target.combine == Combine.INCREMENT)
    response = client.post(
        start_url(jyt, period),
        {
            "version": "1",
            f"line-m{line.measure_id}-progress": "已写好的进展",
            f"fig-t{figure.target_id}-value": "很多",
        },
    )
    assert response.status_code == 400
    assert not Submission.objects.filter(unit=jyt, period=period).exists()
    html = response.content.decode()
    assert "已写好的进展" in html and 'value="很多"' in html
    assert re.search(r'class="callout bad"', html)


def test_others_cannot_start_a_units_form(client, other_reporter, viewer, period, jyt):
    for user in (other_reporter, viewer):
        client.force_login(user)
        assert client.get(start_url(jyt, period)).status_code == 404
        assert client.post(start_url(jyt, period), {"version": "1"}).status_code == 404
    assert not Submission.objects.filter(unit=jyt, period=period).exists()


def test_a_closed_period_sends_the_unit_back_to_its_inbox_without_writing(client, reporter, period, jyt):
    period.state = PeriodState.CLOSED
    period.save()
    client.force_login(reporter)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(start_url(jyt, period))
    assert response.status_code == 302 and response["Location"] == reverse("tasks:inbox")
    assert writes(queries) == []
    assert client.post(start_url(jyt, period), {"version": "1"}).status_code == 302
    assert not Submission.objects.filter(unit=jyt, period=period).exists()


def test_an_existing_form_opens_without_writing_and_gains_new_lines_when_they_are_assigned(
    client, reporter, submission
):
    from tasks.models import Assignment, Initiative

    client.force_login(reporter)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("targets:submission_detail", args=[submission.pk])).status_code == 200
        assert client.get(reverse("targets:submission_excel", args=[submission.pk])).status_code == 200
        assert client.get(start_url(submission.unit, submission.period)).status_code == 302
    assert writes(queries) == []
    before = submission.lines.count()
    have = set(submission.lines.values_list("measure__initiative_id", flat=True))
    initiative = Initiative.objects.exclude(pk__in=have).filter(measures__isnull=False, parts=None).first()
    Assignment.objects.create(initiative=initiative, role="responsible", unit=submission.unit)
    assert submission.lines.count() == before + initiative.measures.count()
