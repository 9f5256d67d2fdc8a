"""load_plan is idempotent and all-or-nothing."""

import json

import pytest
from django.core.management import CommandError, call_command

from targets.loader import DEFAULT_PLAN_FILE, load_plan
from targets.models import Target, TargetSource
from tasks.models import Assignment, Measure
from units.models import Unit

pytestmark = pytest.mark.django_db


def counts():
    return (
        Unit.objects.count(),
        Measure.objects.count(),
        Assignment.objects.count(),
        Target.objects.count(),
        TargetSource.objects.count(),
    )


def test_running_it_twice_changes_nothing_and_says_so(capsys):
    before = counts()
    call_command("load_plan")
    out = capsys.readouterr().out
    assert "未做任何更改" in out
    assert counts() == before
    assert not load_plan().changed


def test_a_half_loaded_database_is_completed():
    Measure.objects.filter(initiative__code="A6").delete()  # A6 measures feed no target
    Target.objects.get(code="T12").sources.all().delete()
    Assignment.objects.filter(initiative__code="A6").delete()
    report = load_plan()
    assert report.changed
    assert Measure.objects.filter(initiative__code="A6").count() == 3
    assert Target.objects.get(code="T12").sources.count() == 1
    assert Assignment.objects.filter(initiative__code="A6").count() == 3


def test_an_edited_value_is_restored_from_the_fixture():
    Target.objects.filter(code="T09").update(value=1)
    load_plan()
    assert Target.objects.get(code="T09").value == 500000


def test_a_broken_fixture_changes_nothing(tmp_path):
    data = json.loads(DEFAULT_PLAN_FILE.read_text(encoding="utf-8"))
    data["units"][0]["name"] = "改过的名称"
    data["targets"][-1]["owner_unit"] = "no-such-unit"
    broken = tmp_path / "plan.json"
    broken.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="no-such-unit"):
        call_command("load_plan", file=str(broken))
    assert Unit.objects.get(code=data["units"][0]["code"]).name != "改过的名称"


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="无法读取方案文件"):
        call_command("load_plan", file=str(tmp_path / "missing.json"))
