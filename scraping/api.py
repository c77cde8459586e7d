"""`/api/v1/listings/`: the most recent listings, newest first, and how they are presented."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError

from lib.markets import BY_CODE, Market
from scraping.models import Listing


class ListingSerializer(serializers.ModelSerializer):
    market_label = serializers.SerializerMethodField()
    # Not a URLField: the schema would then promise a URI, and a listing without a picture has "".
    image_url = serializers.CharField(read_only=True, help_text="Empty when it has no picture.")

    class Meta:
        model = Listing
        fields = [
            "id",
            "market",
            "market_label",
            "external_id",
            "title",
            "brand",
            "price",
            "currency",
            "url",
            "image_url",
            "listed_at",
            "first_seen_at",
        ]
        read_only_fields = fields

    def get_market_label(self, listing: Listing) -> str:
        market = BY_CODE.get(listing.market)
        return market.label if market else listing.market


def market_param(value: str | None, field: str = "market") -> str | None:
    """The `?market=` of a list, or None when absent; an unknown market is a 400."""
    if value is None or value == "":
        return None
    if value not in Market.values:
        raise ValidationError(
            {field: [f"{value!r} is not a market; choose from {', '.join(Market.values)}."]}
        )
    return value


MARKET_PARAMETER = OpenApiParameter(
    "market", str, enum=list(Market.values), description="Only listings of this market."
)


@extend_schema(parameters=[MARKET_PARAMETER])
class ListingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Recent listings, newest first (what the scanners found; kept for RETENTION_LISTINGS_DAYS)."""

    serializer_class = ListingSerializer

    def get_queryset(self):
        listings = Listing.objects.order_by("-first_seen_at", "-id")
        if market := market_param(self.request.query_params.get("market")):
            listings = listings.filter(market=market)
        return listings
