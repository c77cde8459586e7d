"""The process's current filter index, rebuilt when the database's version stamp moves.

Writes that change what matching reads (filters, bans, brands) call
`bump_index_version()` in their transaction; every process compares the stamp
before it matches, so a change reaches all processes at their next match.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.db.models import F
from django.utils import timezone

from filters.brands import BrandTable
from filters.index import FilterIndex, IndexedFilter
from filters.models import Filter, IndexVersion

log = logging.getLogger(__name__)

_lock = threading.Lock()
_current: FilterIndex | None = None


def index_version() -> int:
    return index_stamp()[0]


def index_stamp() -> tuple[int, datetime]:
    """The version counter with its change time: a counter alone can repeat after a
    rollback or a database restore, the pair does not."""
    row, _ = IndexVersion.objects.get_or_create(pk=1)
    return row.version, row.changed_at


def bump_index_version() -> None:
    """Mark the index stale for every process; call inside the write's transaction."""
    if not IndexVersion.objects.filter(pk=1).update(
        version=F("version") + 1, changed_at=timezone.now()
    ):
        IndexVersion.objects.get_or_create(pk=1, defaults={"version": 1})


def load_indexed_filters() -> list[IndexedFilter]:
    rows = Filter.objects.matchable().values_list(
        "id",
        "owner_id",
        "brands",
        "keywords",
        "exclude",
        "price_min",
        "price_max",
        "markets",
    )
    return [IndexedFilter(*row) for row in rows.iterator(chunk_size=5000)]


def build_index() -> FilterIndex:
    # The stamp is read before the rows: a write landing in between leaves the index
    # newer than its stamp, never older, and the next check rebuilds it.
    stamp = index_stamp()
    brands = BrandTable.load()
    filters = load_indexed_filters()
    started = time.perf_counter()
    index = FilterIndex(filters, brands, version=stamp)
    log.info(
        "filter index v%s built: %d filters in %.2fs",
        stamp[0],
        len(index),
        time.perf_counter() - started,
    )
    return index


def current_index() -> FilterIndex:
    """The index for the database's current version, rebuilt only when it moved."""
    global _current
    stamp = index_stamp()
    with _lock:
        if _current is None or _current.version != stamp:
            _current = build_index()
        return _current
