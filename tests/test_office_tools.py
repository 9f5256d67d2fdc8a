"""The office's tools on the period overview and the review queue: filters, sorting, search, 催报
and the export links. Bad parameters are ignored with a notice in Chinese, never an error."""

import pytest
from django.urls import reverse

from tasks import services
from tasks.choices import NotificationKind, SubmissionStatus
from tasks.models import Notification, OfficeReminder
from tests.conftest import make_user
from tests.test_workflow import fill_everything
from units.choices import Role, UnitKind
from units.models import Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(submission, reporter, approver):
    """省教育厅's form, filled and submitted (after the 2024 Q3 deadline: 逾期)."""
    fill_everything(submission, reporter)
    services.submit_submission(submission, by=approver)
    submission.refresh_from_db()
    return submission


def overview(client, period, **params):
    response = client.get(reverse("tasks:period_overview", args=[period.pk]), params)
    assert response.status_code == 200
    return response


def unit_codes(response):
    return [row["unit"].code for row in response.context["rows"]]


def test_filters_search_and_sorting_on_the_period_overview(client, office, period, submitted):
    client.force_login(office)
    everyone = unit_codes(overview(client, period))
    assert "jyt" in everyone and len(everyone) == Unit.objects.active().count()
    unreported = unit_codes(overview(client, period, show="unreported"))
    assert "jyt" not in unreported and "kx" in unreported and len(unreported) == len(everyone) - 1
    assert unit_codes(overview(client, period, show="late")) == ["jyt"]  # submitted after 2024-10-10
    assert "jyt" not in unit_codes(overview(client, period, show="missing"))
    local = unit_codes(overview(client, period, kind=UnitKind.LOCAL_GOVERNMENT))
    assert local and set(local) == set(
        Unit.objects.active().filter(kind=UnitKind.LOCAL_GOVERNMENT).values_list("code", flat=True)
    )
    assert unit_codes(overview(client, period, q="教育厅")) == ["jyt"]
    by_status = overview(client, period, sort="status").context["rows"]
    statuses = [row["status"] for row in by_status]
    assert statuses.index(SubmissionStatus.SUBMITTED) > statuses.index(SubmissionStatus.NOT_STARTED)
    assert unit_codes(overview(client, period, sort="submitted"))[0] == "jyt"
    html = overview(client, period, q="教育厅").content.decode()
    assert "显示 1 / " in html


def test_unknown_filter_values_are_ignored_with_a_chinese_notice(client, office, period):
    client.force_login(office)
    response = overview(client, period, show="everything", kind="alien", sort="random", q="x" * 500)
    html = response.content.decode()
    assert html.count("的取值无效，已忽略。") == 3 and "搜索内容过长" in html
    assert response.context["filters"] == {"show": "", "kind": "", "sort": "", "q": "x" * 50}
    queue = client.get(reverse("tasks:review_queue"), {"show": "missing", "sort": "status"})
    assert queue.status_code == 200 and queue.content.decode().count("的取值无效，已忽略。") == 2


def test_the_review_queue_filters_and_links_the_exports(client, office, submitted, period):
    client.force_login(office)
    queue = client.get(reverse("tasks:review_queue"), {"show": "late", "q": "教育"})
    assert [row["unit"].code for row in queue.context["queue"]] == ["jyt"]
    assert client.get(reverse("tasks:review_queue"), {"q": "科协"}).context["queue"] == []
    assert (
        client.get(reverse("tasks:review_queue"), {"kind": UnitKind.LOCAL_GOVERNMENT}).context["queue"] == []
    )
    html = queue.content.decode()
    assert reverse("targets:figures_export_xlsx") in html and reverse("targets:figures_export_csv") in html
    page = overview(client, period).content.decode()
    assert f"{reverse('targets:figures_export_csv')}?year=2024&amp;quarter=3" in page


def test_remind_units_once_a_day_refusing_those_that_reported(client, office, period, submitted, reporter):
    kx = make_user("kx-reporter", Role.REPORTER, "kx")
    url = reverse("tasks:period_remind", args=[period.pk])
    client.force_login(office)
    response = client.post(url, {"unit": ["kx", "jyt"], "back": "?show=unreported"}, follow=True)
    assert response.redirect_chain[-1][0].endswith("?show=unreported")
    html = response.content.decode()
    assert "已向 1 个单位发出催报" in html and "已提交" in html and "无需催报" in html
    reminders = Notification.objects.filter(kind=NotificationKind.REMINDER)
    assert list(reminders.values_list("user__username", flat=True)) == ["kx-reporter"]
    assert not reminders.filter(user=reporter).exists()  # jyt reported: refused, nothing sent
    log = OfficeReminder.objects.get()
    assert (log.unit.code, log.period, log.sent_by) == ("kx", period, office)
    # a second 催报 the same day sends nothing and says why
    again = client.post(url, {"unit": ["kx"]}, follow=True).content.decode()
    assert "今天已催报过" in again and reminders.count() == 1
    # the unit finds it in its bell
    client.force_login(kx)
    assert "省纲要办催报" in client.get(reverse("tasks:notification_list")).content.decode()


def test_remind_with_nothing_or_unknown_units_says_so(client, office, period):
    client.force_login(office)
    url = reverse("tasks:period_remind", args=[period.pk])
    assert "请先勾选要催报的单位。" in client.post(url, {}, follow=True).content.decode()
    html = client.post(url, {"unit": ["nosuchunit"], "back": "//evil.example"}, follow=True)
    assert html.redirect_chain[-1][0] == reverse("tasks:period_overview", args=[period.pk])
    assert "没有这些单位" in html.content.decode() and not OfficeReminder.objects.exists()


def test_only_the_office_may_remind(period, approver, viewer):
    for user in (approver, viewer):
        with pytest.raises(Exception) as refused:
            services.remind_units(period, Unit.objects.filter(code="kx"), by=user)
        assert "省纲要办" in str(refused.value)
    assert not OfficeReminder.objects.exists()
