"""The frozen snapshot a milestone report (or quarterly brief) is rendered from.

``build_snapshot`` reads the plan's structure, the roll-up tables (``reports.rollup.rollups``) and the
approved narratives as of the cut-off, and returns a plain JSON-serialisable dict: numbers are
strings (Decimals written without exponent), dates ISO strings, nothing depends on the moment
it was built (no timestamps, no run id). ``checksum`` hashes its canonical JSON, so the same
data always gives the same checksum and rendering the stored dict again gives the same PDF.

"As of the cut-off" means: the periods whose quarter has ended by the cut-off date (a quarterly
brief: its own period), with the figures approved in them. The roll-up tables carry the
figures; this module only selects and copies them. Keep the dict compact: no per-figure rows,
narratives already cut to excerpts, the compliance matrix one character per cell.
"""

import datetime
import hashlib
import json
from collections import Counter, defaultdict

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.numbers import plain
from reports.choices import ReportKind
from reports.models import InitiativeSnapshot, RegionSnapshot, TargetSnapshot, UnitPeriodSnapshot
from reports.rollup.knowledge import DataAsOf, end_of_day
from reports.rollup.rollups import judge_targets, thresholds_for
from targets.choices import Bound, MeasureKind
from targets.models import ExternalFigure, Target, TargetFigure
from tasks import rules
from tasks.choices import AssignmentRole, EventAction, SubmissionStatus, Timeliness
from tasks.models import MeasureLine, Milestone, Period, SubmissionEvent
from tasks.selectors import approved_self_assessments, initiatives_with_structure, round_for
from units.choices import RegionLevel, UnitKind
from units.models import Region, Unit

SNAPSHOT_VERSION = 1

# Narrative excerpts per initiative (one per unit) and how long each may be.
EXCERPTS = {ReportKind.QUARTERLY: 3}
EXCERPTS_DEFAULT = 5
EXCERPT_CHARS = 160
# Distinct problems per initiative, and how long each may be.
PROBLEMS = 5
PROBLEM_CHARS = 120
# Narratives come from the last four quarters up to the as-of period (the year being evaluated).
WINDOW_QUARTERS = 4

# One character per compliance cell (unit × period), for the submission's status and for its
# timeliness; "-" where the roll-up has no row.
STATUS_CODES = {
    SubmissionStatus.APPROVED: "A",
    SubmissionStatus.SUBMITTED: "S",
    SubmissionStatus.RETURNED: "R",
    SubmissionStatus.DRAFT: "D",
    SubmissionStatus.NOT_STARTED: "N",
}
TIMELINESS_CODES = {
    Timeliness.ON_TIME: "O",
    Timeliness.LATE: "L",
    Timeliness.MISSING: "M",
    Timeliness.PENDING: "P",
}


def dec(value):
    """A Decimal as a plain string without trailing zeros or exponent (None stays None)."""
    return plain(value)


def canonical_json(snapshot: dict) -> str:
    return json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def checksum(snapshot: dict) -> str:
    """SHA-256 of the snapshot's canonical JSON."""
    return hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest()


def clip(text, limit):
    """Collapse whitespace and cut to ``limit`` characters with an ellipsis."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_of_period(plan, cutoff, period=None):
    """The period the report stands at: the quarterly brief's own period, otherwise the latest
    period whose quarter has ended by the cut-off (``rules.as_of_period``; None before the first
    one ends)."""
    if period is not None:
        return period
    return rules.as_of_period(Period.objects.filter(plan=plan), cutoff)


def rolled_up(period) -> bool:
    """Whether the roll-up has written the period's snapshot rows (the report reads only them)."""
    return TargetSnapshot.objects.filter(period=period).exists()


def _period_entry(period):
    if period is None:
        return None
    short = str(period.axis_label)
    return {
        "key": period.key,
        "label": str(period.label),
        "short": short,
        "baseline": period.is_baseline,
        "ends_on": period.ends_on.isoformat(),
    }


def _quarter_index(period):
    return period.year * 4 + period.quarter


