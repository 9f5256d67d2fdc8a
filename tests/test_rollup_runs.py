"""Roll-up runs: queued after an approval commits, safe when the broker is down, run by a real worker."""

import os
import subprocess
import sys
import time
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from portal.celery import app as celery_app
from reports.choices import RunStatus
from reports.models import RollupRun, StatusThresholds, TargetSnapshot
from reports.rollup import services
from targets.models import TargetWaypoint
from tasks import services as task_services
from tasks.selectors import current_plan
from tests.factories import approved_figure, open_period
from tests.test_workflow import fill_everything
from units.models import Unit

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def broker_down(monkeypatch):
    """Publishing fails as it does when Redis has stopped (the real outage is tested with the
    broker itself in the fault tests)."""
    from kombu.exceptions import OperationalError

    from reports.tasks import run_rollup

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_rollup, "delay", refuse)


def approve_jyt_form(reporter, approver, office, capture):
    period = open_period(2024, 3)
    submission = task_services.ensure_submission(Unit.objects.get(code="jyt"), period, by=reporter)
    fill_everything(submission, reporter)
    task_services.submit_submission(submission, by=approver)
    with capture(execute=True):
        task_services.approve_submission(submission, by=office)
    return submission


def test_an_approval_queues_a_rollup_after_commit(
    reporter, approver, office, django_capture_on_commit_callbacks
):
    period = open_period(2024, 3)
    submission = task_services.ensure_submission(Unit.objects.get(code="jyt"), period, by=reporter)
    fill_everything(submission, reporter)
    task_services.submit_submission(submission, by=approver)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        task_services.approve_submission(submission, by=office)
        assert not RollupRun.objects.exists()  # nothing before the commit
    with django_capture_on_commit_callbacks(execute=True):  # the commit: callbacks run, and theirs
        for callback in callbacks:
            callback()
    run = RollupRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED  # eager in tests: ran at once
    assert run.from_period == period
    assert TargetSnapshot.objects.filter(target__code="T12", period=period).get().actual == D(120)


def test_with_the_broker_down_the_approval_saves_and_the_rollup_waits(
    broker_down, reporter, approver, office, django_capture_on_commit_callbacks
):
    submission = approve_jyt_form(reporter, approver, office, django_capture_on_commit_callbacks)
    submission.refresh_from_db()
    assert submission.status == "approved"
    run = RollupRun.objects.get()
    assert run.status == RunStatus.QUEUED
    assert not TargetSnapshot.objects.exists()
    # The broker is back: the sweeper (beat) runs what was queued.
    assert services.sweep() == {"requeued": 0, "failed": 0, "executed": 1}
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert TargetSnapshot.objects.filter(target__code="T12").exists()


def test_a_second_request_reuses_the_queued_run(broker_down):
    plan = current_plan()
    open_period()
    first = services.request_rollup(plan)
    second = services.request_rollup(plan)
    assert first.pk == second.pk
    assert RollupRun.objects.count() == 1


def test_a_run_whose_worker_died_is_queued_again_and_failed_after_its_last_try(settings):
    from django.utils import timezone

    plan = current_plan()
    open_period()
    two_hours_ago = timezone.now() - timezone.timedelta(hours=2)
    # A row from before heartbeats (none written): its start time stands in.
    stuck = RollupRun.objects.create(
        plan=plan, trigger="manual", status=RunStatus.RUNNING, started_at=two_hours_ago
    )
    result = services.sweep()
    stuck.refresh_from_db()
    assert result == {"requeued": 1, "failed": 0, "executed": 1}
    assert stuck.status == RunStatus.SUCCEEDED and stuck.attempts == 1
    # A run that lost its worker on every try is failed, with a message that says so.
    dead = RollupRun.objects.create(
        plan=plan,
        trigger="manual",
        status=RunStatus.RUNNING,
        started_at=two_hours_ago,
        heartbeat_at=two_hours_ago,
        attempts=settings.JOB_MAX_ATTEMPTS,
    )
    assert services.sweep() == {"requeued": 0, "failed": 1, "executed": 0}
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED and "工作进程中断" in dead.error and "重新发起" in dead.error


