"""Which database a query goes to when DATABASE_REPLICA_URL names a read replica.

ReplicaRouter's rules (installed by config/settings.py only when the replica is set):

- Every write goes to the primary ("default"), and so does every migration.
- A read goes to the replica ("replica") only inside a read-only web request, marked by
  `request_reads(replica=True)` (config/replica.py: a GET, HEAD or OPTIONS of the pages, the
  API or the staff dashboard from a client that has not written in the last
  REPLICA_STICKY_SECONDS), and only until that request writes. The router is asked where
  to write before every save, delete, update, bulk write, get_or_create and
  select_for_update, so from the first of them on the request reads the primary, which
  has its writes.
- Never inside a transaction on the primary (`connections["default"].in_atomic_block`): what
  a transaction reads it may write, and it must see what it locked. Code that reads to
  decide a write reads inside the write's transaction.atomic() (as the services do) or
  through get_or_create or select_for_update.
- Sessions and API tokens always read the primary: a sign-in, a sign-out, a new or a
  revoked token takes effect at once, whatever the replica's lag. The signed-in user's
  row is read like any other (a staff flag taken away shows after the lag).
- Everything outside such a request reads the primary: sendalerts (the outbox), qcluster's
  tasks (ingest, scans), the bot, management commands, the admin, the sign-in flow and
  /health. The request's mark is a context variable, unset there. Raw SQL through
  `django.db.connection` is the primary's too: the router only sees the ORM.
- A replica that cannot be connected to is skipped: reads fall back to the primary, and
  this process tries the replica again after REPLICA_RETRY_SECONDS. /health reports it
  (`check_replica`, degraded: the primary carries every read meanwhile).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model

log = logging.getLogger(__name__)

REPLICA = "replica"
ROUTER = "lib.db_router.ReplicaRouter"
REPLICA_RETRY_SECONDS = 30.0
# Models whose reads must never lag (see the docstring).
PRIMARY_ONLY = {"sessions.session", "users.apitoken"}


@dataclass
class RequestReads:
    """One web request's reading: may it read the replica, and has it written yet?

    Mutable, so a write in a copied context (a thread asgiref runs a view in) still counts.
    """

    replica: bool
    wrote: bool = False


_request_reads: ContextVar[RequestReads | None] = ContextVar("request_reads", default=None)
# time.monotonic() until which this process leaves an unreachable replica alone.
_replica_skipped_until = 0.0


@contextmanager
def request_reads(replica: bool) -> Iterator[RequestReads]:
    """Route this request's reads: to the replica (until it writes) when `replica` is true."""
    reads = RequestReads(replica=replica)
    token = _request_reads.set(reads)
    try:
        yield reads
    finally:
        _request_reads.reset(token)


def replica_in_use() -> bool:
    """Whether reads may go to a replica at all (DATABASE_REPLICA_URL set the router)."""
    return ROUTER in settings.DATABASE_ROUTERS


def _replica_answers() -> bool:
    """Whether the replica is connected or can be; a refusal skips it for a while."""
    global _replica_skipped_until
    if time.monotonic() < _replica_skipped_until:
        return False
    try:
        connections[REPLICA].ensure_connection()  # nothing to do when already connected
    except DatabaseError as error:
        _replica_skipped_until = time.monotonic() + REPLICA_RETRY_SECONDS
        log.warning(
            "the read replica does not answer (%s): reading the primary for %g s",
            type(error).__name__,
            REPLICA_RETRY_SECONDS,
        )
        return False
    return True


class ReplicaRouter:
    """Read-only web requests read the replica; everything else uses the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        reads = _request_reads.get()
        if (
            reads is None
            or not reads.replica
            or reads.wrote
            or model._meta.label_lower in PRIMARY_ONLY
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
            or not _replica_answers()
        ):
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        reads = _request_reads.get()
        if reads is not None:
            reads.wrote = True  # read your own writes: the primary from here on
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The replica holds the primary's rows: an object read from either may refer to one
        # read from the other.
        aliases = {DEFAULT_DB_ALIAS, REPLICA}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        # The replica replays the primary's schema changes.
        return db == DEFAULT_DB_ALIAS


def check_replica() -> dict[str, Any]:
    """/health's "replica" check: does it answer, and how far behind the primary is it?

    Degraded, never failing: without the replica the primary serves every read, and a
    replica further behind than REPLICA_STICKY_SECONDS may show a client its own change
    missing once the client's primary reads end. The lag is measured only on a PostgreSQL
    hot standby: 0 once it has replayed the primary's current WAL position, else the age
    of the last transaction it replayed (null, and degraded, before its first); null on
    anything else (e.g. a logical replica).
    """
    replica = connections[REPLICA]
    try:
        lag = _replica_lag_seconds(replica)
    except DatabaseError as error:
        log.error("health: the read replica does not answer: %s", type(error).__name__)
        return {
            "status": "degraded",
            "reason": f"The read replica (DATABASE_REPLICA_URL) does not answer "
            f"({type(error).__name__}): the primary serves every read meanwhile.",
        }
    if lag == math.inf:
        return {
            "status": "degraded",
            "reason": "The read replica is behind the primary and has replayed no transaction "
            "since it started: pages and the API may show old data.",
            "lag_seconds": None,
        }
    found = {"lag_seconds": None if lag is None else round(lag)}
    if lag is not None and lag > settings.REPLICA_STICKY_SECONDS:
        return {
            "status": "degraded",
            "reason": f"The read replica is {round(lag)} s behind the primary, more than "
            f"REPLICA_STICKY_SECONDS ({settings.REPLICA_STICKY_SECONDS:g} s): a client may "
            "miss its own changes on the pages and the API.",
            **found,
        }
    return {"status": "ok", **found}


def _replica_lag_seconds(replica: Any) -> float | None:
    """Seconds behind the primary; None when not a standby; inf when behind by an unknown."""
    with replica.cursor() as cursor:
        if replica.vendor != "postgresql":
            cursor.execute("SELECT 1")
            return None
        cursor.execute("SELECT pg_is_in_recovery()")
        if not cursor.fetchone()[0]:
            return None
    # The primary's position first: a standby that has replayed up to it is not behind. Its
    # insert position, not its write position: under synchronous_commit=off a committed row
    # is visible on the primary before its WAL is written, let alone sent.
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        primary_lsn = cursor.fetchone()[0]
    with replica.cursor() as cursor:
        cursor.execute(
            "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn,"
            " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())",
            [primary_lsn],
        )
        caught_up, since_last_replayed = cursor.fetchone()
    if caught_up:
        return 0.0
    # Behind, with no transaction replayed since it started to date the gap by.
    return math.inf if since_last_replayed is None else float(since_last_replayed)