def narrative_window(shown, as_of, kind):
    """The periods whose approved narratives a report quotes: a brief's own quarter, otherwise the
    last ``WINDOW_QUARTERS`` quarters up to the as-of period (``shown``: the periods up to it)."""
    if as_of is None:
        return []
    if kind == ReportKind.QUARTERLY:
        return [as_of]
    return [p for p in shown if _quarter_index(as_of) - _quarter_index(p) < WINDOW_QUARTERS]


def build_snapshot(
    *,
    plan,
    kind,
    cutoff: datetime.date,
    period=None,
    next_steps="",
    knowledge_date=None,
    previous=None,
    office=None,
) -> dict:
    """Everything the report of ``kind`` shows, as of ``cutoff``, as a compact plain dict.

    ``knowledge_date``: judge the figures as approved at the end of that day (None: as they stand
    now, from the roll-up's snapshots). ``previous``: the last report of the same kind and cut-off,
    whose figures this one lists the changes against."""
    kind = ReportKind(kind)
    as_of = as_of_period(plan, cutoff, period if kind == ReportKind.QUARTERLY else None)
    periods = list(Period.objects.filter(plan=plan).order_by("year", "quarter"))
    shown = [p for p in periods if as_of is not None and p.key <= as_of.key]
    window = narrative_window(shown, as_of, kind)
    title = f"{plan.name}{kind.label}"
    snapshot = {
        "version": SNAPSHOT_VERSION,
        "kind": kind.value,
        "kind_label": str(kind.label),
        "title": title,
        "issuer": _("青海省全民科学素质纲要实施工作办公室"),
        "author": _("省纲要办"),
        "plan": {
            "name": plan.name,
            "issuer": plan.issuer,
            "issued_on": plan.issued_on.isoformat(),
            "start_year": plan.start_year,
            "end_year": plan.end_year,
        },
        "cutoff": cutoff.isoformat(),
        "knowledge_date": (knowledge_date or timezone.localdate()).isoformat(),
        "as_of": _period_entry(as_of),
        "periods": [_period_entry(p) for p in shown],
        "window": [_period_entry(p) for p in window],
        "next_steps": (next_steps or "").strip(),
        # The office's sections and how the report is issued (ReportRun's fields, see report_jobs).
        "office": {
            "overall": (office or {}).get("overall", ""),
            "problems": (office or {}).get("problems", ""),
            "addressee": (office or {}).get("addressee", ""),
            "document_number": (office or {}).get("document_number", ""),
            "final": bool((office or {}).get("final")),
            "issued_on": (office or {}).get("issued_on") or timezone.localdate().isoformat(),
        },
        "thresholds": {k: dec(v) for k, v in vars(thresholds_for(plan)).items()},
    }
    structure = list(initiatives_with_structure(plan))
    data = DataAsOf(end_of_day(knowledge_date)) if knowledge_date is not None else None
    snapshot["targets"] = _targets(plan, shown, as_of, cutoff, _judged_rows(plan, periods, shown, data))
    snapshot["changes"] = _changes(plan, snapshot, previous, as_of)
    snapshot["initiatives"] = _initiatives(
        plan, structure, as_of, window, kind, with_measures=kind == ReportKind.MOBILISATION
    )
    _attach_highlights(snapshot["initiatives"], (office or {}).get("highlights"))
    snapshot["compliance"] = _compliance(shown)
    snapshot["counts"] = _counts(shown)
    if kind != ReportKind.MOBILISATION:
        snapshot["funding"] = _funding(plan, as_of, data, periods)
    if kind != ReportKind.QUARTERLY:  # the evaluations' per-unit section and member annex need it
        snapshot["unit_tasks"] = _unit_tasks(
            structure, as_of, detailed=kind in (ReportKind.MIDTERM, ReportKind.FINAL)
        )
    milestone_year = {ReportKind.MIDTERM: 2023, ReportKind.FINAL: 2025}.get(kind)
    if milestone_year is not None:
        snapshot["self_assessments"] = _self_assessments(plan, kind)
        found = Milestone.objects.filter(plan=plan, year=milestone_year).first()
        snapshot["milestone"] = {"year": milestone_year, "evaluates": found.evaluates if found else ""}
    if kind == ReportKind.MOBILISATION:
        snapshot["milestones"] = [
            {"year": m.year, "name": m.name, "evaluates": m.evaluates}
            for m in Milestone.objects.filter(plan=plan).order_by("year")
        ]
        snapshot["structure_counts"] = {
            "actions": sum(1 for i in structure if i.kind == "action"),
            "projects": sum(1 for i in structure if i.kind == "project"),
            "measures": sum(len(i.measures.all()) for i in structure),
        }
    return snapshot


