"""The PDF pipeline of the milestone reports: freeze → render HTML → WeasyPrint → store.

``freeze`` builds the snapshot (``reports.documents.data``) and its checksum; ``render_html``
turns a snapshot, and nothing else, into the report's HTML from the layouts in
``templates/reports/pdf/``; ``html_to_pdf`` runs WeasyPrint; ``run_pipeline`` does all of it for
one claimed ``ReportRun``, recording each step's progress on the row. Re-rendering a stored
snapshot gives the same text, because rendering reads only the snapshot.

Charts are server-side SVG from ``reports.dashboard.charts``. Fonts are named explicitly (Noto Serif /
Sans CJK SC) in the CSS, the charts and the page margins; WeasyPrint subsets and embeds them.
Before rendering, ``cjk_fonts_installed`` asks fontconfig whether a Noto CJK SC font is there:
without one WeasyPrint would quietly draw empty boxes, so the run fails with a clear message.
"""

import datetime
import logging
import re
import subprocess
from collections import Counter
from decimal import Decimal

from django.core.files.base import ContentFile
from django.http import FileResponse, Http404
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.numbers import percent_text, rounded
from reports.choices import ProgressStatus, ReportKind
from reports.dashboard import charts, selectors
from reports.documents import data as report_data
from targets.choices import Combine
from targets.presenters import amount_text, as_target, standing_texts, status_label
from tasks.choices import InitiativeKind, MeasureStatus

logger = logging.getLogger(__name__)
# WeasyPrint logs every layout step at INFO; a worker's log needs only its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

HUNDRED = Decimal(100)
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC")
TEMPLATE = "reports/pdf/report.html"


def missing_fonts_message():
    return _("缺少中文字体，请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）")


class ReportError(Exception):
    """A report that cannot be produced, with a message for the office."""


# ---------------------------------------------------------------- pipeline steps


def cjk_fonts_installed() -> bool:
    """Whether fontconfig knows a Noto CJK SC font (``fc-list :lang=zh family``)."""
    try:
        result = subprocess.run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    families = {name.strip() for line in result.stdout.splitlines() for name in line.split(",")}
    return any(family in families for family in CJK_FAMILIES)


def freeze(run):
    """(snapshot, checksum) of the run's data as of its cut-off."""
    as_of = report_data.as_of_period(run.plan, run.cutoff, run.period)
    if as_of is not None and not report_data.rolled_up(as_of):
        raise ReportError(
            _("%(period)s的数据尚未汇总，请先在“汇总任务”页面发起汇总，再生成报告。")
            % {"period": as_of.label}
        )
    with translation.override("zh-hans"):  # the report's language, whoever asked for it
        snapshot = report_data.build_snapshot(
            plan=run.plan,
            kind=run.kind,
            cutoff=run.cutoff,
            period=run.period,
            next_steps=run.next_steps,
            knowledge_date=run.knowledge_date,
            previous=previous_version(run),
            office={
                "overall": run.overall,
                "problems": run.problems,
                "addressee": run.addressee,
                "document_number": run.document_number,
                "final": run.final,
                "highlights": run.highlights or [],
                "issued_on": timezone.localtime(run.created_at).date().isoformat()
                if run.created_at
                else None,
            },
        )
    return snapshot, report_data.checksum(snapshot)


def previous_version(run):
    """The last finished report of the same kind, cut-off (and period) before ``run``."""
    from reports.models import ReportRun

    return (
        ReportRun.objects.filter(
            plan=run.plan, kind=run.kind, cutoff=run.cutoff, period=run.period, status="succeeded"
        )
        .exclude(pk=run.pk)
        .filter(created_at__lte=run.created_at)
        .order_by("-created_at", "-pk")
        .first()
    )


def render_html(snapshot: dict) -> str:
    """The report's HTML from a stored snapshot alone (always in Chinese, the report's language)."""
    with translation.override("zh-hans"):
        return keep_numbers_with_units(render_to_string(TEMPLATE, report_context(snapshot)), snapshot)


# Units a number is never split from (the targets' own units are added per report): 50万人次,
# 2.2元/人, 72.2%, 3家电视台, 2025年.
UNITS = (
    "元/人",
    "万元",
    "万人",
    "人次",
    "元",
    "%",
    "个",
    "项",
    "份",
    "条",
    "名",
    "家",
    "人",
    "年",
    "月",
    "日",
)
_MARKUP = re.compile(r"(<style.*?</style>|<svg.*?</svg>|<[^>]*>)", re.S)


