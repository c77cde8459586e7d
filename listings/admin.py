"""The listings the scanners saw, for moderators: read-only, as the marketplace showed them."""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString

from lib.admin_text import cut_with_hover
from lib.formatting import format_price
from listings.models import Listing


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("short_title", "market", "brand", "price_display", "first_seen_at")
    list_filter = ("market", "category", "condition", "sale_type", "seller_type")
    search_fields = ("title", "brand", "external_id")
    date_hierarchy = "first_seen_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # What the marketplace showed; alerts already sent quote it.
        return False

    @admin.display(description="title", ordering="title")
    def short_title(self, listing: Listing) -> SafeString:
        return cut_with_hover(listing.title)

    @admin.display(description="price", ordering="price")
    def price_display(self, listing: Listing) -> str:
        return format_price(listing.price)