# ---------------------------------------------------------------- targets


_JUDGED = (
    "target_id",
    "period_id",
    "actual",
    "expected",
    "baseline",
    "completion",
    "forecast",
    "status",
    "regions_met",
    "regions_total",
    "years_met",
    "years_judged",
)


def _judged_rows(plan, periods, shown, data):
    """The targets' standing at each shown period: the roll-up's snapshots (judged now), or the
    same judging code run on the data as known at the knowledge date."""
    if data is None:
        return list(
            TargetSnapshot.objects.filter(target__plan=plan, period_id__in=[p.pk for p in shown]).values_list(
                *_JUDGED
            )
        )
    if not shown:
        return []
    rows, _contributions, _initiatives = judge_targets(plan, periods, shown, data)
    return [tuple(row[name] for name in _JUDGED) for row in rows]


def _targets(plan, shown, as_of, cutoff, rows):
    targets = list(
        Target.objects.filter(plan=plan)
        .select_related("initiative", "owner_unit")
        .prefetch_related("reporting_units")
        .order_by("sort_order")
    )
    index = {p.pk: i for i, p in enumerate(shown)}
    series = defaultdict(lambda: {"a": [None] * len(shown), "e": [None] * len(shown)})
    current = {}
    for row in rows:
        target_id, period_id, actual, expected, baseline, completion, forecast, status, met, total = row[:10]
        i = index[period_id]
        series[target_id]["a"][i] = dec(actual)
        series[target_id]["e"][i] = dec(expected)
        if as_of is not None and period_id == as_of.pk:
            current[target_id] = {
                "actual": dec(actual),
                "expected": dec(expected),
                "baseline": dec(baseline),
                "completion": dec(completion),
                "forecast": dec(forecast),
                "status": status,
                "regions_met": met,
                "regions_total": total,
                "years_met": row[10],
                "years_judged": row[11],
            }
    notes = _latest_source_notes(plan, shown)
    external = _latest_external(plan, cutoff)
    result = []
    for target in targets:
        reporters = [u.short_name for u in target.reporting_units.all()] or [target.owner_unit.short_name]
        if target.external:
            found = external.get(target.pk)
            source = found or _("省纲要办依据抽样调查或监测结果录入（截止日期前尚无结果）")
        elif target.per_region:
            source = _("各市州、县（市、区）人民政府报送的科普经费和常住人口")
        else:
            source = _("%(units)s报送") % {"units": "、".join(reporters)}
            if notes.get(target.pk):
                source += _("（%(note)s）") % {"note": clip(notes[target.pk], 40)}
        now = current.get(target.pk, {})
        # The judged row's baseline (as known at the knowledge date); the target's own only without one.
        baseline = now.get("baseline") if now else dec(target.baseline_value)
        result.append(
            {
                "code": target.code,
                "name": target.name,
                "unit": target.unit,
                "initiative": target.initiative.code if target.initiative_id else "",
                "combine": target.combine,
                "time_scope": target.time_scope,
                "measure_kind": target.measure_kind,
                "bound_text": target.bound_text,
                "phrase": target.phrase,
                "aspiration": target.aspiration,
                "bound": target.bound,
                "needs_baseline": target.needs_baseline,
                "baseline_source": target.baseline_source,
                "baseline_demo": target.baseline_demo,
                "value": dec(target.value),
                "value_max": dec(target.value_max),
                "ceiling": dec(
                    target.ceiling
                ),  # the annex's rule sentence says 上限 as /evaluation-rules/ does
                "deadline_year": target.deadline_year,
                "baseline": baseline,
                "baseline_year": target.baseline_year,
                "per_region": target.per_region,
                "external": target.external,
                "owner": target.owner_unit.short_name,
                "reporters": reporters,
                "source": source,
                "actual": now.get("actual"),
                "expected": now.get("expected"),
                "completion": now.get("completion"),
                "forecast": now.get("forecast"),
                "status": now.get("status") or "no_data",
                "regions_met": now.get("regions_met"),
                "regions_total": now.get("regions_total"),
                "years_met": now.get("years_met"),
                "years_judged": now.get("years_judged"),
                "series": series[target.pk] if target.pk in series else None,
            }
        )
    return result


