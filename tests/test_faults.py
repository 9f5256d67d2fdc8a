"""Faults: the broker stops, a worker dies mid-roll-up, two requests race for one row.

The broker test starts a redis-server of its own on a free port, points Celery at it, STOPS it,
works through the services as users would, starts it again and lets a real worker process
(``celery -A portal worker --pool solo``) carry out what was queued. It needs PostgreSQL (the
worker is another process reading the test database) and redis-server on PATH; CI has both.
It runs in real transactions (the worker sees only committed rows), so pytest-django flushes the
database afterwards: the plan is loaded at its start and again once the module is done.
"""

import datetime
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from decimal import Decimal as D
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
from django.db import IntegrityError, connection
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from portal.celery import app as celery_app
from reports.choices import RunStatus, RunTrigger
from reports.models import RollupRun, TargetSnapshot
from reports.rollup import services as report_services
from reports.rollup.rollups import rollup
from reports.tasks import sweep_rollups
from targets.loader import load_plan
from tasks import services
from tasks.choices import NotificationKind, ReminderKind
from tasks.models import MeasureLine, Notification, Period, ReminderLog, Submission, WorkPoint
from tasks.selectors import current_plan
from tasks.tasks import send_deadline_reminders
from tests.conftest import make_user
from tests.factories import approved_figure, open_period
from tests.test_workflow import fill_everything
from units.choices import Role
from units.models import Unit

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent
REDIS_SERVER = shutil.which("redis-server")
# The test's broker keeps nothing on disk (production's has an append-only file).
NO_PERSISTENCE = ["--save", "", "--appendonly", "no", "--daemonize", "no"]
WORKER = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "-l", "info"]


@pytest.fixture(scope="module", autouse=True)
def plan_reloaded_after_the_module(django_db_blocker):
    """Put the plan back after the broker test's flush, for the tests that run after these."""
    yield
    with django_db_blocker.unblock():
        load_plan()


@pytest.fixture
def committed_plan(django_db_blocker):
    """The plan, in a database an earlier real-transaction test may have flushed."""
    with django_db_blocker.unblock():
        load_plan()


# A broker of our own ---------------------------------------------------------------------


