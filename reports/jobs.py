"""Background runs, one way for every kind: roll-up runs and report runs.

A run is a row first (``reports.models.JobRun``), then a Celery job. Every kind of run goes
through the same steps here:

- **enqueue** after the commit that created the row; a broker that is down leaves the row queued
  (logged) and the sweep sends it later, so a request never fails or hangs because of Redis;
- **claim** with a conditional update (queued → running): two deliveries of one message, or a
  worker and the sweep, never carry out the same run twice;
- **heartbeat** while running: a thread of the worker writes ``heartbeat_at`` every
  ``JOB_HEARTBEAT_SECONDS`` on its own database connection (the run's own work may sit in one
  long transaction, whose writes nobody sees before it commits);
- **sweep** (Celery beat, every two minutes, and a repeated request): a running run whose
  heartbeat is older than ``JOB_STALE_SECONDS`` lost its worker (killed, out of memory, machine
  restarted): it is queued again, up to ``JOB_MAX_ATTEMPTS`` tries in all, then failed with a
  clear message; queued runs the broker never delivered are carried out by the sweep itself.

Each kind is a ``JobKind``: its model, its Celery task and the function that does the work.
"""

import datetime
import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.choices import RunStatus

logger = logging.getLogger(__name__)

PENDING = (RunStatus.QUEUED, RunStatus.RUNNING)


@dataclass(frozen=True)
class JobKind:
    """One kind of run: ``work(run)`` does the job of a claimed run and returns the fields to
    store on success; ``fail(run, exc)`` returns the message of a failure (and may clean up);
    ``reraise`` lets the worker see the exception too (Celery logs it); ``resend_after`` is how
    long a queued run may wait for the broker before the sweep carries it out itself."""

    name: str
    model: type
    task: Callable[[], object]  # returns the Celery task (imported late: tasks import this module)
    work: Callable
    fail: Callable
    related: tuple = ()
    reraise: bool = False
    resend_after: datetime.timedelta = datetime.timedelta(0)


def heartbeat_seconds() -> float:
    return float(settings.JOB_HEARTBEAT_SECONDS)


def stale_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.JOB_STALE_SECONDS)


# Enqueue ------------------------------------------------------------------------------------


def enqueue(kind: JobKind, run_id: int) -> bool:
    """Hand a queued run to Celery; with the broker down it stays queued for the sweep.

    Without a broker (``make run``: Celery runs jobs in process) the job runs in a thread of its
    own when ``JOBS_IN_THREAD`` is on, so the request returns at once and the page shows the
    run's progress as it would with a worker."""
    task = kind.task()
    if settings.JOBS_IN_THREAD and task.app.conf.task_always_eager:
        # Not a daemon: a management command (seed_demo's roll-up) waits for it before exiting.
        threading.Thread(
            target=_run_in_thread, args=(kind, run_id), name=f"job-{kind.name}-{run_id}", daemon=False
        ).start()
        return True
    try:
        task.delay(run_id)
    except Exception as exc:  # kombu/redis raise several types; any failure to publish is transient
        logger.warning("%s run %s stays queued: broker unavailable (%s)", kind.name, run_id, exc)
        return False
    return True


def _run_in_thread(kind: JobKind, run_id: int) -> None:
    try:
        kind.task().apply(args=(run_id,))
    except Exception:  # the run records its own failure; this only keeps the thread quiet
        logger.exception("%s run %s failed in its thread", kind.name, run_id)
    finally:
        connection.close()  # this thread's own connection


def enqueue_on_commit(kind: JobKind, run_id: int) -> None:
    """Queue the run once the transaction that wrote it commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue(kind, run_id))


# Claim, heartbeat, finish ---------------------------------------------------------------------


def claim(kind: JobKind, run_id: int, **fields) -> bool:
    """queued → running, for one worker only."""
    now = timezone.now()
    return bool(
        kind.model.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
            attempts=F("attempts") + 1,
            error="",
            **fields,
        )
    )


@contextmanager
def heartbeat(kind: JobKind, run_id: int):
    """Write the run's ``heartbeat_at`` every ``JOB_HEARTBEAT_SECONDS`` while the block runs.

    The beat comes from a thread with its own database connection, so it is seen at once even
    when the work holds a long transaction, and it stops with the process: a killed worker's run
    goes stale and the sweep takes it back.
    """
    stop = threading.Event()
    interval = heartbeat_seconds()

    def beat():
        try:
            while not stop.wait(interval):
                try:
                    kind.model.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except Exception as exc:  # the database is briefly away: try again at the next beat
                    logger.warning("%s run %s: heartbeat not written (%s)", kind.name, run_id, exc)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-{kind.name}-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=interval + 5)


@contextmanager
def job_timeouts():
    """The job's own limits on this connection: a roll-up waits for another one's lock
    (JOB_LOCK_TIMEOUT) where a web request would give up after DB_LOCK_TIMEOUT."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
            [str(settings.JOB_LOCK_TIMEOUT * 1000), str(settings.JOB_STATEMENT_TIMEOUT * 1000)],
        )
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout; RESET statement_timeout")
        except Exception:  # an aborted transaction: its rollback restores the settings anyway
            pass


