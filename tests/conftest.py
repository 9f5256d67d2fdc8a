"""Shared fixtures: the plan loaded once per test database, and named personas."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from rest_framework.test import APIClient

from targets.loader import load_plan
from tasks import services
from tests.factories import open_period
from units.choices import Role
from units.models import Membership, Unit


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the real plan into the test database once; each test runs in a rolled-back transaction."""
    with django_db_blocker.unblock():
        load_plan()


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the portal's default language: a request in English leaves English
    active in the thread (LocaleMiddleware activates, nothing deactivates)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


def make_user(username, role=None, unit_code=None, **extra):
    user = get_user_model().objects.create_user(username=username, password="pw-for-tests-1", **extra)
    if role:
        unit = Unit.objects.get(code=unit_code) if unit_code else None
        Membership.objects.create(user=user, role=role, unit=unit)
    return user


@pytest.fixture
def reporter(db):
    """A reporter of 省教育厅 (jyt)."""
    return make_user("jyt-reporter", Role.REPORTER, "jyt")


@pytest.fixture
def approver(db):
    """The approver of 省教育厅 (jyt)."""
    return make_user("jyt-approver", Role.APPROVER, "jyt")


@pytest.fixture
def other_reporter(db):
    """A reporter of another unit: 省科协 (kx)."""
    return make_user("kx-reporter", Role.REPORTER, "kx")


@pytest.fixture
def office(db):
    """An office reviewer (省纲要办)."""
    return make_user("office", Role.OFFICE)


@pytest.fixture
def viewer(db):
    """A read-only leader."""
    return make_user("viewer", Role.VIEWER)


@pytest.fixture
def api_client():
    return APIClient()


# The reporting tests' common ground: an open period (2024 Q3), 省教育厅's form in it, and every
# persona by name for permission tables. A module may define its own to differ.


@pytest.fixture
def period(db):
    return open_period()


@pytest.fixture
def submission(period, reporter):
    return services.ensure_submission(Unit.objects.get(code="jyt"), period, by=reporter)


@pytest.fixture
def personas(reporter, approver, other_reporter, office, viewer):
    return {
        "reporter": reporter,
        "approver": approver,
        "other_unit": other_reporter,
        "office": office,
        "viewer": viewer,
    }
