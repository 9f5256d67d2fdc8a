"""Read queries over the plan's structure."""

from django.db.models import Prefetch, Q

from tasks import rules
from tasks.choices import AssignmentRole
from tasks.models import Assignment, Initiative, Plan
from units import policy
from units.models import Unit


def led_initiatives(user):
    """The initiatives the user's unit leads (whole or a part of), in the plan's order: 牵头行动."""
    return Initiative.objects.filter(pk__in=policy.led_initiative_ids(user)).order_by("sort_order")


def current_plan():
    """The plan being tracked: the one with the latest start year."""
    return Plan.objects.order_by("-start_year").first()


def initiatives_with_structure(plan):
    """The plan's initiatives with parts, measures and assignments, in four queries."""
    return (
        Initiative.objects.filter(plan=plan)
        .prefetch_related(
            "parts",
            "measures__part",
            Prefetch("assignments", queryset=Assignment.objects.select_related("unit", "part")),
        )
        .order_by("sort_order")
    )


def split_assignments(assignments, part=None):
    """Lead and responsible entries of an initiative (or of one of its parts), in plan order."""
    chosen = [a for a in assignments if (a.part_id == (part.pk if part else None))]
    leads = [a for a in chosen if a.role == AssignmentRole.LEAD]
    responsibles = [a for a in chosen if a.role == AssignmentRole.RESPONSIBLE]
    return leads, responsibles


def assignments_of_unit(unit):
    """Every assignment that concerns a unit: named ones and, for office members, "all members"."""
    condition = Q(unit=unit)
    if unit.office_member and unit.is_active:
        condition |= Q(all_members=True)
    return Assignment.objects.filter(condition).select_related("initiative", "part", "unit")


def units_for(initiative, *, role, part=None):
    """The units an initiative (or part) assigns a role to, resolving "all member units"."""
    rows = Assignment.objects.filter(initiative=initiative, part=part, role=role)
    if rows.filter(all_members=True).exists():
        return Unit.objects.office_members()
    return Unit.objects.filter(assignments__in=rows).order_by("assignments__sort_order")


def submission_timeliness(submission, deadline, today):
    """``rules.timeliness`` of a unit's form (None when the unit has none)."""
    first = submission.first_submitted_at if submission is not None else None
    return rules.timeliness(rules.local_day(first), deadline, today)


def period_overview_units(period, today):
    """Every active unit, annotated for the period with ``row_status`` (its form's status or
    未填报), ``row_deadline`` (``rules.deadline_sql``), ``row_timeliness`` (``rules.timeliness_sql``)
    and ``row_submitted_at``, in unit order: the office filters, sorts, counts and pages it in the
    database (``office_filters``); ``overview_rows`` builds the rows of the page shown."""
    from django.db.models import F, FilteredRelation, Value
    from django.db.models.functions import Coalesce

    from tasks.choices import SubmissionStatus

    return (
        Unit.objects.active()
        .annotate(
            period_submission=FilteredRelation("submissions", condition=Q(submissions__period=period)),
            period_extension=FilteredRelation("extensions", condition=Q(extensions__period=period)),
        )
        .annotate(
            row_status=Coalesce(F("period_submission__status"), Value(SubmissionStatus.NOT_STARTED.value)),
            row_deadline=rules.deadline_sql(Value(period.deadline), F("period_extension__deadline")),
            row_submitted_at=F("period_submission__submitted_at"),
        )
        .annotate(
            row_timeliness=rules.timeliness_sql(
                F("period_submission__first_submitted_at"), F("row_deadline"), today
            )
        )
        .annotate(
            # only what the overview shows of the unit's form and extension: no more queries
            **{f"row_submission_{name}": F(f"period_submission__{name}") for name in _SUBMISSION_SHOWN},
            **{f"row_extension_{name}": F(f"period_extension__{name}") for name in _EXTENSION_SHOWN},
        )
        .order_by("sort_order", "code")
    )


_SUBMISSION_SHOWN = ("id", "status", "submitted_at", "first_submitted_at")
_EXTENSION_SHOWN = ("id", "deadline", "reason")


