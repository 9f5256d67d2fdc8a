"""The quarterly reporting cycle in a real browser: every step is a click or typing in the pages.

Only the setup takes shortcuts (the three people and an open period); from there the unit's
reporter fills in the form, its approver submits, the office returns it with a comment, the
reporter corrects it on a phone, the approver submits again and the office approves it.
"""

import re

import pytest

from tests.factories import open_period

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright 未安装 (pip install -e '.[dev]')")
expect = sync_api.expect

PASSWORD = "pw-for-tests-1"  # what tests.conftest.make_user gives every user
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
RETURN_COMMENT = "请补充数据来源"
CORRECTED_SOURCE = "省教育厅教师培训台账（2024年第3季度）"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def period(db):
    return open_period(2024, 3)


class Browsing:
    """Opens a fresh browser window (its own cookies) per person and logs them in by hand."""

    def __init__(self, browser, base_url):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []

    def log_in(self, username, viewport=DESKTOP, locale="zh-CN", audit=None, **options):
        """Log ``username`` in from the login page. ``locale`` is the browser's language (Django's
        LocaleMiddleware follows Accept-Language: the province's browsers are Chinese); with an
        ``audit`` (tests/browser/conftest.py ``AxeAudit``) every page the window visits is watched,
        starting with the login page itself, which is checked here."""
        context = self.browser.new_context(
            base_url=self.base_url, locale=locale, viewport=viewport, bypass_csp=audit is not None, **options
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        if audit is not None:
            audit.watch(page)
        page.goto("/accounts/login/")
        if audit is not None:
            audit.check(page, "login", once=True)
        if locale.startswith("zh"):
            page.get_by_label("用户名").fill(username)
            page.get_by_label("密码").fill(PASSWORD)
            page.get_by_role("button", name="登录").click()
            expect(page.get_by_role("button", name="退出")).to_be_visible()
        else:
            page.locator("main input[name=username]").fill(username)
            page.locator("main input[name=password]").fill(PASSWORD)
            page.locator("main form button[type=submit]").click()
            expect(page.locator("form[action$='/accounts/logout/'] button")).to_be_visible()
        return page

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser, live_server):
    session = Browsing(browser, live_server.url)
    yield session
    session.close()


def status_of(page):
    return page.locator(".formhead .status")


def form_fields(page):
    return page.locator("#submission-form fieldset").locator("input, textarea, select")


def open_own_form_from_inbox(page, section, link_name):
    """From 本期待办, follow ``link_name`` in the card titled ``section``."""
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="本期待办").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("本期待办")
    card = page.locator("section.card").filter(has=page.get_by_role("heading", name=section))
    card.get_by_role("link", name=link_name).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("青海省教育厅 · 2024年第3季度进展报送")


def open_form_from_review_queue(page):
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=re.compile("待审核")).click()
    expect(page).to_have_url(re.compile(r"/review/$"))
    page.get_by_role("link", name="青海省教育厅").click()
    expect(status_of(page)).to_have_text("已提交")


