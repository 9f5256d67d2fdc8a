"""The plan pages: log-in required, Chinese by default, English on request, fixed query counts."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PAGES = [
    reverse("targets:plan_detail"),
    reverse("targets:initiative_detail", args=["P1"]),
    reverse("targets:target_list"),
    reverse("targets:target_detail", args=["T09"]),
    reverse("targets:unit_list"),
    reverse("targets:unit_detail", args=["jyt"]),
    reverse("targets:unit_detail", args=["xiningshi"]),
]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_users_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("url", PAGES)
def test_every_page_renders_for_a_logged_in_user(client, reporter, url):
    client.force_login(reporter)
    assert client.get(url).status_code == 200


def test_login_page_logs_in(client, reporter):
    response = client.post(reverse("login"), {"username": "jyt-reporter", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    wrong = client.post(reverse("login"), {"username": "jyt-reporter", "password": "nope"})
    assert "用户名或密码不正确" in wrong.content.decode()


def test_plan_page_shows_the_13_initiatives_measures_units_and_targets(client, viewer):
    client.force_login(viewer)
    html = client.get(reverse("targets:plan_detail")).content.decode()
    for title in [
        "青少年科学素质提升行动",
        "领导干部和公务员科学素质提升行动",
        "精品科普工程",
        "科学素质交流合作工程",
    ]:
        assert title in html
    assert "省纲要办各成员单位" in html
    assert "将弘扬科学精神贯穿中小学教育全链条" in html
    assert "补贴性职业技能培训" in html
    assert 'lang="zh-CN"' in html


def test_plan_page_query_count_is_fixed(client, viewer, django_assert_max_num_queries):
    client.force_login(viewer)
    with django_assert_max_num_queries(14):
        client.get(reverse("targets:plan_detail"))


@pytest.mark.parametrize("url", [reverse("targets:target_list"), reverse("targets:unit_list")])
def test_list_pages_query_count_is_fixed(client, viewer, django_assert_max_num_queries, url):
    client.force_login(viewer)
    with django_assert_max_num_queries(10):
        client.get(url)


def test_target_page_shows_its_source_sentences_and_to_the_office_its_questions(client, viewer, office):
    client.force_login(viewer)
    html = client.get(reverse("targets:target_detail", args=["T10"])).content.decode()
    assert "开展农牧民教育培训5万人（次）以上" in html
    assert "待明确事项" not in html  # the analysts' open questions are the office's working notes
    client.force_login(office)
    assert "待明确事项" in client.get(reverse("targets:target_detail", args=["T10"])).content.decode()


def test_unit_page_shows_what_it_leads_and_reports(client, viewer):
    client.force_login(viewer)
    html = client.get(reverse("targets:unit_detail", args=["jyt"])).content.decode()
    assert "青少年科学素质提升行动" in html
    assert "每年培训科学教师" in html


def test_interface_switches_to_english(client, viewer):
    client.force_login(viewer)
    client.post(reverse("set_language"), {"language": "en", "next": "/plan/"})
    html = client.get(reverse("targets:plan_detail")).content.decode()
    assert 'lang="en"' in html
    assert "Key projects" in html or "Targets" in html


def test_unknown_target_is_404(client, viewer):
    client.force_login(viewer)
    assert client.get(reverse("targets:target_detail", args=["T999"])).status_code == 404
