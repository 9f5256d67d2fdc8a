"""Annual work points (年度重点工作任务及分工) appear as extra lines in that year's forms."""

import pytest
import tablib

from tasks import services
from tasks.admin import WorkPointResource
from tasks.models import WorkPoint
from tasks.selectors import current_plan
from tests.factories import open_period
from units.models import Unit

pytestmark = pytest.mark.django_db


def test_a_work_point_becomes_a_line_of_its_units_forms_in_its_year(reporter):
    plan = current_plan()
    point = WorkPoint.objects.create(plan=plan, year=2024, number=1, title="组织开展全省科学教师培训示范班")
    point.units.add(Unit.objects.get(code="jyt"))
    form_2024 = services.ensure_submission(Unit.objects.get(code="jyt"), open_period(2024, 3), by=reporter)
    assert form_2024.lines.filter(work_point=point).count() == 1
    form_2023 = services.ensure_submission(Unit.objects.get(code="jyt"), open_period(2023, 3), by=reporter)
    assert not form_2023.lines.filter(work_point=point).exists()
    other = services.ensure_submission(Unit.objects.get(code="kx"), open_period(2024, 3))
    assert not other.lines.filter(work_point=point).exists()


def test_a_work_point_added_later_joins_a_draft_already_open(client, reporter):
    submission = services.ensure_submission(Unit.objects.get(code="jyt"), open_period(2024, 3), by=reporter)
    before = submission.lines.count()
    point = WorkPoint.objects.create(plan=current_plan(), year=2024, number=2, title="开展科普进校园专项行动")
    point.units.add(Unit.objects.get(code="jyt"))
    client.force_login(reporter)
    html = client.get(f"/submissions/{submission.pk}/").content.decode()
    assert "开展科普进校园专项行动" in html
    assert submission.lines.count() == before + 1


def test_the_office_imports_a_years_work_points_from_a_spreadsheet():
    data = tablib.Dataset(headers=["plan", "year", "number", "title", "initiative", "units"])
    data.append(["qh-2021-2025", 2024, 1, "举办青海省职工职业技能大赛", "A3", "zgh,rst"])
    data.append(["qh-2021-2025", 2024, 2, "建设省级科普信息化综合应用平台", "P3", "gxt,kx"])
    result = WorkPointResource().import_data(data, dry_run=False)
    assert not result.has_errors()
    point = WorkPoint.objects.get(year=2024, number=1)
    assert set(point.units.values_list("code", flat=True)) == {"zgh", "rst"}
    assert point.initiative.code == "A3"


def test_an_import_with_an_unknown_unit_saves_nothing():
    data = tablib.Dataset(headers=["plan", "year", "number", "title", "initiative", "units"])
    data.append(["qh-2021-2025", 2024, 1, "第一项", "A3", "zgh"])
    data.append(["qh-2021-2025", 2024, 2, "第二项", "A3", "no-such-unit"])
    result = WorkPointResource().import_data(data, dry_run=False, use_transactions=True)
    assert result.has_validation_errors() or result.has_errors()
    assert not WorkPoint.objects.exists()
    messages = str([row.errors for row in result.rows]) + str([row.error_dict for row in result.invalid_rows])
    assert "no-such-unit" in messages
