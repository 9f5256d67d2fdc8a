"""Deployment settings, security headers, the content security policy, sessions, throttling,
/healthz and structured logs."""

import io
import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from portal.logging import JsonFormatter, RequestContextFilter
from tasks import services
from tests.factories import open_period
from units.models import Unit

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent

STRICT_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counters live in the default cache (local memory in tests): start each test at zero."""
    cache.clear()
    yield
    cache.clear()


def run_manage(*args, **env):
    """Run manage.py in a fresh interpreter with production-like variables."""
    variables = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    variables.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="kepu.example.gov.cn",
        LOG_FORMAT="plain",
    )
    variables.update(env)
    # The browser tests' switch (DJANGO_ALLOW_ASYNC_UNSAFE) is never set in a deployment.
    variables.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=variables,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- deployment check -------------------------------------------------------------------------


def test_check_deploy_reports_no_issues_with_https_production_settings():
    result = run_manage(
        "check", "--deploy", SECURE_SSL="true", BEHIND_PROXY="true", TRUSTED_PROXIES="172.18.0.1"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_warns_about_plain_http_so_https_stays_the_recommendation():
    result = run_manage("check", "--deploy", SECURE_SSL="false")
    output = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output


def test_secure_ssl_turns_on_hsts_secure_cookies_and_the_redirect():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SECURE_PROXY_SSL_HEADER)"
    )

    def settings_with(**env):
        variables = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "LOG_FORMAT": "plain", **env}
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=variables, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert settings_with(SECURE_SSL="true", BEHIND_PROXY="true", TRUSTED_PROXIES="172.18.0.1") == (
        "True True True 31536000 True True ('HTTP_X_FORWARDED_PROTO', 'https')"
    )
    assert settings_with(SECURE_SSL="false", BEHIND_PROXY="false") == "False False False 0 False False None"


# --- headers ----------------------------------------------------------------------------------


def assert_security_headers(response):
    assert response["Content-Security-Policy"] == STRICT_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_page_carries_the_security_headers(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_security_headers(response)


def test_an_api_response_carries_the_security_headers(api_client, reporter):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=reporter).key}")
    response = api_client.get("/api/v1/plans/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_a_sane_request_id_from_the_proxy_is_kept_and_a_forged_one_replaced(client):
    assert client.get(reverse("login"), HTTP_X_REQUEST_ID="lb-42.a")["X-Request-ID"] == "lb-42.a"
    replaced = client.get(reverse("login"), HTTP_X_REQUEST_ID="<script>")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


# --- content security policy: our pages need no inline script ----------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def assert_no_inline_script(response):
    html = response.content.decode()
    assert response["Content-Security-Policy"] == STRICT_POLICY
    assert INLINE_SCRIPT.findall(html) == []
    assert EVENT_HANDLER.findall(html) == []


def test_the_checks_spot_inline_scripts_and_handlers():
    assert INLINE_SCRIPT.findall('<p>x</p><script>alert(1)</script><script src="/static/a.js"></script>')
    assert EVENT_HANDLER.findall('<button onclick="go()">go</button>')
    assert not INLINE_SCRIPT.findall('<script src="/static/js/autosave.js" defer></script>')


def test_the_plan_page_needs_no_inline_script(client, viewer):
    client.force_login(viewer)
    response = client.get(reverse("targets:plan_detail"))
    assert response.status_code == 200
    assert_no_inline_script(response)


def test_the_dashboard_needs_no_inline_script(client, office):
    client.force_login(office)
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    assert_no_inline_script(response)


def test_the_quarterly_form_needs_no_inline_script(client, reporter):
    submission = services.ensure_submission(Unit.objects.get(code="jyt"), open_period(), by=reporter)
    client.force_login(reporter)
    response = client.get(reverse("targets:submission_detail", args=[submission.pk]))
    assert response.status_code == 200
    assert b"js/autosave.js" in response.content  # the form's script is a file, which the policy allows
    assert_no_inline_script(response)


def test_the_api_docs_work_with_local_scripts_only(client, reporter):
    client.force_login(reporter)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert INLINE_SCRIPT.findall(html) == []
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert len(sources) == 3
    assert all(src.startswith("/") and not src.startswith("//") for src in sources)
    assert any("swagger-ui-bundle.js" in src for src in sources)
    # The page's own script comes from the portal, as a file.
    script = client.get("/api/docs/?script")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
    # Only styles are relaxed on that page (drf-spectacular's template has an inline <style>).
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self' 'unsafe-inline'" in policy


# --- sessions ---------------------------------------------------------------------------------


def test_the_session_cookie_is_http_only_lax_and_ends_with_the_browser(client, reporter):
    response = client.post(reverse("login"), {"username": "jyt-reporter", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # a browser-session cookie


def test_a_session_expires_after_eight_idle_hours_and_use_extends_it(client, reporter, settings):
    """The expiry slides, refreshed at most every SESSION_REFRESH_SECONDS (no write per request)."""
    client.force_login(reporter)
    session = Session.objects.get()
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() + timedelta(minutes=5))

    assert client.get(reverse("targets:plan_detail")).status_code == 200  # refreshed at log-in: no write
    assert Session.objects.get(pk=session.pk).expire_date - timezone.now() < timedelta(minutes=6)

    settings.SESSION_REFRESH_SECONDS = 0  # as if the refresh interval has passed
    assert client.get(reverse("targets:plan_detail")).status_code == 200
    renewed = Session.objects.get(pk=session.pk).expire_date
    assert timedelta(hours=7, minutes=59) < renewed - timezone.now() <= timedelta(hours=8)


def test_an_idle_session_past_its_expiry_is_logged_out(client, reporter):
    client.force_login(reporter)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("targets:plan_detail"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- throttling -------------------------------------------------------------------------------


def with_rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def test_the_token_endpoint_is_throttled_with_a_json_reason(api_client, reporter, settings):
    with_rates(settings, token="2/min")
    for _ in range(2):
        response = api_client.post(
            "/api/v1/auth/token/", {"username": "jyt-reporter", "password": "pw-for-tests-1"}
        )
        assert response.status_code == 200
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "jyt-reporter", "password": "pw-for-tests-1"}
    )
    assert response.status_code == 429
    assert "detail" in response.json()
    assert int(response["Retry-After"]) > 0


def test_api_calls_are_throttled_per_user(api_client, reporter, other_reporter, settings):
    with_rates(settings, user="3/min")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=reporter).key}")
    assert [api_client.get("/api/v1/units/").status_code for _ in range(4)] == [200, 200, 200, 429]
    # another user has their own allowance
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other_reporter).key}")
    assert api_client.get("/api/v1/units/").status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_throttle(api_client, reporter, settings):
    with_rates(settings, token="1/min")
    credentials = {"username": "jyt-reporter", "password": "pw-for-tests-1"}
    assert (
        api_client.post("/api/v1/auth/token/", credentials, HTTP_X_FORWARDED_FOR="10.9.9.1").status_code
        == 200
    )
    assert (
        api_client.post("/api/v1/auth/token/", credentials, HTTP_X_FORWARDED_FOR="10.9.9.2").status_code
        == 429
    )


# --- /healthz ---------------------------------------------------------------------------------


def closed_port():
    """A local TCP port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_healthz_is_ok_without_a_broker_and_needs_no_login(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "not configured"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_ok_when_the_broker_answers(client, settings):
    settings.CELERY_BROKER_URL = "memory://"
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_degraded_but_up_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "broker": "unreachable"}


