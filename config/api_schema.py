"""The OpenAPI schema's view of every API operation: its success answer and its errors.

A module of its own: drf-spectacular imports DRF's views, which import config.api (the
throttle and the exception handler) through DRF's settings.
"""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

# {"detail": "message"}: DRF's own errors (401, 403, 404, 405, 415, 429) and NotFound,
# Banned and QuotaExceeded from the services.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# {"field": ["message", …]}; a request body that is not JSON gets {"detail": "message"}.
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
    },
}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error answers each operation can give."""

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        error = self._error_component("Error", ERROR_SCHEMA)
        errors: dict[str, str] = {
            "401": "No credentials, or a token that is not valid or has been revoked.",
            "403": "Not allowed: a session request without its CSRF token, a banned "
            "account, or a quota that is full.",
            "429": "Too many requests; `Retry-After` says when to try again.",
        }
        has_body = self.method in {"POST", "PUT", "PATCH"}
        if has_body or "{" in self.path or self._is_list_view() or self.method == "DELETE":
            errors["400"] = "The request is not valid: the messages are under the fields."
        if "{" in self.path or self._is_list_view():
            errors["404"] = "No such object of yours (or no such page)."
        if has_body:
            errors["415"] = "The request body is not JSON."
        for code, description in errors.items():
            schema = (
                self._error_component("ValidationError", VALIDATION_ERROR_SCHEMA)
                if code == "400"
                else error
            )
            responses.setdefault(
                code,
                {"description": description, "content": {"application/json": {"schema": schema}}},
            )
        return responses

    def _error_component(self, name: str, schema: dict[str, Any]) -> dict[str, str]:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return component.ref
