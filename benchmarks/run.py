"""`make bench`: one bounded run that measures the portal on PostgreSQL and writes docs/benchmarks.md.

    .venv/bin/python benchmarks/run.py                  # the whole run
    .venv/bin/python benchmarks/run.py --rewrite-doc    # the doc again from var/bench/results.json

Steps (each scale gets its own database, rebuilt from scratch every run, so runs are repeatable):

1. PostgreSQL and Redis (started as .ci/run does when they are not running), the databases
   (migrate, load_plan, seed_demo at 1× and 30×), the machine's facts.
2. At each scale: the roll-ups (full, incremental after one approval, the raw aggregate over the
   same rows, each in its own process for its peak memory); the dashboard's SQL query count and
   a cProfile of it, and of the pages of the daily journeys; gunicorn with a load generator (wrk,
   or Python threads without it) on a trivial view, the dashboard, the targets API and the pages
   of the daily journeys (issue #14: the inbox, the quarterly form with the most lines, the review
   queue, the open period's overview, each as its user), with gunicorn's peak memory.
3. At 1×: the four report kinds (issue #13: 2023 mid-term, quarterly brief, 2021 动员部署, 2025
   final, and the mid-term again warm) rendered one after the other by a real Celery worker, the
   Word file of each, each kind's stages, and a plain WeasyPrint table document of the mid-term's
   page count as the baseline; the load test of 100 unit users at the deadline with a real Celery
   worker, and the lost-update check.
4. docs/benchmarks.md (the part below the marker line) and a summary on stdout.

Settings (environment): DATABASE_URL (1×; default postgres://postgres@127.0.0.1:5432/kepu_bench,
30× uses <name>_x30), REDIS_URL (default redis://127.0.0.1:6379/13), BENCH_SCALES ("1,30"),
BENCH_SECONDS (20, per measured URL), BENCH_CONCURRENCY (4 connections), BENCH_WORKERS (2 gunicorn
workers), BENCH_LOAD_SECONDS (60), BENCH_LOAD_USERS (100), BENCH_THINK ("5,15": seconds a user
waits between two saves), BENCH_STRESS_SECONDS (30; 0 skips the stress phase that follows, with
BENCH_STRESS_THINK "1,3"), BENCH_SKIP (comma list of: rollups, queries, http, pdf, load), BENCH_NO_WRK=1,
BENCH_KEEP_SERVICES=1, BENCH_ALLOW_DROP=1 (rebuild a database whose name lacks "bench").
Everything started here is stopped at the end, also on failure or Ctrl-C.
"""

import contextlib
import datetime
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from benchmarks import http_load, infra, report
from benchmarks.infra import BIN, LOG_DIR, MB, ROOT, WORK_DIR, Child, log
from benchmarks.load_test import LoadTest

PASSWORD = "bench-pass-2025"
SEED = "2021"


def env_float(name, default):
    return float(os.environ.get(name) or default)


class Config:
    def __init__(self):
        self.database_url = os.environ.get("DATABASE_URL") or infra.DEFAULT_DATABASE_URL
        self.redis_url = os.environ.get("REDIS_URL") or infra.DEFAULT_REDIS_URL
        self.scales = [int(s) for s in (os.environ.get("BENCH_SCALES") or "1,30").split(",") if s.strip()]
        self.seconds = env_float("BENCH_SECONDS", 20)
        self.concurrency = int(env_float("BENCH_CONCURRENCY", 4))
        self.workers = int(env_float("BENCH_WORKERS", 2))
        self.load_seconds = env_float("BENCH_LOAD_SECONDS", 60)
        self.load_users = int(env_float("BENCH_LOAD_USERS", 100))
        self.think = self.pair("BENCH_THINK", "5,15")
        self.stress_seconds = env_float("BENCH_STRESS_SECONDS", 30)
        self.stress_think = self.pair("BENCH_STRESS_THINK", "1,3")
        self.skip = {s.strip() for s in (os.environ.get("BENCH_SKIP") or "").split(",") if s.strip()}

    @staticmethod
    def pair(name, default):
        values = [float(x) for x in (os.environ.get(name) or default).split(",")]
        return (values[0], values[-1])

    def database_for(self, scale):
        if scale == min(self.scales):
            return self.database_url
        return infra.with_database(self.database_url, f"{infra.database_name(self.database_url)}_x{scale}")


