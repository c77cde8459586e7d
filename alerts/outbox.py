"""Writing, renewing and settling outbox rows so every alert is delivered once.

Alerts are written in bulk: PostgreSQL takes them through COPY (a popular
listing can queue thousands), other databases (SQLite) through one prepared
INSERT run over plain tuples. Claims are alerts/claim.py's. Renewal and
settling (sent, retry, failed) only touch rows the sender still holds. The
rules they keep (leases, takeover, ambiguous sends, backoff) are told in
docs/architecture.md (Delivery).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import (
    DateTimeField,
    F,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from alerts.models import Alert
from filters.models import Filter
from lib import metrics
from lib.backoff import jittered_backoff

BANNED = "The user is banned."
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 3600
AMBIGUOUS_BACKOFF_BASE_SECONDS = 1
AMBIGUOUS_BACKOFF_MAX_SECONDS = 10
RENEW_CHUNK = 500


def enqueue(alerts: Iterable[tuple[int, int, list[int]]], now: datetime) -> int:
    """Write pending alerts from (user id, listing id, matched filter ids); return how many.

    Runs inside the caller's transaction. The listings must be new in it, so no
    (user, listing) pair can already exist. Counted as queued when it commits.
    The columns not written (lease_owner, message_id, last_error, nonce, and the
    nullable times) take the database's defaults, as they do through the ORM.
    """
    columns = (
        "user_id",
        "listing_id",
        "filter_ids",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    )
    table = connection.ops.quote_name(Alert._meta.db_table)
    if connection.vendor == "postgresql":
        count = _copy_alerts(table, columns, alerts, now)
    else:
        count = _insert_alerts(table, columns, alerts, now)
    metrics.count_on_commit(metrics.alerts_queued, count)
    return count


def _copy_alerts(
    table: str,
    columns: tuple[str, ...],
    alerts: Iterable[tuple[int, int, list[int]]],
    now: datetime,
) -> int:
    """PostgreSQL: COPY, far faster than any INSERT for thousands of rows."""
    stamp = now.isoformat()
    count = 0
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    # Django's error wrapper is put back around the driver's COPY (IntegrityError, …).
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        buffer: list[str] = []
        for user_id, listing_id, filter_ids in alerts:
            ids = ",".join(map(str, filter_ids))
            buffer.append(f"{user_id}\t{listing_id}\t[{ids}]\tpending\t0\t{stamp}\t{stamp}\n")
            if len(buffer) >= 10_000:
                copy.write("".join(buffer))
                count += len(buffer)
                buffer.clear()
        copy.write("".join(buffer))
        count += len(buffer)
    return count


def _insert_alerts(
    table: str,
    columns: tuple[str, ...],
    alerts: Iterable[tuple[int, int, list[int]]],
    now: datetime,
) -> int:
    """Other databases (SQLite): one prepared INSERT run over plain tuples, streamed.

    Model instances cost more than the INSERT itself (bulk_create wrote ~5,000 rows/s
    on SQLite). The values are those the ORM sends: filter_ids as json.dumps writes
    a list of ints, the time as the backend adapts it.
    """
    stamp = connection.ops.adapt_datetimefield_value(now)
    pending = Alert.Status.PENDING.value
    count = 0

    def rows() -> Iterator[tuple]:
        nonlocal count
        for user_id, listing_id, filter_ids in alerts:
            count += 1
            ids = "[" + ", ".join(map(str, filter_ids)) + "]"
            yield (user_id, listing_id, ids, pending, 0, stamp, stamp)

    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        # Django's executemany takes any iterable of rows; its stubs ask for a Sequence.
        cursor.executemany(sql, rows())  # type: ignore[arg-type]
    return count


def new_lease_owner() -> str:
    return uuid.uuid4().hex


def attach_filter_names(alerts: list[Alert]) -> None:
    """Set `alert.filter_names` (the matched filters' current names) with one query."""
    wanted = {filter_id for alert in alerts for filter_id in alert.filter_ids}
    names = dict(Filter.objects.filter(id__in=wanted).values_list("id", "name"))
    for alert in alerts:
        alert.filter_names = [
            names.get(filter_id, "(deleted filter)") for filter_id in alert.filter_ids
        ]


def _held(owner: str, alert_ids) -> QuerySet[Alert]:
    return Alert.objects.filter(
        id__in=list(alert_ids), lease_owner=owner, status=Alert.Status.PENDING
    )


# Settling counts the rows that really changed state (a lapsed lease changes none),
# here where every state change happens, so each alert is counted once whoever settles it.
def mark_sent(owner: str, alert_ids, message_id: str) -> int:
    sent = _held(owner, alert_ids).update(
        status=Alert.Status.SENT,
        sent_at=timezone.now(),
        message_id=message_id,
        last_error="",
        lease_owner="",
        lease_expires_at=None,
    )
    metrics.count_on_commit(metrics.alerts_sent, sent)
    return sent


def mark_skipped(owner: str, alert_ids, reason: str) -> int:
    skipped = _held(owner, alert_ids).update(
        status=Alert.Status.SKIPPED, last_error=reason, lease_owner="", lease_expires_at=None
    )
    metrics.count_on_commit(metrics.alerts_skipped, skipped)
    return skipped


def mark_failed(owner: str, alert_ids, error: str) -> int:
    failed = _held(owner, alert_ids).update(
        status=Alert.Status.FAILED, last_error=error, lease_owner="", lease_expires_at=None
    )
    metrics.count_on_commit(metrics.alerts_failed, failed)
    return failed


def skip_pending_of(user_id: int, reason: str) -> int:
    """Skip every pending alert of a user, held by a sender or not (a ban)."""
    skipped = Alert.objects.filter(user_id=user_id, status=Alert.Status.PENDING).update(
        status=Alert.Status.SKIPPED, last_error=reason, lease_owner="", lease_expires_at=None
    )
    metrics.count_on_commit(metrics.alerts_skipped, skipped)
    return skipped


def backoff_seconds(attempts: int) -> float:
    """Backoff after a failed send: up to 5 s, 10 s, 20 s, … capped at an hour."""
    return jittered_backoff(attempts, BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS)


def renew_leases(owner: str, alert_ids: Collection[int], lease_seconds: float | None = None) -> int:
    """The heartbeat: extend the leases `owner` still holds on these alerts; return how many.

    An alert another sender took over after this one's lease lapsed has another
    owner, and a settled one is no longer pending: neither is touched.
    """
    ids = list(alert_ids)
    until = timezone.now() + timedelta(seconds=lease_seconds or settings.ALERTS_LEASE_SECONDS)
    renewed = 0
    for start in range(0, len(ids), RENEW_CHUNK):
        renewed += _held(owner, ids[start : start + RENEW_CHUNK]).update(lease_expires_at=until)
    return renewed


def ambiguous_backoff_seconds(attempts: int) -> float:
    """Backoff after a send with an unknown outcome: 1 s, 2 s, 4 s, … capped at 10 s, so
    every retry lands well inside Discord's nonce window."""
    return jittered_backoff(attempts, AMBIGUOUS_BACKOFF_BASE_SECONDS, AMBIGUOUS_BACKOFF_MAX_SECONDS)


def mark_retry(
    owner: str, alerts: list[Alert], error: str, ambiguous: bool = False
) -> tuple[int, int]:
    """Schedule another attempt, or fail the alerts that used up their attempts. Returns (retrying, failed).

    `ambiguous`: the message may have been posted (no answer came). It is retried
    soon, while Discord still recognises its nonce, and the time it may have been
    posted is kept so a much later attempt checks the channel first.
    """
    exhausted = [a.pk for a in alerts if a.attempts >= settings.ALERTS_MAX_ATTEMPTS]
    failed = mark_failed(
        owner, exhausted, f"gave up after {settings.ALERTS_MAX_ATTEMPTS} attempts: {error}"
    )
    # Alerts claimed together share their attempt count: one update per count, not per alert.
    by_attempts: dict[int, list[int]] = defaultdict(list)
    for alert in alerts:
        if alert.pk not in exhausted:
            by_attempts[alert.attempts].append(alert.pk)
    retrying = 0
    now = timezone.now()
    extra = {}
    if ambiguous:
        # Discord may have taken the request as soon as it left, a timeout ago.
        sent_by = now - timedelta(seconds=settings.DISCORD_REQUEST_TIMEOUT)
        extra["ambiguous_since"] = Coalesce(
            F("ambiguous_since"), Value(sent_by), output_field=DateTimeField()
        )
    backoff = ambiguous_backoff_seconds if ambiguous else backoff_seconds
    for attempts, ids in by_attempts.items():
        retrying += _held(owner, ids).update(
            next_attempt_at=now + timedelta(seconds=backoff(attempts)),
            last_error=error,
            lease_owner="",
            lease_expires_at=None,
            **extra,
        )
    return retrying, failed


def fix_nonce(alert_ids, nonce: str) -> int:
    """Record the nonce of the message carrying these alerts, before it is first sent."""
    return Alert.objects.filter(id__in=list(alert_ids)).exclude(nonce=nonce).update(nonce=nonce)


def postpone(owner: str, alert_ids, until: datetime) -> int:
    """Hold alerts until a later time (a digest) without counting the claim as an attempt."""
    return _held(owner, alert_ids).update(
        next_attempt_at=until, lease_owner="", lease_expires_at=None, attempts=F("attempts") - 1
    )


def reroute(owner: str, alert_ids) -> int:
    """Give alerts back, due now and without counting the attempt, to be routed and
    packed afresh (with a new nonce: they will be posted somewhere else)."""
    return _held(owner, alert_ids).update(
        next_attempt_at=timezone.now(),
        nonce="",
        ambiguous_since=None,
        lease_owner="",
        lease_expires_at=None,
        attempts=F("attempts") - 1,
    )


def release(owner: str, in_flight: Collection[int] = ()) -> int:
    """Give back leases not yet settled (clean shutdown), without counting the attempt.

    `in_flight` are alerts whose message was still on its way when the sender
    stopped waiting: it may have been posted, so they are marked ambiguous.
    """
    if in_flight:
        sent_by = timezone.now() - timedelta(seconds=settings.DISCORD_REQUEST_TIMEOUT)
        _held(owner, in_flight).filter(ambiguous_since__isnull=True).update(ambiguous_since=sent_by)
    return Alert.objects.filter(lease_owner=owner, status=Alert.Status.PENDING).update(
        lease_owner="", lease_expires_at=None, attempts=F("attempts") - 1
    )


def requeue(alert_ids) -> int:
    """Moderation: send failed or skipped alerts again from scratch."""
    return Alert.objects.filter(
        id__in=list(alert_ids), status__in=[Alert.Status.FAILED, Alert.Status.SKIPPED]
    ).update(
        status=Alert.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        last_error="",
        lease_owner="",
        lease_expires_at=None,
    )


def skip_by_staff(alert_ids, reason: str) -> int:
    """Moderation: skip pending alerts that no sender holds (a held one may be on its way)."""
    now = timezone.now()
    skipped = (
        Alert.objects.filter(id__in=list(alert_ids), status=Alert.Status.PENDING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))
        .update(
            status=Alert.Status.SKIPPED, last_error=reason, lease_owner="", lease_expires_at=None
        )
    )
    metrics.count_on_commit(metrics.alerts_skipped, skipped)
    return skipped