def _number_pattern(snapshot):
    units = set(UNITS) | {t["unit"] for t in snapshot.get("targets", []) if t.get("unit")}
    # the targets' units written as words: 个县（市、区） keeps only 个县 with its number
    units = {re.split(r"[（(]", u)[0] for u in units if u}
    alternatives = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    return re.compile(rf"(?<![0-9A-Za-z.])\d[\d,]*(?:\.\d+)?\s?(?:万|亿)?(?:{alternatives})")


def keep_numbers_with_units(html, snapshot):
    """Wrap each number and its unit in the body's text in a no-break span (``.nb``): a line may
    break before 50万人次 or after it, never inside it (styles, charts and tags untouched)."""
    head, found, body = html.partition("<body")
    if not found:
        return html
    pattern = _number_pattern(snapshot)
    parts = _MARKUP.split(body)
    for index in range(0, len(parts), 2):  # even parts are text between tags
        parts[index] = pattern.sub(lambda m: f'<span class="nb">{m.group(0)}</span>', parts[index])
    return head + found + "".join(parts)


def html_to_pdf(html: str) -> tuple[bytes, int]:
    """(PDF bytes, page count) from the report's HTML."""
    from weasyprint import HTML

    document = HTML(string=html).render()
    return document.write_pdf(), len(document.pages)


def render_pdf(snapshot: dict) -> tuple[bytes, int]:
    """Render a stored snapshot to PDF (fonts checked first)."""
    if not cjk_fonts_installed():
        raise ReportError(missing_fonts_message())
    return html_to_pdf(render_html(snapshot))


def file_name(run) -> str:
    return f"{run.kind}-{run.cutoff.isoformat()}-{run.pk}.pdf"


def download_name(run) -> str:
    """The name the browser saves the file as, e.g. 中期评估报告（截至2023-12-31）.pdf."""
    label = run.get_kind_display()
    if run.kind == ReportKind.QUARTERLY and run.period_id:
        label = f"{label}（{run.period.label}）"
    return _("%(label)s（截至%(cutoff)s）.pdf") % {"label": label, "cutoff": run.cutoff.isoformat()}


def file_response(run):
    """The run's PDF as a download, for the page and the API (404 while there is no file)."""
    if not run.file:
        raise Http404(_("该报告尚未生成文件。"))
    try:
        handle = run.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("报告文件不存在。")) from exc
    return FileResponse(
        handle, as_attachment=True, filename=download_name(run), content_type="application/pdf"
    )


def run_pipeline(run):
    """Freeze, render, write and store the PDF of a claimed (running) run; raise on failure."""
    from reports.models import ReportRun

    def step(progress, note, **fields):
        ReportRun.objects.filter(pk=run.pk).update(progress=progress, progress_note=note, **fields)

    step(10, _("冻结数据"))
    snapshot, digest = freeze(run)
    step(40, _("渲染页面"), snapshot=snapshot, checksum=digest)
    if not cjk_fonts_installed():
        raise ReportError(missing_fonts_message())
    html = render_html(snapshot)
    step(70, _("生成PDF"))
    pdf, pages = html_to_pdf(html)
    step(100, _("保存文件"))
    run.file.save(file_name(run), ContentFile(pdf), save=False)
    return {"file": run.file.name, "pages": pages, "size": len(pdf)}


# ---------------------------------------------------------------- what the layouts show


def status_classes(final=False):
    """[(status, label)] of the glossary's one vocabulary, in order: the report merges none of them
    (``final`` is kept for the callers; the final evaluation uses the same words)."""
    return [(s.value, str(s.label)) for s in ProgressStatus]


def status_class(status, final=False):
    """A roll-up status as the report's class: the status itself."""
    return status or ProgressStatus.NO_DATA.value


CLASS_COLORS = dict(charts.STATUS_COLORS)


def _d(value):
    return None if value is None else Decimal(value)


def percent(share, places=1):
    return percent_text(share, places)


def rate(part, whole, places=1):
    return "—" if not whole else f"{charts.fmt(Decimal(part) * HUNDRED / Decimal(whole), places)}%"