def bound_socket(port: int = 0) -> socket.socket:
    """A socket bound to 127.0.0.1:``port`` but not listening: the port is ours (nobody else can
    take it) and a client connecting to it is refused, as it is by a stopped Redis."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", port))
    return holder


class RedisServer:
    """A redis-server process on a port of its own, which the test can stop and start again.

    While the server is stopped the test keeps the port bound (``bound_socket``): another
    process cannot take it in between, so "stopped" always means "connection refused" and the
    restart gets the same port.
    """

    def __init__(self):
        self.holder = bound_socket()
        self.port = self.holder.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        if self.holder is not None:
            self.holder.close()
            self.holder = None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", *NO_PERSISTENCE],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self, *, hold=True):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
        if hold and self.holder is None:
            self.holder = bound_socket(self.port)

    def close(self):
        self.stop(hold=False)
        if self.holder is not None:
            self.holder.close()
            self.holder = None

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port)


def forget_broker_connections():
    """Drop the connection and producer pools Celery keeps for the broker it last used.

    ``app.pool.force_close_all()`` alone is not enough: it marks the shared connection pool
    closed while the app's producer pool still draws on it ("Acquire on closed pool"). Closing
    every kombu pool and clearing the app's references (what Celery does after a fork) makes
    the next publish build fresh pools for the current ``broker_url``.
    """
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker():
    """A running redis-server that Celery publishes to (not eager) for the test; restored after."""
    server = RedisServer()
    server.start()
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    forget_broker_connections()
    celery_app.conf.broker_url = server.url
    celery_app.conf.task_always_eager = False
    try:
        yield server
    finally:
        forget_broker_connections()
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
        server.close()


def database_url_for_other_processes() -> str:
    """The test database (test_…), for a process other than this one."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(broker_url: str, log: Path, **extra_env):
    """A real worker process on the test database, as production runs it (one process, solo)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url_for_other_processes(),
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        **extra_env,
    }
    with open(log, "w") as output:
        process = subprocess.Popen(
            [
                *WORKER,
                "-n",
                f"faults-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition, what: str, log: Path, timeout: float = 45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")


def queue_drained(server: RedisServer) -> bool:
    """No message waiting and none delivered but unacknowledged (tasks acknowledge late), three
    times in a row: the worker has finished everything that was sent."""
    client = server.client()
    for _ in range(3):
        if client.llen("celery") or client.hlen("unacked"):
            return False
        time.sleep(0.2)
    return True


@pytest.mark.skipif(
    REDIS_SERVER is None or connection.vendor != "postgresql",
    reason="needs PostgreSQL (a worker process reads the test database) and redis-server on PATH",
)
@pytest.mark.django_db(transaction=True)
def test_with_the_broker_stopped_forms_are_saved_submitted_and_approved_and_queued_work_runs_once_it_is_back(
    committed_plan, broker, tmp_path
):
    period = open_period(2024, 3)
    today = timezone.localdate()
    # The deadline is a week away: every unit that has not reported is reminded today.
    Period.objects.filter(pk=period.pk).update(deadline=today + datetime.timedelta(days=7))
    reporter = make_user("jyt-reporter", Role.REPORTER, "jyt")
    approver = make_user("jyt-approver", Role.APPROVER, "jyt")
    kx_reporter = make_user("kx-reporter", Role.REPORTER, "kx")
    office = make_user("office", Role.OFFICE)
    jyt = Unit.objects.get(code="jyt")

    broker.stop()
    began = time.monotonic()
    submission = services.ensure_submission(jyt, period, by=reporter)
    fill_everything(submission, reporter)  # targets.submission.services.save_form: lines and figures
    services.submit_submission(submission, by=approver)
    services.approve_submission(submission, by=office)  # after commit: the roll-up is requested
    assert time.monotonic() - began < 15  # publishing to a dead broker fails fast: nobody waits

    submission.refresh_from_db()
    assert (submission.status, submission.version) == ("approved", 4)
    run = RollupRun.objects.get()
    assert (run.status, run.trigger, run.from_period_id) == (RunStatus.QUEUED, RunTrigger.APPROVAL, period.pk)
    assert not TargetSnapshot.objects.exists()
    # Beat cannot hand over its jobs either: this morning's reminders and the sweep are not sent.
    with pytest.raises(OperationalError):
        send_deadline_reminders.delay()
    with pytest.raises(OperationalError):
        sweep_rollups.delay()
    assert not ReminderLog.objects.exists()

    broker.start()
    log = tmp_path / "worker.log"
    with celery_worker(broker.url, log):
        sweep_rollups.delay()  # beat's next sweep (every 5 minutes)
        wait_for(lambda: RollupRun.objects.get(pk=run.pk).status != RunStatus.QUEUED, "the roll-up", log)
        wait_for(lambda: RollupRun.objects.get(pk=run.pk).status != RunStatus.RUNNING, "the roll-up", log)
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED, run.error
        # Reminders: the next beat run, then an operator's manual re-run; and a second sweep and
        # a late duplicate of the roll-up's own message, which must change nothing.
        send_deadline_reminders.delay()
        send_deadline_reminders.delay()
        sweep_rollups.delay()
        report_services.enqueue(run.pk)
        wait_for(lambda: queue_drained(broker), "the worker to finish", log)

    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    run.refresh_from_db()
    assert RollupRun.objects.count() == 1 and run.status == RunStatus.SUCCEEDED
    snapshot = TargetSnapshot.objects.get(target__code="T12", period=period)
    assert snapshot.actual == D(120)
    # Each reminder went once: to every active unit that has not reported (all but 省教育厅).
    reminded = ReminderLog.objects.filter(period=period, kind=ReminderKind.WEEK_BEFORE)
    assert reminded.count() == Unit.objects.active().count() - 1
    assert not reminded.filter(unit=jyt).exists()
    assert Notification.objects.filter(user=kx_reporter, kind=NotificationKind.REMINDER).count() == 1
    assert not Notification.objects.filter(user=reporter, kind=NotificationKind.REMINDER).exists()


# A worker killed during a roll-up ----------------------------------------------------------------


def snapshot_rows():
    return sorted(
        TargetSnapshot.objects.values_list(
            "target__code", "period__year", "period__quarter", "actual", "expected", "status", "figures"
        )
    )


def test_a_rollup_whose_worker_was_killed_is_requeued_by_the_sweeper_and_the_next_run_is_right():
    plan = current_plan()
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    rollup(plan)
    # A second figure is approved; its roll-up's worker is killed (SIGKILL) mid-run: the run's
    # transaction is rolled back, so the snapshots are the old ones, the row says "running" and
    # its heartbeat stopped long ago.
    approved_figure("rst", 2023, 2, "T09", value=D(50000))
    q2 = Period.objects.get(year=2023, quarter=2)
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    stuck = RollupRun.objects.create(
        plan=plan,
        from_period=q2,
        trigger=RunTrigger.APPROVAL,
        status=RunStatus.RUNNING,
        started_at=an_hour_ago,
        heartbeat_at=an_hour_ago,
        attempts=1,
    )
    assert TargetSnapshot.objects.get(target__code="T09", period__year=2023, period__quarter=4).actual == D(
        40000
    )

    assert report_services.sweep() == {"requeued": 1, "failed": 0, "executed": 1}

    stuck.refresh_from_db()
    # The same run, carried out again: no second row, the same periods and trigger.
    assert RollupRun.objects.get() == stuck
    assert (stuck.status, stuck.from_period, stuck.trigger) == (RunStatus.SUCCEEDED, q2, RunTrigger.APPROVAL)
    assert stuck.attempts == 2 and stuck.finished_at is not None
    assert TargetSnapshot.objects.get(target__code="T09", period__year=2023, period__quarter=4).actual == D(
        90000
    )
    after_sweep = snapshot_rows()
    rollup(plan)  # a fresh full roll-up of every period
    assert snapshot_rows() == after_sweep


def test_a_run_that_is_only_slow_is_left_alone_by_the_sweeper():
    plan = current_plan()
    open_period()
    # Started an hour ago, but its worker still beats: a long run, not a dead one.
    busy = RollupRun.objects.create(
        plan=plan,
        trigger=RunTrigger.MANUAL,
        status=RunStatus.RUNNING,
        started_at=timezone.now() - datetime.timedelta(hours=1),
        heartbeat_at=timezone.now(),
    )
    assert report_services.sweep() == {"requeued": 0, "failed": 0, "executed": 0}
    busy.refresh_from_db()
    assert busy.status == RunStatus.RUNNING


# Constraint violations ------------------------------------------------------------------------------


@pytest.fixture
def other_request_creates_the_form_first(monkeypatch):
    """Between a request's "is there a form?" and its INSERT, another request inserts the same
    (unit, period): the first lookup inside get_or_create misses, the row then appears."""
    created = {}
    real_get = QuerySet.get

    def get(self, *args, **kwargs):
        if self.model is Submission and "row" not in created:
            unit, period = Unit.objects.get(code="jyt"), Period.objects.get(year=2024, quarter=3)
            (created["row"],) = Submission.objects.bulk_create([Submission(unit=unit, period=period)])
            raise Submission.DoesNotExist
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "get", get)
    return created


def test_two_requests_starting_one_form_at_once_get_the_same_submission(
    reporter, other_request_creates_the_form_first
):
    period = open_period(2024, 3)
    submission = services.ensure_submission(Unit.objects.get(code="jyt"), period, by=reporter)
    assert submission.pk == other_request_creates_the_form_first["row"].pk
    assert Submission.objects.filter(unit__code="jyt", period=period).count() == 1
    assert submission.lines.count() > 0 and submission.figures.count() > 0  # the form is complete


def test_posting_a_form_that_exists_answers_200_with_it(api_client, reporter):
    period = open_period(2024, 3)
    api_client.force_authenticate(reporter)
    first = api_client.post(reverse("submission-list"), {"unit": "jyt", "period": period.pk}, format="json")
    again = api_client.post(reverse("submission-list"), {"unit": "jyt", "period": period.pk}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Submission.objects.filter(unit__code="jyt", period=period).count() == 1


def test_posting_a_form_that_another_request_is_creating_returns_that_form(
    api_client, reporter, other_request_creates_the_form_first
):
    period = open_period(2024, 3)
    api_client.force_authenticate(reporter)
    response = api_client.post(
        reverse("submission-list"), {"unit": "jyt", "period": period.pk}, format="json"
    )
    # The view checked before the other request inserted, so it answers "created" (201) — but
    # with the one form there is, never a 500 and never a second form.
    assert response.status_code in (200, 201)
    assert response.json()["id"] == other_request_creates_the_form_first["row"].pk
    assert Submission.objects.filter(unit__code="jyt", period=period).count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL: two connections writing at the same time"
)
@pytest.mark.django_db(transaction=True)
def test_two_people_opening_a_form_that_lacks_a_new_line_at_the_same_moment_both_get_it_once(
    committed_plan, monkeypatch
):
    """The office has just added an annual work point: the next opening of the form adds its line.
    Two people open the form at once; both find the line missing and both try to insert it."""
    period = open_period(2024, 3)
    jyt = Unit.objects.get(code="jyt")
    form = services.ensure_submission(jyt, period)
    point = WorkPoint.objects.create(
        plan=current_plan(), year=2024, number=99, title="新增的年度重点工作任务"
    )
    point.units.add(jyt)

    both_ready = threading.Barrier(2)
    real_save = MeasureLine.save

    def save_when_both_are_ready(line, *args, **kwargs):
        if line.pk is None and line.work_point_id == point.pk:
            try:  # hold the first until the second has also decided to insert (or cannot get there)
                both_ready.wait(timeout=2)
            except threading.BrokenBarrierError:
                pass
        return real_save(line, *args, **kwargs)

    monkeypatch.setattr(MeasureLine, "save", save_when_both_are_ready)
    errors = []

    def open_the_form():
        try:
            services.ensure_submission(jyt, period)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    people = [threading.Thread(target=open_the_form) for _ in range(2)]
    for person in people:
        person.start()
    for person in people:
        person.join(timeout=30)
    assert errors == []
    assert form.lines.filter(work_point=point).count() == 1


def test_a_constraint_violation_inside_a_service_is_a_409_with_a_chinese_message_in_the_api(
    api_client, reporter, monkeypatch
):
    period = open_period(2024, 3)
    submission = services.ensure_submission(Unit.objects.get(code="jyt"), period, by=reporter)

    def violate(*args, **kwargs):
        raise IntegrityError('duplicate key value violates unique constraint "line_measure_unique"')

    monkeypatch.setattr("targets.submission.api.save_form", violate)
    api_client.force_authenticate(reporter)
    api_client.raise_request_exception = False
    line = submission.lines.first()
    response = api_client.patch(
        reverse("submission-detail", args=[submission.pk]),
        {"version": submission.version, "lines": [{"id": line.pk, "progress": "开展培训"}]},
        format="json",
    )
    assert response.status_code == 409
    assert "冲突" in response.json()["detail"]
