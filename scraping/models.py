"""The scanners' own records: each source's circuit breaker and each scan cycle."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from lib.markets import Source
from lib.text import counted


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