def test_healthz_is_503_when_the_database_is_down(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = ""

    def refuse():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable", "broker": "not configured"}


# --- structured logs --------------------------------------------------------------------------


@pytest.fixture
def json_log():
    """Capture every log line of the test as the production JSON handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_log_lines_are_json_with_the_request_context(client, reporter, json_log):
    client.force_login(reporter)
    url = reverse("targets:submission_detail", args=[987654])  # a logged-in page: 404, not ours
    response = client.get(url)
    assert response.status_code == 404

    lines = json_log()
    not_found = next(line for line in lines if line["logger"] == "django.request")
    assert not_found["level"] == "WARNING"
    assert not_found["status"] == 404
    assert not_found["path"] == url
    assert not_found["request_id"] == response["X-Request-ID"]
    assert not_found["user_id"] == reporter.pk
    assert not_found["message"] == f"Not Found: {url}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", not_found["time"])


def test_a_failed_log_in_is_logged_with_the_username_and_never_the_password(client, reporter, json_log):
    client.post(reverse("login"), {"username": "jyt-reporter", "password": "Secret-guess-123"})
    lines = json_log()
    failure = next(line for line in lines if line.get("event") == "login_failed")
    assert failure["level"] == "INFO"
    assert failure["logger"] == "portal.auth"
    assert failure["username"] == "jyt-reporter"
    assert failure["path"] == reverse("login")
    assert "Secret-guess-123" not in json.dumps(lines, ensure_ascii=False)


def test_error_pages_carry_the_policy_too(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Security-Policy"] == STRICT_POLICY