def _self_assessments(plan, kind):
    """The member units' approved self-assessments (自评) of the evaluation round of ``kind``:
    {"round", "members", "units": [{unit, texts, counts, not_done}]} (None without a round)."""
    evaluation = round_for(plan, kind)
    if evaluation is None:
        return None
    members = Unit.objects.office_members().count()
    units = []
    for a in approved_self_assessments(evaluation):
        units.append(
            {
                "unit": a["unit"].short_name,
                "achievements": clip(a["achievements"], 400),
                "problems": clip(a["problems"], 300),
                "next_steps": clip(a["next_steps"], 300),
                "counts": dict(a["counts"]),
                "not_done": [
                    f"{j['measure'].initiative.code}.{j['measure'].number} {j['measure'].title}"
                    for j in a["judgements"]
                    if j["judgement"] == "not_done"
                ],
            }
        )
    return {"round": str(evaluation.label), "members": members, "units": units}


def _changes(plan, snapshot, previous, as_of):
    """What changed since the previous version of this report (same kind and cut-off): each target
    whose value or status differs, and why: the reasons given when forms of the counted quarters
    were reopened between the two versions' knowledge dates. None for a first version and for one
    that changes nothing."""
    if previous is None or not previous.snapshot:
        return None
    before = {t["code"]: t for t in previous.snapshot.get("targets", [])}
    targets = []
    for t in snapshot["targets"]:
        old = before.get(t["code"])
        if old is None or (old.get("actual"), old.get("status")) == (t["actual"], t["status"]):
            continue
        targets.append(
            {
                "code": t["code"],
                "name": t["name"],
                "before": old.get("actual"),
                "after": t["actual"],
                "status_before": old.get("status"),
                "status_after": t["status"],
            }
        )
    since = datetime.date.fromisoformat(
        previous.snapshot.get("knowledge_date") or previous.created_at.date().isoformat()
    )
    until = datetime.date.fromisoformat(snapshot["knowledge_date"])
    reasons = []
    if as_of is not None:
        events = (
            SubmissionEvent.objects.filter(
                action=EventAction.REOPENED,
                submission__period__plan=plan,
                at__gt=end_of_day(since),
                at__lte=end_of_day(until),
            )
            .select_related("submission__unit", "submission__period")
            .order_by("at", "pk")
        )
        for event in events:
            period = event.submission.period
            if period.key > as_of.key:
                continue
            reasons.append(
                {
                    "unit": event.submission.unit.short_name,
                    "period": period.label,
                    "on": timezone.localtime(event.at).date().isoformat(),
                    "reason": clip(event.comment, 200),
                }
            )
    if not targets and not reasons:
        return None  # the same figures: the new version reads (and checks) as the last one
    return {
        "previous": {"id": previous.pk, "knowledge_date": since.isoformat()},
        "targets": targets,
        "reasons": reasons,
    }


def _latest_source_notes(plan, shown):
    """{target_id: the source note of its latest approved figure in the shown periods}."""
    notes = {}
    rows = (
        TargetFigure.objects.approved()
        .filter(submission__period__in=shown)
        .exclude(source_note="")
        .values_list("target_id", "source_note")
        .order_by(
            "target_id",
            "-submission__period__year",
            "-submission__period__quarter",
            "submission__unit__sort_order",
        )
    )
    for target_id, note in rows:
        notes.setdefault(target_id, note)
    return notes