def date_text(iso):
    day = datetime.date.fromisoformat(iso)
    return _("%(y)s年%(m)s月%(d)s日") % {"y": day.year, "m": day.month, "d": day.day}


def target_texts(t):
    """The target's numbers as the tables show them (``targets.presenters``, as on the pages)."""
    target = as_target(t)
    texts = standing_texts(target, t)
    if t["baseline"] is not None and t.get("baseline_year"):
        texts["baseline"] = f"{texts['baseline']}（{t['baseline_year']}年）"
    return texts


def _target_rows(snapshot, final):
    labels = dict(status_classes(final))
    combine_labels = dict(Combine.choices)
    initiatives = {i["code"]: i for i in snapshot["initiatives"]}
    rows = []
    for t in snapshot["targets"]:
        cls = status_class(t["status"], final)
        initiative = initiatives.get(t["initiative"])
        rows.append(
            {
                **t,
                "texts": target_texts(t),
                "cls": cls,
                "cls_label": labels[cls],
                "lagging": (
                    t["status"] not in ("achieved", "no_data", "no_baseline")
                    if final
                    else t["status"] in ("behind", "far_behind")
                ),
                "combine_label": combine_labels.get(t["combine"], ""),
                "initiative_title": initiative["title"] if initiative else _("主要目标与保障措施"),
            }
        )
    return rows


def _class_summary(rows, final):
    counts = Counter(r["cls"] for r in rows)
    return [
        {"cls": cls, "label": label, "n": counts.get(cls, 0), "color": CLASS_COLORS[cls]}
        for cls, label in status_classes(final)
    ]


def _trend_charts(snapshot, rows):
    """A small line chart per target with data: actual, expected (序时进度) and the target value."""
    labels = [p["short"] for p in snapshot["periods"]]
    result = []
    for r in rows:
        series = r["series"]
        if (
            not series
            or r["per_region"]
            or r["combine"] == "milestone"  # done or not: a mark in the milestone table
            or not any(v is not None for v in series["a"])
        ):
            continue
        milestone = False
        result.append(
            charts.line_chart(
                series["a"],
                series["e"] if not milestone else None,
                r["value"] if not milestone else None,
                labels,
                r["unit"],
                _("%(code)s %(name)s") % {"code": r["code"], "name": r["name"]},
                _("截至%(cutoff)s，实际完成值 %(actual)s，序时进度目标值 %(expected)s，目标值 %(target)s。")
                % {
                    "cutoff": snapshot["cutoff"],
                    "actual": r["texts"]["actual"],
                    "expected": r["texts"]["expected"],
                    "target": r["bound_text"],
                },
                baseline=r["baseline"] if not milestone else None,
                width=420,
                height=205,
                css_class="chart trend",
            )
        )
        result[-1] = {"code": r["code"], "name": r["name"], "svg": result[-1], "cls_label": r["cls_label"]}
    return result


def trend_rows(charts_, per_row=2):
    """The trend charts two by two: a row is never split across pages."""
    return [charts_[i : i + per_row] for i in range(0, len(charts_), per_row)]


def _milestones(rows, final):
    """The milestone targets (done or not, 建设…平台, 每年组织开展…) as marks, not line charts."""
    result = []
    for r in rows:
        if r["combine"] != "milestone":
            continue
        per_year = r["time_scope"] == "per_year"
        met, judged = r.get("years_met"), r.get("years_judged")
        if per_year and judged:
            # every year judged so far met: √ (2/2 年达标 before the plan's end); a missed year: ×
            done = met == judged
            mark = "√" if done else "×"
        else:
            done = r["status"] == "achieved"
            mark = "√" if done else "×" if (final or r["status"] == "far_behind") else "…"
        result.append(
            {
                **r,
                "done": done,
                "mark": mark,
                "done_text": (r["texts"]["years"] if per_year and r["texts"]["years"] != "—" else None)
                or (_("已完成") if done else _("未完成") if final else _("尚未完成")),
            }
        )
    return result


