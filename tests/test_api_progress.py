"""Targets carry their progress from the roll-ups; roll-up runs can be read and triggered."""

from decimal import Decimal as D

import pytest

from reports.models import RollupRun
from reports.rollup.rollups import rollup
from tasks.models import Period
from tasks.selectors import current_plan
from tests.factories import approved_figure, open_period

pytestmark = pytest.mark.django_db


def test_targets_carry_actual_expected_status_forecast_and_as_of(api_client, viewer):
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    approved_figure("rst", 2023, 2, "T09", value=D(110000))
    rollup(current_plan())
    period = Period.objects.get(year=2023, quarter=4)
    api_client.force_authenticate(viewer)
    rows = api_client.get("/api/v1/targets/", {"period": period.pk, "code": "T09"}).json()["results"]
    assert len(rows) == 1
    t09 = rows[0]
    assert t09["as_of"] == "2023-12-31"
    assert D(t09["actual"]) == D(150000)
    assert t09["status"] == "far_behind"
    assert D(t09["expected"]) > D(290000)
    assert D(t09["forecast"]) > D(240000)


def test_an_unknown_as_of_period_is_a_400(api_client, viewer):
    open_period()
    api_client.force_authenticate(viewer)
    assert api_client.get("/api/v1/targets/", {"period": "999999"}).status_code == 400
    assert api_client.get("/api/v1/targets/", {"period": "abc"}).status_code == 400


def test_targets_without_rollups_say_no_data(api_client, viewer):
    open_period()
    api_client.force_authenticate(viewer)
    row = api_client.get("/api/v1/targets/", {"code": "T01"}).json()["results"][0]
    assert row["status"] == "no_data" and row["actual"] is None


def test_office_triggers_a_rollup_and_the_office_and_viewers_read_runs(
    api_client, office, viewer, reporter, django_capture_on_commit_callbacks
):
    period = open_period()
    api_client.force_authenticate(reporter)
    assert api_client.post("/api/v1/rollups/", {}, format="json").status_code == 403
    api_client.force_authenticate(office)
    assert api_client.post("/api/v1/rollups/", {"period": 999999}, format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/rollups/", {"period": period.pk}, format="json")
    assert response.status_code == 202
    run = RollupRun.objects.get(pk=response.json()["id"])
    assert run.from_period == period
    api_client.force_authenticate(viewer)
    listed = api_client.get("/api/v1/rollups/").json()
    assert listed["count"] == 1 and listed["results"][0]["status"] == "succeeded"


def test_anonymous_cannot_read_rollups(api_client):
    assert api_client.get("/api/v1/rollups/").status_code == 401


def test_unit_staff_see_progress_only_of_the_initiatives_their_unit_leads(api_client, reporter, viewer):
    """The access policy's one decision on province-wide progress, on the API as on the pages:
    省教育厅 (jyt) leads A1, so its reporter reads A1's targets' progress and no other's."""
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    rollup(current_plan())
    period = Period.objects.get(year=2023, quarter=4)
    api_client.force_authenticate(reporter)
    rows = api_client.get("/api/v1/targets/", {"period": period.pk, "limit": 1000}).json()["results"]
    by_code = {row["code"]: row for row in rows}
    assert by_code["T09"]["status"] is None and by_code["T09"]["actual"] is None  # A3: not led by jyt
    assert by_code["T09"]["name"]  # the target itself is the plan's, readable by everyone
    a1 = [row for row in rows if row["initiative"] == "A1"]
    assert a1 and all(row["status"] is not None for row in a1)
    assert api_client.get("/api/v1/rollups/").status_code == 403
    api_client.force_authenticate(viewer)
    rows = api_client.get("/api/v1/targets/", {"period": period.pk, "code": "T09"}).json()["results"]
    assert D(rows[0]["actual"]) == D(40000)
