"""Load a plan from its fixture (``fixtures/plan-*.json``) into the database.

Loading is idempotent: each row is found by its natural key and only written when a field
differs, so a second run reports "no changes". The whole load is one transaction: a
half-loaded database is either completed or left as it was.

It lives in ``targets`` because a plan's fixture spans units, the plan's structure and its
targets, and ``targets`` is the lowest app allowed to use all three.
"""

import datetime
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction

from targets.models import Target, TargetSource
from tasks.choices import AssignmentRole
from tasks.models import Assignment, Initiative, InitiativePart, Measure, Milestone, Plan
from units.choices import RegionLevel, UnitKind
from units.models import Region, Unit

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"
DEFAULT_PLAN_FILE = Path(getattr(settings, "PLAN_FILE", FIXTURES_DIR / "plan-2021-2025.json"))
DIVISIONS_FILE = FIXTURES_DIR / "qinghai-divisions.json"


class PlanFixtureError(ValueError):
    """The fixture is malformed; the message says where."""


@dataclass
class LoadReport:
    """What a load changed, by model: {"单位": {"created": 3, "updated": 1}}."""

    counts: dict = field(default_factory=dict)

    def note(self, label, outcome):
        if outcome:
            self.counts.setdefault(label, Counter())[outcome] += 1

    @property
    def changed(self):
        return any(sum(c.values()) for c in self.counts.values())

    def lines(self):
        for label, counter in self.counts.items():
            parts = []
            if counter["created"]:
                parts.append(f"新增 {counter['created']}")
            if counter["updated"]:
                parts.append(f"更新 {counter['updated']}")
            if counter["deleted"]:
                parts.append(f"删除 {counter['deleted']}")
            yield f"{label}：{'，'.join(parts)}"


def _upsert(model, lookup, values):
    """Create or update one row; return (row, "created" | "updated" | None)."""
    row = model.objects.filter(**lookup).first()
    if row is None:
        return model.objects.create(**lookup, **values), "created"
    dirty = [name for name, value in values.items() if getattr(row, name) != value]
    if not dirty:
        return row, None
    for name in dirty:
        setattr(row, name, values[name])
    row.save(update_fields=dirty)
    return row, "updated"


def _english(spec, key, field_name=None):
    """An English name the fixture states, as ``{field: value}``; nothing when it states none.

    The office may type English names in the admin; a fixture without one never blanks them.
    """
    value = (spec.get(key) or "").strip()
    return {field_name or key: value} if value else {}


def _decimal(value):
    return None if value is None else Decimal(str(value))


def _slug(pinyin):
    """First word of the pinyin, lower case ASCII: "Ge'ermu Shi (Golmud)" → "geermu"."""
    return re.sub(r"[^a-z]", "", pinyin.split()[0].lower())


