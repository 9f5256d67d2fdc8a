"""Benchmark steps that run inside Django, each in a fresh process started by run.py.

    python benchmarks/django_jobs.py JOB [ARGS]

Every job prints one line ``RESULT {json}`` last. Memory figures are this process's own:
``rss_start`` after Django has loaded (the floor every Django process pays) and ``peak_rss`` from
``getrusage(RUSAGE_SELF).ru_maxrss`` at the end (the high-water mark of the whole job).
"""

import cProfile
import datetime
import io
import json
import os
import pstats
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

MB = 1024 * 1024


def rss_now() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def emit(result: dict) -> None:
    print("RESULT " + json.dumps(result, default=str), flush=True)


def timed(fn, repeat):
    """[seconds] of ``repeat`` calls of ``fn`` and its last return value."""
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return times, value


def office_user():
    from django.contrib.auth import get_user_model

    from units.choices import Role

    return (
        get_user_model().objects.filter(is_active=True, membership__role=Role.OFFICE).order_by("pk").first()
    )


# ----------------------------------------------------------------------------- data facts


def job_facts():
    """How much data the database holds (what "1×" and "30×" mean in rows)."""
    from reports.models import RegionSnapshot, TargetSnapshot, UnitPeriodSnapshot
    from targets.models import RegionFigure, TargetFigure
    from tasks.choices import PeriodState, SubmissionStatus
    from tasks.models import MeasureLine, Period, Submission
    from tasks.selectors import current_plan
    from units.choices import RegionLevel
    from units.models import Unit

    plan = current_plan()
    open_period = (
        Period.objects.filter(plan=plan, state=PeriodState.OPEN).order_by("-year", "-quarter").first()
    )
    emit(
        {
            "units": Unit.objects.filter(is_active=True).count(),
            "county_units": Unit.objects.filter(is_active=True, region__level=RegionLevel.COUNTY).count(),
            "periods": Period.objects.filter(plan=plan).count(),
            "submissions": Submission.objects.count(),
            "approved": Submission.objects.filter(status=SubmissionStatus.APPROVED).count(),
            "lines": MeasureLine.objects.count(),
            "figures": TargetFigure.objects.count(),
            "approved_figures": TargetFigure.objects.filter(
                submission__status=SubmissionStatus.APPROVED
            ).count(),
            "region_figures": RegionFigure.objects.count(),
            "target_snapshots": TargetSnapshot.objects.count(),
            "unit_snapshots": UnitPeriodSnapshot.objects.count(),
            "region_snapshots": RegionSnapshot.objects.count(),
            "open_period": open_period.pk if open_period else None,
            "open_period_label": str(open_period) if open_period else None,
        }
    )


# ----------------------------------------------------------------------------- roll-ups


SNAPSHOT_TABLES = (
    "reports_unitperiodsnapshot",
    "reports_regionsnapshot",
    "reports_targetsnapshot",
    "reports_contributionsnapshot",
    "reports_initiativesnapshot",
)


def job_rollup_full(repeat="3", profile_path=""):
    """The full roll-up (every period), once to warm the process, then ``repeat`` times over the
    stored snapshots (as the nightly run: it recomputes everything and writes only the
    differences), then once more from empty snapshot tables (the first roll-up ever: every row
    written). With ``profile_path``, one more run under cProfile (after the peak memory was
    read)."""
    from reports.rollup.rollups import rollup
    from tasks.selectors import current_plan

    plan = current_plan()
    start_rss = rss_now()
    # One untimed run first, as each raw query gets one (job_raw_sql): a worker that has run a
    # roll-up is warm (modules imported, Django's caches filled); its first is reported apart.
    first, _written = timed(lambda: rollup(plan), 1)
    times, written = timed(lambda: rollup(plan), int(repeat))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(SNAPSHOT_TABLES))
    cold, cold_written = timed(lambda: rollup(plan), 1)
    result = {
        "first_seconds": first[0],
        "seconds": times,
        "rows_written": written,
        "cold_seconds": cold[0],
        "cold_rows_written": cold_written,
        "rss_start": start_rss,
        "peak_rss": peak_rss(),
    }
    if profile_path:
        result["profile_top"] = profile(lambda: rollup(plan), profile_path)
    emit(result)


