"""Fixtures for tests that drive a real browser (Chromium, through Playwright) against a live server.

A live-server test runs in a real transaction and pytest-django FLUSHES the database after it,
which deletes the plan that ``tests/conftest.py`` loads once per session for every other test.
So each browser test (re)loads the plan when it starts, and the package's teardown loads it
again once the last browser test has been flushed, for the tests that run after these.
"""

import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

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


# axe-core, the accessibility checker: a test-only tool installed from npm into the git-ignored
# var/axe and injected into the pages under test; the portal never serves it.
AXE_VERSION = "4.14.1"  # the same pin as .ci/system-packages.sh
AXE_DIR = Path(__file__).resolve().parents[2] / "var" / "axe"
AXE_FILE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DEMO_PASSWORD = "pw-for-tests-1"  # the same as tests.conftest.make_user's


def _installed_axe_version():
    try:
        return json.loads((AXE_FILE.parent / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="session")
def ensure_axe():
    """axe-core's script, installed from npm on first use (never committed, never served)."""
    if _installed_axe_version() != AXE_VERSION:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm 未安装：请运行 bash .ci/system-packages.sh --test-tools (installs nodejs/npm)")
        subprocess.run(
            [npm, "install", "--prefix", str(AXE_DIR), f"axe-core@{AXE_VERSION}", "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE_FILE.read_text(encoding="utf-8")


def axe_violations(page, axe_source):
    """The WCAG 2.1 A/AA violations axe-core finds on the page as it is now."""
    page.evaluate(axe_source)
    return page.evaluate(
        """async (tags) => {
          const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
          return result.violations.map(v => ({
            rule: v.id,
            help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n')[1]),
          }));
        }""",
        WCAG_TAGS,
    )


class AxeAudit:
    """Runs axe-core on the pages a journey visits and proves none was skipped.

    ``watch(page)`` records every document the page navigates to; ``check(page)`` runs axe on the
    page as it is now; ``assert_clean()`` fails if any page visited was not checked or if axe found
    a violation anywhere.
    """

    def __init__(self, axe_source):
        self.axe_source = axe_source
        self.visited = []
        self.checked = set()
        self.checked_once = set()
        self.found = {}

    @staticmethod
    def _key(url):
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def watch(self, page):
        def navigated(frame):
            if frame == page.main_frame and frame.url.startswith("http"):
                self.visited.append(self._key(frame.url))

        page.on("framenavigated", navigated)
        return page

    def check(self, page, label=None, once=False):
        """Run axe on the page now. ``once``: a page that is the same for everyone (the login page)
        is checked once per language."""
        key = self._key(page.url)
        lang = page.evaluate("document.documentElement.lang")
        if once and (key, lang) in self.checked_once:
            return []
        self.checked_once.add((key, lang))
        problems = axe_violations(page, self.axe_source)
        self.checked.add(key)
        if problems:
            self.found[f"{label or key} ({lang})"] = problems
        return problems

    def assert_clean(self):
        unchecked = [url for url in dict.fromkeys(self.visited) if url not in self.checked]
        assert not unchecked, f"pages visited without an axe-core check: {unchecked}"
        assert not self.found, "axe-core found WCAG 2.1 A/AA violations:\n" + json.dumps(
            self.found, ensure_ascii=False, indent=1
        )


@pytest.fixture
def axe_audit(ensure_axe):
    return AxeAudit(ensure_axe)


@pytest.fixture
def demo(db):
    """The demo for a few units (``seed_demo``): 省教育厅's returned form with an extension in the
    latest period, 省科技厅's waiting for review, 西宁市's draft; accounts office, viewer and
    <unit>-reporter / -approver, all with ``DEMO_PASSWORD``. Returns 省教育厅's returned form."""
    from tasks.models import Submission

    call_command(
        "seed_demo", "--password", DEMO_PASSWORD, "--units", "jyt,kjt,xiningshi,kx", stdout=io.StringIO()
    )
    return Submission.objects.get(unit__code="jyt", period__year=2025, period__quarter=4)