def _annex_measurement(rows):
    """附件: how each target is measured and where its figures come from: the plan's phrase, the
    rule (``reports.rollup.evaluation``, as on /evaluation-rules/), the baseline with its source, the
    data source and the owning unit."""
    from reports.rollup.evaluation import _rule_sentence

    result = []
    for r in rows:
        baseline = r["texts"]["baseline"]
        if r["baseline"] is not None and r.get("baseline_source"):
            baseline = f"{baseline}，{r['baseline_source']}"
        elif not r.get("needs_baseline"):
            baseline = _("不需要")
        if r.get("baseline_demo") and "演示" not in baseline:  # the plan's data word, not interface text
            baseline += _("【演示数据】")
        result.append(
            {
                "code": r["code"],
                "name": r["name"],
                "phrase": r.get("phrase") or r["bound_text"],
                "rule": _rule_sentence(as_target(r)),
                "baseline": baseline,
                "source": r["source"],
                "owner": r["owner"],
            }
        )
    return result


def _member_assignments(snapshot):
    """附件: each member unit of the office and the initiatives it leads or takes part in."""
    tasks = {u["name"]: u for u in snapshot.get("unit_tasks") or []}
    rows = []
    for u in snapshot["compliance"]:
        if not u["member"]:
            continue
        task = tasks.get(u["name"]) or {}
        rows.append(
            {
                "name": u["name"],
                "leads": task.get("leads") or [],
                "responsibles": task.get("responsibles") or [],
            }
        )
    return rows


def _completion_chart(rows):
    data = [
        # The chart rounds the completion rate as the tables do (``completion_text``: whole %).
        (f"{r['code']} {r['name']}", rounded(_d(r["completion"]) * HUNDRED, 0))
        for r in rows
        if r["completion"] is not None and not r["per_region"] and r["combine"] != "milestone"
    ]
    return charts.hbar_chart(
        data,
        "%",
        _("各目标指标完成率（实际完成值 ÷ 目标值）"),
        reference=Decimal(100),
        reference_label=_("目标值 100%"),
        width=640,
        css_class="chart completion",
    )


# ---------------------------------------------------------------- compliance and overview


def _heat_legend():
    """[(css kind, one-character mark, label)] of the compliance matrix, in legend order
    (``selectors.HEAT_LEGEND``)."""
    return [(k.kind, str(k.mark), str(k.label)) for k in selectors.HEAT_LEGEND]


# The snapshot's one-letter codes back to the status and timeliness they stand for.
_STATUS_OF_CODE = {code: status for status, code in report_data.STATUS_CODES.items()}
_TIMELINESS_OF_CODE = {code: value for value, code in report_data.TIMELINESS_CODES.items()}


def _heat_kind(status, timely):
    """The compliance cell of a submission status and timeliness code (see report_data):
    ``selectors.heat_kind`` of what the codes stand for ("-", no roll-up row, is pending)."""
    return selectors.heat_kind(_STATUS_OF_CODE.get(status), _TIMELINESS_OF_CODE.get(timely))


def _compliance(snapshot):
    periods = snapshot["periods"]
    legend = _heat_legend()
    cell = {kind: (kind, mark, label) for kind, mark, label in legend}
    units = []
    per_period = [Counter() for _p in periods]
    for u in snapshot["compliance"]:
        timely = Counter(u["timely"])
        status = Counter(u["status"])
        due = timely["O"] + timely["L"] + timely["M"]
        for i, (s, t) in enumerate(zip(u["status"], u["timely"], strict=True)):
            per_period[i][t] += 1
            per_period[i]["approved"] += s == "A"
        units.append(
            {
                "name": u["name"],
                "local": u["local"],
                "low": bool(due) and timely["O"] * 5 < due * 4,  # on time in under 80 % of periods
                "late_now": bool(u["timely"]) and u["timely"][-1] == "L",
                "missing_now": bool(u["timely"]) and u["timely"][-1] == "M",
                "due": due,
                "on_time": timely["O"],
                "late": timely["L"],
                "missing": timely["M"],
                "approved": status["A"],
                "rate": rate(timely["O"], due),
                "cells": [cell[_heat_kind(s, t)] for s, t in zip(u["status"], u["timely"], strict=True)],
            }
        )
    period_rows = []
    for p, c in zip(periods, per_period, strict=True):
        due = c["O"] + c["L"] + c["M"]
        period_rows.append(
            {
                "label": p["label"],
                "short": p["short"],
                "due": due,
                "on_time": c["O"],
                "late": c["L"],
                "missing": c["M"],
                "approved": c["approved"],
                "rate": rate(c["O"], due),
                # rounded as the table rounds its rate (72.2% in both)
                "share": rounded(Decimal(c["O"]) * HUNDRED / Decimal(due), 1) if due else None,
            }
        )
    totals = Counter()
    for u in units:
        for key in ("due", "on_time", "late", "missing", "approved"):
            totals[key] += u[key]
    years = []
    for p in periods:
        year = p["key"] // 10
        if years and years[-1]["year"] == year:
            years[-1]["span"] += 1
        else:
            years.append({"year": year, "span": 1})
    heads = [_("基") if p["baseline"] else str(p["key"] % 10) for p in periods]
    return {
        "units": units,
        "periods": period_rows,
        "totals": dict(totals, rate=rate(totals["on_time"], totals["due"])),
        "years": years,
        "heads": heads,
        "legend": legend,
        "chart": charts.hbar_chart(
            [(r["short"], r["share"]) for r in period_rows],
            "%",
            _("各报送期按时报送率"),
            reference=Decimal(100),
            reference_label=_("全部按时 100%"),
            width=640,
            css_class="chart compliance",
        ),
    }


