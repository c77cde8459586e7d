"""Leases for operators: which process holds which role, and until when (read-only)."""

from __future__ import annotations

from django.contrib import admin

from lib.models import Lease


@admin.register(Lease)
class LeaseAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "expires_at")
    search_fields = ("name", "owner")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Held and renewed by live processes; an edit here would race their heartbeats.
        return False
