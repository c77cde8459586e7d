"""The scanners for moderators: the listings they saw, each scan, and paused sources."""

from django.contrib import admin, messages

from scraping.models import Listing, Scan, SourceState


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ("title", "market", "brand", "price", "first_seen_at", "listed_at")
    list_filter = ("market",)
    search_fields = ("title", "brand", "external_id")
    date_hierarchy = "first_seen_at"
    readonly_fields = ("first_seen_at",)


@admin.register(SourceState)
class SourceStateAdmin(admin.ModelAdmin):
    """Each source's circuit breaker: paused sources, why, and resuming them."""

    list_display = (
        "source",
        "paused",
        "paused_until",
        "consecutive_failures",
        "last_success_at",
        "last_error",
    )
    readonly_fields = ("source", "consecutive_failures", "last_success_at", "last_error")
    actions = ["resume_now"]

    @admin.display(boolean=True, description="paused")
    def paused(self, state: SourceState) -> bool:
        return state.is_paused

    @admin.action(description="Resume the selected sources now")
    def resume_now(self, request, queryset) -> None:
        count = queryset.update(paused_until=None, consecutive_failures=0)
        self.message_user(request, f"Resumed {count} source(s).", messages.SUCCESS)


@admin.register(Scan)
class ScanAdmin(admin.ModelAdmin):
    """Every scan cycle: requests, what was found, errors."""

    list_display = (
        "source",
        "started_at",
        "finished_at",
        "requests",
        "filters",
        "items_seen",
        "new_items",
        "alerts",
        "broken_items",
        "errors",
    )
    list_filter = ("source",)
    date_hierarchy = "started_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