def job_rollup_incremental(repeat="3"):
    """Approve one submitted form through the service, as the office would, then roll up from its period.

    Celery runs in process here (no broker), so the approval's own roll-up job runs right after
    the commit, through the same path as a worker (``services.execute_run``): its duration is read
    from its ``RollupRun`` row. Then ``rollup(plan, from_period=…)`` is timed ``repeat`` times.
    """
    from reports.choices import RunTrigger
    from reports.models import RollupRun
    from reports.rollup.rollups import rollup
    from tasks.choices import SubmissionStatus
    from tasks.models import Period, Submission
    from tasks.selectors import current_plan
    from tasks.services import approve_submission

    plan = current_plan()
    start_rss = rss_now()
    submission = (
        Submission.objects.filter(period__plan=plan, status=SubmissionStatus.SUBMITTED)
        .select_related("period", "unit")
        .order_by("-period__year", "-period__quarter", "pk")
        .first()
    )
    if submission is None:
        emit({"error": "no submitted form to approve"})
        return
    period = submission.period
    last_run = RollupRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.perf_counter()
    approve_submission(submission, by=office_user())
    approve_seconds = time.perf_counter() - started
    run = RollupRun.objects.filter(pk__gt=last_run, trigger=RunTrigger.APPROVAL).order_by("pk").first()
    run_seconds = None
    if run is not None and run.started_at and run.finished_at:
        run_seconds = (run.finished_at - run.started_at).total_seconds()
    covered = sum(1 for p in Period.objects.filter(plan=plan) if p.key >= period.key)
    times, written = timed(lambda: rollup(plan, from_period=period), int(repeat))
    emit(
        {
            "submission": submission.pk,
            "unit": submission.unit.code,
            "period": str(period),
            "periods_covered": covered,
            "approve_seconds": approve_seconds,
            "run_status": run.status if run else None,
            "run_seconds": run_seconds,
            "seconds": times,
            "rows_written": written,
            "rss_start": start_rss,
            "peak_rss": peak_rss(),
        }
    )


RAW_QUERIES = {
    # The approved figures the target snapshots combine, grouped by target and period.
    "approved figures by target × period": """
        SELECT tf.target_id, s.period_id, COUNT(*), SUM(tf.value), SUM(tf.covered), SUM(tf.total),
               SUM(CASE WHEN tf.done THEN 1 ELSE 0 END)
        FROM targets_targetfigure tf
        JOIN tasks_submission s ON s.id = tf.submission_id
        JOIN tasks_period p ON p.id = s.period_id
        WHERE s.status = 'approved' AND p.plan_id = %(plan)s
        GROUP BY tf.target_id, s.period_id
    """,
    # The region snapshots' window: each region's latest approved funding of the year up to a period.
    "region figures window": """
        SELECT COUNT(*), SUM(funding), SUM(population) FROM (
            SELECT rf.funding AS funding, rf.population AS population,
                   ROW_NUMBER() OVER (PARTITION BY rf.region_id, p.id ORDER BY p2.quarter DESC) AS rn
            FROM tasks_period p
            JOIN tasks_period p2 ON p2.plan_id = p.plan_id AND p2.year = p.year AND p2.quarter <= p.quarter
            JOIN tasks_submission s ON s.period_id = p2.id AND s.status = 'approved'
            JOIN targets_regionfigure rf ON rf.submission_id = s.id
            WHERE p.plan_id = %(plan)s AND rf.funding IS NOT NULL AND rf.population IS NOT NULL
        ) latest WHERE rn = 1
    """,
    # The unit snapshots: every active unit × every period, with its submission and extension.
    "unit × period cross join": """
        SELECT p.id, COALESCE(s.status, 'not_started'), COUNT(*),
               COUNT(s.first_submitted_at), COUNT(e.id)
        FROM units_unit u
        CROSS JOIN tasks_period p
        LEFT JOIN tasks_submission s ON s.unit_id = u.id AND s.period_id = p.id
        LEFT JOIN tasks_deadlineextension e ON e.unit_id = u.id AND e.period_id = p.id
        WHERE u.is_active AND p.plan_id = %(plan)s
        GROUP BY p.id, COALESCE(s.status, 'not_started')
    """,
    # The initiative snapshots: approved measure lines by initiative, period and status.
    "approved lines by initiative × period": """
        SELECT m.initiative_id, s.period_id, ml.status, COUNT(*), COUNT(DISTINCT s.unit_id)
        FROM tasks_measureline ml
        JOIN tasks_submission s ON s.id = ml.submission_id
        JOIN tasks_measure m ON m.id = ml.measure_id
        JOIN tasks_period p ON p.id = s.period_id
        WHERE s.status = 'approved' AND p.plan_id = %(plan)s
        GROUP BY m.initiative_id, s.period_id, ml.status
    """,
}


