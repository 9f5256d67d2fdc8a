"""Each role's day in a browser, from the login page, on the demo's data, with axe-core on every page.

The demo (``seed_demo`` for 省教育厅, 省科技厅, 西宁市 and 省科协) leaves work for every role in its
latest period, 2025年第4季度: 省教育厅's form was returned by the office and its deadline extended,
省科技厅's waits for review, 西宁市 and 省科协 have drafts only. The journeys follow it:

- the reporter (jyt-reporter) lands on 本期待办, sees the extension and the return comment, opens
  the form, corrects a measure's text and saves;
- the office opens the period overview, filters it (only 尚未提交, only 逾期) and ticks units to
  remind; meanwhile the approver (jyt-approver) lands on 本期待办 and submits the corrected form;
  the office's 催报 then reaches 省科协 and is refused for 省教育厅, which has just reported; the
  office opens the resubmission from 待审核, reads 本次修改 and approves;
- the viewer lands on the dashboard, in Chinese and in English, and prints it;
- the lead unit (省教育厅 leads 提升行动1, A1) finds its initiatives and A1's page, on a 390 px
  phone, and meets an unknown address and another role's page: the Chinese error page with the menu.

Each journey's ``AxeAudit`` runs axe-core (WCAG 2.1 A/AA) on every page the browser visits and
fails if one was missed. Screenshots of each role's landing page and of the review summary (desktop
Chinese, 390 px Chinese, desktop English) go to var/screens/ (git-ignored) for a person to look at.
"""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tasks import services
from tasks.choices import NotificationKind, SubmissionStatus
from tasks.models import MeasureLine, Notification, OfficeReminder
from tests.browser.test_reporting_flow import DESKTOP, PHONE, Browsing, status_of

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright 未安装 (pip install -e '.[dev]')")
expect = sync_api.expect

pytestmark = pytest.mark.django_db(transaction=True)

SCREENS = Path(os.environ.get("SCREENS_DIR", Path(__file__).resolve().parents[2] / "var" / "screens"))
CORRECTION = "（补充）2025年第4季度新增科学教师培训2期，培训教师180名，数据已与培训台账核对。"
PHONE_OPTIONS = {"viewport": PHONE, "is_mobile": True, "has_touch": True}


@pytest.fixture(autouse=True)
def screens_dir():
    SCREENS.mkdir(parents=True, exist_ok=True)
    return SCREENS


@pytest.fixture
def browsing(browser, live_server):
    session = Browsing(browser, live_server.url)
    yield session
    session.close()


def main_menu(page):
    return page.locator("nav.mainnav")