def test_a_failed_rollup_is_recorded_with_its_error(monkeypatch):
    plan = current_plan()
    open_period()

    def explode(*args, **kwargs):
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr("reports.rollup.rollups.rollup", explode)
    run = RollupRun.objects.create(plan=plan, trigger="manual")
    with pytest.raises(RuntimeError):
        services.execute_run(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "磁盘已满" in run.error


def test_a_run_is_claimed_once():
    plan = current_plan()
    open_period()
    run = RollupRun.objects.create(plan=plan, trigger="manual")
    assert services.execute_run(run.pk) is not None
    assert services.execute_run(run.pk) is None


def test_office_triggers_a_rollup_for_a_period_and_a_missing_period_is_refused(
    client, office, viewer, django_capture_on_commit_callbacks
):
    period = open_period()
    client.force_login(office)
    response = client.post(reverse("reports_office:rollup_runs"), {"period": "999999"}, follow=True)
    assert "所选报送期不存在" in response.content.decode()
    assert not RollupRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("reports_office:rollup_runs"), {"period": period.pk})
    assert RollupRun.objects.get().status == RunStatus.SUCCEEDED
    client.force_login(viewer)
    assert client.get(reverse("reports_office:rollup_runs")).status_code == 200
    assert client.post(reverse("reports_office:rollup_runs"), {}).status_code == 403


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"ahead": "0.9", "on_track": "0.95", "behind": "0.8"}, "从高到低"),
        ({"ahead": "1.1", "on_track": "0.8", "behind": "0.8"}, "从高到低"),
        ({"ahead": "1.1", "on_track": "0.9", "behind": "0"}, "从高到低"),
    ],
)
def test_thresholds_out_of_order_are_refused(client, office, values, message):
    open_period()
    client.force_login(office)
    response = client.post(reverse("reports_office:settings"), {"form": "thresholds", **values})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert StatusThresholds.objects.get().ahead == D("1.10")


def test_a_waypoint_after_the_deadline_is_refused(client, office):
    open_period()
    client.force_login(office)
    t09 = current_plan().targets.get(code="T09")
    response = client.post(
        reverse("reports_office:settings"),
        {"form": "waypoint", "target": t09.pk, "year": 2026, "value": "100"},
    )
    assert response.status_code == 400
    assert "早于目标年份" in response.content.decode()
    assert not TargetWaypoint.objects.exists()
    client.post(
        reverse("reports_office:settings"),
        {"form": "waypoint", "target": t09.pk, "year": 2023, "value": "200000"},
    )
    assert TargetWaypoint.objects.get().value == 200000


def test_external_figures_are_entered_by_the_office_and_counted(
    client, office, reporter, django_capture_on_commit_callbacks
):
    open_period()
    client.force_login(office)
    t01 = current_plan().targets.get(code="T01")
    response = client.post(
        reverse("reports_office:settings"),
        {
            "form": "external",
            "target": t01.pk,
            "value": "120",
            "measured_on": "2023-10-01",
            "source": "抽样调查",
        },
    )
    assert "不能超过 100" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("reports_office:settings"),
            {
                "form": "external",
                "target": t01.pk,
                "value": "8.06",
                "measured_on": "2023-10-01",
                "source": "第十三次中国公民科学素质抽样调查",
                "survey_round": "2023",
            },
        )
    snap = TargetSnapshot.objects.get(target=t01, period__year=2023, period__quarter=4)
    assert snap.actual == D("8.06")
    client.force_login(reporter)
    assert client.get(reverse("reports_office:settings")).status_code == 403


