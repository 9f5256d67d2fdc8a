"""The pages cache's two versions (portal/page_cache.py): the workflow pages (inbox, review queue,
period overview, the menu's badges) and the targets API, cached, and still telling the truth right
after each write; no body carries one session's CSRF token; a body is only served for its key.

Every test here runs with a real (in-memory) pages cache, and runs each request's on-commit
callbacks as a real commit would (tests otherwise run in one rolled-back transaction, where the
bumps would never happen)."""

import contextlib
import re
from decimal import Decimal as D

import pytest
from django.core.cache import caches
from django.db import transaction
from django.test import Client
from django.urls import reverse

from portal import page_cache
from reports.rollup.rollups import rollup
from targets.models import Target
from tasks import services
from tasks.models import OfficeReminder, Period
from tasks.selectors import current_plan
from tests.factories import approved_figure
from tests.test_workflow import fill_everything

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def pages_cache(settings):
    settings.CACHES = {  # the cache handler is rebuilt from these settings (setting_changed)
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "page-cache-test"},
    }
    caches["pages"].clear()
    return caches["pages"]


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """``commits(fn, *args)``: call ``fn`` and run the on-commit callbacks it registered."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


# a cache hit: session, user (with the membership), and the inbox the initiatives the user leads
# (the menu), the overview its period
N_INBOX, N_REVIEW, N_OVERVIEW = 3, 2, 3


def workflow_version():
    return page_cache.lookup("nothing", page_cache.WORKFLOW)[0]


def test_a_commit_that_writes_many_rows_bumps_the_workflow_version_once(commits, monkeypatch, period):
    bumps = []
    real_bump = page_cache.bump
    monkeypatch.setattr(
        page_cache, "bump", lambda scope=page_cache.ROLLUP: bumps.append(scope) or real_bump(scope)
    )
    before = workflow_version()

    def write_three():
        with transaction.atomic():
            for _ in range(3):
                period.save()

    commits(write_three)
    assert bumps == [page_cache.WORKFLOW] and workflow_version() != before


def test_a_rolled_back_write_bumps_nothing_and_the_next_commit_still_does(commits, monkeypatch, period):
    bumps = []
    monkeypatch.setattr(page_cache, "bump", lambda scope=page_cache.ROLLUP: bumps.append(scope) or True)

    def write_then_roll_back():
        with contextlib.suppress(RuntimeError), transaction.atomic():  # a savepoint in the test's transaction
            period.save()
            raise RuntimeError

    commits(write_then_roll_back)
    assert bumps == []
    commits(period.save)
    assert bumps == [page_cache.WORKFLOW]


def test_a_bump_that_failed_is_made_by_the_next_write(commits, monkeypatch, period):
    """Redis down at a commit: the version stays; the next write's callback tries again."""
    results = []

    def bump(scope=page_cache.ROLLUP):
        results.append(bool(results))  # the first bump fails, every later one works
        return results[-1]

    monkeypatch.setattr(page_cache, "bump", bump)
    commits(period.save)  # the period's row and its history row: the second callback tries again
    assert results == [False, True]
    commits(period.save)
    assert results == [False, True, True]


def test_logging_in_and_out_leaves_the_workflow_pages_alone(client, commits, reporter):
    """Every log-in writes an audit row and the user's last log-in time: neither is on a cached page
    (and a stream of failed log-ins must not empty the cache)."""
    before = workflow_version()
    wrong = commits(client.post, reverse("login"), {"username": "jyt-reporter", "password": "wrong-password"})
    right = commits(client.post, reverse("login"), {"username": "jyt-reporter", "password": "pw-for-tests-1"})
    assert wrong.status_code == 200 and right.status_code == 302
    commits(client.post, reverse("logout"))
    assert workflow_version() == before
    commits(reporter.save)  # any other change of a person does retire them
    assert workflow_version() != before


def test_writes_that_send_no_signal_bump_the_workflow_version_themselves(
    commits, office, submission, reporter
):
    """bulk_create and QuerySet.update send no post_save: the services that use them say so."""
    steps = [
        lambda: services.notify([office], "returned", lambda: "甲"),  # bulk_create
        lambda: services.mark_read(office),  # update
    ]
    for step in steps:
        before = workflow_version()
        commits(step)
        assert workflow_version() != before


def test_rows_of_other_apps_leave_the_workflow_pages_alone(commits):
    from reports.models import RollupRun

    before = workflow_version()
    commits(RollupRun.objects.create, plan=current_plan(), trigger="manual")
    assert workflow_version() == before


def test_the_inbox_is_cached_and_shows_an_extension_at_once(
    client, commits, reporter, office, submission, period, django_assert_num_queries
):
    client.force_login(reporter)
    inbox = reverse("tasks:inbox")
    assert "已延期" not in client.get(inbox).content.decode()
    with django_assert_num_queries(N_INBOX):
        assert client.get(inbox).status_code == 200
    office_client = Client()
    office_client.force_login(office)
    response = commits(
        office_client.post,
        reverse("tasks:extension_create", args=[period.pk]),
        {"unit": "jyt", "deadline": "2030-01-31", "reason": "系统故障"},
    )
    assert response.status_code == 302
    html = client.get(inbox).content.decode()
    assert "已延期" in html and "2030-01-31" in html


def test_each_user_gets_their_own_inbox(client, reporter, other_reporter, submission):
    client.force_login(reporter)
    assert "省教育厅" in client.get(reverse("tasks:inbox")).content.decode()
    client.force_login(other_reporter)
    html = client.get(reverse("tasks:inbox")).content.decode()
    assert "省科协" in html and "省教育厅" not in html


