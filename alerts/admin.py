"""The outbox for moderators: what was sent, what failed and why, requeueing and skipping.

Alerts are written by ingest and settled by the sender, so nothing here is
typed in by hand: the page is read-only, and the moves staff may make are the
two actions, each saying what it did and why it left the rest alone.
"""

from __future__ import annotations

from collections import Counter

from django.contrib import admin, messages
from django.utils.safestring import SafeString

from alerts import outbox
from alerts.models import Alert
from lib.admin_text import cut_with_hover
from lib.formatting import format_price, market_label
from lib.text import counted

SKIPPED_BY_STAFF = "skipped by staff"


def _none_of(selected: int) -> str:
    """The start of "… be requeued", for one alert or several."""
    return (
        "The selected alert can't"
        if selected == 1
        else f"None of the {selected} selected alerts can"
    )


def _these(statuses: Counter[str]) -> str:
    """`2 pending, 1 sent`: what the alerts an action left alone are."""
    listed = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    return f"{'it is' if sum(statuses.values()) == 1 else 'these are'} {listed}"


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = (
        "summary",
        "listing_price",
        "status",
        "attempts",
        "sent_at",
        "error",
    )
    list_filter = ("status",)
    search_fields = ("user__username", "user__discord_id", "listing__title", "message_id")
    list_select_related = ("user", "listing")
    actions = ["requeue_selected", "skip_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Status, attempts and leases are the sender's: an alert's page is view-only,
        # and staff move alerts with the actions (which need the change permission).
        return obj is None and super().has_change_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        alert = self.get_object(request, object_id)
        if alert is not None:
            extra_context = {**(extra_context or {}), "subtitle": str(alert)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="alert", ordering="id")
    def summary(self, alert: Alert) -> SafeString:
        return cut_with_hover(f"{alert.listing.title} → @{alert.user.username}")

    @admin.display(description="last error", ordering="last_error")
    def error(self, alert: Alert) -> SafeString | str:
        return cut_with_hover(alert.last_error, 40) if alert.last_error else ""

    @admin.display(description="price · market")
    def listing_price(self, alert: Alert) -> str:
        listing = alert.listing
        return f"{format_price(listing.price)} · {market_label(listing.market)}"

    def _statuses(self, queryset) -> Counter[str]:
        return Counter(queryset.values_list("status", flat=True))

    @admin.action(description="Requeue selected failed or skipped alerts", permissions=["change"])
    def requeue_selected(self, request, queryset) -> None:
        statuses = self._statuses(queryset)
        count = outbox.requeue(queryset.values_list("pk", flat=True))
        left = statuses - Counter({"failed": statuses["failed"], "skipped": statuses["skipped"]})
        self._report(request, "requeued", count, statuses, left, "failed or skipped alerts")

    @admin.action(
        description="Skip selected pending alerts (they will not be sent)", permissions=["change"]
    )
    def skip_selected(self, request, queryset) -> None:
        statuses = self._statuses(queryset)
        count = outbox.skip_by_staff(queryset.values_list("pk", flat=True), SKIPPED_BY_STAFF)
        left = statuses - Counter({"pending": statuses["pending"]})
        held = statuses["pending"] - count
        if held:
            left["pending and being sent right now"] = held
        self._report(request, "skipped", count, statuses, left, "pending alerts no sender holds")

    def _report(self, request, done, count, statuses, left, which) -> None:
        """Say what the action did and, for the rest of the selection, why not."""
        selected = sum(statuses.values())
        if count == 0:
            self.message_user(
                request,
                f"{_none_of(selected)} be {done}: only {which} can ({_these(left)}).",
                messages.WARNING,
            )
            return
        message = f"{done.capitalize()} {counted(count, 'alert')}."
        if left:
            others = selected - count
            message += (
                f" The other {others} {'was' if others == 1 else 'were'} left alone "
                f"({_these(left)}): only {which} can be {done}."
            )
        self.message_user(request, message, messages.SUCCESS)
