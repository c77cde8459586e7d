"""The scanners for moderators: each scan and paused sources.

Scans and source states are written by the scanner, so none is added by hand; a
paused source is resumed with the action (or by clearing its pause).
"""

from __future__ import annotations

from django.contrib import admin, messages

from scraping import breaker
from scraping.models import Scan, SourceState


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
    list_filter = ("source",)
    readonly_fields = ("source", "consecutive_failures", "last_success_at", "last_error")
    actions = ["resume_now"]

    def has_add_permission(self, request) -> bool:
        # The scanner creates a source's row the first time it scans it.
        return False

    @admin.display(boolean=True, description="paused")
    def paused(self, state: SourceState) -> bool:
        return state.is_paused

    @admin.action(description="Resume the selected sources now")
    def resume_now(self, request, queryset) -> None:
        sources = sorted(queryset.values_list("source", flat=True))
        breaker.resume(sources)
        self.message_user(
            request,
            f"Resumed {', '.join(sources)}: scanned again from the next scheduled cycle.",
            messages.SUCCESS,
        )


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