def finish(kind: JobKind, run_id: int, status: str, **fields) -> bool:
    """running → succeeded or failed; False when the run was taken back in between (the sweep
    thought it dead), and then nothing is written."""
    return bool(
        kind.model.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            status=status, finished_at=timezone.now(), **fields
        )
    )


def execute(kind: JobKind, run_id: int, **claim_fields):
    """Claim a queued run and carry it out; the run after it, or None when it was not ours to run
    (another worker has it, or it is done)."""
    if not claim(kind, run_id, **claim_fields):
        return None
    run = kind.model.objects.select_related(*kind.related).get(pk=run_id)
    with heartbeat(kind, run_id), job_timeouts():
        try:
            fields = kind.work(run)
        except Exception as exc:
            logger.exception("%s run %s failed", kind.name, run_id)
            finish(kind, run_id, RunStatus.FAILED, error=str(kind.fail(run, exc))[:4000])
            if kind.reraise:
                raise
        else:
            finish(kind, run_id, RunStatus.SUCCEEDED, **(fields or {}))
    run.refresh_from_db()
    return run


# Sweep ----------------------------------------------------------------------------------------


def stale_runs(kind: JobKind, now=None):
    """Running runs whose worker stopped beating (an old row without a heartbeat: its start)."""
    now = now or timezone.now()
    limit = now - stale_after()
    return kind.model.objects.filter(status=RunStatus.RUNNING).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, started_at__lt=limit)
    )


def take_back(kind: JobKind, run, now=None, *, send=False) -> str | None:
    """A stale run back in the queue, or failed once it has had its tries: "requeued", "failed",
    or None when it was no longer stale (its worker beat, or finished, in between). With
    ``send``, a requeued run is also handed to Celery after the commit (the sweep runs it itself)."""
    now = now or timezone.now()
    limit = now - stale_after()
    still_stale = kind.model.objects.filter(pk=run.pk, status=RunStatus.RUNNING).filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, started_at__lt=limit)
    )
    tries = settings.JOB_MAX_ATTEMPTS
    if run.attempts < tries:
        message = _("工作进程中断（第%(n)s次执行未完成），已自动重新排队。") % {"n": run.attempts}
        if still_stale.update(status=RunStatus.QUEUED, error=message, heartbeat_at=None):
            logger.warning("%s run %s lost its worker: queued again", kind.name, run.pk)
            if send:
                enqueue_on_commit(kind, run.pk)
            return "requeued"
        return None
    message = _("工作进程中断，已尝试 %(n)s 次仍未完成，请检查工作进程日志后重新发起。") % {"n": run.attempts}
    if still_stale.update(status=RunStatus.FAILED, finished_at=now, error=message):
        logger.error("%s run %s lost its worker %s times: failed", kind.name, run.pk, run.attempts)
        return "failed"
    return None


def sweep(kind: JobKind, now=None) -> dict:
    """Take back stale runs, then carry out queued runs the broker never delivered."""
    now = now or timezone.now()
    summary = {"requeued": 0, "failed": 0, "executed": 0}
    for run in list(stale_runs(kind, now)):
        outcome = take_back(kind, run, now)
        if outcome:
            summary[outcome] += 1
    # Runs taken back just now are among these: the sweep (itself a worker's job) runs them.
    waiting = kind.model.objects.filter(status=RunStatus.QUEUED, created_at__lte=now - kind.resend_after)
    for run_id in waiting.order_by("created_at", "pk").values_list("pk", flat=True):
        try:
            if execute(kind, run_id) is not None:
                summary["executed"] += 1
        except Exception:  # recorded on the run by execute(); the sweep goes on with the next
            summary["executed"] += 1
    return summary
