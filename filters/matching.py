"""The process's current filter index, kept in step with the database's version stamp.

Writes that change what matching reads (filters, bans, brands) call
`bump_index_version()` in their transaction; how a process patches or rebuilds
its index when the stamp moves is told in docs/architecture.md (Ingest and the
filter index).

With `REDIS_URL` the stamp is read from a copy in Redis instead of the database
row at every match. The row stays the truth; the copy is only trusted briefly:
- it lives STAMP_TTL_MS (2 s), then the next reader reads the row and puts it
  back, so a copy that went wrong is wrong for 2 s at most, and the database is
  read about once per 2 s by the whole installation rather than once per match;
- a bump does not write a copy: on commit it deletes it and moves a generation
  counter. Two commits' callbacks may run in either order, so a written copy could
  end older than the row; a deleted one is refilled from the row itself;
- a reader puts back what it read only if the generation did not move meanwhile,
  so a reader that read the row just before a bump's commit cannot put the old
  stamp back after the bump deleted it; and only what it read outside a
  transaction, which is committed (inside one, the row is read as before).
So a committed change is seen at the next match whenever Redis took the bump's
delete, and within 2 s when it did not (Redis went away at that moment). While
Redis does not answer, the row is read, as without Redis (lib/redis_link.py).
Comparing the copy against the row at each match would be exact but would read
the row as often as before, which is what the copy is for.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from filters.brands import BrandTable
from filters.index import FilterIndex, IndexedFilter, PatchedIndex
from filters.models import Filter, IndexVersion
from lib.redis_link import RedisLink, redis_link

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
    a rollback or a database restore, the triple does not.

    From the copy in Redis when REDIS_URL is set and Redis answers, else the row.
    """
    if not settings.REDIS_URL or connection.in_atomic_block:
        # Inside a transaction the row as this transaction sees it is the answer (its own
        # bump included), and it never becomes the copy: it may never be committed.
        return database_stamp()
    link = redis_link(settings.REDIS_URL)
    return link.run(lambda: _stamp_through(link), database_stamp)


def database_stamp() -> Stamp:
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
    if settings.REDIS_URL:
        transaction.on_commit(_forget_copy)


STAMP_KEY = "filters:index-stamp"
GENERATION_KEY = "filters:index-stamp-generation"
STAMP_TTL_MS = 2000

# KEYS: the copy, the generation. ARGV: the generation the reader saw, the stamp, the TTL.
_PUT_BACK = """
if (redis.call('GET', KEYS[2]) or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 0
"""
_FORGET = """
redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
return 0
"""


def _stamp_through(link: RedisLink) -> Stamp:
    # The client does not decode responses: values are bytes.
    copy, generation = cast("list[bytes | None]", link.client.mget(STAMP_KEY, GENERATION_KEY))
    if copy is not None:
        version, brands_version, changed_at = copy.decode().split(" ")
        return Stamp(int(version), int(brands_version), datetime.fromisoformat(changed_at))
    stamp = database_stamp()
    encoded = f"{stamp.version} {stamp.brands_version} {stamp.changed_at.isoformat()}"
    link.script(_PUT_BACK)(
        keys=[STAMP_KEY, GENERATION_KEY],
        args=[(generation or b"").decode(), encoded, STAMP_TTL_MS],
    )
    return stamp


def _forget_copy() -> None:
    link = redis_link(settings.REDIS_URL)
    link.run(lambda: link.script(_FORGET)(keys=[STAMP_KEY, GENERATION_KEY]), lambda: None)


def load_indexed_filters(ids: set[int] | None = None) -> list[IndexedFilter]:
    rows = Filter.objects.matchable()
    if ids is not None:
        rows = rows.filter(id__in=ids)
    # IndexedFilter's fields are Filter's columns, in its order.
    fields = [field.name for field in dataclasses.fields(IndexedFilter)]
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
            # build_index gives the base its Stamp (FilterIndex keeps any version object).
            and cast(Stamp, _cache.base.version).brands_version == stamp.brands_version
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