def job_raw_sql(repeat="5"):
    """The same rows as the full roll-up, aggregated by PostgreSQL alone (read only)."""
    from tasks.selectors import current_plan

    plan = current_plan()
    results = {}
    with connection.cursor() as cursor:
        for name, sql in RAW_QUERIES.items():

            def run(sql=sql):
                cursor.execute(sql, {"plan": plan.pk})
                return len(cursor.fetchall())

            run()  # warm the buffer cache like the roll-up's earlier runs did
            times, rows = timed(run, int(repeat))
            results[name] = {"seconds": times, "rows": rows}
    emit({"queries": results, "peak_rss": peak_rss()})


# ----------------------------------------------------------------------------- dashboard queries


def job_queries(profile_path="", repeat="5"):
    """SQL query count and in-process time of the dashboard and the targets API (Django test client):
    one request with the caches emptied (the dashboard caches its rendered body per roll-up), then
    ``repeat`` warm ones; plus a cProfile of one uncached dashboard request written to ``profile_path``."""
    from django.conf import settings
    from django.core.cache import caches
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    def clear_caches():
        for alias in settings.CACHES:
            caches[alias].clear()

    client = Client()
    client.force_login(office_user())
    result = {}
    for name, url in (("dashboard", "/dashboard/"), ("targets_api", "/api/v1/targets/")):
        client.get(url)  # warm: templates, the connection
        # Cold: with the caches empty, as the first request after a roll-up.
        clear_caches()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            client.get(url)
            cold_seconds = time.perf_counter() - started
        cold_queries = len(ctx.captured_queries)
        cold_sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
        counts, times, cpu = [], [], []
        for _ in range(int(repeat)):
            with CaptureQueriesContext(connection) as ctx:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(url)
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
            counts.append(len(ctx.captured_queries))
        sql_ms = sum(float(q["time"]) for q in ctx.captured_queries) * 1000
        result[name] = {
            "status": response.status_code,
            "bytes": len(response.content),
            "queries": max([*counts, cold_queries]),
            "cold_queries": cold_queries,
            "cold_seconds": cold_seconds,
            "cold_sql_ms": round(cold_sql_ms, 1),
            "query_counts": counts,
            "seconds": times,
            "cpu_seconds": cpu,
            "sql_ms_last": round(sql_ms, 1),
            "slowest_queries": sorted(
                (
                    {"ms": round(float(q["time"]) * 1000, 1), "sql": q["sql"][:160]}
                    for q in ctx.captured_queries
                ),
                key=lambda q: -q["ms"],
            )[:3],
        }
    if profile_path:
        clear_caches()  # profile the page being computed, not a cache hit
        result["profile_top"] = profile(lambda: client.get("/dashboard/"), profile_path)
    result["journeys"] = journey_queries(profile_path)
    result["peak_rss"] = peak_rss()
    emit(result)


def journey_queries(profile_path=""):
    """Query count, in-process time and a cProfile (``profile-<page>-<scale>.txt`` beside the
    dashboard's) of each page of the daily journeys, opened by its user (see ``journey_picks``)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    picks = journey_picks()
    if picks.get("error"):
        return {"error": picks["error"]}
    users = get_user_model().objects
    form = picks.get("form") or {}
    pages = [
        ("inbox", "/inbox/", picks.get("inbox_user")),
        ("quarterly form", f"/submissions/{form.get('submission')}/", form.get("reporter")),
        ("review queue", "/review/", office_user().username),
        ("period overview", f"/periods/{picks['period']}/", office_user().username),
    ]
    out = {}
    for name, url, username in pages:
        user = users.filter(username=username).first() if username else None
        if user is None:
            continue
        client = Client()
        client.force_login(user)
        client.get(url)  # warm
        counts, times, cpu = [], [], []
        for _ in range(3):
            with CaptureQueriesContext(connection) as ctx:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.get(url)
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
            counts.append(len(ctx.captured_queries))
        entry = {
            "path": url,
            "user": username,
            "status": response.status_code,
            "bytes": len(response.content),
            "queries": max(counts),
            "seconds": times,
            "cpu_seconds": cpu,
            "sql_ms_last": round(sum(float(q["time"]) for q in ctx.captured_queries) * 1000, 1),
        }
        if profile_path:
            path = Path(profile_path)
            slug = name.replace(" ", "-")
            target = path.with_name(path.name.replace("dashboard", slug))
            entry["profile_top"] = profile(lambda client=client, url=url: client.get(url), target)
            entry["profile_file"] = (
                str(target.relative_to(ROOT)) if target.is_relative_to(ROOT) else str(target)
            )
        out[name] = entry
    return out


def profile(fn, path):
    """Run ``fn`` under cProfile; write the listing to ``path`` and return a summary."""
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    Path(path).write_text(text.getvalue())
    return _profile_summary(stats)


def _profile_summary(stats):
    """The project's own functions by cumulative time, and the hottest functions overall by own time."""
    own, hot = [], []
    for (filename, line, func), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
        short = filename.replace(str(ROOT) + "/", "")
        entry = {"where": f"{short}:{line} {func}", "calls": calls, "own_s": tottime, "cum_s": cumtime}
        if (
            str(ROOT) in filename
            and "/.venv/" not in filename
            and "benchmarks/" not in filename
            and func != "__call__"  # middleware: wraps everything
        ):
            own.append(entry)
        hot.append(entry)
    own.sort(key=lambda e: -e["cum_s"])
    hot.sort(key=lambda e: -e["own_s"])
    for entry in hot:
        entry["where"] = entry["where"].split("site-packages/")[-1]
    return {"total_s": stats.total_tt, "project_by_cumulative": own[:10], "hottest_by_own_time": hot[:8]}


