"""The REST API's shared machinery: errors as JSON, pagination (its per-user throttle is
lib/throttle.py).

Service errors (lib/errors.py) reach clients with the same sentences the bot and the
web pages show:
- ValidationFailed and FieldError: 400, `{"field": ["message", …]}` under the
  services' field names (a message about the whole request under "non_field_errors");
- NotFound: 404, `{"detail": "message"}` (also for other users' objects);
- Banned and QuotaExceeded: 403, `{"detail": "message"}`: the request is well formed
  but the account may not do it (now);
- any other ServiceError: 400, `{"non_field_errors": ["message"]}`.
config/api_schema.py puts these answers into the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import parsers, status
from rest_framework.exceptions import ParseError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from lib.errors import Banned, FieldError, NotFound, QuotaExceeded, ServiceError, ValidationFailed


def _field(name: str) -> str:
    return name or api_settings.NON_FIELD_ERRORS_KEY


def service_error_response(error: ServiceError) -> Response:
    if isinstance(error, ValidationFailed):
        body: dict[str, list[str]] = {}
        for field, messages in error.as_dict().items():
            body.setdefault(_field(field), []).extend(messages)
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(error, FieldError):
        return Response({_field(error.field): [error.message]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(error, NotFound):
        return Response({"detail": error.message}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(error, Banned | QuotaExceeded):
        return Response({"detail": error.message}, status=status.HTTP_403_FORBIDDEN)
    return Response(
        {api_settings.NON_FIELD_ERRORS_KEY: [error.message]}, status=status.HTTP_400_BAD_REQUEST
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: service errors as above, a body over Django's size
    limit as a JSON 400 naming the limit, the rest as DRF does."""
    if isinstance(exc, ServiceError):
        return service_error_response(exc)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {
                "detail": f"The request body is larger than {limit:,} bytes, the most this API takes."
            },
            status=status.HTTP_400_BAD_REQUEST,
        )
    return drf_exception_handler(exc, context)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested deeper than Python's parser can follow (it
    raises RecursionError) refused as malformed, with DRF's own words for a parse error."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None


class Pagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}`; `?page=` and `?page_size=` (at most 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
