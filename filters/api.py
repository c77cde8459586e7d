"""`/api/v1/filters/`: the user's filters, in the import format's field names.

Thin: request bodies go as they are to filters/services.py (JSON lists only, so
`"brands": "Rick Owens"` is refused), whose errors become 400/403/404 through
config.api.exception_handler with the bot's own sentences.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from filters.models import Filter
from filters.preview import recent_matches
from filters.services import (
    access_filter,
    create_filter,
    delete_filter,
    set_filter_active,
    update_filter,
)
from filters.validation import FIELDS
from lib.errors import FieldError, NotFound
from lib.markets import CHOOSABLE
from lib.vocabulary import CATEGORIES, CONDITIONS, SALE_TYPES, SELLER_TYPES
from listings.models import Listing
from listings.serializers import ListingSerializer
from users.signed_in import signed_in_user

# Sent back by a client that PATCHes what it read; not inputs, so left out quietly.
READ_ONLY_FIELDS = ("id", "created_at", "updated_at")
PREVIEW_LIMIT = 20


def choices_list(values: dict[str, str], **options: Any) -> serializers.ListField:
    """A list of values of one vocabulary (lib/vocabulary.py)."""
    return serializers.ListField(child=serializers.ChoiceField(choices=list(values)), **options)


class FilterSerializer(serializers.ModelSerializer):
    """A filter as the API shows it (and as `import_filters` reads it)."""

    brands = serializers.ListField(child=serializers.CharField(), help_text="Canonical names.")
    keywords = serializers.ListField(child=serializers.CharField())
    exclude = serializers.ListField(child=serializers.CharField())
    markets = serializers.ListField(
        child=serializers.ChoiceField(choices=list(CHOOSABLE)), help_text="Empty: every market."
    )
    keywords_any = serializers.ListField(
        child=serializers.CharField(), help_text="At least one must occur; empty: no such rule."
    )
    conditions = choices_list(CONDITIONS, help_text="Empty: any.")
    sizes = serializers.ListField(child=serializers.CharField(), help_text="Empty: any.")
    categories = choices_list(CATEGORIES, help_text="Empty: any.")
    sale_types = choices_list(SALE_TYPES, help_text="Empty: any.")
    seller_types = choices_list(SELLER_TYPES, help_text="Empty: any.")

    class Meta:
        model = Filter
        fields = ["id", *FIELDS, "created_at", "updated_at"]
        read_only_fields = fields


class FilterInputSerializer(serializers.Serializer):
    """The request body, for the schema only: the services check it (lists must be JSON lists)."""

    name = serializers.CharField(max_length=64)
    brands = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    keywords = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    exclude = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    price_min = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    price_max = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    markets = serializers.ListField(
        child=serializers.ChoiceField(choices=list(CHOOSABLE)), required=False
    )
    keywords_any = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    conditions = choices_list(CONDITIONS, required=False)
    sizes = serializers.ListField(child=serializers.CharField(max_length=20), required=False)
    categories = choices_list(CATEGORIES, required=False)
    sale_types = choices_list(SALE_TYPES, required=False)
    seller_types = choices_list(SELLER_TYPES, required=False)
    unknown_ok = serializers.BooleanField(required=False)
    include_old = serializers.BooleanField(required=False)
    price_drops = serializers.BooleanField(required=False)
    active = serializers.BooleanField(required=False)


def filter_id(value: Any) -> int:
    """The id from the URL; anything that can't be a filter's id is simply not found."""
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound("No filter of yours has that id.")
    return int(text)


def body(request: Request) -> dict[str, Any]:
    """The JSON object sent, without the read-only fields a client may echo back."""
    if not isinstance(request.data, dict):
        raise FieldError("", 'Send the filter as a JSON object, such as {"name": "Sacai"}.')
    return {key: value for key, value in request.data.items() if key not in READ_ONLY_FIELDS}


ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema_view(
    retrieve=extend_schema(parameters=[ID_PARAMETER]),
    partial_update=extend_schema(
        parameters=[ID_PARAMETER], request=FilterInputSerializer(partial=True)
    ),
    destroy=extend_schema(parameters=[ID_PARAMETER]),
    create=extend_schema(request=FilterInputSerializer, responses={201: FilterSerializer}),
)
class FilterViewSet(viewsets.GenericViewSet):
    """Your filters: list, create, read, change (PATCH), delete, pause, resume, preview."""

    serializer_class = FilterSerializer
    # Any path segment reaches the view (DRF's default stops at a dot), so `/0.5/` gets the
    # API's JSON 404 rather than Django's HTML page.
    lookup_value_regex = "[^/]+"
    # PUT is left out: every change is partial, like the bot's /filter edit.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return Filter.objects.owned_by(self.request.user).order_by("name", "id")

    def _show(self, found: Filter, code: int = status.HTTP_200_OK) -> Response:
        return Response(FilterSerializer(found).data, status=code)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(FilterSerializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        found = create_filter(signed_in_user(request), body(request), text_lists=False)
        return self._show(found, status.HTTP_201_CREATED)

    def retrieve(self, request: Request, pk: str) -> Response:
        return self._show(access_filter(signed_in_user(request), filter_id(pk)))

    def partial_update(self, request: Request, pk: str) -> Response:
        return self._show(
            update_filter(signed_in_user(request), filter_id(pk), body(request), text_lists=False)
        )

    def destroy(self, request: Request, pk: str) -> Response:
        delete_filter(signed_in_user(request), filter_id(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, parameters=[ID_PARAMETER])
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        return self._show(set_filter_active(signed_in_user(request), filter_id(pk), False))

    @extend_schema(request=None, parameters=[ID_PARAMETER])
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        return self._show(set_filter_active(signed_in_user(request), filter_id(pk), True))

    @extend_schema(parameters=[ID_PARAMETER], responses=ListingSerializer(many=True))
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str) -> Response:
        """Up to 20 of the most recent listings the saved filter would have matched."""
        found = access_filter(signed_in_user(request), filter_id(pk))
        # DRF's paginators page any sequence; the stubs ask for a QuerySet.
        page: list[Listing] | None = self.paginate_queryset(
            recent_matches(found, PREVIEW_LIMIT)  # type: ignore[arg-type]
        )
        return self.get_paginated_response(ListingSerializer(page, many=True).data)