def _lines_text(lines_by_status):
    parts = [
        f"{s.label} {lines_by_status.get(s.value, 0)}" for s in MeasureStatus if lines_by_status.get(s.value)
    ]
    return "、".join(parts)


def _initiatives(snapshot, rows):
    by_code = {r["code"]: r for r in rows}
    result = []
    for i in snapshot["initiatives"]:
        lines = i["lines_by_status"]
        result.append(
            {
                **i,
                "target_rows": [by_code[c] for c in i["targets"] if c in by_code],
                "line_total": sum(lines.values()),
                "lines_text": _lines_text(lines),
                "bar": charts.stacked_bar(
                    [(s.label, lines.get(s.value, 0)) for s in MeasureStatus],
                    [charts.MEASURE_STATUS_COLORS[s.value] for s in MeasureStatus],
                    width=320,
                    height=12,
                    title=_("%(title)s 措施推进情况") % {"title": i["title"]},
                ),
                "is_action": i["kind"] == InitiativeKind.ACTION,
            }
        )
    return result


def _funding(snapshot):
    funding = snapshot.get("funding")
    if not funding:
        return None
    floors = {k: _d(v) for k, v in funding["floors"].items()}

    def met(value, floor):
        if value is None or floor is None:
            return None
        return _d(value) >= floor

    prefectures, counties = [], []
    for r in funding["regions"]:
        row = {
            **r,
            "per_capita_met": met(r["per_capita"], floors.get(r["level"])),
            "funding_met": met(r["funding"], floors.get(f"{r['level']}_funding")),
        }
        (prefectures if r["level"] == "prefecture" else counties).append(row)

    def count(rows, key):
        reported = [r for r in rows if r[key] is not None]
        return {"met": sum(1 for r in reported if r[key]), "reported": len(reported), "total": len(rows)}

    province_met = met(funding["province"], floors.get("province"))
    return {
        "year": funding["year"],
        "floors": {k: charts.fmt(v) for k, v in floors.items()},
        "province": funding["province"],
        "province_met": province_met,
        "prefectures": prefectures,
        "counties": counties,
        "prefecture_count": count(prefectures, "per_capita_met"),
        "county_count": count(counties, "per_capita_met"),
        "county_funding_count": count(counties, "funding_met"),
        "chart": charts.hbar_chart(
            [(r["name"], _d(r["per_capita"])) for r in prefectures],
            _("元/人"),
            _("%(year)s年各市州人均科普经费（元/人）") % {"year": funding["year"] or "—"},
            reference=floors.get("prefecture"),
            reference_label=_("目标值 %(v)s 元/人") % {"v": charts.fmt(floors.get("prefecture"))}
            if floors.get("prefecture") is not None
            else None,
            width=640,
            css_class="chart funding",
        ),
    }