def test_the_review_queue_and_the_badge_show_a_submission_at_once(
    client, commits, office, approver, reporter, submission, period, django_assert_num_queries
):
    client.force_login(office)
    queue = reverse("tasks:review_queue")
    html = client.get(queue).content.decode()
    assert "没有等待审核的报送表" in html and '<span class="badge">' not in html
    with django_assert_num_queries(N_REVIEW):
        assert client.get(queue).status_code == 200
    overview = reverse("tasks:period_overview", args=[period.pk])
    client.get(overview)
    with django_assert_num_queries(N_OVERVIEW):
        assert client.get(overview).status_code == 200
    fill_everything(submission, reporter)
    commits(services.submit_submission, submission, by=approver)
    html = client.get(queue).content.decode()
    assert reverse("targets:submission_detail", args=[submission.pk]) in html
    assert "没有等待审核的报送表" not in html and '<span class="badge">1</span>' in html


def csrf_token_of(html):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_the_period_overview_serves_each_office_user_their_own_form_tokens(commits, office, period):
    """The counts and the table are cached; the remind and extension forms' tokens are rendered for
    each session, so the second user's 催报 goes through with the page they were served."""
    from tests.conftest import make_user
    from units.choices import Role

    second = make_user("office-2", Role.OFFICE)
    page = reverse("tasks:period_overview", args=[period.pk])
    first_client, second_client = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_client.force_login(office)
    second_client.force_login(second)
    first_html = first_client.get(page).content.decode()
    second_html = second_client.get(page).content.decode()  # the table from the cache
    assert first_html.count('name="unit"') == second_html.count('name="unit"') > 1
    assert first_client.cookies["csrftoken"].value != second_client.cookies["csrftoken"].value
    response = commits(
        second_client.post,
        reverse("tasks:period_remind", args=[period.pk]),
        {"csrfmiddlewaretoken": csrf_token_of(second_html), "unit": ["kx"]},
    )
    assert response.status_code == 302  # a refused token would be a 403
    assert OfficeReminder.objects.get().sent_by == second
    assert "已向 1 个单位发出催报" in second_client.get(response["Location"]).content.decode()


def test_a_body_holding_a_csrf_token_is_never_stored(caplog):
    token, _body = page_cache.lookup("k", page_cache.WORKFLOW)
    page_cache.store("k", token, '<input name="csrfmiddlewaretoken" value="x">', timeout=60)
    page_cache.store("d", token, {"html": '<input name="csrfmiddlewaretoken" value="x">'}, timeout=60)
    assert page_cache.lookup("k", page_cache.WORKFLOW) == (token, None)
    assert page_cache.lookup("d", page_cache.WORKFLOW) == (token, None)
    assert "holds a CSRF token" in caplog.text


def test_the_targets_api_follows_the_roll_up_and_each_reader_sees_their_own(
    api_client, commits, viewer, reporter, django_assert_num_queries
):
    approved_figure("rst", 2022, 1, "T09", value=D(40000))
    commits(rollup, current_plan())
    period = Period.objects.get(year=2023, quarter=4)
    query = {"period": period.pk, "code": "T09"}
    api_client.force_authenticate(viewer)
    assert D(api_client.get("/api/v1/targets/", query).json()["results"][0]["actual"]) == D(40000)
    api_client.force_authenticate(reporter)  # jyt leads A1, not T09's A3: no progress
    assert api_client.get("/api/v1/targets/", query).json()["results"][0]["actual"] is None
    approved_figure("rst", 2023, 2, "T09", value=D(110000))
    commits(rollup, current_plan())
    api_client.force_authenticate(viewer)
    assert D(api_client.get("/api/v1/targets/", query).json()["results"][0]["actual"]) == D(150000)
    with django_assert_num_queries(0):  # a hit (the user is given: no session to read)
        api_client.get("/api/v1/targets/", query)
    # a change of the plan's own rows (a reporting record) retires the API's pages too
    target = Target.objects.get(code="T09")
    target.name_en = "Subsidised vocational skills training (renamed)"
    commits(target.save)
    assert api_client.get("/api/v1/targets/", query).json()["results"][0]["name_en"] == target.name_en


def test_each_language_each_filter_and_each_page_has_its_own_body(client, reporter, office, period):
    client.force_login(reporter)
    assert "本期待办" in client.get(reverse("tasks:inbox")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("tasks:inbox")).content.decode()
    assert "To-do this period" in html and "本期待办" not in html
    client.force_login(office)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = reverse("tasks:period_overview", args=[period.pk])
    first = client.get(page).content.decode()
    everyone = first.count('name="unit" value=')
    education = client.get(page, {"q": "教育厅"}).content.decode()
    assert everyone > 1 and education.count('name="unit" value=') == 1 and "显示 1 / " in education
    second = client.get(page, {"page": "2"}).content.decode()
    assert "没有第 2 页" in second and "没有第 2 页" not in first  # one page only: said so


def test_the_workflow_pages_work_while_the_cache_is_down(client, settings, reporter, office, period, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        },
    }
    client.force_login(reporter)
    assert client.get(reverse("tasks:inbox")).status_code == 200
    client.force_login(office)
    assert client.get(reverse("tasks:review_queue")).status_code == 200
    assert client.get(reverse("tasks:period_overview", args=[period.pk])).status_code == 200
    assert "pages cache unavailable" in caplog.text


def test_models_outside_the_watched_apps_keep_djangos_fast_delete():
    """The receivers are connected per watched model: the roll-up's snapshots, deleted in bulk,
    are still deleted in one statement."""
    from django.db.models.deletion import Collector

    from reports.models import TargetSnapshot
    from tasks.models import Evidence

    assert Collector(using="default").can_fast_delete(TargetSnapshot.objects.all())
    assert not Collector(using="default").can_fast_delete(Evidence.objects.all())  # watched