def test_a_form_goes_from_draft_through_return_to_approval_by_clicks_in_a_browser(
    browsing, reporter, approver, office, period, shots_dir
):
    # 1. The reporter fills in the whole form and saves a draft; submitting is not theirs to do.
    page = browsing.log_in("jyt-reporter")
    open_own_form_from_inbox(page, "待办报送表", "开始填报")
    expect(status_of(page)).to_have_text("草稿")
    first_line = page.locator(".line").first
    first_line.get_by_label("推进状态").select_option(label="推进中")
    first_line.get_by_label("工作进展").fill("举办全省中小学科学教师培训班3期，培训教师420名。")
    values = page.locator("#submission-form input[name$='-value']")
    assert values.count() == 2, "省教育厅 reports T11 and T12, both as a number"
    for i in range(values.count()):
        values.nth(i).fill(str(200 + i))
    page.locator("#submission-form input[name$='-source_note']").first.fill("教师培训签到表")
    expect(page.get_by_role("button", name="保存并提交")).to_have_count(0)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".messages")).to_contain_text("草稿已保存")
    expect(first_line.get_by_label("工作进展")).to_have_value(
        "举办全省中小学科学教师培训班3期，培训教师420名。"
    )
    expect(values.first).to_have_value("200")
    expect(page.get_by_role("button", name="保存并提交")).to_have_count(0)
    page.screenshot(path=shots_dir / "1-filled-form-desktop.png", full_page=True)

    # 2. The unit's approver submits it.
    page = browsing.log_in("jyt-approver")
    open_own_form_from_inbox(page, "待办报送表", "继续填报")
    page.get_by_role("button", name="保存并提交").click()
    expect(page.locator(".messages")).to_contain_text("已保存并提交")
    expect(status_of(page)).to_have_text("已提交")

    # 3. The office returns it with a comment.
    page = browsing.log_in("office")
    open_form_from_review_queue(page)
    page.get_by_label("退回意见").fill(RETURN_COMMENT)
    page.get_by_role("button", name="退回修改").click()
    expect(status_of(page)).to_have_text("已退回")

    # 4. The reporter, on a phone this time, finds the message in the bell, reads the comment
    #    on the form and corrects a figure's source note.
    page = browsing.log_in("jyt-reporter", viewport=PHONE, is_mobile=True, has_touch=True)
    bell = page.get_by_role("link", name="消息提醒")
    expect(bell.locator(".badge")).to_have_text("1")
    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    note = page.get_by_role("link", name=re.compile("被退回修改：" + RETURN_COMMENT))
    note.click()
    expect(page.get_by_role("alert")).to_have_text("退回意见：" + RETURN_COMMENT)
    expect(status_of(page)).to_have_text("已退回")
    source_note = page.locator("#submission-form input[name$='-source_note']").first
    source_note.fill(CORRECTED_SOURCE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the form is {width}px wide on a {PHONE['width']}px phone"
    save = page.get_by_role("button", name="保存草稿")
    save.scroll_into_view_if_needed()
    expect(save).to_be_in_viewport()
    page.screenshot(path=shots_dir / "2-returned-form-phone.png")
    page.screenshot(path=shots_dir / "2-returned-form-phone-full.png", full_page=True)
    save.tap()
    expect(page.locator(".messages")).to_contain_text("草稿已保存")
    expect(source_note).to_have_value(CORRECTED_SOURCE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1

    #    The approver submits it again; the returned form is a to-do in the inbox.
    page = browsing.log_in("jyt-approver")
    open_own_form_from_inbox(page, "待办报送表", "修改后重新提交")
    expect(page.locator("#submission-form input[name$='-source_note']").first).to_have_value(CORRECTED_SOURCE)
    page.get_by_role("button", name="保存并提交").click()
    expect(status_of(page)).to_have_text("已提交")

    # 5. The office approves it, and from then on the reporter can only read it.
    page = browsing.log_in("office")
    open_form_from_review_queue(page)
    page.get_by_role("button", name="审核通过").click()
    expect(page.locator(".messages")).to_contain_text("已审核通过")
    expect(status_of(page)).to_have_text("已通过")

    page = browsing.log_in("jyt-reporter")
    open_own_form_from_inbox(page, "历史报送", "2024年第3季度")
    expect(status_of(page)).to_have_text("已通过")
    fields = form_fields(page)
    assert fields.count() > 100, "every line and figure of the form is still shown"
    expect(fields.first).to_be_disabled()
    expect(
        page.locator("#submission-form fieldset").locator("input:enabled, textarea:enabled, select:enabled")
    ).to_have_count(0)
    expect(page.get_by_role("button", name="保存草稿")).to_have_count(0)
    expect(page.get_by_role("button", name="保存并提交")).to_have_count(0)
    expect(page.locator("#submission-form input[name$='-source_note']").first).to_have_value(CORRECTED_SOURCE)