def _overview(snapshot, compliance, summary, rows):
    units = snapshot["compliance"]
    local = sum(1 for u in units if u["local"])
    latest = compliance["periods"][-1] if compliance["periods"] else None
    return {
        "units": len(units),
        "provincial": len(units) - local,
        "local": local,
        "members": sum(1 for u in units if u["member"]),
        "periods": len(snapshot["periods"]),
        "first_period": snapshot["periods"][0]["label"] if snapshot["periods"] else "",
        "totals": compliance["totals"],
        "latest": latest,
        "lines": snapshot["counts"]["lines"],
        "figures": snapshot["counts"]["figures"],
        "targets": len(rows),
        "summary": summary,
        "late_names": [u["name"] for u in compliance["units"] if u["late_now"]],
        "missing_names": [u["name"] for u in compliance["units"] if u["missing_now"]],
    }


def _unit_tasks(snapshot, compliance):
    tasks = snapshot.get("unit_tasks")
    if not tasks:
        return None
    by_name = {u["name"]: u for u in compliance["units"]}
    rows = []
    for u in tasks:
        row = {**u, "compliance": by_name.get(u["name"])}
        lines = u.get("lines") or {}
        row["line_total"] = sum(lines.values())
        row["lines_done"] = lines.get(MeasureStatus.DONE, 0) + lines.get(MeasureStatus.ONGOING, 0)
        row["lines_text"] = _lines_text(lines)
        rows.append(row)
    return {
        "assigned": [r for r in rows if r["leads"] or r["responsibles"]],
        "unassigned": [r["name"] for r in rows if not r["leads"] and not r["responsibles"]],
        "all": rows,
    }


# The sections of each layout, in order: (anchor, title, partial). The contents page is built
# from the same list, so headings and contents cannot drift apart.
def layout(kind):
    if kind == ReportKind.MOBILISATION:
        return [
            ("plan", _("实施方案概况"), "plan"),
            ("tasks", _("重点任务与分工"), "structure"),
            ("targets", _("目标指标及基期值"), "baselines"),
            ("units", _("各单位任务分解"), "unit_tasks"),
            ("overview", _("工作启动情况"), "overview"),
            ("next", _("下一步工作安排"), "next_steps"),
        ]
    if kind == ReportKind.QUARTERLY:
        return [
            ("overview", _("本期报送情况"), "overview"),
            ("targets", _("目标指标进展"), "targets"),
            ("tasks", _("重点任务推进情况"), "initiatives"),
            ("problems", _("存在的主要问题"), "problems"),
            ("next", _("下一步工作安排"), "next_steps"),
        ]
    # 中期评估报告 and 总结评估报告: how the evaluation was done, the overall judgement (computed
    # from the data, plus the office's paragraph), then the evidence, the problems and next steps.
    sections = [
        ("method", _("评估工作开展情况"), "method"),
        ("judgement", _("总体评价"), "judgement"),
        ("targets", _("目标指标完成情况"), "targets"),
        (
            "tasks",
            _("重点任务完成情况") if kind == ReportKind.FINAL else _("重点任务推进情况"),
            "initiatives",
        ),
        ("support", _("保障措施落实情况"), "support"),
        ("self", _("各成员单位自评情况"), "self_assessments"),
    ]
    sections.append(
        (
            "units",
            _("各成员单位任务完成情况") if kind == ReportKind.FINAL else _("各成员单位任务推进情况"),
            "unit_summary",
        )
    )
    return [*sections, ("problems", _("存在的问题"), "problems"), ("next", _("下一步工作"), "next_steps")]


def annexes(kind):
    if kind in (ReportKind.MIDTERM, ReportKind.FINAL):
        return [
            ("annex-targets", _("目标指标完成情况一览表"), "annex_targets"),
            ("annex-measurement", _("目标指标评估口径与数据来源"), "annex_measurement"),
            ("annex-members", _("成员单位及任务分工"), "annex_members"),
            ("annex-compliance", _("各单位季度报送情况表"), "annex_compliance"),
        ]
    return []


NUMERALS = "一二三四五六七八九十"


def cover_lines(name):
    """The plan's name in two lines on the cover, broken before 实施方案 where it has one."""
    head, found, tail = name.partition("实施方案")  # the plan's own word, not interface text
    return [head, found + tail] if found and head else [name]