def _latest_external(plan, cutoff):
    """{target_id: "source（round，date）"} of the latest survey measured by the cut-off."""
    found = {}
    for target_id, source, survey_round, measured_on in (
        ExternalFigure.objects.filter(target__plan=plan, measured_on__lte=cutoff)
        .order_by("target_id", "-measured_on")
        .values_list("target_id", "source", "survey_round", "measured_on")
    ):
        if target_id in found:
            continue
        detail = "，".join(x for x in (survey_round, measured_on.isoformat()) if x)
        found[target_id] = f"{source}（{detail}）"
    return found


# ---------------------------------------------------------------- initiatives


def _attach_highlights(initiatives, picks):
    """The office's picks of 典型经验 (``reports.documents.highlights.snapshot_entries``) under their
    initiatives, as ``highlights`` (only where there are some: other snapshots keep their shape)."""
    by_code = defaultdict(list)
    for pick in picks or []:
        by_code[pick["initiative"]].append(
            {name: pick.get(name, "") for name in ("unit", "period", "measure", "text", "source")}
        )
    for entry in initiatives:
        if by_code.get(entry["code"]):
            entry["highlights"] = by_code[entry["code"]]


def _names(assignments):
    names = []
    for a in assignments:
        name = _("省纲要办各成员单位") if a.all_members else a.unit.short_name
        if name not in names:
            names.append(name)
    return names


def _initiatives(plan, structure, as_of, window, kind, *, with_measures):
    snapshots = {}
    if as_of is not None:
        snapshots = {
            row.initiative_id: row
            for row in InitiativeSnapshot.objects.filter(period=as_of, initiative__plan=plan)
        }
    target_codes = defaultdict(list)
    for initiative_id, code in (
        Target.objects.filter(plan=plan, initiative__isnull=False)
        .order_by("sort_order")
        .values_list("initiative_id", "code")
    ):
        target_codes[initiative_id].append(code)
    excerpts, problems = _narratives(plan, structure, window, EXCERPTS.get(kind, EXCERPTS_DEFAULT))
    result = []
    for initiative in structure:
        assignments = list(initiative.assignments.all())
        whole = [a for a in assignments if a.part_id is None]
        snap = snapshots.get(initiative.pk)
        entry = {
            "code": initiative.code,
            "kind": initiative.kind,
            "label": initiative.label,
            "number": initiative.number,
            "title": initiative.title,
            "aim": initiative.aim,
            "leads": _names(a for a in whole if a.role == AssignmentRole.LEAD),
            "responsibles": _names(a for a in whole if a.role == AssignmentRole.RESPONSIBLE),
            "parts": [
                {
                    "title": part.title,
                    "heading": part.heading,
                    "leads": _names(
                        a for a in assignments if a.part_id == part.pk and a.role == AssignmentRole.LEAD
                    ),
                    "responsibles": _names(
                        a
                        for a in assignments
                        if a.part_id == part.pk and a.role == AssignmentRole.RESPONSIBLE
                    ),
                }
                for part in initiative.parts.all()
            ],
            "targets": target_codes.get(initiative.pk, []),
            "measure_count": len(initiative.measures.all()),
            "lines_by_status": dict(snap.lines_by_status) if snap else {},
            "units_reported": snap.units_reported if snap else 0,
            "excerpts": excerpts.get(initiative.pk, []),
            "problems": problems.get(initiative.pk, []),
        }
        if with_measures:
            entry["measures"] = [
                {"number": m.number, "title": m.title, "part": m.part.title if m.part_id else ""}
                for m in initiative.measures.all()
            ]
        result.append(entry)
    return result