# ----------------------------------------------------------------------------- daily journeys


def job_journeys():
    emit(journey_picks())


def journey_picks():
    """The pages of the daily journeys (issue #14) and who opens them: the unit inbox of
    ``jyt-reporter``, the open period's editable form with the most measure lines (opened by its
    unit's reporter), the office's review queue and the open period's overview."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from tasks.choices import PeriodState
    from tasks.models import EDITABLE_STATUSES, Period, Submission
    from tasks.selectors import current_plan
    from units.models import Unit

    plan = current_plan()
    period = Period.objects.filter(plan=plan, state=PeriodState.OPEN).order_by("-year", "-quarter").first()
    if period is None:
        return {"error": "no open period"}
    users = set(get_user_model().objects.filter(is_active=True).values_list("username", flat=True))
    forms = (
        Submission.objects.filter(period=period, status__in=EDITABLE_STATUSES)
        .annotate(n_lines=Count("lines"))
        .select_related("unit")
        .order_by("-n_lines", "unit__code")
    )
    form = next((s for s in forms if f"{s.unit.code}-reporter" in users), None)
    return {
        "period": period.pk,
        "period_label": str(period),
        "inbox_user": "jyt-reporter" if "jyt-reporter" in users else None,
        "form": {
            "submission": form.pk,
            "unit": form.unit.code,
            "reporter": f"{form.unit.code}-reporter",
            "lines": form.n_lines,
            "figures": form.figures.count(),
            "status": form.status,
        }
        if form
        else None,
        "pending_review": Submission.objects.pending_review().count(),
        "overview_rows": Unit.objects.active().count(),
    }


# ----------------------------------------------------------------------------- PDF report


def job_report_request(kind="midterm", cutoff="2023-12-31"):
    """Queue a report run the way the office does (``request_report``); the worker renders it.

    ``cutoff`` "latest" (the quarterly brief): the latest closed period, cut off 15 days after
    its quarter ended (when its forms are in)."""
    from reports.documents import services as report_jobs
    from tasks.choices import PeriodState
    from tasks.models import Period
    from tasks.selectors import current_plan

    plan = current_plan()
    period = None
    if cutoff == "latest":
        period = (
            Period.objects.filter(plan=plan, state=PeriodState.CLOSED).order_by("-year", "-quarter").first()
        )
        cutoff = (period.ends_on + datetime.timedelta(days=15)).isoformat()
    implemented = True
    try:
        run, created = report_jobs.request_report(
            plan,
            kind=kind,
            cutoff=datetime.date.fromisoformat(cutoff),
            period=period,
            next_steps="（基准测试）下一步工作安排。",
            by=office_user(),
        )
    except NotImplementedError as exc:
        emit({"implemented": False, "error": str(exc)})
        return
    emit(
        {
            "implemented": implemented,
            "run": run.pk,
            "created": created,
            "kind": kind,
            "cutoff": cutoff,
            "period": str(period) if period else None,
        }
    )


def job_docx(*run_ids):
    """The Word file of each finished run as the office downloads it (``/reports/<pk>/download.docx``,
    Django test client, one fresh process): the first request (python-docx imported on first use)
    and a second one, with the size; plus ``build_docx`` alone."""
    from django.test import Client

    from reports.documents.docx import build_docx
    from reports.models import ReportRun

    client = Client()
    client.force_login(office_user())
    start_rss = rss_now()
    out = {}
    for run_id in run_ids:
        times, sizes, statuses = [], [], []
        for _ in range(2):
            started = time.perf_counter()
            response = client.get(f"/reports/{run_id}/download.docx")
            body = b"".join(response.streaming_content) if response.streaming else response.content
            times.append(time.perf_counter() - started)
            sizes.append(len(body))
            statuses.append(response.status_code)
        run = ReportRun.objects.get(pk=int(run_id))
        build, _value = timed(lambda run=run: build_docx(run.snapshot), 1)
        out[str(run_id)] = {
            "kind": run.kind,
            "seconds": times,
            "bytes": sizes[-1],
            "statuses": statuses,
            "build_seconds": build[0],
        }
    emit({"runs": out, "rss_start": start_rss, "peak_rss": peak_rss()})


def job_pdf_stages(run_id):
    """The report pipeline's stages timed one by one in a fresh process (read only): where the time goes."""
    from reports.documents import pdf
    from reports.models import ReportRun

    run = ReportRun.objects.select_related("plan", "period").get(pk=int(run_id))
    start_rss = rss_now()
    stages, cpu = {}, {}

    def step(name, fn):
        started, cpu_started = time.perf_counter(), time.process_time()
        value = fn()
        stages[name] = time.perf_counter() - started
        cpu[name] = time.process_time() - cpu_started
        return value

    snapshot, _digest = step("freeze (snapshot queries)", lambda: pdf.freeze(run))
    html = step("render HTML (templates, SVG charts)", lambda: pdf.render_html(snapshot))
    data, pages = step("WeasyPrint (layout + PDF)", lambda: pdf.html_to_pdf(html))
    emit(
        {
            "stages": stages,
            "cpu": cpu,
            "pages": pages,
            "bytes": len(data),
            "html_bytes": len(html.encode()),
            "rss_start": start_rss,
            "peak_rss": peak_rss(),
        }
    )


