"""Accounts: password rules, lock-out after failed log-ins, the office's unlock page, the log-in
trail and API token revocation."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token

from units.auth import client_ip
from units.models import AuthEvent, AuthEventKind

pytestmark = pytest.mark.django_db

LOCKED = "登录失败次数过多，账号已暂时锁定，请30分钟后再试或联系省纲要办解锁。"
GOOD = {"username": "jyt-reporter", "password": "pw-for-tests-1"}
BAD = {"username": "jyt-reporter", "password": "not-the-password"}
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def fresh_throttles():
    """The token endpoint's throttle counts in the cache: start each test at zero."""
    cache.clear()
    yield
    cache.clear()


def fail_login(client, times, **extra):
    return [client.post(reverse("login"), BAD, **extra) for _ in range(times)]


def kinds(username):
    return list(
        AuthEvent.objects.filter(username=username).order_by("at", "id").values_list("kind", flat=True)
    )


# --- password rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["short-1A", "1234567890123", "password123", "jyt-reporter-1"])
def test_weak_passwords_are_refused(reporter, password):
    with pytest.raises(ValidationError):
        password_validation.validate_password(password, user=reporter)


def test_a_long_uncommon_password_is_accepted(reporter):
    password_validation.validate_password("Qinghai-kepu-2025!", user=reporter)


# --- lock-out ---------------------------------------------------------------------------------


def test_four_failed_log_ins_only_show_the_usual_error(client, reporter):
    responses = fail_login(client, 4)
    assert [r.status_code for r in responses] == [200] * 4
    assert "用户名或密码不正确" in responses[-1].content.decode()
    assert client.post(reverse("login"), GOOD).status_code == 302  # still allowed in


