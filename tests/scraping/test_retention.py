"""Retention deletes what outlived its time, in batches, and nothing a moderator still needs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert
from listings.models import Listing
from scraping.ingest import ingest_listings
from scraping.models import Scan
from scraping.retention import purge_old_records
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db


def test_old_delivered_alerts_unreferenced_listings_and_scans_go_in_batches(settings):
    settings.RETENTION_ALERTS_DAYS = 90
    settings.RETENTION_LISTINGS_DAYS = 30
    settings.RETENTION_SCANS_DAYS = 30
    make_filter(make_user(), brands=["Sacai"])
    ingest_listings([listing(f"sacai item {n}") for n in range(7)])
    ingest_listings([listing(f"kapital item {n}") for n in range(5)])  # no alert refers to these
    now = timezone.now()
    long_ago = now - timedelta(days=100)
    Listing.objects.update(first_seen_at=long_ago)
    alerts = list(Alert.objects.order_by("pk"))
    Alert.objects.update(created_at=long_ago)
    Alert.objects.filter(pk__in=[a.pk for a in alerts[:3]]).update(status="sent")
    Alert.objects.filter(pk=alerts[3].pk).update(status="skipped")
    Alert.objects.filter(pk=alerts[4].pk).update(status="failed")  # kept for the moderators
    Alert.objects.filter(pk=alerts[5].pk).update(status="sent", created_at=now)  # recent
    # alerts[6] stays pending
    Scan.objects.create(source="rakuma", started_at=long_ago)
    Scan.objects.create(source="rakuma", started_at=now)

    counts = purge_old_records(batch=2)

    assert counts == {"alerts": 4, "alert counts": 0, "listings": 9, "scans": 1}
    assert sorted(Alert.objects.values_list("pk", flat=True)) == [a.pk for a in alerts[4:]]
    # Listings still referred to by an alert stay, whatever their age.
    assert sorted(Listing.objects.values_list("title", flat=True)) == [
        "sacai item 4", "sacai item 5", "sacai item 6"
    ]  # fmt: skip
    assert Scan.objects.count() == 1
    assert purge_old_records() == {"alerts": 0, "alert counts": 0, "listings": 0, "scans": 0}
