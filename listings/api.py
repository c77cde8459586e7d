"""`/api/v1/listings/`: the most recent listings, newest first, and how they are presented."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError

from lib.markets import Market
from listings.models import Listing
from listings.serializers import ListingSerializer


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
        listings = Listing.objects.newest_first()
        if market := market_param(self.request.query_params.get("market")):
            listings = listings.filter(market=market)
        return listings
