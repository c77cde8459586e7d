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

from django.db import transaction
from django.utils import timezone

from alerts.outbox import enqueue
from filters.index import FilterIndex, PatchedIndex
from filters.matching import current_index
from lib import metrics
from lib.refusals import ROW_ERRORS, database_words
from listings.models import Listing
from listings.records import ListingRecord

log = logging.getLogger(__name__)


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
        inserted = Listing.objects.insert_new(unique, now)
        new = [
            (inserted[(r.market, r.external_id)], r)
            for r in unique
            if (r.market, r.external_id) in inserted
        ]
        Listing.objects.refresh_details(
            [r for r in unique if (r.market, r.external_id) not in inserted]
        )
        alerts = queue_alerts(index, new, now) if new else 0
    return IngestResult(new_keys=set(inserted), seen=len(unique) - len(new), alerts=alerts)


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
            words = database_words(error)
            # Logged here too: a scan has no line numbers to report it by.
            log.warning("the database refused %s %s: %s", record.market, record.external_id, words)
            result.refused.append((position, words))
    return result
