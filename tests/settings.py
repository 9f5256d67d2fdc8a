"""Test settings: the real settings, with a fast hasher, in-memory e-mail and in-process jobs.

The database is whatever DATABASE_URL says (PostgreSQL in CI, SQLite otherwise). Tests that
drive a real Celery worker switch eager mode off themselves.
"""

import os
import re
from pathlib import Path

# The suite does not depend on the caller's environment: every variable the portal documents
# (.env.example) is dropped before the settings are read, except the two that choose the test
# services (PostgreSQL and Redis, see README.md). Without this a CELERY_BROKER_URL left in a shell
# would win over the broker a test sets (Celery reads that variable first), a DEBUG=false would
# change every page, and so on. Worker processes the tests start inherit the cleaned environment.
KEPT_VARIABLES = {"DATABASE_URL", "REDIS_URL"}
DOCUMENTED_VARIABLES = set(
    re.findall(
        r"^([A-Z][A-Z0-9_]*)=",
        (Path(__file__).resolve().parent.parent / ".env.example").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
)
for _name in DOCUMENTED_VARIABLES - KEPT_VARIABLES:
    os.environ.pop(_name, None)

from portal.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
LANGUAGE_CODE = "zh-hans"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
MEDIA_ROOT = DATA_DIR / "test-media"  # noqa: F405
# Throttling is tested on its own (tests/test_security.py sets low rates); elsewhere it must not
# trip when many requests share one user or address.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min", "token": "100000/min"},
}
# Each test builds its own data: no page may come from another test's cache (the dashboard's
# cache is tested on its own with a real one), and the default cache is per process memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
JOBS_IN_THREAD = False  # jobs run inline in tests (reports.jobs.enqueue); one test turns it on
