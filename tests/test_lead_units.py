"""Lead units: staff of a unit that leads an initiative find 牵头行动 in the menu and on their inbox,
and a page they may not use says where their initiatives are."""

import pytest
from django.urls import reverse

from tests.conftest import make_user
from units import policy
from units.choices import Role

pytestmark = pytest.mark.django_db


def test_lead_unit_staff_get_a_menu_entry_listing_their_initiatives(client, reporter):
    """省教育厅 leads 提升行动 A1."""
    client.force_login(reporter)
    html = client.get(reverse("tasks:inbox")).content.decode()
    assert f'href="{reverse("reports:led_initiatives")}"' in html
    page = client.get(reverse("reports:led_initiatives"))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("reports:initiative_detail", args=["A1"]) in html
    assert html.count("/dashboard/initiatives/") == len(policy.led_initiative_ids(reporter))
    # every link it offers opens
    assert client.get(reverse("reports:initiative_detail", args=["A1"])).status_code == 200


def test_their_landing_stays_the_inbox_which_shows_their_initiatives(client, reporter):
    client.force_login(reporter)
    assert client.get(reverse("home")).url == reverse("tasks:inbox")
    html = client.get(reverse("tasks:inbox")).content.decode()
    card = html.index('id="led"')
    assert reverse("reports:initiative_detail", args=["A1"]) in html[card:]


def test_the_dashboard_refuses_them_in_chinese_and_points_to_their_initiatives(client, reporter):
    client.force_login(reporter)
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "只有省纲要办和查阅人员可以查看全省进展。" in html
    assert "牵头单位" in html and f'href="{reverse("reports:led_initiatives")}"' in html


def test_staff_of_a_unit_that_leads_nothing_see_neither_the_entry_nor_the_hint(client, db):
    user = make_user("zrt-reporter", Role.REPORTER, "zrt")  # 省自然资源厅 leads nothing
    assert not policy.leads_initiatives(user)
    client.force_login(user)
    html = client.get(reverse("tasks:inbox")).content.decode()
    assert reverse("reports:led_initiatives") not in html and 'id="led"' not in html
    refused = client.get(reverse("reports:led_initiatives"))
    assert refused.status_code == 403
    assert "只有牵头单位的填报员和审核员可以查看牵头行动。" in refused.content.decode()
    assert reverse("reports:led_initiatives") not in client.get(reverse("reports:dashboard")).content.decode()


def test_the_office_and_viewers_have_no_lead_entry(client, office, viewer):
    for user in (office, viewer):
        client.force_login(user)
        assert (
            reverse("reports:led_initiatives")
            not in client.get(reverse("targets:plan_detail")).content.decode()
        )