def _loaded(model, db, values):
    """An instance of ``model`` with only ``values`` ({attname: value}) loaded, as ``.only()``
    gives it (any other field is read from the database when used)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(db, names, [values[name] for name in names])


def overview_rows(period, units, today):
    """The period overview's rows of ``units`` (from ``period_overview_units``): unit, submission,
    status, deadline, extension and timeliness, by ``rules.deadline_for`` / ``rules.timeliness``."""
    from tasks.choices import SubmissionStatus
    from tasks.models import DeadlineExtension, Submission

    rows = []
    for unit in units:
        submission = extension = None
        owner = {"unit_id": unit.pk, "period_id": period.pk}
        if unit.row_submission_id is not None:
            shown = {name: getattr(unit, f"row_submission_{name}") for name in _SUBMISSION_SHOWN}
            submission = _loaded(Submission, unit._state.db, {**shown, **owner})
        if unit.row_extension_id is not None:
            shown = {name: getattr(unit, f"row_extension_{name}") for name in _EXTENSION_SHOWN}
            extension = _loaded(DeadlineExtension, unit._state.db, {**shown, **owner})
        deadline = rules.deadline_for(period, extension)
        rows.append(
            {
                "unit": unit,
                "submission": submission,
                "status": submission.status if submission else SubmissionStatus.NOT_STARTED,
                "deadline": deadline,
                "extension": extension,
                "timeliness": submission_timeliness(submission, deadline, today),
            }
        )
    return rows


def period_overview(period, today):
    """Every active unit's row for a period (see ``overview_rows``), in unit order, in 1 query."""
    return overview_rows(period, period_overview_units(period, today), today)


def overview_counts(units, kept=None):
    """({status: n}, {timeliness: n}, every unit, the units ``kept`` keeps) over
    ``period_overview_units``, in one query; ``kept`` is a filter ``Q`` (none: every unit)."""
    from django.db.models import Case, Count, Value, When

    status_counts, timeliness_counts, total, kept_total = {}, {}, 0, 0
    flag = Case(When(kept, then=Value(True)), default=Value(False)) if kept else Value(True)
    grouped = (
        units.annotate(row_kept=flag)
        .order_by()
        .values_list("row_status", "row_timeliness", "row_kept")
        .annotate(n=Count("id"))
    )
    for status, timeliness, is_kept, n in grouped:
        status_counts[status] = status_counts.get(status, 0) + n
        timeliness_counts[timeliness] = timeliness_counts.get(timeliness, 0) + n
        total += n
        kept_total += n if is_kept else 0
    return status_counts, timeliness_counts, total, kept_total


def can_start(period, extension, today) -> bool:
    """Whether a unit may open a new form for a period: while the period is open, or while the
    office's extension for the unit runs (a closed period's 补报)."""
    from tasks.choices import PeriodState

    if period.state == PeriodState.OPEN:
        return True
    return extension is not None and rules.deadline_for(period, extension) >= today


def unit_inbox(unit, today, plan=None):
    """本期待办 of one unit: the same truth as the dashboard's compliance row, in the unit's words.

    Returns ``{"todo", "missed", "history", "counts"}``:

    - ``todo``: every form the unit can act on, soonest deadline first: returned forms, drafts,
      and the not-yet-started forms of open periods or of periods the office extended for it;
    - ``missed``: quarters past the unit's deadline with nothing ever submitted (the dashboard's
      未报), whether or not a draft was started;
    - ``history``: every period that has opened, latest first, with a row even where no form
      was ever started;
    - ``counts``: to-do, returned and missed numbers for the page's summary.

    Each row carries the unit's own deadline (the extension's when there is one), the extension
    itself, the status, the timeliness (``rules.timeliness``, the dashboard's rule) and whether the
    unit can still open the form, and the status's word (``status_label``: 未填报 where no form was
    started). Three queries (four without ``plan``, the current plan).
    """
    from tasks.choices import PeriodState, SubmissionStatus, Timeliness
    from tasks.models import DeadlineExtension, Period, Submission

    plan = plan or current_plan()
    if plan is None or unit is None:
        return {"todo": [], "missed": [], "history": [], "counts": {"todo": 0, "returned": 0, "missed": 0}}
    periods = (
        Period.objects.filter(plan=plan)
        .filter(Q(opens_on__lte=today) | ~Q(state=PeriodState.PLANNED))
        .order_by("-year", "-quarter")
    )
    submissions = {s.period_id: s for s in Submission.objects.filter(unit=unit, period__plan=plan)}
    extensions = {e.period_id: e for e in DeadlineExtension.objects.filter(unit=unit, period__plan=plan)}
    history = []
    for period in periods:
        submission = submissions.get(period.pk)
        extension = extensions.get(period.pk)
        deadline = rules.deadline_for(period, extension)
        status = submission.status if submission else SubmissionStatus.NOT_STARTED
        if submission is not None:
            actionable = submission.is_editable
        else:
            actionable = can_start(period, extension, today)
        history.append(
            {
                "period": period,
                "submission": submission,
                "status": status,
                # the choice's label, as get_status_display gives it without hashing every choice
                "status_label": SubmissionStatus(status).label,
                "deadline": deadline,
                "extension": extension,
                "timeliness": submission_timeliness(submission, deadline, today),
                "days_left": (deadline - today).days,
                "actionable": actionable,
            }
        )
    todo = sorted((r for r in history if r["actionable"]), key=lambda r: (r["deadline"], r["period"].key))
    missed = [r for r in history if r["timeliness"] == Timeliness.MISSING]
    return {
        "todo": todo,
        "missed": missed,
        "history": history,
        "counts": {
            "todo": len(todo),
            "returned": sum(1 for r in todo if r["status"] == SubmissionStatus.RETURNED),
            "missed": len(missed),
        },
    }


