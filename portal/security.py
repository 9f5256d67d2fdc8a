"""Security pieces shared by pages and API: the Content-Security-Policy and the API throttles.

The policy allows scripts, styles and images from the portal itself only: no inline
``<script>``, no ``onclick=`` handlers, no ``style=""`` attributes, nothing from a CDN (an
intranet has none). SVG presentation attributes (``fill=``, ``stroke=``) are not styles and
stay allowed. Django 6 brings its own CSP middleware; until then this small one does.
"""

import functools
import ipaddress
import json
import logging
import threading
import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache as shared_cache
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext as _
from rest_framework import throttling
from rest_framework.settings import api_settings

log = logging.getLogger("portal.security")


# Proxies ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _networks(proxies: tuple) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def is_trusted_proxy(address: str | None) -> bool:
    """Whether ``address`` is one of ``TRUSTED_PROXIES`` (addresses or networks such as 10.0.0.0/24)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or, when the request came from one of our proxies
    (``BEHIND_PROXY`` and REMOTE_ADDR in ``TRUSTED_PROXIES``), the nearest address in
    X-Forwarded-For that is not one of our proxies. A client talking to gunicorn directly (a
    published port) cannot forge its address: its X-Forwarded-For is not read at all. None when
    the address is not a valid IP address."""
    address = request.META.get("REMOTE_ADDR")
    if settings.BEHIND_PROXY and is_trusted_proxy(address):
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            address = hop
            if not is_trusted_proxy(hop):
                break
    try:
        validate_ipv46_address(address or "")
    except ValidationError:
        return None
    return address


FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
)


class TrustedProxyMiddleware:
    """First of all: drop the X-Forwarded-* headers of a request that did not come from one of
    our proxies, so that nothing further down (Django's SECURE_PROXY_SSL_HEADER, the throttles,
    the log-in lock-out) can be fooled by a client that reaches gunicorn directly."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not (settings.BEHIND_PROXY and is_trusted_proxy(request.META.get("REMOTE_ADDR"))):
            for header in FORWARDED_HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)

# The Swagger UI (drf-spectacular) at /api/docs/: its scripts are files served by the portal
# (drf-spectacular-sidecar, and the page's own script as /api/docs/?script, see
# SpectacularSwaggerSplitView), so script-src stays 'self'. Only its template's small inline
# <style> block needs 'unsafe-inline' for styles, on that one page.
API_DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
RELAXED_PATHS = ("/api/docs/",)


def content_security_policy(path: str) -> str:
    """The policy for a page at ``path``."""
    if path in RELAXED_PATHS:
        return API_DOCS_CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY


class ContentSecurityPolicyMiddleware:
    """Add the Content-Security-Policy header to every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code >= 400:
            # Django's technical 404/500 pages (DEBUG only) are built on inline styles and scripts.
            return response
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request.path))
        return response


class ThrottleCache:
    """Where the API throttles count: the shared cache (Redis in production, so every web process
    counts together), or, while it fails, this process's memory.

    A Redis that is down must not turn every API call into a 500: the throttles then count per
    process (a client gets at most its rate in each gunicorn worker), a warning is logged, and for
    ``RETRY_SECONDS`` the shared cache is not asked again, so an unreachable Redis costs one
    connection timeout, not one per request.
    """

    RETRY_SECONDS = 30

    def __init__(self):
        self.local = LocMemCache("portal-throttle-fallback", {"OPTIONS": {"MAX_ENTRIES": 10000}})
        self.down_until = 0.0
        self.lock = threading.Lock()

    def _shared_is_down(self) -> bool:
        return time.monotonic() < self.down_until

    def _degrade(self, exc):
        with self.lock:
            first = not self._shared_is_down()
            self.down_until = time.monotonic() + self.RETRY_SECONDS
        if first:
            log.warning(
                "API throttles count per process: the shared cache is unavailable (%s: %s)",
                type(exc).__name__,
                exc,
            )

    def get(self, key, default=None):
        if not self._shared_is_down():
            try:
                return shared_cache.get(key, default)
            except Exception as exc:  # redis-py raises ConnectionError, TimeoutError, ...
                self._degrade(exc)
        return self.local.get(key, default)

    def set(self, key, value, timeout=None):
        if not self._shared_is_down():
            try:
                return shared_cache.set(key, value, timeout)
            except Exception as exc:
                self._degrade(exc)
        return self.local.set(key, value, timeout)

    def clear_local(self):
        self.local.clear()
        self.down_until = 0.0


