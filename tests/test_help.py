"""使用帮助: every logged-in user reads it, from the navigation bar; it states the rules in force."""

from decimal import Decimal

import pytest
from django.urls import reverse

from reports.models import StatusThresholds
from tasks.selectors import current_plan
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["reporter", "approver", "other_reporter", "office", "viewer", "no_role"])
def test_every_logged_in_user_reads_the_help_page_from_the_navigation_bar(client, request, persona):
    user = make_user("no-role") if persona == "no_role" else request.getfixturevalue(persona)
    client.force_login(user)
    response = client.get(reverse("help"))
    assert response.status_code == 200
    html = response.content.decode()
    for words in ("填报员", "单位审核员", "保存草稿", "已提交", "已通过", "已退回", "按时", "逾期", "未报"):
        assert words in html
    for words in (
        "增量累计",
        "现值",
        "覆盖率",
        "里程碑",
        "序时进度",
        "严重滞后",
        "无数据",
        "省纲要办（省科协）",
    ):
        assert words in html
    assert f'href="{reverse("help")}"' in html  # the link in the navigation bar


def test_the_help_page_needs_a_log_in(client):
    response = client.get(reverse("help"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_help_page_states_the_office_s_thresholds_and_the_upload_limit(client, reporter, settings):
    StatusThresholds.objects.create(
        plan=current_plan(), ahead=Decimal("1.20"), on_track=Decimal("0.90"), behind=Decimal("0.75")
    )
    settings.EVIDENCE_MAX_BYTES = 8 * 1024 * 1024
    client.force_login(reporter)
    html = client.get(reverse("help")).content.decode()
    assert "进度之比不低于 120%" in html
    assert "进度之比不低于 90%、低于 120%" in html
    assert "进度之比低于 75%" in html
    assert "单个文件不超过 8 MB" in html
