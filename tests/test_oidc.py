"""Log-in with an OpenID Connect provider: the whole code flow through mozilla-django-oidc against
a small provider served on localhost by the test (token, userinfo and JWKS endpoints, RS256), and
the claims placed by the same mapping rules as LDAP."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.urls import reverse

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

pytestmark = pytest.mark.django_db

CLIENT_ID, CLIENT_SECRET = "kepu-portal", "oidc-client-secret"


class Provider:
    """The provider's state: the key it signs with, and the claims each issued code stands for."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key"
        self.codes = {}  # code -> (claims, nonce)
        self.tokens = {}  # access token -> claims
        self.sign_with = self.key

    def jwks(self):
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def token(self, code, client_id):
        claims, nonce = self.codes.pop(code)
        now = int(time.time())
        id_claims = {
            "iss": self.url,
            "aud": client_id,
            "sub": claims["sub"],
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
        }
        access = uuid.uuid4().hex
        self.tokens[access] = claims
        id_token = jwt.encode(id_claims, self.sign_with, algorithm="RS256", headers={"kid": self.kid})
        return {"access_token": access, "id_token": id_token, "token_type": "Bearer", "expires_in": 300}


@pytest.fixture
def provider():
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/jwks":
                return self.reply(200, state.jwks())
            if self.path == "/userinfo":
                access = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if access in state.tokens:
                    return self.reply(200, state.tokens[access])
                return self.reply(401, {"error": "invalid_token"})
            return self.reply(404, {})

        def do_POST(self):
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            code = form.get("code", [""])[0]
            if self.path != "/token" or code not in state.codes:
                return self.reply(400, {"error": "invalid_grant"})
            return self.reply(200, state.token(code, form["client_id"][0]))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def oidc(provider, settings):
    settings.ROOT_URLCONF = "tests.oidc_urls"
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider.url}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider.url}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider.url}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider.url}/jwks"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "units.oidc.OIDCBackend"]
    DirectoryMapping.objects.create(
        source="oidc",
        kind="group",
        value="kepu-jyt-reporters",
        unit=Unit.objects.get(code="jyt"),
        role=Role.REPORTER,
    )
    DirectoryMapping.objects.create(
        source="oidc", kind="attribute", attribute="department", value="kx", unit=Unit.objects.get(code="kx")
    )
    DirectoryMapping.objects.create(source="oidc", kind="group", value="kepu-approvers", role=Role.APPROVER)
    return provider


def claims(username, groups=(), **extra):
    return {
        "sub": f"sub-{username}",
        "preferred_username": username,
        "given_name": "三",
        "family_name": "张",
        "email": f"{username}@qh.gov.cn",
        "groups": list(groups),
        **extra,
    }


def oidc_log_in(client, provider, user_claims):
    """The browser's part: to the provider and back with a code for these claims."""
    start = client.get(reverse("accounts:oidc_authentication_init"))
    assert start.status_code == 302 and start["Location"].startswith(f"{provider.url}/authorize")
    query = parse_qs(urlparse(start["Location"]).query)
    code = uuid.uuid4().hex
    provider.codes[code] = (user_claims, query["nonce"][0])
    return client.get(
        reverse("accounts:oidc_authentication_callback"), {"code": code, "state": query["state"][0]}
    )


def placed(username):
    membership = Membership.objects.filter(user__username=username).select_related("unit").first()
    return (membership.unit.code if membership.unit else None, membership.role) if membership else None


def test_the_log_in_page_offers_the_provider(client, oidc):
    page = client.get(reverse("login")).content.decode()
    assert reverse("accounts:oidc_authentication_init") in page and "使用统一身份认证登录" in page


def test_a_provider_log_in_places_the_user_by_their_groups(client, oidc):
    response = oidc_log_in(client, oidc, claims("zhangsan", ["kepu-jyt-reporters"]))
    assert response.status_code == 302 and response["Location"] == "/"
    user = get_user_model().objects.get(username="zhangsan")
    assert (user.first_name, user.last_name, user.email) == ("三", "张", "zhangsan@qh.gov.cn")
    assert placed("zhangsan") == ("jyt", Role.REPORTER)
    assert DirectoryAccount.objects.get(user=user).identifier == "sub-zhangsan"
    login = AuthEvent.objects.get(kind=AuthEventKind.LOGIN, username="zhangsan")
    assert login.source == AuthSource.OIDC
    assert client.get(reverse("tasks:inbox")).status_code == 200


def test_an_attribute_claim_and_a_role_group_combine_and_follow_the_provider(client, oidc):
    oidc_log_in(client, oidc, claims("lisi", ["kepu-approvers"], department="kx"))
    assert placed("lisi") == ("kx", Role.APPROVER)
    client.post(reverse("logout"))
    oidc_log_in(client, oidc, claims("lisi", ["kepu-jyt-reporters"], department="other"))
    assert placed("lisi") == ("jyt", Role.REPORTER)
    change = AuthEvent.objects.filter(kind=AuthEventKind.ROLE_CHANGED, username="lisi").order_by("id").last()
    assert change.detail == "省科协 · 单位审核员 → 省教育厅 · 填报员"


def test_claims_that_map_to_nothing_log_in_to_the_unmapped_page(client, oidc):
    oidc_log_in(client, oidc, claims("zhaoliu", ["someone-elses-group"]))
    assert placed("zhaoliu") is None
    assert client.get(reverse("targets:plan_detail"))["Location"] == reverse("accounts:unmapped")


def test_the_provider_cannot_take_over_a_local_account(client, oidc):
    local = make_user("office", Role.OFFICE)
    response = oidc_log_in(client, oidc, claims("office", ["kepu-jyt-reporters"]))
    assert response["Location"] == "/accounts/login/?oidc=failed"
    assert "_auth_user_id" not in client.session
    assert (
        placed("office") == (None, Role.OFFICE) and not DirectoryAccount.objects.filter(user=local).exists()
    )
    refused = AuthEvent.objects.get(kind=AuthEventKind.LOGIN_FAILED, username="office")
    assert refused.source == AuthSource.OIDC and "本地账号" in refused.detail
    assert "统一身份认证登录未成功" in client.get(response["Location"]).content.decode()


def test_an_id_token_signed_with_another_key_logs_nobody_in(client, oidc):
    oidc.sign_with = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = oidc_log_in(client, oidc, claims("zhangsan", ["kepu-jyt-reporters"]))
    assert response["Location"] == "/accounts/login/?oidc=failed"
    assert not get_user_model().objects.filter(username="zhangsan").exists()
    failed = AuthEvent.objects.get(kind=AuthEventKind.LOGIN_FAILED)
    assert failed.source == AuthSource.OIDC and "未通过校验" in failed.detail


def test_a_provider_that_cannot_be_reached_refuses_with_a_message(client, oidc, settings):
    from tests.ldap_server import free_port

    settings.OIDC_OP_TOKEN_ENDPOINT = f"http://127.0.0.1:{free_port()}/token"
    response = oidc_log_in(client, oidc, claims("zhangsan", ["kepu-jyt-reporters"]))
    assert response["Location"] == "/accounts/login/?oidc=failed"
    assert "无法连接" in AuthEvent.objects.get(kind=AuthEventKind.LOGIN_FAILED).detail
