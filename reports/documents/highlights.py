"""典型经验: excerpts of the units' own narratives that the office picks for a report's 主要成效.

Candidates are what units wrote and the office approved, as of the report's cut-off:

- the 工作进展 of the measure lines of approved quarterly forms in the report's window (the last
  four quarters up to the as-of period, as ``report_data._narratives``), key ``line:<pk>``;
- the 主要成效 of the approved self-assessments of the report's evaluation round, under each
  initiative whose measures the unit judged, key ``sa:<pk>:<initiative code>``.

Texts are cleaned of editing remarks (（已按退回意见补充完善）) and cut to ``HIGHLIGHT_CHARS``. A
pick is stored by its key with the draft; when a run is requested the keys are resolved to their
texts (``resolve``), and a key that is no longer a candidate (the line was reopened, the form
deleted) is refused by name.
"""

import re
from collections import defaultdict

from django.utils import translation
from django.utils.translation import gettext as _

from reports.choices import ReportKind
from reports.documents import data as report_data
from tasks.choices import SubmissionStatus
from tasks.models import Initiative, MeasureLine, Period
from tasks.selectors import approved_self_assessments, round_for

HIGHLIGHT_CHARS = 300
PER_INITIATIVE = 30  # quarterly excerpts offered per initiative (latest first)
MAX_PICKS = 100
# Remarks a unit adds when it corrects a returned form: （已按退回意见补充完善）, （已按…核实）.
EDIT_REMARK = re.compile(r"[（(]\s*已按[^（）()]{0,40}[）)]")


def clean_text(text, limit=HIGHLIGHT_CHARS):
    """A narrative without editing remarks, whitespace collapsed, cut to ``limit`` characters."""
    return report_data.clip(EDIT_REMARK.sub("", text or ""), limit)


def window(plan, cutoff, kind):
    """The periods whose approved forms the report quotes (``report_data.narrative_window``)."""
    as_of = report_data.as_of_period(plan, cutoff)
    shown = [
        p
        for p in Period.objects.filter(plan=plan).order_by("year", "quarter")
        if as_of and p.key <= as_of.key
    ]
    return report_data.narrative_window(shown, as_of, kind)


def candidates(plan, kind, cutoff, keep=()) -> list[dict]:
    """[{code, label, title, items: [{key, unit, period, measure, text, source}]}] per initiative
    in plan order (initiatives without a candidate are left out). Four queries. ``keep``: keys
    already picked, offered even beyond the latest ``PER_INITIATIVE`` lines of an initiative (a
    pick must not drop out of the list because later forms were approved)."""
    keep = set(keep or ())
    if kind not in (ReportKind.MIDTERM, ReportKind.FINAL):
        return []
    periods = window(plan, cutoff, kind)
    initiatives = list(Initiative.objects.filter(plan=plan).order_by("sort_order", "pk"))
    by_pk = {i.pk: i for i in initiatives}
    by_code = {i.code: i for i in initiatives}
    items = defaultdict(list)
    labels = {p.pk: str(p.label) for p in periods}
    rows = (
        MeasureLine.objects.filter(
            submission__status=SubmissionStatus.APPROVED,
            submission__period__in=periods,
            measure__isnull=False,
        )
        .exclude(progress="")
        .values_list(
            "pk",
            "measure__initiative_id",
            "measure__number",
            "measure__title",
            "submission__unit__short_name",
            "submission__period_id",
            "progress",
        )
        .order_by(
            "-submission__period__year", "-submission__period__quarter", "submission__unit__sort_order", "pk"
        )
    )
    for pk, initiative_id, number, title, unit, period_id, progress in rows if periods else ():
        text = clean_text(progress)
        if not text or (len(items[initiative_id]) >= PER_INITIATIVE and f"line:{pk}" not in keep):
            continue
        items[initiative_id].append(
            {
                "key": f"line:{pk}",
                "unit": unit,
                "period": labels[period_id],
                "measure": f"{number}. {title}" if number else title,
                "text": text,
                "source": _("季度报送"),
            }
        )
    evaluation = round_for(plan, kind)
    for assessment in approved_self_assessments(evaluation):
        text = clean_text(assessment["achievements"])
        if not text:
            continue
        codes = []
        for judgement in assessment["judgements"]:
            code = judgement["measure"].initiative.code
            if code not in codes:
                codes.append(code)
        pk = assessment["pk"]
        for code in codes:
            initiative = by_code.get(code)
            if initiative is None:
                continue
            items[initiative.pk].insert(
                0,
                {
                    "key": f"sa:{pk}:{code}",
                    "unit": assessment["unit"].short_name,
                    "period": str(evaluation.label),
                    "measure": "",
                    "text": text,
                    "source": _("自评"),
                },
            )
    return [
        {"code": i.code, "label": i.label, "title": i.title, "items": items[i.pk]}
        for i in initiatives
        if items.get(i.pk) and i.pk in by_pk
    ]


def resolve(plan, kind, cutoff, keys) -> tuple[list[dict], list[str]]:
    """(picked excerpts in plan order, each with its initiative's code; keys no longer offered).
    The texts are labelled in Chinese, the report's language, whoever asked for the report."""
    wanted = [k for k in dict.fromkeys(keys or []) if k]
    found = []
    offered = set()
    with translation.override("zh-hans"):
        groups = candidates(plan, kind, cutoff, keep=wanted)
    for group in groups:
        for item in group["items"]:
            offered.add(item["key"])
            if item["key"] in wanted:
                found.append({"initiative": group["code"], **item})
    return found, [k for k in wanted if k not in offered]


def snapshot_entries(picked) -> list[dict]:
    """The picks as the snapshot keeps them (no keys: a pick is its text, unit and quarter)."""
    return [
        {
            "initiative": p["initiative"],
            "unit": p["unit"],
            "period": p["period"],
            "measure": p["measure"],
            "text": p["text"],
            "source": p["source"],
        }
        for p in picked
    ]