def load_divisions(report, path=DIVISIONS_FILE):
    """The province, its prefectures and counties, and a government unit for each division."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    province = data["province"]
    root, outcome = _upsert(
        Region,
        {"code": province["code"]},
        {
            "name": province["name"],
            "name_en": province.get("name_en", ""),
            "pinyin": "Qinghai Sheng",
            "level": RegionLevel.PROVINCE,
            "division_type": "province",
            "parent": None,
        },
    )
    report.note("地区", outcome)
    order = 1000  # local governments sort after the provincial units
    for prefecture in data["prefectures"]:
        region, outcome = _upsert(
            Region,
            {"code": prefecture["code"]},
            {
                "name": prefecture["name"],
                "name_en": prefecture.get("name_en", ""),
                "pinyin": prefecture["pinyin"],
                "level": RegionLevel.PREFECTURE,
                "division_type": prefecture["type"],
                "parent": root,
            },
        )
        report.note("地区", outcome)
        suffix = "shi" if prefecture["type"] == "prefecture-level city" else "zhou"
        order += 1
        _local_government(report, region, _slug(prefecture["pinyin"]) + suffix, order)
        for county in prefecture["county_level"]:
            child, outcome = _upsert(
                Region,
                {"code": county["code"]},
                {
                    "name": county["name"],
                    "name_en": county.get("name_en", ""),
                    "pinyin": county["pinyin"],
                    "level": RegionLevel.COUNTY,
                    "division_type": county["type"],
                    "parent": region,
                },
            )
            report.note("地区", outcome)
            order += 1
            _local_government(report, child, _slug(county["pinyin"]), order)


def _local_government(report, region, code, order):
    _, outcome = _upsert(
        Unit,
        {"code": code},
        {
            "name": f"{region.name}人民政府",
            "short_name": region.name,
            "short_name_en": region.name_en or region.pinyin,
            "name_en": f"People's Government of {region.name_en or region.pinyin}",
            "kind": UnitKind.LOCAL_GOVERNMENT,
            "region": region,
            "office_member": False,
            "sort_order": order,
        },
    )
    report.note("单位", outcome)


def _sync_assignments(report, initiative, part, spec, units):
    """Make the initiative's (or part's) assignments exactly those the fixture lists."""
    wanted = []
    for position, code in enumerate(spec.get("lead_units", [])):
        wanted.append((AssignmentRole.LEAD, units[code], False, position))
    for position, code in enumerate(spec.get("responsible_units", [])):
        wanted.append((AssignmentRole.RESPONSIBLE, units[code], False, position))
    if spec.get("responsible_all_members"):
        wanted.append((AssignmentRole.RESPONSIBLE, None, True, 0))
    existing = {
        (a.role, a.unit_id, a.all_members): a
        for a in Assignment.objects.filter(initiative=initiative, part=part)
    }
    keep = set()
    for role, unit, all_members, position in wanted:
        key = (role, unit.pk if unit else None, all_members)
        keep.add(key)
        row = existing.get(key)
        if row is None:
            Assignment.objects.create(
                initiative=initiative,
                part=part,
                role=role,
                unit=unit,
                all_members=all_members,
                sort_order=position,
            )
            report.note("分工", "created")
        elif row.sort_order != position:
            row.sort_order = position
            row.save(update_fields=["sort_order"])
            report.note("分工", "updated")
    for key, row in existing.items():
        if key not in keep:
            row.delete()
            report.note("分工", "deleted")


def _unit_map(codes, units, where):
    missing = [c for c in codes if c not in units]
    if missing:
        raise PlanFixtureError(f"{where}：未知的单位代码 {', '.join(missing)}")
    return [units[c] for c in codes]


@transaction.atomic
def load_plan(path=DEFAULT_PLAN_FILE, divisions_path=DIVISIONS_FILE):
    """Load (or bring up to date) the plan in ``path``; return a LoadReport of what changed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PlanFixtureError(f"无法读取方案文件 {path}：{exc}") from exc
    report = LoadReport()

    for position, spec in enumerate(data["units"], start=1):
        _, outcome = _upsert(
            Unit,
            {"code": spec["code"]},
            {
                "name": spec["name"],
                "short_name": spec["short_name"],
                "name_en": spec.get("name_en", ""),
                **_english(spec, "short_name_en"),
                "kind": spec["kind"],
                "region": None,
                "office_member": bool(spec.get("office_member")),
                "sort_order": position,
            },
        )
        report.note("单位", outcome)
    load_divisions(report, divisions_path)
    units = {u.code: u for u in Unit.objects.all()}

    meta = data["plan"]
    source_file = path.parent / meta.get("source_file", "")
    plan, outcome = _upsert(
        Plan,
        {"code": meta["code"]},
        {
            "name": meta["name"],
            **_english(meta, "name_en"),
            "issuer": meta["issuer"],
            "issued_on": datetime.date.fromisoformat(meta["issued_on"]),
            "start_year": meta["start_year"],
            "end_year": meta["end_year"],
            "source_text": source_file.read_text(encoding="utf-8") if source_file.is_file() else "",
        },
    )
    report.note("实施方案", outcome)

    for spec in data["milestones"]:
        _, outcome = _upsert(
            Milestone,
            {"plan": plan, "year": spec["year"]},
            {
                "code": spec["code"],
                "name": spec["name"],
                **_english(spec, "name_en"),
                "evaluates": spec.get("evaluates", ""),
            },
        )
        report.note("阶段节点", outcome)

    initiatives, parts, measures = {}, {}, {}
    for position, spec in enumerate(data["initiatives"], start=1):
        initiative, outcome = _upsert(
            Initiative,
            {"plan": plan, "code": spec["code"]},
            {
                "kind": spec["kind"],
                "number": spec["number"],
                "title": spec["title"],
                **_english(spec, "title_en"),
                "aim": spec.get("aim", ""),
                "sort_order": position,
            },
        )
        report.note("行动 / 工程", outcome)
        initiatives[spec["code"]] = initiative
        for code in spec.get("lead_units", []) + spec.get("responsible_units", []):
            _unit_map([code], units, spec["code"])
        _sync_assignments(report, initiative, None, spec, units)
        for part_position, part_spec in enumerate(spec.get("parts", []), start=1):
            part, outcome = _upsert(
                InitiativePart,
                {"initiative": initiative, "code": part_spec["code"]},
                {
                    "title": part_spec["title"],
                    **_english(part_spec, "title_en"),
                    "heading": part_spec.get("heading", ""),
                    "sort_order": part_position,
                },
            )
            report.note("子项", outcome)
            parts[part_spec["code"]] = part
            _unit_map(
                part_spec.get("lead_units", []) + part_spec.get("responsible_units", []), units, part.code
            )
            _sync_assignments(report, initiative, part, part_spec, units)
        for measure_spec in spec["measures"]:
            measure, outcome = _upsert(
                Measure,
                {"initiative": initiative, "code": measure_spec["code"]},
                {
                    "number": measure_spec["number"],
                    "part": parts[measure_spec["part"]] if measure_spec.get("part") else None,
                    "title": measure_spec["title"],
                    **_english(measure_spec, "title_en"),
                    "text": measure_spec["text"],
                },
            )
            report.note("工作措施", outcome)
            measures[measure_spec["code"]] = measure

    for position, spec in enumerate(data["targets"], start=1):
        try:
            values = {
                "name": spec["name"],
                "name_en": spec.get("name_en", ""),
                "initiative": initiatives[spec["initiative"]] if spec.get("initiative") else None,
                "part": parts[spec["part"]] if spec.get("part") else None,
                "measure": measures[spec["measure"]] if spec.get("measure") else None,
                "measure_kind": spec["measure_kind"],
                "combine": spec["combine"],
                "time_scope": spec["time_scope"],
                "bound": spec["bound"],
                "value": _decimal(spec["value"]),
                "value_max": _decimal(spec.get("value_max")),
                "unit": spec["unit"],
                "phrase": spec.get("phrase", ""),
                "aspiration": bool(spec.get("aspiration")),
                "ceiling": _decimal(spec.get("ceiling")),
                "deadline_year": spec["deadline_year"],
                "per_region": bool(spec.get("per_region")),
                "region_level": spec.get("region_level") or "",
                "external": bool(spec.get("external")),
                "owner_unit": _unit_map([spec["owner_unit"]], units, spec["code"])[0],
                "questions": list(spec.get("questions", [])),
                "notes": spec.get("notes", ""),
                "sort_order": position,
            }
        except KeyError as exc:
            raise PlanFixtureError(f"目标指标 {spec.get('code')}：缺少或未知的 {exc}") from exc
        # A baseline in the fixture is the plan's own; one the office entered is never reset by a
        # reload, so the fixture only writes a baseline it states.
        if spec.get("baseline_value") is not None:
            values["baseline_value"] = _decimal(spec["baseline_value"])
            values["baseline_year"] = spec.get("baseline_year")
        elif spec.get("baseline_year") is not None:
            values["baseline_year"] = spec["baseline_year"]
        target, outcome = _upsert(Target, {"plan": plan, "code": spec["code"]}, values)
        report.note("目标指标", outcome)
        wanted_units = {u.pk for u in _unit_map(spec.get("reporting_units", []), units, spec["code"])}
        if {u.pk for u in target.reporting_units.all()} != wanted_units:
            target.reporting_units.set(wanted_units)
            report.note("目标指标报送单位", "updated")
        existing = list(target.sources.order_by("sort_order").values_list("text", flat=True))
        if existing != spec["sources"]:
            target.sources.all().delete()
            TargetSource.objects.bulk_create(
                TargetSource(target=target, text=text, sort_order=n) for n, text in enumerate(spec["sources"])
            )
            report.note("原文出处", "updated")
    return report