def loadavg():
    return round(os.getloadavg()[0], 2)


# ----------------------------------------------------------------------------- building data


def prepare_database(cfg, url, scale):
    log(f"{scale}×: rebuilding database {infra.database_name(url)}")
    infra.recreate_database(url)
    env = infra.django_env(url)  # no broker: seed_demo's roll-up runs in process
    infra.manage(["migrate", "--noinput"], env, timeout=600, log_name=f"migrate-{scale}x.log")
    infra.manage(["load_plan"], env, timeout=300, log_name=f"load_plan-{scale}x.log")
    args = ["seed_demo", "--password", PASSWORD, "--seed", SEED]
    if scale > 1:
        args += ["--scale", str(scale)]
    started = time.perf_counter()
    output = infra.manage(args, env, timeout=1200, log_name=f"seed-{scale}x.log")
    seconds = time.perf_counter() - started
    summary = next((line for line in output.splitlines() if line.startswith("演示进度数据")), "")
    # Planner statistics for the freshly loaded tables, as autovacuum would give them in production
    # (this machine's cluster runs with autovacuum off), and no autovacuum starting mid-measurement.
    started = time.perf_counter()
    infra.vacuum_analyze(url)
    return {"seed_seconds": seconds, "seed_summary": summary, "vacuum_seconds": time.perf_counter() - started}


def static_fingerprint() -> str:
    """What collectstatic's output depends on: our static files and the installed packages' versions."""
    import hashlib
    from importlib import metadata

    digest = hashlib.sha256()
    for folder in sorted(
        p for p in ROOT.glob("**/static") if not {".venv", "var", "node_modules"} & set(p.parts)
    ):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path.relative_to(ROOT)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    for dist in sorted(metadata.distributions(), key=lambda d: d.metadata["Name"] or ""):
        digest.update(f"{dist.metadata['Name']}=={dist.version}\n".encode())
    return digest.hexdigest()


def collectstatic(cfg):
    """Hashed, compressed static files for DEBUG=false (whitenoise); skipped when nothing changed
    since the last run (compressing them takes about a minute on this machine)."""
    target = WORK_DIR / "static"
    stamp = target / ".bench-fingerprint"
    fingerprint = static_fingerprint()
    if stamp.exists() and stamp.read_text() == fingerprint and (target / "staticfiles.json").exists():
        log("collectstatic: static files unchanged since the last run, kept")
        return
    log("collectstatic (DEBUG=false serves hashed, compressed files through whitenoise; about a minute)")
    env = infra.django_env(cfg.database_url)
    infra.manage(["collectstatic", "--noinput", "--clear"], env, timeout=900, log_name="collectstatic.log")
    stamp.write_text(fingerprint)


# ----------------------------------------------------------------------------- roll-ups, queries


def measure_rollups(cfg, url, scale):
    env = infra.django_env(url)
    log(f"{scale}×: full roll-up ×3 (and once more under cProfile)")
    profile = WORK_DIR / f"profile-rollup-{scale}x.txt"
    full = infra.django_job("rollup-full", ["3", str(profile)], env, timeout=900)
    full["profile_file"] = str(profile.relative_to(ROOT))
    log(f"{scale}×: raw PostgreSQL aggregate over the same rows")
    raw = infra.django_job("raw-sql", ["5"], env, timeout=600)
    log(f"{scale}×: approve one submitted form, incremental roll-up")
    incremental = infra.django_job("rollup-incremental", ["3"], env, timeout=600)
    raw_total = sum(statistics.median(q["seconds"]) for q in raw["queries"].values())
    return {
        "full": full,
        "full_median": statistics.median(full["seconds"]),
        "raw": raw,
        "raw_total": raw_total,
        "incremental": incremental,
        "incremental_median": statistics.median(incremental["seconds"])
        if incremental.get("seconds")
        else None,
    }


