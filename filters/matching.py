"""The process's current filter index, kept in step with the database's version stamp.

Writes that change what matching reads (filters, bans, brands) call
`bump_index_version()` in their transaction; every process compares the stamp
before it matches, so a change reaches all processes at their next match.

A filter change is patched in: the process loads only the filters changed since
its base index was built (and the ids of all matchable filters, to notice
deletions and bans) and matches those through a small overlay. A brand change,
an overlay past a twentieth of the base, or a base older than ten minutes
makes a full rebuild instead.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from filters.brands import BrandTable
from filters.index import FilterIndex, IndexedFilter, PatchedIndex
from filters.models import Filter, IndexVersion

log = logging.getLogger(__name__)

FULL_REBUILD_SECONDS = 600
# Edits are found by `updated_at`, written by the editing host's clock: a margin
# covers clock skew and slow commits (re-patching a filter is harmless).
CLOCK_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class Stamp:
    version: int
    brands_version: int
    changed_at: datetime


@dataclass
class _Cache:
    base: FilterIndex
    base_read_at: datetime
    base_built: float
    current: FilterIndex | PatchedIndex


_lock = threading.Lock()
_cache: _Cache | None = None


def index_stamp() -> Stamp:
    """The version counters with their change time: a counter alone can repeat after
    a rollback or a database restore, the triple does not."""
    row, _ = IndexVersion.objects.get_or_create(pk=1)
    return Stamp(row.version, row.brands_version, row.changed_at)


def bump_index_version(brands: bool = False) -> None:
    """Mark the index stale for every process; call inside the write's transaction.

    `brands=True` for brand table edits, which need a full rebuild.
    """
    changes = {"version": F("version") + 1, "changed_at": timezone.now()}
    if brands:
        changes["brands_version"] = F("brands_version") + 1
    if not IndexVersion.objects.filter(pk=1).update(**changes):
        IndexVersion.objects.get_or_create(
            pk=1, defaults={"version": 1, "brands_version": int(brands)}
        )


def load_indexed_filters(ids: set[int] | None = None) -> list[IndexedFilter]:
    rows = Filter.objects.matchable()
    if ids is not None:
        rows = rows.filter(id__in=ids)
    fields = (
        "id",
        "owner_id",
        "brands",
        "keywords",
        "exclude",
        "price_min",
        "price_max",
        "markets",
    )
    return [IndexedFilter(*row) for row in rows.values_list(*fields).iterator(chunk_size=5000)]


def build_index(stamp: Stamp | None = None) -> FilterIndex:
    # The stamp is read before the rows: a write landing in between leaves the index
    # newer than its stamp, never older, and the next check patches it again.
    stamp = stamp or index_stamp()
    brands = BrandTable.load()
    filters = load_indexed_filters()
    started = time.perf_counter()
    index = FilterIndex(filters, brands, version=stamp)
    log.info(
        "filter index v%s built: %d filters in %.2fs",
        stamp.version,
        len(index),
        time.perf_counter() - started,
    )
    return index


def patch_index(base: FilterIndex, base_read_at: datetime, stamp: Stamp) -> PatchedIndex | None:
    """The base with every change since `base_read_at` applied, or None when a rebuild is cheaper."""
    matchable = set(Filter.objects.matchable().values_list("id", flat=True))
    edited = set(
        Filter.objects.filter(updated_at__gte=base_read_at - CLOCK_MARGIN).values_list(
            "id", flat=True
        )
    )
    in_base = set(base.filter_ids.tolist())
    fresh = (matchable - in_base) | (edited & matchable)
    stale = (in_base - matchable) | (edited & in_base)
    if len(fresh) + len(stale) > max(200, len(base) // 20):
        return None
    overlay = FilterIndex(load_indexed_filters(fresh), base.brands)
    log.info(
        "filter index v%s patched: %d filters changed, %d switched off",
        stamp.version,
        len(fresh),
        len(stale),
    )
    return PatchedIndex(base, stale, overlay, version=stamp)


def current_index() -> FilterIndex | PatchedIndex:
    """The index for the database's current stamp: the cached one, patched, or rebuilt."""
    global _cache
    stamp = index_stamp()
    with _lock:
        if _cache is not None and _cache.current.version == stamp:
            return _cache.current
        if (
            _cache is not None
            and _cache.base.version.brands_version == stamp.brands_version
            and time.monotonic() - _cache.base_built < FULL_REBUILD_SECONDS
        ):
            patched = patch_index(_cache.base, _cache.base_read_at, stamp)
            if patched is not None:
                _cache.current = patched
                return patched
        read_at = timezone.now()
        base = build_index(stamp)
        _cache = _Cache(base=base, base_read_at=read_at, base_built=time.monotonic(), current=base)
        return base