def _narratives(plan, structure, window, per_initiative):
    """Per initiative: excerpts of 工作进展 (one per unit, lead units first, latest period first)
    and the distinct 存在问题 with the units that reported each, from approved lines."""
    if not window:
        return {}, {}
    leads = {
        i.pk: {a.unit_id for a in i.assignments.all() if a.role == AssignmentRole.LEAD and a.unit_id}
        for i in structure
    }
    rows = (
        MeasureLine.objects.filter(
            submission__status=SubmissionStatus.APPROVED,
            submission__period__in=window,
            measure__isnull=False,
        )
        .values_list(
            "measure__initiative_id",
            "measure__title",
            "submission__unit_id",
            "submission__unit__short_name",
            "submission__unit__sort_order",
            "submission__period__year",
            "submission__period__quarter",
            "progress",
            "problems",
        )
        .order_by(
            "-submission__period__year", "-submission__period__quarter", "submission__unit__sort_order", "pk"
        )
    )
    labels = {(p.year, p.quarter): str(p.label) for p in window}
    progress_rows = defaultdict(list)
    problem_rows = defaultdict(dict)
    for initiative_id, measure, unit_id, unit, order, year, quarter, progress, problems in rows:
        if progress.strip():
            progress_rows[initiative_id].append((year, quarter, unit_id, unit, order, measure, progress))
        text = clip(problems, PROBLEM_CHARS)
        if text:
            entry = problem_rows[initiative_id].setdefault(text, [])
            if unit not in entry:
                entry.append(unit)
    excerpts = {}
    for initiative_id, found in progress_rows.items():
        lead_ids = leads.get(initiative_id, set())
        # latest period first; within it, the lead units first, then the plan's unit order
        found.sort(key=lambda r: (-(r[0] * 10 + r[1]), r[2] not in lead_ids, r[4]))
        # one excerpt per unit; a first pass also prefers measures not yet quoted, for variety
        chosen, units_seen, measures_seen = [], set(), set()
        for varied in (True, False):
            for year, quarter, unit_id, unit, _order, measure, progress in found:
                if len(chosen) >= per_initiative:
                    break
                if unit_id in units_seen or (varied and measure in measures_seen):
                    continue
                units_seen.add(unit_id)
                measures_seen.add(measure)
                chosen.append(
                    {
                        "unit": unit,
                        "period": labels[(year, quarter)],
                        "measure": measure,
                        "text": clip(progress, EXCERPT_CHARS),
                    }
                )
        excerpts[initiative_id] = chosen
    problems = {}
    for initiative_id, texts in problem_rows.items():
        ranked = sorted(texts.items(), key=lambda kv: -len(kv[1]))[:PROBLEMS]  # stable: first seen first
        problems[initiative_id] = [{"text": text, "units": units} for text, units in ranked]
    return excerpts, problems


# ---------------------------------------------------------------- funding, compliance, units


def _funding(plan, as_of, data=None, periods=()):
    """Per-capita funding per region against the floors of the plan's funding targets."""
    floors = {}
    province = None
    for target in Target.objects.filter(plan=plan).filter(
        measure_kind__in=[MeasureKind.MONEY_PER_CAPITA, MeasureKind.MONEY]
    ):
        if target.own_region_bounds or target.bound == Bound.YEAR_ON_YEAR:
            continue  # judged against each region's own level, not a floor
        if not target.per_region:
            if target.measure_kind == MeasureKind.MONEY_PER_CAPITA:
                floors["province"] = dec(target.value)
                province = target
            continue
        levels = (
            [target.region_level] if target.region_level else [RegionLevel.PREFECTURE, RegionLevel.COUNTY]
        )
        for level in levels:
            key = level if target.measure_kind == MeasureKind.MONEY_PER_CAPITA else f"{level}_funding"
            floors[key] = dec(target.value)
    values = {}
    province_value = None
    if as_of is not None and data is not None:
        values = {r: v for (r, p), v in data.region_snapshots(periods).items() if p == as_of.pk}
        if province is not None:
            rows = _judged_rows(plan, periods, [as_of], data)
            province_value = next((row[2] for row in rows if row[0] == province.pk), None)
    elif as_of is not None:
        values = {
            region_id: (funding, population, per_capita)
            for region_id, funding, population, per_capita in RegionSnapshot.objects.filter(
                period=as_of
            ).values_list("region_id", "funding", "population", "per_capita")
        }
        if province is not None:
            province_value = (
                TargetSnapshot.objects.filter(target=province, period=as_of)
                .values_list("actual", flat=True)
                .first()
            )
    regions = []
    for pk, name, level, parent in (
        Region.objects.filter(level__in=[RegionLevel.PREFECTURE, RegionLevel.COUNTY])
        .order_by("code")
        .values_list("pk", "name", "level", "parent__name")
    ):
        funding, population, per_capita = values.get(pk, (None, None, None))
        regions.append(
            {
                "name": name,
                "level": level,
                "parent": parent or "",
                "funding": dec(funding),
                "population": dec(population),
                "per_capita": dec(per_capita),
            }
        )
    return {
        "year": as_of.year if as_of else None,
        "floors": floors,
        "province": dec(province_value),
        "regions": regions,
    }