def measure_queries(cfg, url, scale):
    log(f"{scale}×: dashboard SQL query count and profile (Django test client)")
    env = infra.django_env(url)
    profile = WORK_DIR / f"profile-dashboard-{scale}x.txt"
    result = infra.django_job("queries", [str(profile), "5"], env, timeout=900)
    result["profile_file"] = str(profile.relative_to(ROOT))
    return result


# ----------------------------------------------------------------------------- gunicorn + load generator


def start_gunicorn(cfg, url, port, name):
    env = infra.django_env(url, broker_url=cfg.redis_url)
    cmd = [
        str(BIN / "gunicorn"),
        "portal.wsgi:application",
        "--workers",
        str(cfg.workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--worker-tmp-dir",
        "/dev/shm",
        "--access-logfile",
        str(LOG_DIR / f"{name}-access.log"),
    ]
    child = Child("gunicorn", cmd, env, f"{name}.log")
    infra.wait_http(port, "/accounts/login/", 90, child)
    return child


def start_celery(cfg, url, name):
    env = infra.django_env(url, broker_url=cfg.redis_url)
    cmd = [
        str(BIN / "celery"),
        "-A",
        "portal",
        "worker",
        "--pool",
        "prefork",  # as deployed; --max-memory-per-child works only with prefork (not --pool solo)
        "--concurrency",
        "1",
        "--max-memory-per-child",
        "250000",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "info",
        "-n",
        f"{name}@%h",
    ]
    child = Child("celery", cmd, env, f"{name}.log")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"Celery worker exited:\n{child.log_tail()}")
        if " ready." in child.log_path.read_text(errors="replace"):
            time.sleep(1.0)
            return child
        time.sleep(0.3)
    raise RuntimeError(f"Celery worker not ready after 90 s:\n{child.log_tail()}")