# Evaluation rounds and self-assessments (自评) ----------------------------------------------


def round_for(plan, kind):
    """The plan's evaluation round of a kind (``EvaluationKind``: midterm / final), or None."""
    from tasks.models import EvaluationRound

    return EvaluationRound.objects.filter(plan=plan, kind=kind).first()


def approved_self_assessments(evaluation) -> list:
    """The approved self-assessments of a round, for the evaluation report, in unit order.

    Returns a list with one dict per unit whose self-assessment is approved::

        {
            "pk": int,             # the SelfAssessment's id
            "unit": Unit,
            "achievements": str,   # 主要成效, plain text (escape it when rendering)
            "problems": str,       # 存在的问题
            "next_steps": str,     # 下一步工作
            "approved_at": datetime,
            "judgements": [        # one per assigned measure, in plan order
                {
                    "measure": Measure,           # with .initiative and .part loaded
                    "judgement": str,             # Judgement value: done / mostly / not_done
                    "label": str,                 # 已完成 / 基本完成 / 未完成
                    "note": str,
                    "evidence_ref": str,
                },
                ...
            ],
            "counts": {"done": int, "mostly": int, "not_done": int},
        }

    Units without an approved self-assessment are left out. Two queries.
    """
    from tasks.choices import Judgement, SubmissionStatus
    from tasks.models import MeasureJudgement, SelfAssessment

    if evaluation is None:
        return []
    assessments = (
        SelfAssessment.objects.filter(round=evaluation, status=SubmissionStatus.APPROVED)
        .select_related("unit")
        .prefetch_related(
            Prefetch(
                "judgements",
                queryset=MeasureJudgement.objects.select_related("measure__initiative", "measure__part"),
            )
        )
        .order_by("unit__sort_order", "unit__code")
    )
    result = []
    for assessment in assessments:
        judgements = [
            {
                "measure": row.measure,
                "judgement": row.judgement,
                "label": row.get_judgement_display(),
                "note": row.note,
                "evidence_ref": row.evidence_ref,
            }
            for row in assessment.judgements.all()
        ]
        result.append(
            {
                "pk": assessment.pk,
                "unit": assessment.unit,
                "achievements": assessment.achievements,
                "problems": assessment.problems,
                "next_steps": assessment.next_steps,
                "approved_at": assessment.reviewed_at,
                "judgements": judgements,
                "counts": {
                    j.value: sum(1 for r in judgements if r["judgement"] == j.value) for j in Judgement
                },
            }
        )
    return result


def round_overview(evaluation) -> list:
    """Every member unit of the office with its self-assessment (or None) and status. Two queries."""
    from tasks.choices import SubmissionStatus
    from tasks.models import SelfAssessment

    assessments = {a.unit_id: a for a in SelfAssessment.objects.filter(round=evaluation)}
    rows = []
    for unit in Unit.objects.office_members().order_by("sort_order", "code"):
        assessment = assessments.get(unit.pk)
        status = assessment.status if assessment else SubmissionStatus.NOT_STARTED
        rows.append({"unit": unit, "self_assessment": assessment, "status": status})
    return rows


def open_rounds(plan):
    """The plan's open evaluation rounds, nearest deadline first (the unit inbox lists them)."""
    from tasks.choices import PeriodState
    from tasks.models import EvaluationRound

    if plan is None:
        return EvaluationRound.objects.none()
    return EvaluationRound.objects.filter(plan=plan, state=PeriodState.OPEN).order_by("deadline")


def unit_evaluations(unit, plan=None) -> list:
    """The open evaluation rounds a member unit fills a self-assessment for, with its own
    (``{"round", "self_assessment", "status"}``; empty for units that are not office members)."""
    from tasks.choices import SubmissionStatus
    from tasks.models import SelfAssessment

    if unit is None or not unit.office_member or not unit.is_active:
        return []
    rounds = list(open_rounds(plan or current_plan()))
    mine = {a.round_id: a for a in SelfAssessment.objects.filter(unit=unit, round__in=rounds)}
    return [
        {
            "round": r,
            "self_assessment": mine.get(r.pk),
            "status": mine[r.pk].status if r.pk in mine else SubmissionStatus.NOT_STARTED,
        }
        for r in rounds
    ]
