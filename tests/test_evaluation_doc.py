"""docs/evaluation.md is what the code says: regenerate it with `manage.py evaluation_table`."""

from decimal import Decimal as D
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from reports.rollup.evaluation import as_markdown
from reports.rollup.rollups import rollup
from targets.models import Target
from tasks.selectors import current_plan
from tests.factories import approved_figure

pytestmark = pytest.mark.django_db
DOC = Path(settings.BASE_DIR) / "docs" / "evaluation.md"


def test_the_evaluation_table_in_docs_matches_the_code():
    with translation.override("zh-hans"):
        assert DOC.read_text(encoding="utf-8") == as_markdown(current_plan()), (
            "run: manage.py evaluation_table"
        )


def test_every_target_has_a_row_and_the_target_page_links_to_it(client, office):
    approved_figure("rst", 2023, 2, "T09", value=D(50000))
    rollup(current_plan())
    client.force_login(office)
    page = client.get(reverse("reports:evaluation_rules")).content.decode()
    for code in Target.objects.values_list("code", flat=True):
        assert f'id="{code}"' in page
    target = client.get(reverse("reports:target_detail", args=["T01"])).content.decode()
    assert reverse("reports:evaluation_rules") + "#T01" in target
