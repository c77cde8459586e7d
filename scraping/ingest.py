"""Store listings and queue the alerts they cause, in one transaction per batch.

A listing is new exactly when this batch's INSERT … ON CONFLICT DO NOTHING
created its row, so two processes importing the same listing can never both
alert on it, and a re-imported or bumped listing never alerts again. The alerts
are written in the same transaction as the listings: either both are stored or
neither, so a crash cannot leave a seen listing whose alerts were lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from alerts.outbox import enqueue
from filters.index import FilterIndex
from filters.matching import current_index
from scraping.models import Listing
from scraping.records import ListingRecord

INSERT_CHUNK = 500
STORED_FIELDS = (
    "market",
    "external_id",
    "title",
    "brand",
    "price",
    "currency",
    "url",
    "image_url",
    "listed_at",
    "first_seen_at",
)
UPDATABLE_FIELDS = ("title", "brand", "price", "url", "image_url")


@dataclass
class IngestResult:
    new: int = 0
    seen: int = 0
    alerts: int = 0

    def add(self, other: IngestResult) -> None:
        self.new += other.new
        self.seen += other.seen
        self.alerts += other.alerts


def _insert_new(records: Sequence[ListingRecord], now) -> dict[tuple[str, str], int]:
    """Insert the listings that are not stored yet; return {(market, id): pk} of those inserted."""
    meta = Listing._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in STORED_FIELDS]
    columns = ", ".join(quote(f.column) for f in fields)
    inserted: dict[tuple[str, str], int] = {}
    for start in range(0, len(records), INSERT_CHUNK):
        chunk = records[start : start + INSERT_CHUNK]
        params: list = []
        for record in chunk:
            values = {**record.__dict__, "first_seen_at": now}
            params.extend(f.get_db_prep_save(values[f.name], connection) for f in fields)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * len(chunk))} "
            f"ON CONFLICT ({quote('market')}, {quote('external_id')}) DO NOTHING "
            f"RETURNING {quote('id')}, {quote('market')}, {quote('external_id')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for pk, market, external_id in cursor.fetchall():
                inserted[(market, external_id)] = pk
    return inserted


def _refresh_seen(records: Sequence[ListingRecord]) -> None:
    """Keep already-seen listings' details current (a price drop, a new title) without alerting."""
    if not records:
        return
    by_key = {(r.market, r.external_id): r for r in records}
    stored = Listing.objects.filter(
        market__in={r.market for r in records}, external_id__in={r.external_id for r in records}
    )
    changed = []
    for listing in stored:
        record = by_key.get((listing.market, listing.external_id))
        if record and any(getattr(listing, f) != getattr(record, f) for f in UPDATABLE_FIELDS):
            for f in UPDATABLE_FIELDS:
                setattr(listing, f, getattr(record, f))
            changed.append(listing)
    if changed:
        Listing.objects.bulk_update(changed, UPDATABLE_FIELDS, batch_size=500)


def queue_alerts(index: FilterIndex, listings: list[tuple[int, ListingRecord]], now) -> int:
    """Queue one pending alert per (user, listing) with every filter of the user that matched."""
    return enqueue(
        (
            (owner_id, listing_id, filter_ids)
            for listing_id, record in listings
            for owner_id, filter_ids in index.match_by_owner(record).items()
        ),
        now,
    )


def ingest_listings(records: Sequence[ListingRecord]) -> IngestResult:
    """Upsert a batch of listings, match the new ones and queue their alerts."""
    unique = list({(r.market, r.external_id): r for r in records}.values())
    now = timezone.now()
    with transaction.atomic():
        inserted = _insert_new(unique, now)
        new = [
            (inserted[(r.market, r.external_id)], r)
            for r in unique
            if (r.market, r.external_id) in inserted
        ]
        _refresh_seen([r for r in unique if (r.market, r.external_id) not in inserted])
        alerts = queue_alerts(current_index(), new, now) if new else 0
    return IngestResult(new=len(new), seen=len(unique) - len(new), alerts=alerts)
