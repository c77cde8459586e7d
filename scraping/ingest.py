"""Store listings and queue the alerts they cause, in one transaction per batch.

A listing is new exactly when this batch's INSERT … ON CONFLICT DO NOTHING
created its row, so two processes importing the same listing can never both
alert on it, and a re-imported or bumped listing never alerts again. The alerts
are written in the same transaction as the listings: either both are stored or
neither, so a crash cannot leave a seen listing whose alerts were lost.

When the database refuses a batch for one row's sake (validation should leave
nothing of the kind, but a database may have rules of its own), the batch is
stored again one listing at a time, so only the guilty listing is refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from alerts.outbox import enqueue
from filters.index import FilterIndex, PatchedIndex
from filters.matching import current_index
from lib import metrics
from scraping.models import Listing
from scraping.records import ListingRecord

log = logging.getLogger(__name__)

INSERT_CHUNK = 500
# What the database refuses one row for. A locked database or a lost connection
# (OperationalError) is no row's fault: it ends the caller's work instead.
ROW_ERRORS = (DataError, IntegrityError, ValueError, OverflowError)
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
    #: (market, external id) of the listings this batch stored for the first time.
    new_keys: set[tuple[str, str]] = field(default_factory=set)
    seen: int = 0
    alerts: int = 0
    #: Listings the database refused even alone: (position in the records given, its words).
    refused: list[tuple[int, str]] = field(default_factory=list)

    @property
    def new(self) -> int:
        return len(self.new_keys)

    def add(self, other: IngestResult) -> None:
        self.seen += other.seen
        self.alerts += other.alerts
        self.new_keys |= other.new_keys
        self.refused.extend(other.refused)


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


def queue_alerts(
    index: FilterIndex | PatchedIndex, listings: list[tuple[int, ListingRecord]], now
) -> int:
    """Queue one pending alert per (user, listing) with every filter of the user that matched.

    The matches stream into the outbox's writer as they are found; only the time spent
    matching is observed (marketalerts_matching_seconds), not the writing.
    """
    matches = _TimedMatches(index, listings)
    queued = enqueue(matches, now)
    metrics.matching_seconds.observe(matches.seconds)
    return queued


class _TimedMatches:
    """(user id, listing id, filter ids) of every match, timing only the matching."""

    def __init__(
        self, index: FilterIndex | PatchedIndex, listings: list[tuple[int, ListingRecord]]
    ) -> None:
        self.index, self.listings, self.seconds = index, listings, 0.0

    def __iter__(self) -> Iterator[tuple[int, int, list[int]]]:
        for listing_id, record in self.listings:
            started = time.perf_counter()
            by_owner = self.index.match_by_owner(record)
            self.seconds += time.perf_counter() - started
            for owner_id, filter_ids in by_owner.items():
                yield owner_id, listing_id, filter_ids


def _store(index: FilterIndex | PatchedIndex, unique: list[ListingRecord], now) -> IngestResult:
    with transaction.atomic():
        inserted = _insert_new(unique, now)
        new = [
            (inserted[(r.market, r.external_id)], r)
            for r in unique
            if (r.market, r.external_id) in inserted
        ]
        _refresh_seen([r for r in unique if (r.market, r.external_id) not in inserted])
        alerts = queue_alerts(index, new, now) if new else 0
    return IngestResult(new_keys=set(inserted), seen=len(unique) - len(new), alerts=alerts)


def _database_words(error: Exception) -> str:
    words = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return words if len(words) <= 200 else words[:199] + "…"


def ingest_listings(records: Sequence[ListingRecord]) -> IngestResult:
    """Upsert a batch of listings, match the new ones and queue their alerts.

    Within the batch the last record of a (market, id) wins. Raises the database's
    OperationalError (locked, unreachable); every batch stored before it stays stored.
    """
    if not records:
        return IngestResult()
    # The index is taken before the transaction: a rebuild takes seconds and must
    # not hold SQLite's writer lock (or PostgreSQL's row locks) while it runs.
    index = current_index()
    last = {(r.market, r.external_id): position for position, r in enumerate(records)}
    unique = [records[position] for position in last.values()]
    now = timezone.now()
    try:
        return _store(index, unique, now)
    except ROW_ERRORS:
        pass  # some row was refused: store them one by one to find it and keep the rest
    result = IngestResult()
    for position, record in zip(last.values(), unique, strict=True):
        try:
            result.add(_store(index, [record], now))
        except ROW_ERRORS as error:
            words = _database_words(error)
            # Logged here too: a scan has no line numbers to report it by.
            log.warning("the database refused %s %s: %s", record.market, record.external_id, words)
            result.refused.append((position, words))
    return result
