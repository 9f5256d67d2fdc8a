"""Settings for the portal, read from environment variables (see .env.example).

With nothing set, the portal runs for development: SQLite in ``var/``, Celery jobs run in
process, DEBUG on. With ``DEBUG=false`` it refuses to start without ``SECRET_KEY`` and
``ALLOWED_HOSTS``.
"""

import ipaddress
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal.env import env_bool, env_file, env_int, env_ldap_filter, env_list, env_str, env_url, env_url_list


def env_rate(name: str, default: str) -> str:
    """Read a DRF throttle rate such as 30/min (periods: s, sec, m, min, h, hour, d, day)."""
    value = env_str(name, default)
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(
            f"环境变量 {name} 应为“次数/时间单位”，如 30/min，当前值为 {value!r}。"
            f" ({name} must be a rate such as 30/min: a number, /, then s, min, hour or day.)"
        )
    return value


BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
else:
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "DEBUG=false 时必须设置环境变量 SECRET_KEY（一个足够长的随机字符串）。"
            " (SECRET_KEY must be set when DEBUG=false: a long random string.)"
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DEBUG=false 时必须设置环境变量 ALLOWED_HOSTS（以逗号分隔的主机名，如 kepu.example.gov.cn）。"
            " (ALLOWED_HOSTS must be set when DEBUG=false: comma-separated host names.)"
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# HTTPS. The production recommendation is HTTPS (SECURE_SSL=true): then `manage.py check --deploy`
# is silent. On a plain-HTTP intranet leave it off; check --deploy then warns about SSL, HSTS and
# secure cookies, which is true: passwords and session cookies cross the network in clear.
SECURE_SSL = env_bool("SECURE_SSL", False)
# TLS ends at a reverse proxy (nginx) that sets X-Forwarded-Proto and appends the client's
# address to X-Forwarded-For. Only turn on behind such a proxy, and name it: the headers are read
# only from requests whose REMOTE_ADDR is in TRUSTED_PROXIES (addresses or networks), and dropped
# from any other (portal.security.TrustedProxyMiddleware), so a client reaching gunicorn directly
# cannot forge its address or scheme.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"环境变量 TRUSTED_PROXIES 应为以逗号分隔的 IP 地址或网段（如 172.18.0.1,10.0.0.0/24），{_proxy!r} 不是。"
            f" (TRUSTED_PROXIES must list IP addresses or networks; {_proxy!r} is not one.)"
        ) from None
if BEHIND_PROXY and not TRUSTED_PROXIES:
    raise ImproperlyConfigured(
        "BEHIND_PROXY=true 时必须设置 TRUSTED_PROXIES（反向代理的 IP 地址或网段，以逗号分隔）。"
        " (TRUSTED_PROXIES must name the reverse proxy's addresses when BEHIND_PROXY=true.)"
    )
SECURE_SSL_REDIRECT = SECURE_SSL
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # a load balancer may probe over plain HTTP
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_SSL else 0, minimum=0)
# The portal sits on its own host name: includeSubDomains covers only names below it, and
# preload takes effect only if someone submits the domain to the browsers' list.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_SSL)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_SSL)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Headers on every response (Django's defaults, spelled out so a reader sees them). The
# Content-Security-Policy comes from portal.security.ContentSecurityPolicyMiddleware.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Django's database sessions (the table django_session).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# Sessions end after SESSION_COOKIE_AGE seconds without a request (the expiry slides with each
# request), and by default when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60, minimum=60)
# Not on every request (a session write per request): portal.security.SessionRefreshMiddleware
# slides the expiry at most every SESSION_REFRESH_SECONDS.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 300
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A refused form gets the portal's own page (templates/403_csrf.html) in the user's language.
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "simple_history",
    "axes",
    "portal",
    "units",
    "tasks",
    "targets",
    "reports",
]