# ----------------------------------------------------------------------------- load test


def job_loadtest_plan(reopen="yes"):
    """Who takes part in the load test, after putting every unit's form of the open period back
    into the unit's hands (``reopen``): at the deadline every unit is still editing.

    The demo data has most forms of the open period already submitted or approved; the office
    returns the submitted ones and reopens the approved ones through the services (as it would
    on its pages), so that all 82 reporters can save. Celery runs in process here: the roll-ups
    the reopenings queue run right away.
    """
    from django.contrib.auth import get_user_model

    from reports.management.demo import is_synthetic
    from tasks.choices import PeriodState, SubmissionStatus
    from tasks.models import EDITABLE_STATUSES, Period, Submission
    from tasks.selectors import current_plan
    from tasks.services import reopen_submission, return_submission
    from units.models import Unit

    plan = current_plan()
    period = Period.objects.filter(plan=plan, state=PeriodState.OPEN).order_by("-year", "-quarter").first()
    if period is None:
        emit({"error": "no open period"})
        return
    reopened = returned = 0
    if reopen == "yes":
        office = office_user()
        for submission in Submission.objects.filter(period=period).exclude(status__in=EDITABLE_STATUSES):
            if submission.status == SubmissionStatus.APPROVED:
                reopen_submission(submission, by=office, reason="基准测试：截止日前各单位同时修改报送表。")
                reopened += 1
            elif submission.status == SubmissionStatus.SUBMITTED:
                return_submission(submission, by=office, comment="基准测试：截止日前各单位同时修改报送表。")
                returned += 1
    status = dict(Submission.objects.filter(period=period).values_list("unit_id", "status"))
    users = set(get_user_model().objects.filter(is_active=True).values_list("username", flat=True))
    units = []
    for unit in Unit.objects.filter(is_active=True).order_by("sort_order", "code"):
        if is_synthetic(unit.code):
            continue
        state = status.get(unit.pk)
        units.append(
            {
                "code": unit.code,
                "status": state or "none",
                "editable": state is None or state in EDITABLE_STATUSES,
                "reporter": f"{unit.code}-reporter" if f"{unit.code}-reporter" in users else None,
                "approver": f"{unit.code}-approver" if f"{unit.code}-approver" in users else None,
            }
        )
    emit(
        {
            "period": period.pk,
            "period_label": str(period),
            "units": units,
            "reopened": reopened,
            "returned": returned,
        }
    )


JOBS = {
    "facts": job_facts,
    "rollup-full": job_rollup_full,
    "rollup-incremental": job_rollup_incremental,
    "raw-sql": job_raw_sql,
    "queries": job_queries,
    "report-request": job_report_request,
    "pdf-stages": job_pdf_stages,
    "docx": job_docx,
    "loadtest-plan": job_loadtest_plan,
    "journeys": job_journeys,
}


if __name__ == "__main__":
    JOBS[sys.argv[1]](*sys.argv[2:])
