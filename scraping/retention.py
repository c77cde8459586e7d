"""Retention: old scan records, listings no alert refers to, delivered alerts and the counts
deleted accounts left are deleted.

Rows go in batches of a few thousand, each in its own short transaction, so a
purge of millions never holds locks that would stall ingest or sending.
Alerts go first, so the listings they referred to can go in the same run.
Failed alerts stay (a moderator may requeue them); so do pending ones.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from alerts.models import Alert, AlertTally
from listings.models import Listing
from scraping.models import Scan

log = logging.getLogger(__name__)
BATCH = 5000


def _delete_in_batches(queryset: QuerySet, batch: int) -> int:
    deleted = 0
    while ids := list(queryset.values_list("pk", flat=True)[:batch]):
        with transaction.atomic():
            deleted += (
                queryset.model.objects.filter(pk__in=ids)
                .delete()[1]
                .get(queryset.model._meta.label, 0)
            )
    return deleted


def purge_old_records(now: datetime | None = None, batch: int = BATCH) -> dict[str, int]:
    """Delete what has outlived its retention; return how many rows of each kind went."""
    now = now or timezone.now()

    def before(days: int) -> datetime:
        return now - timedelta(days=days)

    done = Alert.objects.filter(
        status__in=[Alert.Status.SENT, Alert.Status.SKIPPED],
        created_at__lt=before(settings.RETENTION_ALERTS_DAYS),
    )
    unreferenced = Listing.objects.unreferenced_before(before(settings.RETENTION_LISTINGS_DAYS))
    counts = {
        "alerts": _delete_in_batches(done, batch),
        "alert counts": _delete_in_batches(
            AlertTally.objects.filter(hour__lt=before(settings.RETENTION_ALERTS_DAYS)), batch
        ),
        "listings": _delete_in_batches(unreferenced, batch),
        "scans": _delete_in_batches(
            Scan.objects.filter(started_at__lt=before(settings.RETENTION_SCANS_DAYS)), batch
        ),
    }
    log.info("retention: deleted %s", ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return counts