def css_string(text):
    """A CSS string literal (for ``content:`` in the page margins)."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return f'"{escaped}"'


def page_footer_css():
    """``"第 " counter(page) " 页 共 " counter(pages) " 页"`` from one translatable sentence."""
    return (
        css_string(_("第 %(page)s 页 共 %(pages)s 页"))
        .replace("%(page)s", '" counter(page) "')
        .replace("%(pages)s", '" counter(pages) "')
    )


def _changes(snapshot):
    """The list of what changed since the previous version, in the report's words."""
    changes = snapshot.get("changes")
    if not changes:
        return None
    targets = {t["code"]: t for t in snapshot["targets"]}
    rows = []
    for c in changes["targets"]:
        target = as_target(targets[c["code"]])
        rows.append(
            {
                "code": c["code"],
                "name": c["name"],
                "before": amount_text(target, c["before"]),
                "after": amount_text(target, c["after"]),
                "status_before": status_label(c["status_before"]),
                "status_after": status_label(c["status_after"]),
            }
        )
    return {
        "previous_text": date_text(changes["previous"]["knowledge_date"]),
        "rows": rows,
        "reasons": changes["reasons"],
    }


def _is_draft(snapshot):
    """A mid-term or final evaluation report that the office has not finalised (征求意见稿)."""
    office = snapshot.get("office") or {}
    return snapshot["kind"] in (ReportKind.MIDTERM, ReportKind.FINAL) and not office.get("final")


def evaluation_title(snapshot):
    """关于《…》中期评估情况的报告, as the office issues an evaluation (other reports: their title)."""
    kind = snapshot["kind"]
    if kind not in (ReportKind.MIDTERM, ReportKind.FINAL):
        return snapshot["title"]
    what = _("中期评估") if kind == ReportKind.MIDTERM else _("总结评估")
    return _("关于《%(plan)s》%(what)s情况的报告") % {"plan": snapshot["plan"]["name"], "what": what}


def overall_verdict(on_pace_share, thresholds):
    """The overall judgement of the targets, by the office's own thresholds: the share of judged
    targets achieved or at least on track against 正常 (0.95) and 滞后 (0.80)."""
    if on_pace_share is None:
        return _("目标指标尚无可判定的数据，暂不作总体判断")
    if on_pace_share >= Decimal(thresholds["on_track"]):
        return _("目标指标总体进展符合预期")
    if on_pace_share >= Decimal(thresholds["behind"]):
        return _("目标指标总体进展基本符合预期，部分指标滞后")
    return _("目标指标总体进展滞后于预期，多数指标未达到序时进度")


def _judgement(snapshot, rows, summary, compliance):
    """总体评价 computed from the frozen data: targets by status, the measures' progress and the
    units' reporting, each with its share."""
    counts = {c["cls"]: c["n"] for c in summary}
    judged = sum(n for cls, n in counts.items() if cls not in ("no_data", "no_baseline"))
    on_pace = sum(counts.get(cls, 0) for cls in ("achieved", "ahead", "on_track"))
    share = (Decimal(on_pace) / Decimal(judged)) if judged else None
    lines = Counter()
    for i in snapshot["initiatives"]:
        for status, n in (i.get("lines_by_status") or {}).items():
            lines[status] += n
    line_total = sum(lines.values())
    measure_parts = [
        _("%(label)s %(share)s") % {"label": m.label, "share": rate(lines.get(m.value, 0), line_total, 0)}
        for m in MeasureStatus
    ]
    totals = compliance["totals"]
    assessed = (snapshot.get("self_assessments") or {}).get("units", [])
    judged_measures = Counter()
    for unit in assessed:
        judged_measures.update(unit["counts"])
    return {
        "self_units": len(assessed),
        "self_members": (snapshot.get("self_assessments") or {}).get("members", 0),
        "self_done": judged_measures.get("done", 0),
        "self_mostly": judged_measures.get("mostly", 0),
        "self_not_done": judged_measures.get("not_done", 0),
        "targets": len(rows),
        "judged": judged,
        "on_pace": on_pace,
        "on_pace_share": percent(share, 0) if share is not None else "—",
        "verdict": overall_verdict(share, snapshot["thresholds"]),
        "by_status": [(c["label"], c["n"], rate(c["n"], len(rows), 0)) for c in summary if c["n"]],
        "line_total": line_total,
        "measures": "，".join(measure_parts) if line_total else "",
        "on_time_rate": totals.get("rate", "—"),
        "due": totals.get("due", 0),
        "approved": totals.get("approved", 0),
    }


