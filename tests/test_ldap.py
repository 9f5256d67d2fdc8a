"""Log-in with the LDAP directory, against a real OpenLDAP server (slapd) the test run starts.

The tree (tests/ldap_server.py): 省教育厅 jyt with 张三 (reporters) and 李四 (approvers), 省科协 kx
with 王𠮷祥 (reporters; a name outside the basic plane) and 赵六 (in no mapped group).
"""

import socket
import threading
import time

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests import ldap_server
from tests.conftest import make_user
from units.choices import Role
from units.models import (
    AuthEvent,
    AuthEventKind,
    AuthSource,
    DirectoryAccount,
    DirectoryMapping,
    Membership,
    Unit,
)
from units.tasks import sync_directory

pytestmark = pytest.mark.django_db

PASSWORD = ldap_server.PASSWORD
NOT_REACHABLE = "暂时无法连接统一身份认证目录"
CERTIFICATE = "统一身份认证目录的证书无法验证"


@pytest.fixture(scope="session")
def slapd():
    """slapd on a free local port, for the whole run; skipped only where it is not installed."""
    if ldap_server.slapd_path() is None:
        pytest.skip("slapd 未安装（apt-get install slapd ldap-utils）")
    server = ldap_server.SlapdServer().start()
    yield server
    server.stop()


@pytest.fixture
def directory(slapd, settings):
    """The portal pointed at the test directory, with the office's mapping for its groups."""
    slapd.reset()
    cache.clear()  # axes' and the throttles' counts
    settings.LDAP_URLS = [slapd.url]
    settings.LDAP_START_TLS = False
    settings.LDAP_CA_FILE = ""
    settings.LDAP_CONNECT_TIMEOUT = 2
    settings.LDAP_TIMEOUT = 2
    settings.LDAP_BIND_DN = ldap_server.SERVICE_DN
    settings.LDAP_BIND_PASSWORD = ldap_server.SERVICE_PASSWORD
    settings.LDAP_USER_BASE = ldap_server.PEOPLE
    settings.LDAP_USER_FILTER = "(&(objectClass=inetOrgPerson)(!(pwdAccountLockedTime=*)))"
    settings.LDAP_GROUP_BASE = ldap_server.GROUPS
    if "units.ldap.LDAPBackend" not in settings.AUTHENTICATION_BACKENDS:
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "units.ldap.LDAPBackend"]
    jyt, kx = Unit.objects.get(code="jyt"), Unit.objects.get(code="kx")
    for value, unit, role in [
        (ldap_server.group_dn("jyt"), jyt, ""),
        (ldap_server.group_dn("kx"), kx, ""),
        (ldap_server.group_dn("reporters"), None, Role.REPORTER),
        (ldap_server.group_dn("approvers"), None, Role.APPROVER),
    ]:
        DirectoryMapping.objects.create(kind="group", value=value, unit=unit, role=role)
    yield slapd
    slapd.reset()


