"""The period overview and the review queue at 30× size: 100 rows a page (``office_filters.PER_PAGE``),
a Chinese pager whose links keep the filters, sorting and search, chips that count every row, a
constant number of queries however many rows there are, and an extension form that no longer lists
every unit but checks the unit it is given."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tasks import office_filters, services
from tasks.choices import SubmissionStatus
from tasks.models import DeadlineExtension, Submission
from units.choices import UnitKind
from units.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(office_filters, "PER_PAGE", 10)
    return 10


def add_units(n, start=0):
    Unit.objects.bulk_create(
        Unit(
            code=f"t{i}",
            name=f"测试单位{i}",
            short_name=f"测试{i}",
            kind=UnitKind.INSTITUTION,
            sort_order=9000 + i,
        )
        for i in range(start, start + n)
    )


def overview(client, period, **params):
    response = client.get(reverse("tasks:period_overview", args=[period.pk]), params)
    assert response.status_code == 200
    return response


def codes(response, key="rows"):
    return [row["unit"].code for row in response.context[key]]


def pager_links(html):
    nav = re.search(r'<nav class="pager"[^>]*>(.*?)</nav>', html, re.S)
    assert nav, "no pager"
    return nav.group(0), [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', nav.group(1))]


def test_at_qinghais_size_the_overview_is_one_page_without_a_pager(client, office, period):
    client.force_login(office)
    response = overview(client, period)
    html = response.content.decode()
    assert len(response.context["rows"]) == Unit.objects.active().count() <= office_filters.PER_PAGE
    assert 'class="pager"' not in html and '<select name="unit"' not in html


def test_the_overview_pages_keep_the_filters_and_the_chips_count_every_unit(
    client, office, period, small_pages
):
    client.force_login(office)
    active = Unit.objects.active().count()
    everyone = codes(overview(client, period, sort="unit", page=1000))  # the last page
    first = overview(client, period, sort="unit")
    assert len(first.context["rows"]) == small_pages
    assert sum(n for _, n in first.context["status_counts"]) == active
    assert sum(n for _, n in first.context["timeliness_counts"]) == active
    html = first.content.decode()
    nav, links = pager_links(html)
    pages = -(-active // small_pages)
    assert f"第 1 页 共 {pages} 页" in nav and 'aria-label="分页"' in html and "下一页" in nav
    assert 'aria-current="page"' in nav and all("sort=unit" in link for link in links)
    second = overview(client, period, sort="unit", page=2)
    assert codes(second) != codes(first) and len(codes(second)) == small_pages
    assert len(everyone) == active - (pages - 1) * small_pages

    # a filter with its pages: the unreported units, 10 at a time, the filter in every link
    unreported = overview(client, period, show="unreported", sort="unit", q="")
    _, links = pager_links(unreported.content.decode())
    assert links and all("show=unreported" in link and "sort=unit" in link for link in links)
    page2 = client.get(reverse("tasks:period_overview", args=[period.pk]) + links[-1])  # 下一页
    assert page2.context["page_obj"].number == 2
    assert page2.context["filters"]["show"] == "unreported"


@pytest.mark.parametrize(
    ("page", "number", "notice"),
    [
        ("abc", 1, "页码“abc”无效，已显示第 1 页。"),
        ("0", 1, "页码“0”无效"),
        ("999", "last", "没有第 999 页"),
        ("-2", 1, "无效"),
    ],
)
def test_a_bad_page_number_shows_the_first_or_last_page_with_a_chinese_notice(
    client, office, period, small_pages, page, number, notice
):
    client.force_login(office)
    response = overview(client, period, page=page)
    last = response.context["page_obj"].paginator.num_pages
    assert response.context["page_obj"].number == (last if number == "last" else number)
    assert notice in response.content.decode()
    queue = client.get(reverse("tasks:review_queue"), {"page": page})
    assert queue.status_code == 200 and notice.split("”")[0] in queue.content.decode()


def test_remind_checkboxes_are_the_rows_shown(client, office, period, small_pages):
    client.force_login(office)
    html = overview(client, period, show="unreported").content.decode()
    assert len(re.findall(r'<input type="checkbox" name="unit"', html)) == small_pages
    # "select all" (static/js/select_rows.js) ticks the boxes of this page only and posts nothing itself
    select_all = re.search(r'<input type="checkbox" data-select-rows="remind-form"[^>]*>', html).group(0)
    assert "name=" not in select_all and "全选本页显示的单位" in select_all and "js/select_rows" in html


def submit(codes_):
    now = timezone.now()
    for i, code in enumerate(codes_):
        submission = services.ensure_submission(Unit.objects.get(code=code), period_of_test())
        Submission.objects.filter(pk=submission.pk).update(
            status=SubmissionStatus.SUBMITTED, submitted_at=now - timezone.timedelta(hours=i)
        )


def period_of_test():
    from tasks.models import Period

    return Period.objects.get(year=2024, quarter=3)


def test_the_review_queue_pages_keep_the_search(client, office, period, small_pages):
    local = list(Unit.objects.active().filter(kind=UnitKind.LOCAL_GOVERNMENT).values_list("code", flat=True))
    submit([*local[:25], "jyt", "kx"])
    client.force_login(office)
    queue = client.get(reverse("tasks:review_queue"), {"kind": UnitKind.LOCAL_GOVERNMENT})
    assert len(queue.context["queue"]) == small_pages and queue.context["total"] == 27
    html = queue.content.decode()
    assert "显示 25 / 27 张报送表" in html and "第 1 页 共 3 页" in html
    _, links = pager_links(html)
    assert all(f"kind={UnitKind.LOCAL_GOVERNMENT}" in link for link in links)
    last = client.get(reverse("tasks:review_queue"), {"kind": UnitKind.LOCAL_GOVERNMENT, "page": 3})
    assert len(last.context["queue"]) == 5 and 'aria-current="page"' in last.content.decode()
    seen = set()
    for page in (1, 2, 3):
        seen |= set(
            codes(
                client.get(reverse("tasks:review_queue"), {"kind": "local_government", "page": page}), "queue"
            )
        )
    assert seen == set(local[:25])


def count_queries(client, url, params):
    client.get(url, params)  # warm the caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_overview_queries_stay_the_same_from_one_page_to_several(client, office, period, small_pages):
    client.force_login(office)
    url = reverse("tasks:period_overview", args=[period.pk])
    Unit.objects.exclude(code__in=["jyt", "kx", "mzt"]).update(is_active=False)  # one page of 3 units
    one_page = count_queries(client, url, {})
    assert 'class="pager"' not in client.get(url).content.decode()
    Unit.objects.update(is_active=True)
    add_units(150)
    for code in ["jyt", "kx", "mzt", "t1", "t2"]:
        services.ensure_submission(Unit.objects.get(code=code), period)
    DeadlineExtension.objects.create(
        period=period,
        unit=Unit.objects.get(code="t3"),
        deadline=period.deadline,
        reason="雪灾",
        granted_by=office,
    )
    several = count_queries(client, url, {})
    later = count_queries(client, url, {"page": 20, "show": "unreported", "sort": "status"})
    assert one_page == several == later <= 12


def test_review_queue_queries_stay_the_same_from_one_page_to_several(client, office, period, small_pages):
    client.force_login(office)
    url = reverse("tasks:review_queue")
    submit(["jyt", "kx"])
    one_page = count_queries(client, url, {})
    local = list(Unit.objects.active().filter(kind=UnitKind.LOCAL_GOVERNMENT).values_list("code", flat=True))
    submit(local[:40])
    several = count_queries(client, url, {})
    later = count_queries(client, url, {"page": 4, "q": "县"})
    assert one_page == several == later <= 10


def extend(client, period, **data):
    return client.post(reverse("tasks:extension_create", args=[period.pk]), data, follow=True)


def test_the_extension_form_lists_only_the_rows_shown_and_takes_a_code_or_a_name(
    client, office, period, small_pages
):
    client.force_login(office)
    html = overview(client, period, q="教育厅").content.decode()
    datalist = re.search(r'<datalist id="extension-units">(.*?)</datalist>', html, re.S).group(1)
    assert re.findall(r'value="([^"]+)"', datalist) == ["jyt"]
    later = period.deadline + timezone.timedelta(days=7)
    response = extend(
        client, period, unit="jyt", deadline=later.isoformat(), reason="雪灾停电", back="?q=教育厅"
    )
    assert DeadlineExtension.objects.get(period=period, unit__code="jyt").deadline == later
    assert response.redirect_chain[-1][0].endswith("?q=%E6%95%99%E8%82%B2%E5%8E%85")
    kx = Unit.objects.get(code="kx")
    extend(client, period, unit=kx.name, deadline=later.isoformat(), reason="网络中断")
    assert DeadlineExtension.objects.filter(period=period, unit=kx).exists()


def test_an_unknown_unit_is_refused_in_chinese_keeping_what_was_typed(client, office, period):
    client.force_login(office)
    later = (period.deadline + timezone.timedelta(days=7)).isoformat()
    response = extend(
        client, period, unit="火星科协", deadline=later, reason="沙尘暴停电", back="?show=missing&page=1"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "没有代码或名称为“火星科协”的单位，未延期。" in html
    assert 'value="火星科协"' in html and 'value="沙尘暴停电"' in html and f'value="{later}"' in html
    assert response.context["filters"]["show"] == "missing"
    assert not DeadlineExtension.objects.exists()
    response = extend(client, period, unit="", deadline=later, reason="x")
    assert "请填写要延期的单位。" in response.content.decode() and not DeadlineExtension.objects.exists()