def _active_units():
    return list(
        Unit.objects.filter(is_active=True)
        .order_by("sort_order", "code")
        .values_list("pk", "short_name", "kind", "office_member")
    )


def _compliance(shown):
    """Every active unit with two strings of one character per shown period: its submission's
    status and its timeliness (see ``STATUS_CODES`` and ``TIMELINESS_CODES``; "-" for none)."""
    index = {p.pk: i for i, p in enumerate(shown)}
    status_cells = defaultdict(lambda: ["-"] * len(shown))
    timely_cells = defaultdict(lambda: ["-"] * len(shown))
    for unit_id, period_id, status, timeliness in UnitPeriodSnapshot.objects.filter(
        period_id__in=list(index)
    ).values_list("unit_id", "period_id", "status", "timeliness"):
        status_cells[unit_id][index[period_id]] = STATUS_CODES.get(status, "-")
        timely_cells[unit_id][index[period_id]] = TIMELINESS_CODES.get(timeliness, "-")
    empty = "-" * len(shown)
    return [
        {
            "name": name,
            "local": kind == UnitKind.LOCAL_GOVERNMENT,
            "member": member,
            "status": "".join(status_cells[pk]) if pk in status_cells else empty,
            "timely": "".join(timely_cells[pk]) if pk in timely_cells else empty,
        }
        for pk, name, kind, member in _active_units()
    ]


def _counts(shown):
    """Approved narratives and figures in the shown periods."""
    approved = {"submission__status": SubmissionStatus.APPROVED, "submission__period__in": shown}
    return {
        "lines": MeasureLine.objects.filter(**approved).count() if shown else 0,
        "figures": TargetFigure.objects.filter(**approved).count() if shown else 0,
    }


def _unit_tasks(structure, as_of, *, detailed):
    """Each active unit with the initiatives it leads and those it is responsible for ("all member
    units" resolved to the office's members); for the final report also its measures' status at
    the as-of period."""
    units = _active_units()
    members = [pk for pk, _name, _kind, member in units if member]
    roles = defaultdict(lambda: {AssignmentRole.LEAD: [], AssignmentRole.RESPONSIBLE: []})
    for initiative in structure:
        for a in initiative.assignments.all():
            # what a unit leads by its title; what it contributes to by its number, to stay short
            name = (
                f"{initiative.label} {initiative.title}"
                if a.role == AssignmentRole.LEAD
                else initiative.label
            )
            if a.part_id:
                part = next((p for p in initiative.parts.all() if p.pk == a.part_id), None)
                if part is not None:
                    name = f"{name}（{part.title}）"
            for unit_id in members if a.all_members else [a.unit_id]:
                chosen = roles[unit_id][a.role]
                if name not in chosen:
                    chosen.append(name)
    lines = defaultdict(Counter)
    if detailed and as_of is not None:
        for unit_id, status, n in _line_status_counts(as_of):
            lines[unit_id][status] += n
    result = []
    for pk, name, kind, _member in units:
        entry = {
            "name": name,
            "local": kind == UnitKind.LOCAL_GOVERNMENT,
            "leads": roles[pk][AssignmentRole.LEAD] if pk in roles else [],
            "responsibles": roles[pk][AssignmentRole.RESPONSIBLE] if pk in roles else [],
        }
        if detailed:
            entry["lines"] = dict(lines.get(pk, {}))
        result.append(entry)
    return result


def _line_status_counts(period):
    return (
        MeasureLine.objects.filter(submission__status=SubmissionStatus.APPROVED, submission__period=period)
        .values_list("submission__unit_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