def test_each_regions_2020_level_is_entered_by_the_office_and_judges_t32(
    client, office, django_capture_on_commit_callbacks
):
    """T32 (不低于“十三五”末水平): 西宁 2.02 元/人 in 2024 against its 1.80 (met), 海东 1.33
    against its 1.50 (not met): 1 of the 2 regions with a baseline, 严重滞后 (share 0.5)."""
    from targets.models import RegionBaseline
    from tests.factories import region_figure

    region_figure("xiningshi", 2024, 2, D(500), D(248))
    region_figure("haidongshi", 2024, 2, D(180), D(135))
    plan = current_plan()
    t32 = plan.targets.get(code="T32")
    from reports.rollup.rollups import rollup

    rollup(plan)
    assert TargetSnapshot.objects.get(target=t32, period__year=2024, period__quarter=2).status == "no_data"
    client.force_login(office)
    url = reverse("reports_office:settings")
    xining = Unit.objects.get(code="xiningshi").region
    haidong = Unit.objects.get(code="haidongshi").region
    refused = client.post(
        url, {"form": "baseline", "target": t32.pk, "region": xining.pk, "value": "-1", "source": "决算"}
    )
    assert refused.status_code == 400 and "不能为负数" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        for region, value in ((xining, "1.9"), (haidong, "1.50"), (xining, "1.80")):  # 西宁 corrected
            response = client.post(
                url,
                {
                    "form": "baseline",
                    "target": t32.pk,
                    "region": region.pk,
                    "value": value,
                    "source": "2020年决算",
                },
            )
            assert response.status_code == 302, response.content.decode()[-2000:]
    assert RegionBaseline.objects.get(target=t32, region=xining).value == D("1.80")
    assert RegionBaseline.objects.count() == 2
    snap = TargetSnapshot.objects.get(target=t32, period__year=2024, period__quarter=2)
    assert (snap.regions_met, snap.regions_total, snap.status) == (1, 2, "far_behind")
    page = client.get(
        reverse("reports:target_detail", args=["T32"]), {"period": snap.period_id}
    ).content.decode()
    assert "不低于 1.80 元/人（2020年）" in page and "不得低于“十三五”末人均科普经费投入水平" in page


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL") or "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="needs PostgreSQL and Redis (CI sets DATABASE_URL and REDIS_URL)",
)
@pytest.mark.django_db(transaction=True)
def test_a_real_celery_worker_carries_out_a_queued_rollup():
    """Queue a run through Redis and let a worker process (celery -A portal worker) do it."""
    from targets.loader import load_plan

    load_plan()  # transaction=True tests start from an empty database
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    approved_figure("rst", 2023, 2, "T09", value=D(50000))
    old_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"],
        "CELERY_BROKER_URL": os.environ["REDIS_URL"],
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool",
            "solo",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        celery_app.conf.broker_url = os.environ["REDIS_URL"]
        run = services.request_rollup(current_plan())
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
                break
            time.sleep(0.5)
        assert run.status == RunStatus.SUCCEEDED, run.error
        snap = TargetSnapshot.objects.get(target__code="T09", period__year=2023, period__quarter=4)
        assert snap.actual == D(90000)
    finally:
        celery_app.conf.task_always_eager = old_eager
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        load_plan()


def test_regional_baselines_can_be_imported_from_a_spreadsheet(db):
    """The admin's import: one row per region by statistical code; a second import updates, and
    an unknown region code is reported on its row with nothing saved."""
    import tablib

    from targets.admin import RegionBaselineResource
    from targets.models import RegionBaseline

    headers = ["目标指标", "统计用区划代码", "基期值", "数据来源"]
    rows = [("T32", "630100", "1.80", "2020年决算"), ("T32", "630102", "1.25", "2020年决算")]
    result = RegionBaselineResource().import_data(tablib.Dataset(*rows, headers=headers), dry_run=False)
    assert not result.has_errors() and RegionBaseline.objects.count() == 2
    again = tablib.Dataset(("T32", "630100", "1.95", "更正"), headers=headers)
    RegionBaselineResource().import_data(again, dry_run=False)
    assert RegionBaseline.objects.get(region__code="630100").value == D("1.95")
    bad = tablib.Dataset(("T32", "999999", "1.00", "x"), ("T32", "630103", "1.00", "x"), headers=headers)
    result = RegionBaselineResource().import_data(bad, dry_run=False, use_transactions=True)
    assert result.has_errors() or result.has_validation_errors()
    assert RegionBaseline.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_run_goes_to_a_thread_and_the_request_returns_at_once(settings, monkeypatch):
    """`make run` has no broker: the job runs in a thread of the web process (JOBS_IN_THREAD),
    so the request that queued it returns before the job ends and the page can show progress."""
    import dataclasses
    import threading

    from reports import jobs
    from targets.loader import load_plan

    load_plan()  # transaction=True tests start from an empty database
    settings.JOBS_IN_THREAD = True
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)
    approved_figure("rst", 2024, 2, "T09", value=D(100))
    started, release = threading.Event(), threading.Event()
    real_work = services.ROLLUP.work

    def slow_work(run):
        started.set()
        assert release.wait(10), "the test never released the job"
        return real_work(run)

    monkeypatch.setattr(services, "ROLLUP", dataclasses.replace(services.ROLLUP, work=slow_work))
    run = services.request_rollup(current_plan())
    assert started.wait(10), "the job did not start in its thread"
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING  # the request is back while the job still runs
    release.set()
    for _ in range(100):
        run.refresh_from_db()
        if run.status not in jobs.PENDING:
            break
        time.sleep(0.1)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert TargetSnapshot.objects.filter(target__code="T09").exists()
