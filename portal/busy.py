"""A database that is too busy answers in Chinese, never with a hang or a 500.

PostgreSQL cancels a statement that runs longer than ``DB_STATEMENT_TIMEOUT`` or waits longer
than ``DB_LOCK_TIMEOUT`` for a lock (settings: the connection's ``options``). The transaction it
was in is rolled back by its ``atomic`` block, so nothing is half-saved; the user gets 503 with
"系统繁忙，请稍后重试" (a page, or JSON for the API and the form's autosave) and Retry-After.
"""

import logging

from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

log = logging.getLogger("portal.busy")

# SQLSTATEs of a cancelled statement: lock_not_available (lock_timeout), query_canceled
# (statement_timeout).
BUSY_SQLSTATES = {"55P03", "57014"}
RETRY_AFTER_SECONDS = 10


def is_busy(exc) -> bool:
    """Whether ``exc`` (or what it wraps) is PostgreSQL giving up on a lock or a slow statement."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        code = getattr(exc, "pgcode", None) or getattr(exc, "sqlstate", None)
        if code in BUSY_SQLSTATES:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def busy_message() -> str:
    return _("系统繁忙，请稍后重试。您这次的操作没有保存任何内容。")


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return (
        request.path.startswith("/api/")
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
        or ("application/json" in accept and "text/html" not in accept)
    )


def plain_error_response(request, status, title, message, headers=None):
    """A page (or JSON) that needs no database: shown when the database is the problem."""
    if wants_json(request):
        response = JsonResponse({"detail": message}, status=status, json_dumps_params={"ensure_ascii": False})
    else:
        body = render_to_string("portal/plain_error.html", {"title": title, "message": message})
        response = HttpResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def busy_response(request):
    return plain_error_response(
        request,
        503,
        _("系统繁忙"),
        busy_message(),
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class BusyMiddleware:
    """Turn a cancelled statement in a view into 503 "系统繁忙，请稍后重试"."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_busy(exception):
            return None
        log.warning("database busy, request refused: %s %s (%s)", request.method, request.path, exception)
        return busy_response(request)