def wait_idle(server: Child, timeout: float = 120.0) -> None:
    """Wait until gunicorn's workers have finished the requests a load run left behind."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        procs = [p for p in infra.RssMonitor.tree(server.pid) if p.pid != server.pid]
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.cpu_percent(None)
        time.sleep(0.5)
        busy = 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                busy += proc.cpu_percent(None)
        quiet = quiet + 1 if busy < 10 else 0


JOURNEY_PAGES = ("inbox", "quarterly form", "review queue", "period overview")


def journey_targets(cfg, url, port, scale, office_session, result):
    """The pages of the daily journeys (issue #14), each opened by the user whose day it is:
    [(name, path, headers)]. What was picked goes into ``result["journeys"]``."""
    picked = infra.django_job("journeys", [], infra.django_env(url), timeout=120)
    result["journeys"] = picked
    if picked.get("error"):
        log(f"{scale}×: journeys: {picked['error']}")
        return []

    def session_of(username):
        if not username:
            return None
        client = http_load.HttpClient(port)
        ok, _s, status = http_load.login(client, username, PASSWORD)
        if not ok:
            log(f"{scale}×: {username} could not log in (HTTP {status})")
            return None
        return {"Cookie": f"sessionid={client.cookies['sessionid']}"}

    pages = []
    inbox = session_of(picked.get("inbox_user"))
    if inbox:
        pages.append(("inbox", "/inbox/", inbox))
    form = picked.get("form")
    reporter = session_of(form and form["reporter"])
    if reporter:
        pages.append(("quarterly form", f"/submissions/{form['submission']}/", reporter))
    pages.append(("review queue", "/review/", office_session))
    pages.append(("period overview", f"/periods/{picked['period']}/", office_session))
    return pages


def measure_http(cfg, url, scale, wrk):
    port = infra.free_port()
    log(f"{scale}×: gunicorn --workers {cfg.workers} on 127.0.0.1:{port}")
    gunicorn = start_gunicorn(cfg, url, port, f"gunicorn-{scale}x")
    result = {"endpoints": {}, "tool": "wrk" if wrk else "python threads"}
    try:
        office = http_load.HttpClient(port)
        ok, _s, status = http_load.login(office, "office", PASSWORD)
        if not ok:
            raise RuntimeError(f"office could not log in (HTTP {status})")
        session = {"Cookie": f"sessionid={office.cookies['sessionid']}"}
        token = http_load.obtain_token(port, "office", PASSWORD)
        api_headers = {"Authorization": f"Token {token}"} if token else session
        result["api_auth"] = "token" if token else "session cookie"
        probe = http_load.HttpClient(port).get("/healthz")
        if probe.status == 200:
            trivial = ("/healthz", {}, "/healthz (database and broker check)")
        else:
            trivial = ("/accounts/login/", {}, "GET /accounts/login/ (anonymous login page; no /healthz yet)")
        result["trivial_view"] = trivial[2]
        targets = [
            ("trivial", trivial[0], trivial[1]),
            ("dashboard", "/dashboard/", session),
            ("targets API", "/api/v1/targets/", api_headers),
        ]
        targets += journey_targets(cfg, url, port, scale, session, result)
        for name, path, headers in targets:
            check = http_load.HttpClient(port, extra_headers=headers).get(path)
            if check.status != 200:
                result["endpoints"][name] = {
                    "path": path,
                    "skipped": f"HTTP {check.status}: {check.text[:200]}",
                }
                log(f"{scale}×: {name} {path} answered {check.status}; not measured")
                continue
            run = http_load.run_wrk if wrk else http_load.run_python
            args = (wrk, port, path, headers) if wrk else (port, path, headers)
            run(*args, seconds=3, connections=cfg.concurrency)  # warm-up: every worker compiles templates
            wait_idle(gunicorn)  # requests still running after the load generator stopped
            # The first request after the page cache is emptied computes the page (as after each
            # roll-up); the best of the next three is the service time the load run mostly sees.
            cleared = infra.clear_page_cache(cfg.redis_url)
            cold = http_load.HttpClient(port, extra_headers=headers).get(path).seconds
            alone = min(http_load.HttpClient(port, extra_headers=headers).get(path).seconds for _ in range(3))
            # A slow page (the dashboard at 30×) gets more time, up to a minute, for about 20 requests.
            seconds = min(60.0, max(cfg.seconds, 20 * alone * cfg.concurrency / cfg.workers))
            load_before = loadavg()
            psutil.cpu_percent(None)
            log(f"{scale}×: {name} {path}: {seconds:.0f} s at {cfg.concurrency} connections")
            with infra.RssMonitor({"gunicorn": gunicorn.pid}) as monitor:
                stats = run(*args, seconds=seconds, connections=cfg.concurrency)
            cpu = psutil.cpu_percent(None)
            wait_idle(gunicorn)
            stats.update(
                {
                    "path": path,
                    "cpu_percent": cpu,
                    "alone_ms": alone * 1000,
                    "cold_ms": cold * 1000,
                    "page_cache_keys_cleared": cleared,
                    "load_before": load_before,
                    "rss_peak_total": monitor.peak_tree.get("gunicorn", 0),
                    "rss_peak_processes": monitor.peak_process,
                }
            )
            result["endpoints"][name] = stats
            log(
                f"{scale}×: {name}: {stats['rps']:.1f} req/s, p50 {stats['p50_ms']:.0f} ms, "
                f"p95 {stats['p95_ms']:.0f} ms, errors {stats['errors']}"
            )
    finally:
        gunicorn.stop()
    return result


# ----------------------------------------------------------------------------- PDF report


def report_row(url, run_id):
    rows = infra.query(
        url,
        "SELECT status, created_at, started_at, finished_at, file, pages, size, error FROM reports_reportrun "
        "WHERE id = %s",
        [run_id],
    )
    keys = ("status", "created_at", "started_at", "finished_at", "file", "pages", "size", "error")
    return dict(zip(keys, rows[0], strict=True)) if rows else None


def pdf_pages(path: Path):
    try:
        out = subprocess.run(
            ["pdfinfo", str(path)], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return None
    match = re.search(r"^Pages:\s+(\d+)", out, re.M)
    return int(match.group(1)) if match else None


def pdf_fonts(path: Path):
    try:
        out = subprocess.run(
            ["pdffonts", str(path)], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return []
    return sorted({line.split()[0].split("+")[-1] for line in out.splitlines()[2:] if line.strip()})


def cpu_times(pids) -> float:
    """User + system CPU seconds used so far by these processes (the Celery pool child)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


# The four report kinds (issue #13), in the order they are rendered by one worker: the mid-term
# first (cold worker) and once more at the end (warm), as the earlier runs measured it.
REPORT_RUNS = (
    ("midterm", "2023-12-31"),
    ("quarterly", "latest"),  # the latest closed quarter, cut off 15 days after it ended
    ("mobilisation", "2021-12-31"),
    ("final", "2025-12-31"),
    ("midterm", "2023-12-31"),
)


def render_report(url, env, worker, kind, cutoff, attempt):
    """Request one report, wait for the worker to finish it; the run's figures (or its error)."""
    children_before = set(infra.tree_rss(worker.pid)) - {worker.pid}
    cpu_before = cpu_times(children_before)
    with infra.RssMonitor({"celery": worker.pid}, interval=0.1) as monitor:
        asked = time.monotonic()
        request = infra.django_job("report-request", [kind, cutoff], env, timeout=120)
        if not request.get("implemented", True):
            return {"kind": kind, "error": f"generate_report is not implemented yet ({request.get('error')})"}
        if "run" not in request:
            return {"kind": kind, "error": f"request refused: {request}"}
        run_id = request["run"]
        row = None
        while time.monotonic() - asked < 600:
            row = report_row(url, run_id)
            if row and row["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.25)
        wall = time.monotonic() - asked
    cpu_used = cpu_times(children_before) - cpu_before
    time.sleep(5)  # let the worker settle, then its resting size
    after = infra.tree_rss(worker.pid)
    children_after = set(after) - {worker.pid}
    entry = {
        "kind": kind,
        "cutoff": request.get("cutoff", cutoff),
        "period": request.get("period"),
        "run": run_id,
        "wall_seconds": wall,
        "status": row and row["status"],
        "attempt": attempt,
    }
    if not row or row["status"] != "succeeded":
        entry["error"] = (row or {}).get("error") or "did not finish within 600 s"
        return entry
    path = Path(os.environ.get("MEDIA_ROOT") or WORK_DIR / "media") / row["file"]
    entry.update(
        {
            "seconds": (row["finished_at"] - row["started_at"]).total_seconds(),
            "cpu_seconds": cpu_used if cpu_used > 0 else None,
            "queued_seconds": (row["started_at"] - row["created_at"]).total_seconds(),
            "pages": pdf_pages(path) or row["pages"],
            "bytes": path.stat().st_size if path.exists() else row["size"],
            "fonts": pdf_fonts(path),
            "peak_tree": monitor.peak_tree.get("celery", 0),
            "peak_child": max((v for k, v in monitor.peak_process.items() if "child" in k), default=0),
            "after_tree": sum(after.values()),
            "after_child": max((v for k, v in after.items() if k != worker.pid), default=0),
            "child_replaced": bool(children_before) and children_before != children_after,
        }
    )
    log(
        f"1×: {kind} report run {run_id}: {entry['seconds']:.1f} s, {entry['pages']} pages, "
        f"{entry['bytes'] / MB:.2f} MB, worker child peak {entry['peak_child'] / MB:.0f} MB"
    )
    return entry


def measure_pdf(cfg, url):
    log(
        "1×: the four report kinds through a Celery worker (prefork, concurrency 1, "
        "--max-memory-per-child 250000)"
    )
    env = infra.django_env(url, broker_url=cfg.redis_url)
    worker = start_celery(cfg, url, "bench-pdf")
    runs = []
    result = {"runs": runs}
    try:
        time.sleep(2)
        resting = infra.tree_rss(worker.pid)
        result["resting_tree"] = sum(resting.values())
        result["resting_child"] = max((v for k, v in resting.items() if k != worker.pid), default=0)
        seen = {}
        for kind, cutoff in REPORT_RUNS:
            seen[kind] = seen.get(kind, 0) + 1
            entry = render_report(url, env, worker, kind, cutoff, seen[kind])
            runs.append(entry)
            if "not implemented" in entry.get("error", "") or "NotImplementedError" in entry.get("error", ""):
                result["not_measured"] = entry["error"]
                return result
    finally:
        worker.stop()
    done = [r for r in runs if r.get("status") == "succeeded"]
    if not done:
        result["not_measured"] = "the report runs failed: " + (runs[-1].get("error", "?") if runs else "?")
        return result
    log("1×: the Word files (download.docx) in one fresh process")
    last = {r["kind"]: r for r in done}  # the last finished run of each kind
    with contextlib.suppress(Exception):
        result["docx"] = infra.django_job(
            "docx", [str(r["run"]) for r in last.values()], infra.django_env(url), timeout=600
        )
    log("1×: report stages in one fresh process per kind, then the plain WeasyPrint baseline")
    result["stages_by_kind"] = {}
    for kind, r in last.items():
        with contextlib.suppress(Exception):
            result["stages_by_kind"][kind] = infra.django_job(
                "pdf-stages", [str(r["run"])], infra.django_env(url), timeout=600
            )
    if "midterm" in result["stages_by_kind"]:
        result["stages"] = result["stages_by_kind"]["midterm"]
    pages = last.get("midterm", done[-1])["pages"]
    baseline = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "pdf_baseline.py"), str(pages)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    for line in baseline.stdout.splitlines():
        if line.startswith("RESULT "):
            result["baseline"] = json.loads(line[len("RESULT ") :])
    if "baseline" not in result:
        result["baseline_error"] = baseline.stderr[-500:]
    return result


# ----------------------------------------------------------------------------- load test


def rollup_runs_since(url, since):
    rows = infra.query(
        url,
        "SELECT status, COUNT(*), AVG(EXTRACT(EPOCH FROM finished_at - started_at)), "
        "MAX(EXTRACT(EPOCH FROM finished_at - started_at)) FROM reports_rolluprun WHERE created_at >= %s "
        "GROUP BY status",
        [since],
    )
    return {
        s: {
            "count": n,
            "avg_s": float(a) if a is not None else None,
            "max_s": float(m) if m is not None else None,
        }
        for s, n, a, m in rows
    }


def measure_load(cfg, url):
    env = infra.django_env(url)
    log("1×: the office returns and reopens the open period's forms, so that every unit can edit")
    plan = infra.django_job("loadtest-plan", ["yes"], env, timeout=600)
    if plan.get("error"):
        return {"not_measured": plan["error"]}
    port = infra.free_port()
    log(f"1×: load test: gunicorn --workers {cfg.workers} on :{port} and a Celery worker (concurrency 1)")
    gunicorn = start_gunicorn(cfg, url, port, "gunicorn-load")
    celery = start_celery(cfg, url, "bench-load")
    since = infra.query(url, "SELECT now()")[0][0]
    editable = sum(1 for u in plan["units"] if u["editable"])
    test = LoadTest(
        port=port,
        period=plan["period"],
        units=plan["units"],
        password=PASSWORD,
        phases=[("deadline", cfg.load_seconds, cfg.think)]
        + ([("stress", cfg.stress_seconds, cfg.stress_think)] if cfg.stress_seconds > 0 else []),
        users=cfg.load_users,
        approvers=max(0, cfg.load_users - sum(1 for u in plan["units"] if u["reporter"])),
    )
    try:
        with infra.RssMonitor({"gunicorn": gunicorn.pid, "celery": celery.pid}) as monitor:
            load_before = loadavg()
            summary = test.run()
            log("1×: load test over; waiting for the roll-ups the approvals queued")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                pending = infra.query(
                    url, "SELECT COUNT(*) FROM reports_rolluprun WHERE status IN ('queued', 'running')"
                )[0][0]
                if not pending:
                    break
                time.sleep(1)
        summary.update(
            {
                "period_label": plan["period_label"],
                "forms_editable_at_start": editable,
                "reopened_before": plan.get("reopened", 0),
                "returned_before": plan.get("returned", 0),
                "real_units": len(plan["units"]),
                "load_before": load_before,
                "rss_peak_processes": monitor.peak_process,
                "rss_peak_tree": monitor.peak_tree,
                "rollup_runs": rollup_runs_since(url, since),
            }
        )
        log("1×: checking every saved value against the database")
        summary["check"] = test.check(url)
    finally:
        celery.stop()
        gunicorn.stop()
    return summary


# ----------------------------------------------------------------------------- main


def main() -> int:
    cfg = Config()
    results = {
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "config": {
            "scales": cfg.scales,
            "seconds": cfg.seconds,
            "concurrency": cfg.concurrency,
            "workers": cfg.workers,
            "load_seconds": cfg.load_seconds,
            "load_users": cfg.load_users,
            "think": cfg.think,
            "stress_seconds": cfg.stress_seconds,
            "stress_think": cfg.stress_think,
            "skip": sorted(cfg.skip),
        },
        "scales": {},
    }
    started_services = []
    failed = None

    def on_term(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    try:
        started_services = infra.ensure_services(cfg.database_url, cfg.redis_url)
        if cfg.redis_url == infra.DEFAULT_REDIS_URL:
            infra.flush_redis_db(cfg.redis_url)
        wrk = infra.ensure_wrk()
        results["machine"] = infra.machine_facts(cfg.database_url, cfg.redis_url)
        results["machine"]["cpu_busy_before"] = psutil.cpu_percent(interval=3)
        log(f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, load {loadavg()}")
        for scale in cfg.scales:
            url = cfg.database_for(scale)
            data = results["scales"].setdefault(str(scale), {"database": infra.database_name(url)})
            data.update(prepare_database(cfg, url, scale))
            if scale == cfg.scales[0]:
                collectstatic(cfg)
            data["facts"] = infra.django_job("facts", [], infra.django_env(url), timeout=120)
            data["load_before"] = loadavg()
            if "rollups" not in cfg.skip:
                data["rollups"] = measure_rollups(cfg, url, scale)
            if "queries" not in cfg.skip:
                data["queries"] = measure_queries(cfg, url, scale)
            if "http" not in cfg.skip:
                data["http"] = measure_http(cfg, url, scale, wrk)
            if scale == min(cfg.scales):
                if "pdf" not in cfg.skip:
                    results["pdf"] = measure_pdf(cfg, url)
                if "load" not in cfg.skip:
                    results["load"] = measure_load(cfg, url)
    except BaseException as exc:  # also Ctrl-C: the doc records how far the run got; exit status 1
        failed = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        results["failed"] = failed
        results["traceback"] = traceback.format_exc()[-3000:]
        log(f"FAILED: {failed}")
    finally:
        infra.stop_all()
        infra.stop_services(started_services, cfg.redis_url)
        results["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        results["load_end"] = [round(x, 2) for x in os.getloadavg()]
        (WORK_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str))
        with contextlib.suppress(Exception):
            path = report.write(results)
            log(f"wrote {path.relative_to(ROOT)} (raw figures: var/bench/results.json)")
        with contextlib.suppress(Exception):
            print(report.summary(results), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--rewrite-doc"]:
        # Re-render docs/benchmarks.md from the last run's var/bench/results.json (after editing report.py).
        results = json.loads((WORK_DIR / "results.json").read_text())
        print(f"wrote {report.write(results).relative_to(ROOT)}")
        sys.exit(0)
    sys.exit(main())
