"""A listing as the REST API shows it, on its own and inside an alert."""

from __future__ import annotations

from rest_framework import serializers

from lib.markets import BY_CODE
from listings.models import Listing
from listings.records import ATTRIBUTES


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
            *ATTRIBUTES,
            "first_seen_at",
        ]
        read_only_fields = fields

    def get_market_label(self, listing: Listing) -> str:
        market = BY_CODE.get(listing.market)
        return market.label if market else listing.market