def log_in(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def placed(username):
    membership = Membership.objects.filter(user__username=username).select_related("unit").first()
    return (membership.unit.code if membership.unit else None, membership.role) if membership else None


def events(kind, username=None):
    found = AuthEvent.objects.filter(kind=kind, source=AuthSource.LDAP).order_by("at", "id")
    return list(found.filter(username=username) if username else found)


def move_to_kx(slapd, uid="zhangsan"):
    """The directory administrator moves 张三 from 省教育厅 to 省科协: new OU (new DN), new groups."""
    old, new = ldap_server.person_dn(uid, "jyt"), ldap_server.person_dn(uid, "kx")
    slapd.ldapmodify(
        f"dn: {old}\nchangetype: modrdn\nnewrdn: uid={uid}\ndeleteoldrdn: 1\nnewsuperior: ou=kx,{ldap_server.PEOPLE}\n\n"
        f"dn: {ldap_server.group_dn('jyt')}\nchangetype: modify\ndelete: member\nmember: {old}\n\n"
        f"dn: {ldap_server.group_dn('reporters')}\nchangetype: modify\ndelete: member\nmember: {old}\n-\nadd: member\nmember: {new}\n\n"
        f"dn: {ldap_server.group_dn('kx')}\nchangetype: modify\nadd: member\nmember: {new}\n"
    )


def disable(slapd, dn):
    """Lock the account the OpenLDAP way (ppolicy): the portal's LDAP_USER_FILTER excludes it."""
    slapd.ldapmodify(
        f"dn: {dn}\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n"
    )


# --- log-in -----------------------------------------------------------------------------------


def test_a_directory_user_logs_in_and_gets_the_unit_role_name_and_email(client, directory):
    response = log_in(client, "zhangsan")
    assert response.status_code == 302
    user = get_user_model().objects.get(username="zhangsan")
    assert (user.first_name, user.last_name, user.email) == ("三", "张", "zhangsan@jyt.qh.gov.cn")
    assert not user.has_usable_password()
    assert placed("zhangsan") == ("jyt", Role.REPORTER)
    account = DirectoryAccount.objects.get(user=user)
    assert (account.source, account.identifier) == ("ldap", ldap_server.person_dn("zhangsan", "jyt"))
    assert client.get(reverse("tasks:inbox")).status_code == 200
    login = events(AuthEventKind.LOGIN, "zhangsan")
    assert len(login) == 1 and "填报员" in login[0].detail
    changed = events(AuthEventKind.ROLE_CHANGED, "zhangsan")
    assert len(changed) == 1 and "省教育厅" in changed[0].detail


def test_a_name_outside_the_basic_plane_is_kept_whole(client, directory):
    assert log_in(client, "wangwu").status_code == 302
    user = get_user_model().objects.get(username="wangwu")
    assert (user.first_name, user.last_name) == ("𠮷祥", "王")
    assert placed("wangwu") == ("kx", Role.REPORTER)


def test_a_wrong_password_is_refused_with_the_usual_message_and_creates_nobody(client, directory):
    response = log_in(client, "zhangsan", "not-the-password")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert not get_user_model().objects.filter(username="zhangsan").exists()
    failed = AuthEvent.objects.get(kind=AuthEventKind.LOGIN_FAILED, username="zhangsan")
    assert (failed.source, failed.detail) == ("ldap", "密码不正确")


@pytest.mark.parametrize("username", ["*", "zhangsan)(uid=*", "nobody", "zhangsan\\"])
def test_filter_characters_and_unknown_names_log_nobody_in(client, directory, username):
    assert log_in(client, username).status_code == 200
    assert not DirectoryAccount.objects.exists()


def test_an_empty_password_is_never_sent_as_an_anonymous_bind(directory, rf):
    assert authenticate(rf.post("/accounts/login/"), username="zhangsan", password="") is None
    assert not DirectoryAccount.objects.exists()


def test_the_directory_cannot_take_over_a_local_account_of_the_same_name(client, directory):
    local = make_user("zhangsan")  # a local account with the local test password
    assert log_in(client, "zhangsan").status_code == 200  # the directory's password does not open it
    assert not DirectoryAccount.objects.exists()
    assert log_in(client, "zhangsan", "pw-for-tests-1").status_code == 302
    local.refresh_from_db()
    assert local.has_usable_password()


# --- mapping problems ---------------------------------------------------------------------------


def test_an_unmapped_user_logs_in_to_a_page_that_says_so_and_sees_nothing_else(client, directory):
    assert log_in(client, "zhaoliu").status_code == 302
    assert placed("zhaoliu") is None
    page = client.get(reverse("home"), follow=True)
    assert page.redirect_chain[-1][0] == reverse("accounts:unmapped")
    text = page.content.decode()
    assert "还没有对应到本平台的单位和角色" in text and "请联系省纲要办" in text
    assert "zhaoliu" in text
    for url in (reverse("targets:plan_detail"), reverse("targets:unit_list"), reverse("accounts:token_list")):
        assert client.get(url)["Location"] == reverse("accounts:unmapped")
    assert client.get("/api/v1/units/").status_code == 403
    token = client.post("/api/v1/auth/token/", {"username": "zhaoliu", "password": PASSWORD})
    assert token.status_code == 403 and not Token.objects.exists()
    login = events(AuthEventKind.LOGIN, "zhaoliu")[0]
    assert "还没有对应" in login.detail


def test_a_user_in_two_units_groups_gets_no_unit_and_is_told_why(client, directory):
    assert log_in(client, "wangwu").status_code == 302
    assert placed("wangwu") == ("kx", Role.REPORTER)
    client.post(reverse("logout"))
    directory.ldapmodify(
        f"dn: {ldap_server.group_dn('jyt')}\nchangetype: modify\nadd: member\nmember: {ldap_server.person_dn('wangwu', 'kx')}\n"
    )
    assert log_in(client, "wangwu").status_code == 302
    assert placed("wangwu") is None  # the access it had is taken away, not kept
    page = client.get(reverse("accounts:unmapped")).content.decode()
    assert "多个单位" in page and "省教育厅" in page and "省科协" in page
    change = events(AuthEventKind.ROLE_CHANGED, "wangwu")[-1]
    assert "省科协 · 填报员 → 无角色" in change.detail


def test_a_group_mapped_to_no_role_gives_no_access(client, directory):
    DirectoryMapping.objects.create(
        kind="group", value=ldap_server.group_dn("staff"), unit=Unit.objects.get(code="kx")
    )
    assert log_in(client, "zhaoliu").status_code == 302
    assert placed("zhaoliu") is None
    assert "没有对应的角色" in client.get(reverse("accounts:unmapped")).content.decode()


def test_two_roles_give_neither(client, directory):
    directory.ldapmodify(
        f"dn: {ldap_server.group_dn('approvers')}\nchangetype: modify\nadd: member\nmember: {ldap_server.person_dn('zhangsan', 'jyt')}\n"
    )
    assert log_in(client, "zhangsan").status_code == 302
    assert placed("zhangsan") is None
    assert "不同角色" in client.get(reverse("accounts:unmapped")).content.decode()


def test_an_attribute_rule_places_a_user(client, directory):
    DirectoryMapping.objects.all().delete()
    DirectoryMapping.objects.create(
        kind="attribute", attribute="departmentNumber", value="KX", unit=Unit.objects.get(code="kx")
    )
    DirectoryMapping.objects.create(
        kind="group", value=ldap_server.group_dn("reporters").upper(), role=Role.REPORTER
    )
    assert log_in(client, "wangwu").status_code == 302
    assert placed("wangwu") == ("kx", Role.REPORTER)  # values and DNs compared without case


# --- kept in step -------------------------------------------------------------------------------


def test_a_moved_user_has_the_new_unit_at_the_next_log_in(client, directory):
    assert log_in(client, "zhangsan").status_code == 302
    user = get_user_model().objects.get(username="zhangsan")
    client.post(reverse("logout"))
    move_to_kx(directory)
    assert log_in(client, "zhangsan").status_code == 302
    assert placed("zhangsan") == ("kx", Role.REPORTER)
    account = DirectoryAccount.objects.get(user=user)  # the same account, found by name under its new DN
    assert account.identifier == ldap_server.person_dn("zhangsan", "kx")
    change = events(AuthEventKind.ROLE_CHANGED, "zhangsan")[-1]
    assert change.detail == "省教育厅 · 填报员 → 省科协 · 填报员"


def test_a_disabled_user_can_no_longer_log_in_and_their_token_stops_working(client, api_client, directory):
    token = api_client.post("/api/v1/auth/token/", {"username": "lisi", "password": PASSWORD}).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/units/").status_code == 200
    assert log_in(client, "lisi").status_code == 302

    disable(directory, ldap_server.person_dn("lisi", "jyt"))
    other = client.__class__()
    response = log_in(other, "lisi")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert api_client.get("/api/v1/units/").status_code == 401
    assert not Token.objects.exists()
    assert client.get(reverse("tasks:inbox")).status_code == 302  # the open session has ended
    user = get_user_model().objects.get(username="lisi")
    assert not user.is_active and placed("lisi") is None
    assert events(AuthEventKind.DISABLED, "lisi")


def test_the_daily_sync_follows_the_directory_and_records_what_changed(client, directory):
    for username in ("zhangsan", "lisi", "wangwu", "zhaoliu"):
        assert log_in(client, username).status_code == 302
        client.post(reverse("logout"))
    Token.objects.create(user=get_user_model().objects.get(username="wangwu"))
    local = make_user("office-admin", Role.OFFICE)
    move_to_kx(directory)
    directory.ldapmodify(
        f"dn: {ldap_server.person_dn('lisi', 'jyt')}\nchangetype: modify\nreplace: sn\nsn: 黎\n-\nreplace: mail\nmail: li4@jyt.qh.gov.cn\n"
    )
    directory._tool("ldapdelete", ldap_server.person_dn("wangwu", "kx"))

    counts = sync_directory.delay().get()

    assert counts == {"checked": 4, "changed": 1, "disabled": 1, "unmapped": 1}
    assert placed("zhangsan") == ("kx", Role.REPORTER)
    lisi = get_user_model().objects.get(username="lisi")
    assert (lisi.last_name, lisi.email, placed("lisi")) == ("黎", "li4@jyt.qh.gov.cn", ("jyt", Role.APPROVER))
    wangwu = get_user_model().objects.get(username="wangwu")
    assert (
        not wangwu.is_active and not Token.objects.filter(user=wangwu).exists() and placed("wangwu") is None
    )
    assert placed("office-admin") == (None, Role.OFFICE) and local.has_usable_password()
    summary = AuthEvent.objects.filter(kind=AuthEventKind.DIRECTORY_SYNC).get()
    assert summary.actor == "目录同步" and "停用 1 个" in summary.detail
    assert [e.actor for e in events(AuthEventKind.ROLE_CHANGED, "zhangsan")][-1] == "目录同步"

    # a second run finds nothing more to do
    assert sync_directory.delay().get() == {"checked": 4, "changed": 0, "disabled": 0, "unmapped": 1}


def test_a_user_back_in_the_directory_is_enabled_again_at_log_in(client, directory):
    assert log_in(client, "lisi").status_code == 302
    client.post(reverse("logout"))
    disable(directory, ldap_server.person_dn("lisi", "jyt"))
    call_command("sync_directory")
    assert not get_user_model().objects.get(username="lisi").is_active
    directory.ldapmodify(
        f"dn: {ldap_server.person_dn('lisi', 'jyt')}\nchangetype: modify\ndelete: pwdAccountLockedTime\n"
    )
    assert log_in(client, "lisi").status_code == 302
    assert placed("lisi") == ("jyt", Role.APPROVER)
    assert events(AuthEventKind.ENABLED, "lisi")


def test_the_office_reads_the_directory_trail(client, directory, office):
    log_in(client, "zhangsan")
    log_in(client.__class__(), "zhangsan", "wrong-password")
    client.force_login(office)
    page = client.get(reverse("accounts:lockout_list")).content.decode()
    assert "LDAP目录" in page and "省教育厅 · 填报员" in page and "密码不正确" in page


# --- the directory down, slow, or with a certificate that does not verify -----------------------


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers: a directory that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"ldap://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    for connection in held:
        connection.close()
    listener.close()


@pytest.mark.parametrize("kind", ["down", "slow"])
def test_with_the_directory_down_local_accounts_log_in_and_directory_users_are_told_quickly(
    client, directory, settings, silent_server, kind
):
    log_in(client, "zhangsan")
    client.post(reverse("logout"))
    make_user("office-admin", Role.OFFICE)
    settings.LDAP_URLS = [f"ldap://127.0.0.1:{ldap_server.free_port()}" if kind == "down" else silent_server]
    settings.LDAP_TIMEOUT = 1
    settings.LDAP_CONNECT_TIMEOUT = 1

    started = time.monotonic()
    assert log_in(client, "office-admin", "pw-for-tests-1").status_code == 302
    assert time.monotonic() - started < 1  # the local account never waits for the directory
    client.post(reverse("logout"))

    started = time.monotonic()
    response = log_in(client, "zhangsan")
    assert time.monotonic() - started < 4
    assert response.status_code == 200
    assert NOT_REACHABLE in response.content.decode()
    assert placed("zhangsan") == ("jyt", Role.REPORTER)  # nothing changed for them either
    failed = AuthEvent.objects.filter(kind=AuthEventKind.LOGIN_FAILED, username="zhangsan").get()
    assert NOT_REACHABLE in failed.detail

    token = client.post("/api/v1/auth/token/", {"username": "zhangsan", "password": PASSWORD})
    assert token.status_code == 400 and NOT_REACHABLE in token.json()["detail"]

    counts = sync_directory.delay().get()
    assert "error" in counts
    assert get_user_model().objects.get(username="zhangsan").is_active
    assert "未做任何更改" in AuthEvent.objects.get(kind=AuthEventKind.DIRECTORY_SYNC).detail


def test_a_certificate_that_does_not_verify_stops_log_ins_with_a_clear_message(client, directory, settings):
    settings.LDAP_START_TLS = True
    response = log_in(client, "zhangsan")
    assert CERTIFICATE in response.content.decode()
    assert not DirectoryAccount.objects.exists()

    settings.LDAP_CA_FILE = str(directory.cert_file)  # the office names the directory's CA
    assert log_in(client, "zhangsan").status_code == 302


def test_a_sync_that_finds_none_of_the_accounts_changes_nothing(client, directory, settings):
    for username in ("zhangsan", "lisi"):
        log_in(client, username)
    settings.LDAP_USER_BASE = f"ou=nowhere,{ldap_server.SUFFIX}"  # a wrong base: not everyone has left
    counts = sync_directory.delay().get()
    assert "error" in counts
    assert get_user_model().objects.filter(is_active=True, username__in=["zhangsan", "lisi"]).count() == 2


# --- configuration and the office's mapping ------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LDAP_URL": "ldap.qh.gov.cn"}, "LDAP_URL"),
        ({"LDAP_URL": "ldap://ldap.qh.gov.cn"}, "LDAP_USER_BASE"),
        ({"LDAP_URL": "ldap://x", "LDAP_USER_BASE": "dc=x", "LDAP_USER_FILTER": "uid=*"}, "LDAP_USER_FILTER"),
        (
            {"LDAP_URL": "ldap://x", "LDAP_USER_BASE": "dc=x", "LDAP_CA_FILE": "/nonexistent.pem"},
            "LDAP_CA_FILE",
        ),
        ({"LDAP_GROUP_MEMBER_FILTER": "(member={user})"}, "LDAP_GROUP_MEMBER_FILTER"),
        ({"OIDC_RP_CLIENT_ID": "kepu"}, "OIDC_OP_TOKEN_ENDPOINT"),
    ],
)
def test_a_wrong_directory_setting_stops_start_up_and_names_the_variable(env, named):
    from tests.test_settings import load_settings

    result = load_settings(**env)
    assert result.returncode != 0
    assert named in result.stderr


