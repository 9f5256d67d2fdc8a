"""What every logged-in request costs before its page does anything: the session (Django's
database engine), the user with its role and unit (one query, ``select_related`` in
``units.auth.PortalModelBackend``) and the menu's badges (one query). Plain Django, counted: these
tests pin the number of queries so that per-request work does not creep in unnoticed."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import page_cache
from tests.conftest import make_user
from units.auth import PortalModelBackend

pytestmark = pytest.mark.django_db


def test_the_backend_loads_the_user_with_membership_and_unit_in_one_query(reporter, office):
    superuser = make_user("root", is_superuser=True, is_staff=True)  # no membership
    backend = PortalModelBackend()
    for user, unit_code in ((reporter, "jyt"), (office, None), (superuser, None)):
        with CaptureQueriesContext(connection) as queries:
            loaded = backend.get_user(user.pk)
            assert loaded.pk == user.pk
            try:
                membership = loaded.membership
            except ObjectDoesNotExist:
                membership = None
            assert (membership is None) == (user is superuser)
            if membership is not None:
                assert (membership.unit.code if membership.unit else None) == unit_code
        assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert backend.get_user(10**9) is None


def test_a_deactivated_user_is_logged_out_at_the_next_request(client, reporter):
    client.force_login(reporter)
    assert client.get(reverse("help")).status_code == 200
    get_user_model().objects.filter(pk=reporter.pk).update(is_active=False)
    response = client.get(reverse("tasks:inbox"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["office", "reporter"])
def test_a_page_reads_the_session_the_user_and_the_badges_once_each(client, office, reporter, who):
    client.force_login({"office": office, "reporter": reporter}[who])
    client.get(reverse("help"))
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("help")).content.decode()
    sqls = [q["sql"] for q in queries.captured_queries]
    tables = [re.findall(r'FROM "?(\w+)', sql)[0] for sql in sqls]
    # the floor: the session; the user, its membership and unit joined; the menu badges (both in
    # one query); for unit staff, whether their unit leads an initiative (the 牵头行动 entry). The
    # help page itself reads the plan and its thresholds: 5 in all for the office, 6 for staff.
    assert len(sqls) == {"office": 5, "reporter": 6}[who], sqls
    assert ("tasks_assignment" in " ".join(sqls)) == (who == "reporter")
    assert tables[:2] == ["django_session", "auth_user"]
    assert "units_membership" in sqls[1] and "units_unit" in sqls[1]
    badges = [sql for sql in sqls if "tasks_notification" in sql]
    assert len(badges) == 1
    assert ("tasks_submission" in badges[0]) == (who == "office")  # forms waiting: the office's badge
    assert not {"django_session", "units_membership", "units_unit"} & set(tables[2:])
    role = {"office": "纲要办审核员", "reporter": "填报员"}[who]
    assert role in html  # name and role in the menu, from the one user query


def test_an_unknown_or_expired_session_key_starts_a_new_session(client, reporter):
    client.force_login(reporter)
    key = client.cookies["sessionid"].value
    Session.objects.filter(pk=key).update(session_key="x" * 32)
    assert client.get(reverse("tasks:inbox")).status_code == 302  # to the log-in page


def test_the_menu_shows_what_the_policy_allows(client, office, reporter):
    client.force_login(office)
    names = ["tasks:review_queue", "reports:dashboard", "tasks:period_list", "targets:plan_detail", "help"]
    html = client.get(reverse("help")).content.decode()
    for name in names:
        assert f'href="{reverse(name)}"' in html
    assert f'href="{reverse("tasks:inbox")}"' not in html
    client.force_login(reporter)
    html = client.get(reverse("help")).content.decode()
    assert f'href="{reverse("tasks:inbox")}"' in html
    for name in ["tasks:review_queue", "reports:dashboard", "tasks:period_list", "reports_office:settings"]:
        assert f'href="{reverse(name)}"' not in html


def test_a_cached_body_is_served_for_its_version_only(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "floor-test"},
    }
    caches["pages"].clear()
    version, body = page_cache.lookup("k")
    assert body is None
    page_cache.store("k", version, "<p>1</p>", timeout=60)
    assert page_cache.lookup("k") == (version, "<p>1</p>")
    page_cache.bump()  # a roll-up committed
    newer, body = page_cache.lookup("k")
    assert newer != version and body is None
    page_cache.store("k", version, "<p>stale</p>", timeout=60)  # computed before the roll-up
    assert page_cache.lookup("k") == (newer, None)
    caches["pages"].set("k", "<p>an entry in another format</p>")
    assert page_cache.lookup("k") == (newer, None)


def test_the_menu_badges_show_the_users_unread_messages_and_the_forms_waiting_for_review(
    client, office, reporter
):
    from tasks.models import Notification
    from tests.factories import approved_figure

    Notification.objects.create(user=office, kind="returned", message="甲")
    Notification.objects.create(user=office, kind="returned", message="乙")
    Notification.objects.create(user=reporter, kind="returned", message="丙")  # someone else's
    approved_figure("rst", 2024, 2, "T09", status="submitted")
    client.force_login(office)
    html = client.get(reverse("help")).content.decode()
    review = html[html.index(reverse("tasks:review_queue")) :]
    assert review[: review.index("</a>")].endswith('<span class="badge">1</span>')
    bell = html[html.index('class="bell"') :]
    assert bell[: bell.index("</a>")].endswith('<span class="badge">2</span>')
