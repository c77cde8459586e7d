"""Scan aggregates for the staff dashboard: scans, failures and new listings per source and hour.

These are query helpers and would sit on a Scan queryset in models.py; they live beside
the models in their own module so the dashboard's reads stay apart from the scanner's writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncHour

from lib.markets import Source
from scraping.models import Scan

# A cycle fails (and the breaker hears of it) when every fetch failed, which leaves it with
# errors and nothing seen; Scan keeps no flag, so this is how a failed cycle reads back.
FAILED = Q(errors__gt=0, items_seen=0)


@dataclass(frozen=True)
class SourceScans:
    source: str
    label: str
    scans: int
    failed: int
    errors: int
    items_seen: int
    new_items: int


@dataclass(frozen=True)
class HourScans:
    scans: int
    failed: int
    new_items: int


def _totals():
    return {
        "scans": Count("id"),
        "failed": Count("id", filter=FAILED),
        "errors": Coalesce(Sum("errors"), 0),
        "items_seen": Coalesce(Sum("items_seen"), 0),
        "new_items": Coalesce(Sum("new_items"), 0),
    }


def scans_per_source(since: datetime) -> list[SourceScans]:
    """Each source's cycles started since `since`, busiest first."""
    rows = (
        Scan.objects.filter(started_at__gte=since)
        .values("source")
        .order_by("source")  # also drops Meta.ordering, which would split the groups
        .annotate(**_totals())
    )
    labels = dict(Source.choices)
    found = [
        SourceScans(
            source=row["source"],
            label=labels.get(row["source"], row["source"]),
            scans=row["scans"],
            failed=row["failed"],
            errors=row["errors"],
            items_seen=row["items_seen"],
            new_items=row["new_items"],
        )
        for row in rows
    ]
    return sorted(found, key=lambda row: (-row.scans, row.label))


def scans_per_hour(since: datetime) -> dict[datetime, HourScans]:
    """Every source's cycles together, by the UTC hour they started in."""
    rows = (
        Scan.objects.filter(started_at__gte=since)
        .annotate(hour=TruncHour("started_at", tzinfo=UTC))
        .values("hour")
        .order_by("hour")
        .annotate(**_totals())
    )
    return {row["hour"]: HourScans(row["scans"], row["failed"], row["new_items"]) for row in rows}