def test_the_fifth_failed_log_in_locks_the_account_with_the_chinese_message(client, reporter):
    responses = fail_login(client, 5)
    assert responses[-1].status_code == 429
    assert LOCKED in responses[-1].content.decode()
    assert responses[-1]["Retry-After"] == str(30 * 60)

    # the right password no longer helps
    response = client.post(reverse("login"), GOOD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_holds_for_the_username_from_that_address_only(client, reporter):
    fail_login(client, 5, REMOTE_ADDR="10.1.2.3")
    assert client.post(reverse("login"), GOOD, REMOTE_ADDR="10.1.2.3").status_code == 429
    assert client.post(reverse("login"), GOOD, REMOTE_ADDR="10.1.2.4").status_code == 302


def test_a_successful_log_in_clears_earlier_failures(client, reporter):
    fail_login(client, 4)
    assert client.post(reverse("login"), GOOD).status_code == 302
    client.post(reverse("logout"))
    assert [r.status_code for r in fail_login(client, 4)] == [200] * 4


def test_the_token_endpoint_counts_failures_and_locks_with_the_same_message(api_client, reporter):
    statuses = [api_client.post(TOKEN_URL, BAD).status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]

    response = api_client.post(TOKEN_URL, GOOD)
    assert response.status_code == 429
    assert response.json() == {"detail": LOCKED}
    assert not Token.objects.filter(user=reporter).exists()


def test_failures_on_the_page_and_the_api_add_up(client, api_client, reporter):
    fail_login(client, 3)
    assert api_client.post(TOKEN_URL, BAD).status_code == 400
    assert api_client.post(TOKEN_URL, BAD).status_code == 429
    assert client.post(reverse("login"), GOOD).status_code == 429


def test_the_client_address_is_remote_addr_unless_behind_our_proxy(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 172.16.0.9")
    settings.BEHIND_PROXY, settings.TRUSTED_PROXIES = False, ["10.0.0.1"]
    assert client_ip(request) == "10.0.0.1"
    settings.BEHIND_PROXY = True  # only the address our proxy appended counts, not what the client wrote
    assert client_ip(request) == "172.16.0.9"
    proxied = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(proxied) is None


# --- the office's lock-out page ---------------------------------------------------------------


def test_the_office_sees_the_locked_account_and_unlocks_it(client, reporter, office):
    fail_login(client, 5)
    assert client.post(reverse("login"), GOOD).status_code == 429

    office_client = client.__class__()
    office_client.force_login(office)
    page = office_client.get(reverse("accounts:lockout_list"))
    assert page.status_code == 200
    assert [(a["username"], a["ip_address"]) for a in page.context["locked"]] == [
        ("jyt-reporter", "127.0.0.1")
    ]
    assert "解锁" in page.content.decode()

    response = office_client.post(
        reverse("accounts:lockout_unlock"), {"username": "jyt-reporter", "ip_address": "127.0.0.1"}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="jyt-reporter").exists()
    assert office_client.get(reverse("accounts:lockout_list")).context["locked"] == []

    assert client.post(reverse("login"), GOOD).status_code == 302
    unlocked = AuthEvent.objects.get(kind=AuthEventKind.UNLOCKED)
    assert (unlocked.username, unlocked.actor) == ("jyt-reporter", "office")


def test_unlocking_an_account_that_is_no_longer_locked_says_so(client, office):
    client.force_login(office)
    response = client.post(
        reverse("accounts:lockout_unlock"), {"username": "nobody", "ip_address": "127.0.0.1"}, follow=True
    )
    assert "账号 nobody 已不在锁定状态。" in response.content.decode()
    assert not AuthEvent.objects.filter(kind=AuthEventKind.UNLOCKED).exists()


def test_an_unlock_without_a_username_is_refused_and_unlocks_nobody(client, reporter, office):
    fail_login(client, 5)
    client.force_login(office)
    response = client.post(
        reverse("accounts:lockout_unlock"), {"username": "", "ip_address": ""}, follow=True
    )
    assert "无效的请求。" in response.content.decode()
    assert AccessAttempt.objects.filter(username="jyt-reporter").exists()


@pytest.mark.parametrize("persona", ["reporter", "approver", "viewer"])
def test_only_the_office_may_see_or_use_the_lockout_page(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("accounts:lockout_list")).status_code == 403
    assert client.post(reverse("accounts:lockout_unlock"), {"username": "office"}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in_from_the_lockout_page(client):
    response = client.get(reverse("accounts:lockout_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- the log-in trail -------------------------------------------------------------------------


def test_log_ins_log_outs_and_failures_are_recorded_without_passwords(client, reporter, office):
    fail_login(client, 1)
    client.post(reverse("login"), GOOD)
    client.post(reverse("logout"))
    assert kinds("jyt-reporter") == [AuthEventKind.LOGIN_FAILED, AuthEventKind.LOGIN, AuthEventKind.LOGOUT]
    failure = AuthEvent.objects.get(kind=AuthEventKind.LOGIN_FAILED)
    assert (failure.ip_address, failure.path) == ("127.0.0.1", reverse("login"))
    assert not AuthEvent.objects.filter(username__contains="not-the-password").exists()

    client.force_login(office)
    page = client.get(reverse("accounts:lockout_list")).content.decode()
    assert "登录失败" in page and "jyt-reporter" in page
    assert "not-the-password" not in page


def test_the_lock_out_is_recorded_once(client, reporter):
    fail_login(client, 7)
    assert kinds("jyt-reporter").count(AuthEventKind.LOCKED_OUT) == 1
    assert kinds("jyt-reporter").count(AuthEventKind.LOGIN_FAILED) == 7


def test_a_token_obtained_through_the_api_is_recorded(api_client, reporter):
    assert api_client.post(TOKEN_URL, GOOD).status_code == 200
    assert kinds("jyt-reporter") == [AuthEventKind.TOKEN_ISSUED]


# --- API tokens -------------------------------------------------------------------------------


def test_a_user_sees_their_token_and_revokes_it_and_it_then_gets_401(client, api_client, reporter):
    key = api_client.post(TOKEN_URL, GOOD).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/v1/units/").status_code == 200

    client.force_login(reporter)
    page = client.get(reverse("accounts:token_list"))
    assert page.context["own_token"].key == key
    assert "撤销令牌" in page.content.decode()
    assert key not in page.content.decode()  # the page never shows the secret

    response = client.post(reverse("accounts:token_revoke", args=[reporter.pk]), follow=True)
    assert "已撤销您的API令牌" in response.content.decode()
    assert "您没有API令牌。" in response.content.decode()
    assert api_client.get("/api/v1/units/").status_code == 401
    revoked = AuthEvent.objects.get(kind=AuthEventKind.TOKEN_REVOKED)
    assert (revoked.username, revoked.actor) == ("jyt-reporter", "")


def test_the_office_sees_everyones_tokens_and_revokes_one(client, reporter, other_reporter, office):
    Token.objects.create(user=reporter)
    Token.objects.create(user=other_reporter)
    client.force_login(office)
    page = client.get(reverse("accounts:token_list"))
    assert [t.user.username for t in page.context["tokens"]] == ["jyt-reporter", "kx-reporter"]

    client.post(reverse("accounts:token_revoke", args=[reporter.pk]))
    assert list(Token.objects.values_list("user__username", flat=True)) == ["kx-reporter"]
    revoked = AuthEvent.objects.get(kind=AuthEventKind.TOKEN_REVOKED)
    assert (revoked.username, revoked.actor) == ("jyt-reporter", "office")


def test_a_user_cannot_revoke_someone_elses_token(client, reporter, other_reporter):
    Token.objects.create(user=other_reporter)
    client.force_login(reporter)
    assert client.post(reverse("accounts:token_revoke", args=[other_reporter.pk])).status_code == 404
    assert Token.objects.filter(user=other_reporter).exists()
    assert "tokens" not in client.get(reverse("accounts:token_list")).context


def test_revoking_needs_a_post(client, reporter):
    Token.objects.create(user=reporter)
    client.force_login(reporter)
    assert client.get(reverse("accounts:token_revoke", args=[reporter.pk])).status_code == 405
    assert Token.objects.filter(user=reporter).exists()