MIDDLEWARE = [
    # First: X-Forwarded-* headers count only from TRUSTED_PROXIES.
    "portal.security.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Early, so that every log line of a request carries its id.
    "portal.logging.RequestContextMiddleware",
    "portal.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A NUL character in the path, query or a form field: 400 in the user's language.
    "portal.security.NulByteMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.security.SessionRefreshMiddleware",
    # A directory user whom the mapping gives no unit and role sees only the page that says so.
    "units.middleware.DirectoryMappingMiddleware",
    # Cache-Control: no-store on everything that needs a log-in (pages, API, evidence, PDFs).
    "portal.security.NoStoreMiddleware",
    # A lock or statement timeout in a view: 503 "系统繁忙，请稍后重试" (portal/busy.py).
    "portal.busy.BusyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out log-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user@host:5432/name), SQLite in DATA_DIR otherwise.
# PostgreSQL connections persist across requests: opening one costs ~12 ms on our hardware.
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
CONN_MAX_AGE = env_int("CONN_MAX_AGE", 600, minimum=0)
# No statement may run, nor wait for a lock, for ever: past DB_STATEMENT_TIMEOUT seconds (a query)
# or DB_LOCK_TIMEOUT seconds (waiting for a row or table another transaction holds) PostgreSQL
# cancels it, the transaction is rolled back (nothing half-saved) and the user reads
# "系统繁忙，请稍后重试" (portal.busy). 0 turns a limit off. Background jobs wait longer for
# locks (JOB_LOCK_TIMEOUT, see reports.jobs): a roll-up queues behind another one.
DB_STATEMENT_TIMEOUT = env_int("DB_STATEMENT_TIMEOUT", 30, minimum=0)
DB_LOCK_TIMEOUT = env_int("DB_LOCK_TIMEOUT", 5, minimum=0)
JOB_LOCK_TIMEOUT = env_int("JOB_LOCK_TIMEOUT", 600, minimum=0)
JOB_STATEMENT_TIMEOUT = env_int("JOB_STATEMENT_TIMEOUT", 0, minimum=0)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
            f"-c statement_timeout={DB_STATEMENT_TIMEOUT * 1000} -c lock_timeout={DB_LOCK_TIMEOUT * 1000}"
        )
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "portal.sqlite3",
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Log-in: django-axes counts failed log-ins (pages, admin and the API token endpoint alike, as
# they all call authenticate() with the request) and refuses a username from an address after
# AXES_FAILURE_LIMIT failures, for AXES_COOLOFF_MINUTES; the office can unlock earlier on
# /accounts/lockouts/. Log-ins, log-outs and failures are recorded as units.models.AuthEvent.
AUTHENTICATION_BACKENDS = [
    # An address that failed AXES_ADDRESS_FAILURE_LIMIT times across user names (spraying) is refused.
    "units.auth.AddressLimitBackend",
    "axes.backends.AxesStandaloneBackend",
    "units.auth.PortalModelBackend",  # Django's ModelBackend, membership loaded with the user
]
# API tokens: each request for one issues a new key; a key stops working after API_TOKEN_DAYS, when
# its user's password changes, or when the account is deactivated (units/auth.py).
API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90, minimum=1)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
# ... and refuses an address, whatever the user names, after AXES_ADDRESS_FAILURE_LIMIT failures
# (units.auth.AddressLimitBackend): higher, as an office's many users may share one address.
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 30, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
# The pair: someone guessing from one address cannot lock the real user out everywhere.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "units.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "portal.security.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
AXES_DISABLE_ACCESS_LOG = True  # units.models.AuthEvent records log-ins and log-outs instead
AXES_ENABLE_ACCESS_FAILURE_LOG = False  # ... and failures

# Log-in with the intranet's directory (units/ldap.py): off until LDAP_URL is set. Local accounts
# are tried first and never wait for the directory; see docs/admin-guide.md for OpenLDAP and
# Active Directory examples.
LDAP_URLS = env_url_list("LDAP_URL", schemes=("ldap", "ldaps"))
LDAP_START_TLS = env_bool("LDAP_START_TLS", False)  # ldaps:// URLs use TLS from the start anyway
LDAP_CA_FILE = env_file("LDAP_CA_FILE")  # the directory's CA certificate (PEM); the system's CAs if empty
LDAP_CONNECT_TIMEOUT = env_int("LDAP_CONNECT_TIMEOUT", 3, minimum=1)
LDAP_TIMEOUT = env_int("LDAP_TIMEOUT", 5, minimum=1)
LDAP_BIND_DN = env_str("LDAP_BIND_DN")
LDAP_BIND_PASSWORD = env_str("LDAP_BIND_PASSWORD")
LDAP_USER_BASE = env_str("LDAP_USER_BASE")
LDAP_USER_FILTER = env_ldap_filter("LDAP_USER_FILTER", "(objectClass=inetOrgPerson)")
LDAP_USERNAME_ATTR = env_str("LDAP_USERNAME_ATTR", "uid")
LDAP_FIRST_NAME_ATTR = env_str("LDAP_FIRST_NAME_ATTR", "givenName")
LDAP_LAST_NAME_ATTR = env_str("LDAP_LAST_NAME_ATTR", "sn")
LDAP_EMAIL_ATTR = env_str("LDAP_EMAIL_ATTR", "mail")
LDAP_GROUP_BASE = env_str("LDAP_GROUP_BASE")
LDAP_GROUP_FILTER = env_ldap_filter(
    "LDAP_GROUP_FILTER", "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))"
)
LDAP_GROUP_MEMBER_FILTER = env_ldap_filter("LDAP_GROUP_MEMBER_FILTER", "(|(member={dn})(uniqueMember={dn}))")
try:
    LDAP_GROUP_MEMBER_FILTER.format(dn="", username="")