def test_with_no_directory_configured_only_local_accounts_exist(client, reporter):
    from django.conf import settings

    assert settings.LDAP_URLS == [] and not settings.OIDC_ENABLED
    assert "units.ldap.LDAPBackend" not in settings.AUTHENTICATION_BACKENDS
    assert log_in(client, "jyt-reporter", "pw-for-tests-1").status_code == 302
    assert "统一身份认证" not in client.get(reverse("logout")).content.decode()


def test_the_office_imports_mapping_rules_and_a_bad_row_changes_nothing(db):
    import tablib

    from units.admin import DirectoryMappingResource

    headers = ["source", "kind", "attribute", "value", "unit", "role", "note"]
    good = tablib.Dataset(
        ["ldap", "group", "", "cn=kepu-jyt,ou=groups,dc=qh,dc=gov,dc=cn", "jyt", "", ""],
        ["ldap", "attribute", "title", "处长", "", "approver", ""],
        headers=headers,
    )
    result = DirectoryMappingResource().import_data(good, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert DirectoryMapping.objects.count() == 2

    bad = tablib.Dataset(
        ["ldap", "group", "", "cn=a,dc=x", "no-such-unit", "reporter", ""],
        ["ldap", "group", "", "cn=b,dc=x", "", "", ""],  # gives neither unit nor role
        ["ldap", "group", "", "cn=c,dc=x", "kx", "office", ""],  # the office belongs to no unit
        ["ldap", "attribute", "", "jyt", "jyt", "", ""],  # an attribute rule without the attribute
        headers=headers,
    )
    result = DirectoryMappingResource().import_data(bad, dry_run=False, raise_errors=False)
    assert result.has_errors() or result.has_validation_errors()
    assert len(result.invalid_rows) + len(result.row_errors()) == 4
    assert DirectoryMapping.objects.count() == 2  # the import is one transaction: nothing half-applied
