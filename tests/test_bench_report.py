"""The goals `make bench` writes into docs/benchmarks.md for issues #13 and #14, judged from a
run's figures (benchmarks/report.py; no database, no server)."""

from benchmarks import report
from benchmarks.infra import MB


def endpoint(rps, p95=50.0):
    return {
        "path": "/x/",
        "rps": rps,
        "p50_ms": p95 / 2,
        "p95_ms": p95,
        "p99_ms": p95,
        "requests": int(rps * 10),
        "seconds": 10,
        "errors": 0,
        "bytes_per_response": 1024,
        "rss_peak_total": 200 * MB,
        "rss_peak_processes": {},
        "load_before": 1.0,
        "cpu_percent": 90,
        "alone_ms": 5.0,
        "cold_ms": 6.0,
    }


def web_results(pages):
    return {"scales": {"1": {}, "30": {"http": {"endpoints": pages}}}}


def goal(rows, start):
    found = [row for row in rows if row[1].startswith(start)]
    assert len(found) == 1, (start, rows)
    return found[0]


def test_journey_pages_are_judged_against_ten_times_the_peer_at_the_largest_scale():
    rows = report.goals(
        web_results(
            {
                "trivial": endpoint(600),
                "targets API": endpoint(150, p95=90),
                "inbox": endpoint(200, p95=40),
                "quarterly form": endpoint(69.9, p95=80),
                "review queue": endpoint(187, p95=60),
                "period overview": endpoint(300, p95=151),
            }
        )
    )
    assert goal(rows, "inbox ≥ 188 req/s")[3] is True
    assert goal(rows, "review queue ≥ 188 req/s")[3] is False
    assert goal(rows, "quarterly form ≥ 70 req/s")[3] is False
    assert goal(rows, "targets API ≥ 70 req/s")[3] is True
    assert goal(rows, "period overview p95 ≤ 150 ms at 30×")[3] is False
    assert goal(rows, "inbox p95 ≤ 150 ms at 30×")[3] is True
    # 150 / 600 = 0.25: below a third of the trivial view
    api = goal(rows, "targets API throughput ≥ ⅓ of the trivial view at 30×")
    assert api[3] is False and "0.25" in api[2]


def test_a_page_that_answered_an_error_is_shown_as_not_measured():
    rows = report.goals(
        web_results({"trivial": endpoint(600), "inbox": {"path": "/inbox/", "skipped": "HTTP 403: 禁止访问"}})
    )
    inbox = goal(rows, "inbox at 30×")
    assert inbox[3] is None and "HTTP 403" in inbox[2]


def report_run(kind, seconds, *, size=MB, peak=400 * MB, after=90 * MB, run=1):
    return {
        "kind": kind,
        "run": run,
        "status": "succeeded",
        "attempt": 1,
        "seconds": seconds,
        "cpu_seconds": seconds * 0.9,
        "queued_seconds": 0.1,
        "wall_seconds": seconds + 0.5,
        "pages": 20,
        "bytes": size,
        "peak_child": peak,
        "peak_tree": peak,
        "after_child": after,
        "child_replaced": False,
    }


def test_each_report_kind_is_judged_on_time_size_word_file_and_worker_memory():
    pdf = {
        "resting_child": 90 * MB,
        "runs": [
            report_run("midterm", 5.5, run=1),
            report_run("quarterly", 3.0, run=2),
            report_run("mobilisation", 2.0, run=3, size=6 * MB),
            report_run("final", 10.5, run=4, peak=650 * MB, after=150 * MB),
        ],
        "docx": {
            "runs": {
                "1": {"kind": "midterm", "seconds": [1.2, 0.4], "bytes": 40000, "statuses": [200, 200]},
                "4": {"kind": "final", "seconds": [3.5, 0.4], "bytes": 40000, "statuses": [200, 200]},
            }
        },
    }
    rows = report.report_goals(pdf)
    assert goal(rows, "2023 中期评估 ≤ 10 s")[3] is True
    assert goal(rows, "2025 总结评估 ≤ 10 s")[3] is False
    assert "above the 6 s goal" in goal(rows, "2025 总结评估 ≤ 10 s")[2]
    assert "above the 6 s goal" not in goal(rows, "2023 中期评估 ≤ 10 s")[2]
    assert goal(rows, "2021 动员部署 ≤ 5 MB")[3] is False
    assert goal(rows, "quarterly brief (季度简报) ≤ 5 MB")[3] is True
    assert goal(rows, "2023 中期评估: Word file ≤ 3 s")[3] is True
    assert goal(rows, "2025 总结评估: Word file ≤ 3 s")[3] is False  # the first, cold download counts
    assert goal(rows, "worker peak while rendering ≤ 600 MB")[3] is False
    assert goal(rows, "worker returns to its resting size")[3] is False  # 150 MB, not replaced


def test_a_failed_report_run_is_a_failed_goal_with_its_error():
    pdf = {
        "resting_child": 90 * MB,
        "runs": [
            report_run("midterm", 5.0),
            {"kind": "final", "status": "failed", "error": "ReportError: 数据尚未汇总"},
        ],
    }
    failed = goal(report.report_goals(pdf), "2025 总结评估 renders")
    assert failed[3] is False and "数据尚未汇总" in failed[2]
