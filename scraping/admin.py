"""Browsing the listings the scanners have seen."""

from django.contrib import admin

from scraping.models import Listing


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("title", "market", "brand", "price", "first_seen_at", "listed_at")
    list_filter = ("market",)
    search_fields = ("title", "brand", "external_id")
    date_hierarchy = "first_seen_at"
    readonly_fields = ("first_seen_at",)
