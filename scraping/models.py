"""Listings seen on the marketplaces, one row per market + external id."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from lib.formatting import format_price
from lib.markets import Market, Source, market_label
from lib.text import counted


class Listing(models.Model):
    market = models.CharField(max_length=32, choices=Market.choices)
    external_id = models.CharField(max_length=128)
    title = models.CharField(max_length=500)
    # Null = the source gave no brand (distinct from an empty string); part of the import format.
    brand = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    price = models.PositiveBigIntegerField(help_text="Whole yen.")
    currency = models.CharField(max_length=3, default="JPY")
    url = models.URLField(max_length=1000)
    image_url = models.URLField(max_length=1000, blank=True)
    listed_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["market", "external_id"], name="listing_unique_per_market"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_market_display()} {self.external_id}: {self.title}"

    @property
    def price_text(self) -> str:
        """The price as people read it: `¥68,000`."""
        return format_price(self.price)

    @property
    def market_text(self) -> str:
        return market_label(self.market)


class SourceStateQuerySet(models.QuerySet):
    def by_source(self) -> dict[str, SourceState]:
        """Every source's state by code (one row per source that has scanned or failed):
        one small read shared by /health and /metrics."""
        return {state.source: state for state in self}


class SourceState(models.Model):
    """A source's circuit breaker: failing scans in a row pause it, the other sources go on."""

    source = models.CharField(max_length=32, choices=Source.choices, unique=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    paused_until = models.DateTimeField(
        null=True, blank=True, help_text="No scan before this time. Clear it to resume now."
    )
    last_error = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    objects = SourceStateQuerySet.as_manager()

    def __str__(self) -> str:
        return self.get_source_display()

    @property
    def is_paused(self) -> bool:
        return self.paused_until is not None and self.paused_until > timezone.now()


class Scan(models.Model):
    """One scan cycle of one source: what it asked, what it found, what went wrong."""

    source = models.CharField(max_length=32, choices=Source.choices)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    requests = models.PositiveIntegerField(default=0)
    filters = models.PositiveIntegerField(default=0, help_text="Active filters the scan served.")
    items_seen = models.PositiveIntegerField(default=0)
    new_items = models.PositiveIntegerField(default=0)
    alerts = models.PositiveIntegerField(default=0)
    broken_items = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error_summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} scan at {self.started_at:%Y-%m-%d %H:%M:%S}"

    def summary(self) -> str:
        seconds = ((self.finished_at or timezone.now()) - self.started_at).total_seconds()
        return (
            f"{self.source}: {counted(self.requests, 'request')} for "
            f"{counted(self.filters, 'filter')}, {counted(self.items_seen, 'item')} seen, "
            f"{self.new_items:,} new, {counted(self.alerts, 'alert')} queued, "
            f"{counted(self.broken_items, 'unreadable item')}, {counted(self.errors, 'error')}, "
            f"{seconds:.1f}s"
        )


def paused_summary(source: str) -> str:
    return f"{source}: paused by its circuit breaker (see the admin)"