throttle_cache = ThrottleCache()


class LiveRatesMixin:
    """Read the rates from the settings at each request, and count in ``throttle_cache``.

    DRF copies DEFAULT_THROTTLE_RATES onto the throttle class when it is imported, so a later
    change of the settings (a test's ``settings`` fixture) would go unseen.
    """

    cache = throttle_cache

    @property
    def THROTTLE_RATES(self):  # the name DRF's SimpleRateThrottle reads
        return api_settings.DEFAULT_THROTTLE_RATES

    def get_ident(self, request):
        """The client's address as the log-in lock-out sees it (``client_ip``)."""
        return client_ip(request) or request.META.get("REMOTE_ADDR") or ""


class AnonRateThrottle(LiveRatesMixin, throttling.AnonRateThrottle):
    """Anonymous API calls, per client address (rate "anon")."""


class UserRateThrottle(LiveRatesMixin, throttling.UserRateThrottle):
    """Calls of a logged-in user or token, per user (rate "user")."""


class ScopedRateThrottle(LiveRatesMixin, throttling.ScopedRateThrottle):
    """Calls of a view with ``throttle_scope``, per user or client address (rate of that scope)."""


class SessionRefreshMiddleware:
    """Slide a logged-in session's expiry, but write the session at most every few minutes.

    ``SESSION_SAVE_EVERY_REQUEST`` would cost a database write on every request; refreshing a
    timestamp every ``SESSION_REFRESH_SECONDS`` keeps inactivity expiry accurate to within that.
    """

    KEY = "_refreshed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        # Only sessions that carry a log-in: an API call with a token must not create one.
        if session is not None and user is not None and user.is_authenticated and SESSION_KEY in session:
            now = int(time.time())
            last = session.get(self.KEY, 0)
            if now - last >= settings.SESSION_REFRESH_SECONDS:
                session[self.KEY] = now  # marks the session modified: saved, cookie re-sent
        return response


def mark_session_fresh(sender, request, user, **kwargs):
    """At log-in the session is new: no refresh needed on the next request."""
    if request is not None and hasattr(request, "session"):
        request.session[SessionRefreshMiddleware.KEY] = int(time.time())


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (and ``private``) on every answer that needs a log-in.

    Pages of a logged-in user, every API response, evidence files and PDF reports must not stay
    in a browser's or a proxy's cache, where the next person at a shared office computer (or the
    proxy's disk) would find them. Static files (whitenoise, before this) keep their long cache.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)  # an API token's user too: DRF sets it on the request
        if request.path.startswith("/api/") or (user is not None and user.is_authenticated):
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


class NulByteMiddleware:
    """Refuse a NUL character anywhere in the request's path, query or form fields: 400 in Chinese.

    PostgreSQL cannot store or even compare text holding one, so it would otherwise fail deep in
    a view (a 500), or be dropped silently. Uploaded files are not looked at (a PDF is full of NUL
    bytes); a JSON body is read as JSON, and a NUL in any of its strings is refused too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self.has_nul(request):
            from portal.busy import plain_error_response

            return plain_error_response(
                request,
                400,
                _("请求无效"),
                _("请求中含有不允许的空字符（NUL，\\0），未做任何处理。请删除该字符后重试。"),
            )
        return self.get_response(request)

    @classmethod
    def has_nul(cls, request) -> bool:
        if "\x00" in request.path or "\x00" in request.path_info:
            return True
        if any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            return True
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        content_type = request.content_type or ""
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            # (An uploaded file's name is not refused: tasks.evidence.safe_name drops the character.)
            return any(
                "\x00" in key or any("\x00" in value for value in values)
                for key, values in request.POST.lists()
            )
        if content_type == "application/json" or content_type.endswith("+json"):
            try:
                body = request.body
            except Exception:  # too large: the view answers that
                return False
            if b"\x00" in body:
                return True
            if b"\\u0000" not in body.lower():
                return False
            try:
                return cls._json_has_nul(json.loads(body))
            except ValueError:
                return False  # not JSON: the view answers that
        return False

    @classmethod
    def _json_has_nul(cls, value) -> bool:
        if isinstance(value, str):
            return "\x00" in value
        if isinstance(value, dict):
            return any(cls._json_has_nul(k) or cls._json_has_nul(v) for k, v in value.items())
        if isinstance(value, list):
            return any(cls._json_has_nul(v) for v in value)
        return False