except (KeyError, IndexError, ValueError):
    raise ImproperlyConfigured(
        f"环境变量 LDAP_GROUP_MEMBER_FILTER 只能使用 {{dn}} 和 {{username}} 两个占位符，当前值为 {LDAP_GROUP_MEMBER_FILTER!r}。"
        " (LDAP_GROUP_MEMBER_FILTER may use only the {dn} and {username} placeholders.)"
    ) from None
if LDAP_URLS and not LDAP_USER_BASE:
    raise ImproperlyConfigured(
        "设置了 LDAP_URL 时必须设置 LDAP_USER_BASE（查找用户的目录位置，如 ou=people,dc=qh,dc=gov,dc=cn）。"
        " (LDAP_USER_BASE must be set when LDAP_URL is.)"
    )
if LDAP_URLS:
    AUTHENTICATION_BACKENDS.append("units.ldap.LDAPBackend")

# Log-in with an OpenID Connect provider (units/oidc.py, mozilla-django-oidc): off until
# OIDC_RP_CLIENT_ID is set; then the provider's endpoints are required.
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_url("OIDC_OP_AUTHORIZATION_ENDPOINT", schemes=("https", "http"))
OIDC_OP_TOKEN_ENDPOINT = env_url("OIDC_OP_TOKEN_ENDPOINT", schemes=("https", "http"))
OIDC_OP_USER_ENDPOINT = env_url("OIDC_OP_USER_ENDPOINT", schemes=("https", "http"))
OIDC_OP_JWKS_ENDPOINT = env_url("OIDC_OP_JWKS_ENDPOINT", schemes=("https", "http"))
OIDC_RP_SIGN_ALGO = env_str("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid email profile")
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_VERIFY_SSL = True  # never off: the provider's certificate must verify
OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 5, minimum=1)
OIDC_CREATE_USER = True  # units.oidc creates the user only when the mapping allows it
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?oidc=failed"
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if OIDC_ENABLED:
    required = {
        "OIDC_RP_CLIENT_SECRET": OIDC_RP_CLIENT_SECRET,
        "OIDC_OP_AUTHORIZATION_ENDPOINT": OIDC_OP_AUTHORIZATION_ENDPOINT,
        "OIDC_OP_TOKEN_ENDPOINT": OIDC_OP_TOKEN_ENDPOINT,
        "OIDC_OP_USER_ENDPOINT": OIDC_OP_USER_ENDPOINT,
    }
    if OIDC_RP_SIGN_ALGO.startswith(("RS", "ES")):
        required["OIDC_OP_JWKS_ENDPOINT"] = OIDC_OP_JWKS_ENDPOINT
    missing = [name for name, value in required.items() if not value]
    if missing:
        raise ImproperlyConfigured(
            f"设置了 OIDC_RP_CLIENT_ID 时还必须设置：{'、'.join(missing)}。"
            f" (With OIDC_RP_CLIENT_ID set, these must be set too: {', '.join(missing)}.)"
        )
    AUTHENTICATION_BACKENDS.append("units.oidc.OIDCBackend")
# Whom a directory user without a unit and role should ask, shown on their page (e.g. a phone number).
DIRECTORY_CONTACT = env_str("DIRECTORY_CONTACT")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Chinese first; English is the interface's second language.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Celery: a broker URL means real workers; none means jobs run in process (development).
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", schemes=("redis", "rediss", "amqp", "memory"), default=REDIS_URL
)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Without a broker, a queued run (a report, a roll-up) runs in a thread of the web process, so
# the page returns at once and shows the run's progress (reports.jobs.enqueue). Tests turn it off.
JOBS_IN_THREAD = env_bool("JOBS_IN_THREAD", True)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING (JSON in production)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Publishing to a broker that is down fails fast: the run stays queued in the database and the
# sweeper sends it later, so a request never hangs on Redis.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Roll-up and report runs (reports.jobs): a running run's worker writes a heartbeat every
# JOB_HEARTBEAT_SECONDS; a run whose heartbeat is older than JOB_STALE_SECONDS lost its worker and
# is queued again by the sweep (every two minutes), up to JOB_MAX_ATTEMPTS tries, then failed.
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 15, minimum=1)
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 180, minimum=2)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3, minimum=1)
if JOB_STALE_SECONDS <= 2 * JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "JOB_STALE_SECONDS 须大于 JOB_HEARTBEAT_SECONDS 的两倍，否则正常运行的任务会被误判为中断。"
        " (JOB_STALE_SECONDS must be more than twice JOB_HEARTBEAT_SECONDS.)"
    )

