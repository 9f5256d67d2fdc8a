"""WCAG 2.1 A/AA in a real browser: axe-core finds no violation on the pages each role uses most.

axe-core is a test-only tool: ``ensure_axe`` (tests/browser/conftest.py) installs it from npm
into the git-ignored ``var/axe`` (``bash .ci/system-packages.sh --test-tools`` does the same),
and the test injects it into each page; the portal never serves it. Each role's journey runs it
on every page it visits too (test_role_days.py, ``AxeAudit``). The data is the demo's (``seed_demo`` for a few units), so the
pages show every kind of chip, table and link they show users: the inbox with a returned form
and an extension, the form itself, the dashboard with its heatmap, help and the reports list.
"""

import json

import pytest
from django.urls import reverse

from tests.browser.conftest import DEMO_PASSWORD as PASSWORD
from tests.browser.conftest import axe_violations as violations

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright 未安装 (pip install -e '.[dev]')")

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = {"zh": "zh-CN", "en": "en-US"}


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