def assert_fits(page, width):
    """Nothing wider than the phone, and no word in the header or a chip broken across lines."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 1, f"{page.url} is {scroll}px wide on a {width}px phone"
    broken = page.evaluate(
        """() => [...document.querySelectorAll(
              '.topbar a, .topbar button, .topbar .who, h1 .muted, .status, .tag, .badge, .button, button')]
            .filter(el => el.offsetParent !== null && el.getClientRects().length > 1)
            .map(el => el.textContent.trim())"""
    )
    assert not broken, f"words broken across lines on {page.url}: {broken}"


def assert_focus_visible(page, stops=15):
    """Tab through the page's first ``stops`` controls: each shows a ring of at least 2 px (WCAG 2.4.7)."""
    page.locator("body").focus()
    seen = []
    for _ in range(stops):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => {
              const el = document.activeElement, style = getComputedStyle(el);
              return {what: el.tagName + ' ' + (el.innerText || el.value || el.name || '').trim().slice(0, 20),
                      body: el === document.body, ring: el.matches(':focus-visible'),
                      outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
            }"""
        )
        if focused["body"]:
            break
        seen.append(focused["what"])
        assert focused["ring"] and focused["outline"] == "solid" and focused["width"] >= 2, (
            f"no visible focus on {focused} at {page.url}"
        )
    assert len(seen) >= 5, f"only {seen} reachable by Tab on {page.url}"


def overview_rows(page):
    """The period overview's rows as (unit, timeliness chip's kind), in the order shown."""
    return [
        tuple(row)
        for row in page.evaluate(
            """() => [...document.querySelectorAll('#remind-form tbody tr')].filter(tr => tr.cells.length > 1)
                .map(tr => [tr.cells[1].innerText.trim(),
                            ((tr.cells[3].querySelector('.status') || {}).className || '').replace('status status-', '')])"""
        )
    ]


def expected_missing(rows):
    return [unit for unit, timeliness in rows if timeliness == "missing"]


def test_a_returned_form_goes_from_the_reporter_through_the_approver_to_the_office(browsing, demo, axe_audit):
    returned = demo
    period = returned.period
    audit = axe_audit

    # The reporter: lands on 本期待办, where the returned form is a to-do with its extension.
    page = browsing.log_in("jyt-reporter", audit=audit)
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    audit.check(page)
    assert_focus_visible(page, stops=12)
    page.screenshot(path=SCREENS / "desktop-zh-inbox-keyboard-focus.png")
    todo = page.locator("#todo tbody tr").filter(has_text="2025年第4季度")
    expect(todo.locator(".tag")).to_contain_text("已延期（原截止 2026-01-10）")
    expect(todo).to_contain_text("退回意见：")
    expect(todo).to_contain_text(returned.review_comment[:20])
    todo.get_by_role("link", name="修改后重新提交").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("青海省教育厅 · 2025年第4季度进展报送")
    audit.check(page)
    head = page.locator(".formhead")
    expect(head.locator(".status")).to_have_text("已退回")
    expect(head.locator(".tag")).to_contain_text("已延期")
    expect(page.get_by_role("alert")).to_contain_text("退回意见：" + returned.review_comment[:20])
    progress = page.locator(".line").first.get_by_label("工作进展")
    progress.fill(CORRECTION)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".messages")).to_contain_text("草稿已保存")
    expect(progress).to_have_value(CORRECTION)
    audit.check(page, "form after saving")

    # The office opens the period overview and narrows it down.
    office = browsing.log_in("office", audit=audit)
    expect(office).to_have_url(re.compile(r"/review/$"))
    audit.check(office)
    main_menu(office).get_by_role("link", name="报送期").click()
    audit.check(office)
    office.get_by_role("link", name=period.label).first.click()
    expect(office.get_by_role("heading", level=1)).to_contain_text(period.label)
    audit.check(office)
    # a filter value that does not exist (an edited or stale link): ignored, said in Chinese
    overview = office.url
    office.goto(overview + "?show=overdue-ish&sort=size")
    notices = office.locator(".messages").filter(has_text="已忽略")
    expect(notices.first).to_contain_text("“筛选”的取值无效，已忽略。")
    expect(notices.first).to_contain_text("“排序”的取值无效，已忽略。")
    audit.check(office, "overview, unknown filter values")
    office.goto(overview)
    audit.check(office)
    every = overview_rows(office)
    assert len(every) > 4, "the overview lists every unit of the plan"
    filters = office.locator("#office-filters")
    for show, label, chip in (("missing", "只看未报", "missing"), ("late", "只看逾期", "late")):
        filters.get_by_label("筛选").select_option(label=label)
        filters.get_by_role("button", name="筛选").click()
        expect(office).to_have_url(re.compile(f"show={show}"))
        audit.check(office, f"overview, {label}")
        expected = [unit for unit, timeliness in every if timeliness == chip]
        assert [unit for unit, _ in overview_rows(office)] == expected, label
    assert "青海省科学技术协会" in expected_missing(every), "省科协 never submitted 2025年第4季度"
    filters.get_by_label("筛选").select_option(label="只看尚未提交")
    filters.get_by_role("button", name="筛选").click()
    expect(office).to_have_url(re.compile(r"show=unreported"))
    audit.check(office, "overview, only 尚未提交")
    office.screenshot(path=SCREENS / "desktop-zh-period-overview.png")
    rows = office.locator("#remind-form tbody tr")
    expect(rows.filter(has_text="省科技厅")).to_have_count(0)  # waiting for review: it has reported
    for unit in ("省教育厅", "省科协"):
        office.get_by_label(f"催报{unit}").check()

    # Meanwhile the approver lands on 本期待办 and submits the corrected form.
    approver = browsing.log_in("jyt-approver", audit=audit)
    expect(approver).to_have_url(re.compile(r"/inbox/$"))
    audit.check(approver)
    approver.locator("#todo").get_by_role("link", name="修改后重新提交").click()
    expect(approver.locator(".line").first.get_by_label("工作进展")).to_have_value(CORRECTION)
    audit.check(approver)
    approver.get_by_role("button", name="保存并提交").click()
    expect(approver.locator(".messages")).to_contain_text("已保存并提交")
    expect(status_of(approver)).to_have_text("已提交")
    audit.check(approver, "form after submitting")

    # The office's 催报: 省科协 is reminded; 省教育厅, which has just reported, is refused in words.
    office.get_by_role("button", name="催报所选单位").click()
    messages = office.locator(".messages")
    expect(messages).to_contain_text("已向 1 个单位发出催报：省科协")
    expect(messages).to_contain_text("青海省教育厅 已提交2025年第4季度的报送表，无需催报。")
    expect(office).to_have_url(re.compile(r"show=unreported"))
    audit.check(office, "overview after 催报")
    assert OfficeReminder.objects.filter(period=period).values_list("unit__code", flat=True).get() == "kx"
    assert Notification.objects.filter(user__username="kx-reporter", kind=NotificationKind.REMINDER).exists()
    assert not Notification.objects.filter(
        user__username="jyt-reporter", kind=NotificationKind.REMINDER
    ).exists()

    # The resubmission from 待审核: 本次修改 on top, then approve from the review bar.
    main_menu(office).get_by_role("link", name=re.compile("待审核")).click()
    audit.check(office)
    office.get_by_role("row").filter(has_text="2025年第4季度").get_by_role(
        "link", name="青海省教育厅"
    ).click()
    summary = office.locator("#changes-summary")
    expect(summary).to_contain_text("本次修改")
    expect(summary).to_contain_text(CORRECTION)
    audit.check(office, "review with 本次修改")
    office.locator("#review-bar").get_by_role("button", name="审核通过").click()
    expect(office.locator(".messages")).to_contain_text("已审核通过")
    expect(status_of(office)).to_have_text("已通过")
    audit.check(office, "form after approval")
    returned.refresh_from_db()
    assert returned.status == SubmissionStatus.APPROVED and returned.reviewed_by.username == "office"

    audit.assert_clean()


def test_the_viewer_lands_on_the_dashboard_and_prints_it_in_chinese_and_english(browsing, demo, axe_audit):
    for locale, lang in (("zh-CN", "zh-CN"), ("en-US", "en")):
        page = browsing.log_in("viewer", locale=locale, audit=axe_audit)
        expect(page).to_have_url(re.compile(r"/dashboard/$"))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        axe_audit.check(page)
        menu = main_menu(page)
        expect(menu).to_be_visible()
        heading = page.locator("main h1")
        expect(heading).to_be_visible()

        # the print stylesheet: the content only, no menu, header, footer or period picker
        page.emulate_media(media="print")
        expect(menu).to_be_hidden()
        expect(page.locator(".topbar")).to_be_hidden()
        expect(page.locator("footer")).to_be_hidden()
        for form in page.locator("main form").all():
            expect(form).to_be_hidden()
        expect(heading).to_be_visible()
        expect(page.locator("main table").first).to_be_visible()
        page.screenshot(path=SCREENS / f"viewer-print-{locale}.png")
        page.emulate_media(media="screen")
        expect(menu).to_be_visible()
    axe_audit.assert_clean()


def test_the_lead_unit_on_a_phone_and_the_pages_it_may_not_use(browsing, demo, axe_audit):
    """Entirely at 390 px: 省教育厅 (lead unit of A1) from the login page to A1's page, then an
    unknown address and the office's page: the Chinese error page, with the menu to go on."""
    audit = axe_audit
    page = browsing.log_in("jyt-reporter", audit=audit, **PHONE_OPTIONS)
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    audit.check(page)
    assert_fits(page, PHONE["width"])
    assert_focus_visible(page, stops=6)
    page.screenshot(path=SCREENS / "phone-zh-inbox-keyboard-focus.png")
    main_menu(page).get_by_role("link", name="牵头行动").click()
    expect(page).to_have_url(re.compile(r"/lead/$"))
    audit.check(page)
    assert_fits(page, PHONE["width"])
    page.locator("#led-initiatives").get_by_role("link", name=re.compile("A1 青少年科学素质提升行动")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("青少年科学素质提升行动")
    expect(page.get_by_role("note")).to_contain_text("牵头单位视图（只读）")
    expect(page.locator("main form[method=post]")).to_have_count(0)  # read only: nothing to change
    audit.check(page)
    page.screenshot(path=SCREENS / "phone-zh-lead-initiative.png")
    assert_fits(page, PHONE["width"])

    page.goto("/no-such-page/")
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    expect(main_menu(page).get_by_role("link", name="本期待办")).to_be_attached()
    audit.check(page, "404")
    assert_fits(page, PHONE["width"])
    page.goto("/review/")  # the office's page
    expect(page.get_by_role("heading", level=1)).to_have_text("没有访问权限")
    expect(page.get_by_role("link", name="查看本单位牵头的行动")).to_be_visible()
    expect(main_menu(page).get_by_role("link", name="牵头行动")).to_be_attached()
    expect(page.locator("body")).not_to_contain_text("Forbidden")
    audit.check(page, "403")
    assert_fits(page, PHONE["width"])
    audit.assert_clean()


LANDINGS = {
    "jyt-reporter": r"/inbox/$",
    "jyt-approver": r"/inbox/$",
    "office": r"/review/$",
    "viewer": r"/dashboard/$",
}
VARIANTS = {
    "desktop-zh": {"locale": "zh-CN", "viewport": DESKTOP},
    "phone-zh": {"locale": "zh-CN", **PHONE_OPTIONS},
    "desktop-en": {"locale": "en-US", "viewport": DESKTOP},
}


@pytest.fixture
def resubmitted(demo):
    """省教育厅's returned form corrected and submitted again, for the review summary."""
    line = MeasureLine.objects.filter(submission=demo).order_by("pk").first()
    line.progress = CORRECTION
    line.save(update_fields=["progress"])
    services.submit_submission(demo, by=get_user_model().objects.get(username="jyt-approver"))
    return demo


def test_screens_of_each_roles_landing_page_and_the_review_summary(browsing, resubmitted, axe_audit):
    """Desktop Chinese, 390 px Chinese, desktop English: each role's landing page, the lead unit's
    initiatives, a form's paired boxes and the review summary, checked and saved for a person."""
    for variant, options in VARIANTS.items():
        width = options["viewport"]["width"]
        for username, landing in LANDINGS.items():
            page = browsing.log_in(username, audit=axe_audit, **options)
            expect(page).to_have_url(re.compile(landing))
            axe_audit.check(page)
            assert_fits(page, width)
            page.screenshot(path=SCREENS / f"{variant}-{username}.png")
            if width <= 600:
                page.screenshot(path=SCREENS / f"{variant}-{username}-full.png", full_page=True)
            if username == "jyt-reporter":
                main_menu(page).locator("a[href$='/lead/']").click()
                expect(page).to_have_url(re.compile(r"/lead/$"))
                axe_audit.check(page)
                page.screenshot(path=SCREENS / f"{variant}-lead-unit.png")
                page.goto(f"/submissions/{resubmitted.pk}/")
                axe_audit.check(page, "form")
                assert_fits(page, width)
                pair = page.locator(".line").first.locator(".linegrid textarea")
                widths = [box["width"] for box in (pair.nth(i).bounding_box() for i in range(pair.count()))]
                assert min(widths) >= (300 if width <= 600 else width * 0.4), (
                    f"paired boxes {widths} px wide at {width} px"
                )
                page.locator(".line").first.scroll_into_view_if_needed()
                page.screenshot(path=SCREENS / f"{variant}-form-line.png")
            if username == "office":
                page.locator(f"main a[href$='/submissions/{resubmitted.pk}/']").first.click()
                expect(page.locator("#changes-summary")).to_contain_text(CORRECTION)
                axe_audit.check(page, "review summary")
                assert_fits(page, width)
                page.locator("#changes-summary").screenshot(path=SCREENS / f"{variant}-review-summary.png")
                page.screenshot(path=SCREENS / f"{variant}-review-top.png")
            page.context.close()
            browsing.contexts.remove(page.context)
    axe_audit.assert_clean()


def test_the_audit_fails_on_a_page_it_missed_or_a_violation_it_found(browser, live_server, axe_audit):
    """The journeys' guarantee can fail: an unchecked page, or a violation on a checked one."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", bypass_csp=True)
    try:
        page = axe_audit.watch(context.new_page())
        page.goto("/accounts/login/")
        assert axe_audit.check(page) == []
        page.goto("/accounts/login/?next=/inbox/")  # visited, never checked
        with pytest.raises(AssertionError, match=r"without an axe-core check.*next=/inbox/"):
            axe_audit.assert_clean()
        page.evaluate(
            "document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=\"text\">')"
        )
        assert "label" in {v["rule"] for v in axe_audit.check(page)}
        with pytest.raises(AssertionError, match="label"):
            axe_audit.assert_clean()
    finally:
        context.close()
