"""What every logged-in request costs before its page does anything: the session, the user with
its role and unit, the menu. Each is read with a statement built once per process (portal/
sessions.py, units.auth.load_user, the menu's badge counts and links); these tests hold them
equal to what Django's own code would load."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix

from reports import page_cache
from tests.conftest import make_user
from units.auth import load_user

pytestmark = pytest.mark.django_db


def fields_of(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_load_user_gives_what_select_related_gives_in_one_query(reporter, office):
    superuser = make_user("root", is_superuser=True, is_staff=True)  # no membership
    for user in (reporter, office, superuser):
        expected = get_user_model().objects.select_related("membership__unit").get(pk=user.pk)
        with CaptureQueriesContext(connection) as queries:
            loaded = load_user(user.pk)
            assert fields_of(loaded) == fields_of(expected)
            try:
                membership = loaded.membership
            except ObjectDoesNotExist:
                membership = None
                with pytest.raises(ObjectDoesNotExist):
                    expected.membership  # noqa: B018 - the same exception as Django's
            if membership is not None:
                assert fields_of(membership) == fields_of(expected.membership)
                assert membership.user is loaded
                unit = membership.unit
                assert (unit and fields_of(unit)) == (
                    expected.membership.unit and fields_of(expected.membership.unit)
                )
        assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
    assert load_user(10**9) is None


def test_a_deactivated_user_is_logged_out_at_the_next_request(client, reporter):
    client.force_login(reporter)
    assert client.get(reverse("help")).status_code == 200
    get_user_model().objects.filter(pk=reporter.pk).update(is_active=False)
    response = client.get(reverse("tasks:inbox"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_page_reads_the_session_the_user_and_the_badges_once_each(client, office):
    client.force_login(office)
    client.get(reverse("help"))
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("help")).content.decode()
    tables = [re.findall(r'FROM "?(\w+)', q["sql"])[0] for q in queries.captured_queries]
    assert tables[:2] == ["django_session", "auth_user"]  # the membership and unit come joined
    assert tables.count("tasks_notification") == 1  # both menu badges, in one query
    assert not {"django_session", "auth_user", "units_membership", "units_unit"} & set(tables[2:])
    assert "office" in html and "纲要办审核员" in html  # name and role in the menu, from the one user query


def test_an_unknown_or_expired_session_key_starts_a_new_session(client, reporter):
    client.force_login(reporter)
    key = client.cookies["sessionid"].value
    Session.objects.filter(pk=key).update(session_key="x" * 32)
    assert client.get(reverse("tasks:inbox")).status_code == 302  # to the log-in page


def test_the_menu_links_are_the_reversed_urls_under_the_script_prefix(client, office):
    client.force_login(office)
    names = ["tasks:review_queue", "reports:dashboard", "tasks:period_list", "targets:plan_detail", "help"]
    html = client.get(reverse("help")).content.decode()
    for name in names:
        assert f'href="{reverse(name)}"' in html
    template = Template("{% load portal_tags %}{% fixed_url 'help' %}")
    try:
        set_script_prefix("/kepu/")  # mounted under a path by the proxy (SCRIPT_NAME)
        assert template.render(Context()) == reverse("help") == "/kepu/help/"
    finally:
        set_script_prefix("/")
    assert template.render(Context()) == reverse("help")


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