def _lagging_by_owner(lagging):
    """[(owning unit, [rows])] of the lagging targets, for 下一步工作."""
    by_owner = {}
    for row in lagging:
        by_owner.setdefault(row["owner"], []).append(row)
    return list(by_owner.items())


def report_context(snapshot: dict) -> dict:
    """Everything the layouts need, computed from the snapshot alone."""
    kind = snapshot["kind"]
    final = kind == ReportKind.FINAL
    rows = _target_rows(snapshot, final)
    summary = _class_summary(rows, final)
    compliance = _compliance(snapshot)
    sections = [
        {"id": anchor, "number": NUMERALS[i], "title": title, "template": f"reports/pdf/_{partial}.html"}
        for i, (anchor, title, partial) in enumerate(layout(kind))
    ]
    annex_list = [
        {"id": anchor, "number": i + 1, "title": title, "template": f"reports/pdf/_{partial}.html"}
        for i, (anchor, title, partial) in enumerate(annexes(kind))
    ]
    initiatives = _initiatives(snapshot, rows)
    as_of = snapshot["as_of"]
    trends = _trend_charts(snapshot, rows) if kind in (ReportKind.MIDTERM, ReportKind.FINAL) else []
    return {
        "s": snapshot,
        "kind": kind,
        "final": final,
        "quarterly": kind == ReportKind.QUARTERLY,
        "mobilisation": kind == ReportKind.MOBILISATION,
        "title": snapshot["title"],
        "short_title": snapshot["kind_label"],
        "cutoff_text": date_text(snapshot["cutoff"]),
        "knowledge_text": date_text(snapshot["knowledge_date"]) if snapshot.get("knowledge_date") else "",
        "changes": _changes(snapshot),
        "as_of": as_of,
        "sections": sections,
        "annexes": annex_list,
        "rows": rows,
        "lagging": [r for r in rows if r["lagging"]],
        "summary": summary,
        "status_chart": charts.stacked_bar(
            [(c["label"], c["n"]) for c in summary],
            [c["color"] for c in summary],
            width=640,
            height=18,
            title=_("目标指标完成情况分类统计"),
            css_class="chart summary",
        ),
        "cover_lines": cover_lines(snapshot["plan"]["name"]),
        "completion_chart": _completion_chart(rows),
        "trend_charts": trends,
        "trend_rows": trend_rows(trends),
        "milestones": _milestones(rows, final),
        "annex_measurement": _annex_measurement(rows),
        "member_assignments": _member_assignments(snapshot),
        "figure_css": css_string(_("图")),
        "table_css": css_string(_("表")),
        "compliance": compliance,
        "overview": _overview(snapshot, compliance, summary, rows),
        "actions": [i for i in initiatives if i["is_action"]],
        "projects": [i for i in initiatives if not i["is_action"]],
        "initiatives": initiatives,
        "problem_initiatives": [i for i in initiatives if i["problems"]],
        "funding": _funding(snapshot),
        "unit_tasks": _unit_tasks(snapshot, compliance),
        "thresholds": {k: percent(v, 0) for k, v in snapshot["thresholds"].items()},
        "class_colors": CLASS_COLORS,
        "measure_legend": [(m.label, charts.MEASURE_STATUS_COLORS[m.value]) for m in MeasureStatus],
        "plan_issued": date_text(snapshot["plan"]["issued_on"]),
        "header_css": css_string(
            snapshot["kind_label"] + (_("（征求意见稿）") if _is_draft(snapshot) else "")
        ),
        "evaluation": kind in (ReportKind.MIDTERM, ReportKind.FINAL),
        "draft": _is_draft(snapshot),
        "office": snapshot.get("office") or {},
        "issued_text": date_text(snapshot["office"]["issued_on"]) if snapshot.get("office") else "",
        "report_title": evaluation_title(snapshot),
        "judgement": _judgement(snapshot, rows, summary, compliance),
        "next_by_owner": _lagging_by_owner([r for r in rows if r["lagging"]]),
        "header_right_css": css_string(_("数据截止日期：%(date)s") % {"date": date_text(snapshot["cutoff"])}),
        "footer_css": page_footer_css(),
        "now_year": as_of["key"] // 10 if as_of else None,
    }
