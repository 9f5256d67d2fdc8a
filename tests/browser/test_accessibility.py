"""WCAG 2.1 A/AA in a real browser: axe-core finds no violation on the pages each role uses most.

axe-core is a test-only tool: ``ensure_axe`` installs it from npm into the git-ignored ``var/axe``
(``bash .ci/system-packages.sh --test-tools`` does the same), and the test injects it into each
page; the portal never serves it. The data is the demo's (``seed_demo`` for a few units), so the
pages show every kind of chip, table and link they show users: the inbox with a returned form
and an extension, the form itself, the dashboard with its heatmap, help and the reports list.
"""

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from tasks.models import Submission

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright 未安装 (pip install -e '.[dev]')")

pytestmark = pytest.mark.django_db(transaction=True)

AXE_VERSION = "4.14.1"  # the same pin as .ci/system-packages.sh
AXE_DIR = Path(__file__).resolve().parents[2] / "var" / "axe"
AXE_FILE = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "pw-for-tests-1"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = {"zh": "zh-CN", "en": "en-US"}


def _installed_version():
    try:
        return json.loads((AXE_FILE.parent / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="session")
def ensure_axe():
    """axe-core's script, installed from npm on first use (never committed, never served)."""
    if _installed_version() != AXE_VERSION:
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


@pytest.fixture
def demo(db):
    """The demo for a few units: 省教育厅's returned, extended form; forms waiting for review."""
    call_command("seed_demo", "--password", PASSWORD, "--units", "jyt,kjt,xiningshi,kx", stdout=io.StringIO())
    return Submission.objects.get(unit__code="jyt", period__year=2025, period__quarter=4)


def violations(page, axe_source):
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
        RULES,
    )


def log_in(browser, base_url, username, locale):
    context = browser.new_context(
        base_url=base_url, locale=locale, viewport={"width": 1366, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(reverse("login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return context, page


def test_the_most_used_pages_have_no_wcag_a_or_aa_violations_in_chinese_and_english(
    browser, live_server, ensure_axe, demo
):
    pages = {
        "jyt-reporter": {
            "inbox": reverse("tasks:inbox"),
            "form": reverse("targets:submission_detail", args=[demo.pk]),
            "help": reverse("help"),
        },
        "office": {
            "dashboard": reverse("reports:dashboard"),
            "reports": reverse("reports_pdf:list"),
            "not_found": "/no-such-page/",
        },
    }
    found = {}
    for language, locale in LANGUAGES.items():
        for username, urls in pages.items():
            context, page = log_in(browser, live_server.url, username, locale)
            try:
                for name, url in urls.items():
                    page.goto(url)
                    assert page.locator("main h1").count() >= 1, f"{name} ({language}) did not render"
                    problems = violations(page, ensure_axe)
                    if problems:
                        found[f"{name} ({language})"] = problems
            finally:
                context.close()
    assert not found, "axe-core found WCAG violations:\n" + json.dumps(found, ensure_ascii=False, indent=1)


def test_the_check_itself_catches_a_violation(browser, live_server, ensure_axe, demo):
    """A page made worse on purpose (grey on grey, an unlabelled field) fails: the check can fail."""
    context, page = log_in(browser, live_server.url, "jyt-reporter", "zh-CN")
    try:
        page.goto(reverse("tasks:inbox"))
        page.evaluate(
            """() => {
              document.querySelector('main h1').style.color = '#ccc';
              document.querySelector('main').insertAdjacentHTML('beforeend', '<input type="text">');
            }"""
        )
        rules = {v["rule"] for v in violations(page, ensure_axe)}
        assert {"color-contrast", "label"} <= rules
    finally:
        context.close()
