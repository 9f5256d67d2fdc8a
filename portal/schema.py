"""The API schema: drf-spectacular's, with the error answers every operation can give.

Its own module: DRF imports ``portal.api`` (filter backend, exception handler, permission) while
``rest_framework.generics`` is still loading, and drf-spectacular's AutoSchema imports that module.
"""

from drf_spectacular.openapi import AutoSchema

from portal.api import ERROR_SCHEMA


class PortalAutoSchema(AutoSchema):
    """drf-spectacular's schema, with the error answers every operation can give documented.

    401 (no or bad token), 403 (the role may not), 429 (throttled) anywhere; 404 where the path
    names an object; 400 where a query or a body can be wrong; 415 where a body is read. An
    operation's own description of a code (e.g. 409 with the current version) is kept.
    """

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = {
            "401": "Not logged in, or the token is not valid.",
            "403": "The user may not do this.",
            "429": "Too many requests: try again later.",
        }
        if "{" in self.path:
            codes["404"] = "No such object among those the user may read."
        has_body = self.method in ("POST", "PUT", "PATCH")
        queried = any(
            getattr(parameter, "location", None) == "query" for parameter in self.get_override_parameters()
        )
        if has_body or queried or self._is_list_view() or self.get_filter_backends():
            codes["400"] = "A bad query parameter or body (the problems, in Chinese)."
        if has_body:
            codes["415"] = "The body's content type is not one the operation reads."
        for code, description in codes.items():
            responses.setdefault(
                code,
                {"content": {"application/json": {"schema": ERROR_SCHEMA}}, "description": description},
            )
        return responses
