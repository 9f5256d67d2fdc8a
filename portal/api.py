"""Shared pieces of the REST API."""

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.busy import RETRY_AFTER_SECONDS, busy_message, is_busy


def exception_handler(exc, context):
    """DRF's handler, plus Django validation errors as 400, database conflicts as 409 and a busy
    database (lock or statement timeout) as 503, so bad input or load never becomes a 500."""
    if is_busy(exc):
        # A lock or statement timeout: the transaction was rolled back, nothing was saved.
        return Response(
            {"detail": busy_message()},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        # A database rule refused the write (e.g. two people at once): nothing was saved.
        return Response(
            {"detail": _("保存失败：数据与已有记录冲突（可能有他人同时操作），未做任何更改，请刷新后重试。")},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


def body_value(request, name):
    """One field of the request's body; a body that is not an object (a JSON list, a number) is a
    400 with a message, not an AttributeError."""
    if not isinstance(request.data, Mapping):
        raise ValidationError({"detail": _('请求内容应为 JSON 对象，如 {"%(name)s": …}。') % {"name": name}})
    return request.data.get(name)


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, but an unknown query parameter is a 400, not silently ignored.

    A typo in a filter name would otherwise return the whole, unfiltered list, which a
    caller can mistake for the answer.
    """

    always_allowed = frozenset({"limit", "offset", "format", "page", "page_size"})

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        known = set(filterset_class.base_filters) if filterset_class else set()
        allowed = self.always_allowed | set(getattr(view, "extra_query_params", ()))
        unknown = sorted(set(request.query_params) - known - allowed)
        if unknown:
            raise ValidationError(
                {
                    "detail": _("不支持的查询参数：%(names)s。") % {"names": "、".join(unknown)},
                    "unknown": unknown,
                }
            )
        self.check_paging(request)
        return super().filter_queryset(request, queryset, view)

    MAX_LIMIT = 1000

    def check_paging(self, request):
        """limit and offset are plain integers, the limit at most MAX_LIMIT: a limit beyond what the
        database's integers hold would otherwise reach the query and fail there (a 500)."""
        limit, offset = request.query_params.get("limit"), request.query_params.get("offset")
        if limit is not None and not (
            limit.isascii() and limit.isdigit() and 0 < int(limit) <= self.MAX_LIMIT
        ):
            raise ValidationError(
                {"limit": [_("limit（每页条数）应为 1 到 %(max)s 之间的整数。") % {"max": self.MAX_LIMIT}]}
            )
        if offset is not None and not (offset.isascii() and offset.isdigit()):
            raise ValidationError({"offset": [_("offset（起始位置）应为不小于 0 的整数。")]})


# What every error answer looks like: {"detail": "…"} or {"detail": ["…", …]}, or, for bad fields,
# {"<field>": ["…"], …} as DRF's validation gives them.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    },
    "additionalProperties": True,
}
