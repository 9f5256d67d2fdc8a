"""Fixtures for tests that drive a real browser (Chromium, through Playwright) against a live server.

A live-server test runs in a real transaction and pytest-django FLUSHES the database after it,
which deletes the plan that ``tests/conftest.py`` loads once per session for every other test.
So each browser test (re)loads the plan when it starts, and the package's teardown loads it
again once the last browser test has been flushed, for the tests that run after these.
"""

import os
import shutil
from pathlib import Path

import pytest

from targets.loader import load_plan

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told that it is safe (it is: the loop only drives the browser).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots go outside the repository, for a person to look at after a run.
SHOTS_DIR = Path(os.environ.get("BROWSER_SHOTS_DIR", "/tmp/browser-shots"))


@pytest.fixture(scope="package", autouse=True)
def plan_restored_after_browser_tests(django_db_blocker):
    """Put the plan back after the last browser test's flush.

    Package scope, not function scope: pytest-django's own autouse fixture (which flushes) is
    set up before any function-scoped fixture of ours, so a function fixture's teardown would run
    before the flush and be undone by it. A package fixture's teardown runs after all of them.
    """
    yield
    with django_db_blocker.unblock():
        load_plan()


@pytest.fixture(autouse=True)
def plan(django_db_blocker):
    """The plan, loaded again at the start of each browser test, in case an earlier live-server
    test flushed the database (autouse, so it runs before the persona fixtures need 省教育厅)."""
    with django_db_blocker.unblock():
        load_plan()


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (the Debian package: ``playwright install`` cannot download here)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright 未安装 (pip install -e '.[dev]')"
    )
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)) and not shutil.which(CHROMIUM):
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: run `bash .ci/system-packages.sh --test-tools` "
            "(installs the Debian chromium package) or set CHROMIUM_PATH"
        )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def shots_dir():
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SHOTS_DIR