# E-mail: SMTP when EMAIL_HOST is set, the console otherwise (many intranets have none).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kepu-portal@localhost")
# E-mails are sent by a worker (tasks.mail), never inside a request: each socket operation gives
# up after EMAIL_TIMEOUT seconds, and a transient failure is tried again EMAIL_MAX_RETRIES times.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
EMAIL_MAX_RETRIES = env_int("EMAIL_MAX_RETRIES", 5, minimum=0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call then gets 401 with "WWW-Authenticate: Token".
        "units.auth.PortalTokenAuthentication",  # DRF's, membership loaded with the user
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.permissions.PolicyPermission"],  # asks units.policy
    "DEFAULT_FILTER_BACKENDS": ["portal.api.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "portal.schema.PortalAutoSchema",  # documents our 400/401/403/404/429 answers
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
    # Rates are read at each request (portal.security), so tests can change them.
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.security.AnonRateThrottle",
        "portal.security.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", "30/min"),
        "user": env_rate("API_THROTTLE_USER", "600/min"),
        "token": env_rate("API_THROTTLE_TOKEN", "10/min"),  # /api/v1/auth/token/, per client address
    },
    # The throttles identify a client as the lock-out does (portal.security.client_ip):
    # X-Forwarded-For only from TRUSTED_PROXIES.
    "NUM_PROXIES": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "青海省全民科学素质行动实施进展平台 API",
    "DESCRIPTION": "Read the plan, targets and progress of the Qinghai scientific-literacy plan.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["portal.permissions.PolicyPermission"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SubmissionStatusEnum": "tasks.choices.SubmissionStatus",
        "MeasureStatusEnum": "tasks.choices.MeasureStatus",
        # Named here so the schema (and `check --deploy`, which builds it) has no naming warnings.
        "RunStatusEnum": "reports.choices.RunStatus",
        "ReportKindEnum": "reports.choices.ReportKind",
        "RegionLevelEnum": "units.choices.RegionLevel",
    },
}

IMPORT_EXPORT_USE_TRANSACTIONS = True
SIMPLE_HISTORY_HISTORY_ID_USE_UUID = False

# Logs go to standard error: "json" (one object per line: time, level, logger, message,
# request_id, user_id, path, status; the default in production) or "plain" (for people).
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json").lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(
        f"环境变量 LOG_FORMAT 应为 json 或 plain，当前值为 {LOG_FORMAT!r}。 (LOG_FORMAT must be json or plain.)"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "portal.logging.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "portal.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # axes' INFO lines repeat what portal.auth logs; its warnings (lock-outs) stay.
        "axes": {"level": "WARNING"},
    },
}

# The plan load_plan loads (and docker compose's migrate step reloads): the 2021-2025 plan by
# default; point it at the next plan's fixture when that plan starts.
PLAN_FILE = Path(env_str("PLAN_FILE", str(BASE_DIR / "fixtures" / "plan-2021-2025.json")))

# Reporting rules the office may tune per deployment.
# Days after a quarter ends until its reporting deadline.
REPORTING_DEADLINE_DAYS = env_int("REPORTING_DEADLINE_DAYS", 10, minimum=0)
# A figure more than this many times (or under 1/this of) the unit's previous approved figure
# needs an explanation before the form can be submitted.
REPORTING_JUMP_RATIO = env_int("REPORTING_JUMP_RATIO", 3, minimum=2)
# Largest evidence file accepted, in megabytes.
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_MB", 20, minimum=1) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Caches: Redis when configured (shared by every web process), otherwise memory for "default"
# and files under DATA_DIR for "pages", so that a roll-up run by another process (a worker, a
# cron job) retires the web process's cached bodies too. "pages" holds rendered bodies under the
# version tokens that committed roll-ups and reporting records bump (portal/page_cache.py).
# Short socket timeouts: an unreachable Redis makes a page slower, never hangs it.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        },
        "pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "pages",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache" / "pages"),
        },
    }
