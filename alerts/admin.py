"""The outbox for moderators: what was sent, what failed and why, and requeueing."""

from django.contrib import admin, messages

from alerts.formatting import format_price, market_label
from alerts.models import Alert
from alerts.outbox import requeue


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "listing_title",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status",)
    search_fields = ("user__username", "user__discord_id", "listing__title", "message_id")
    list_select_related = ("user", "listing")
    raw_id_fields = ("user", "listing")
    readonly_fields = (
        "created_at",
        "sent_at",
        "message_id",
        "nonce",
        "lease_owner",
        "lease_expires_at",
    )
    actions = ["requeue_selected"]

    @admin.display(description="listing")
    def listing_title(self, alert: Alert) -> str:
        listing = alert.listing
        return f"{listing.title} · {format_price(listing.price)} · {market_label(listing.market)}"

    @admin.action(description="Requeue selected failed or skipped alerts")
    def requeue_selected(self, request, queryset) -> None:
        count = requeue(queryset.values_list("pk", flat=True))
        self.message_user(request, f"Requeued {count} alert(s).", messages.SUCCESS)
