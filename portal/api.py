"""Shared pieces of the REST API."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, plus Django validation errors as 400 so bad input never becomes a 500."""
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


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
        return super().filter_queryset(request, queryset, view)
