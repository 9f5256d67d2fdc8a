"""Structured logs: each request gets an id, and each log line says which request it belongs to.

``RequestContextMiddleware`` gives a request its id (the proxy's ``X-Request-ID`` when it is a
sane value, a new one otherwise) and sends it back in the response's ``X-Request-ID``.
``RequestContextFilter`` puts ``request_id``, ``user_id`` and ``path`` on every log record made
while the request runs, and ``JsonFormatter`` writes a record as one JSON object per line.

This module is loaded while logging is configured, before the apps: it must not import models.
"""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

_current_request = contextvars.ContextVar("portal_current_request", default=None)

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# Attributes every LogRecord has: anything else on a record came from ``extra=`` and is logged.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request",  # django.request puts the HttpRequest itself here: we log its parts instead
    "server_time",
    "taskName",
}


class RequestContextMiddleware:
    """Give each request an id, visible in its log lines and in the ``X-Request-ID`` header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = offered if _SANE_ID.fullmatch(offered) else uuid.uuid4().hex
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        response.headers.setdefault(REQUEST_ID_HEADER, request.request_id)
        return response


def _user_id(request):
    """The id of the request's user if it is already known; never queries the database."""
    user = getattr(request, "_cached_user", None)  # set once AuthenticationMiddleware's lazy user is read
    if user is None:
        candidate = request.__dict__.get("user")  # DRF puts the token's user here, not lazily
        if candidate is not None and type(candidate).__name__ != "SimpleLazyObject":
            user = candidate
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


class RequestContextFilter(logging.Filter):
    """Add request_id, user_id and path to a record made during a request (None outside one)."""

    def filter(self, record):
        request = getattr(record, "request", None)
        if not hasattr(request, "META"):
            request = _current_request.get()
        record.request_id = getattr(request, "request_id", None)
        record.user_id = _user_id(request) if request is not None else None
        record.path = getattr(request, "path", None)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the request's context.

    ``status`` is the response's status code on django.request's lines; fields given with
    ``extra=`` (``event``, ``username``, ...) are added when they are plain values.
    """

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
            "path": getattr(record, "path", None),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        for key, value in vars(record).items():
            if key in _STANDARD_ATTRIBUTES or key in entry or key == "status_code":
                continue
            if isinstance(value, str | int | float | bool) or value is None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
