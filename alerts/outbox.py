"""Writing, claiming and settling outbox rows so every alert is delivered once.

Alerts are written in bulk: PostgreSQL takes them through COPY (a popular
listing can queue thousands), other databases through a batched INSERT.

A sender claims due alerts by stamping a lease on them (on PostgreSQL the rows
are picked with SELECT … FOR UPDATE SKIP LOCKED, so concurrent senders never
wait on or take each other's rows; on SQLite the single writer lock serializes
claims and the conditional UPDATE re-checks that each row is still due). A
claim counts as an attempt, so an alert that crashes its sender every time
still ends as failed. A sender that dies leaves its leases to expire; the rows
then become due again. Settling (sent, retry, failed) only touches rows the
sender still holds, so a late sender never overwrites someone else's outcome.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from alerts.models import Alert
from filters.models import Filter
from users.models import User

BANNED = "The user is banned."
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 3600
MAX_EXCLUDED_USERS = 500
CLAIM_WINDOW_BATCHES = 10


def enqueue(alerts: Iterable[tuple[int, int, list[int]]], now: datetime) -> int:
    """Write pending alerts from (user id, listing id, matched filter ids); return how many.

    Runs inside the caller's transaction. The listings must be new in it, so no
    (user, listing) pair can already exist.
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
    if connection.vendor == "postgresql":
        stamp = now.isoformat()
        count = 0
        table = connection.ops.quote_name(Alert._meta.db_table)
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
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
    rows = [
        Alert(
            user_id=user_id,
            listing_id=listing_id,
            filter_ids=filter_ids,
            next_attempt_at=now,
            created_at=now,
        )
        for user_id, listing_id, filter_ids in alerts
    ]
    Alert.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def new_lease_owner() -> str:
    return uuid.uuid4().hex


def claim_due(
    owner: str,
    limit: int,
    lease_seconds: int | None = None,
    exclude_users: Collection[int] = (),
) -> list[Alert]:
    """Lease due alerts to `owner`, whole destinations at a time; return them with user and listing.

    Whole destinations are taken (see `_next_destinations`), each with all its due
    alerts, until about `limit` alerts: a backlog then packs into full messages
    instead of one alert per message.
    `exclude_users` are users the sender already holds alerts of: their newer
    alerts wait for a later claim, so one busy user cannot fill every claim.
    Alerts packed in one message with a claimed alert come along (see
    `_rest_of_their_messages`).
    """
    now = timezone.now()
    lease = timedelta(seconds=lease_seconds or settings.ALERTS_LEASE_SECONDS)
    with transaction.atomic():
        due = Alert.objects.due(now)
        if exclude_users:
            due = due.exclude(user_id__in=list(exclude_users)[:MAX_EXCLUDED_USERS])
        users = _next_destinations(due, limit)
        if not users:
            return []
        claim = due.filter(user_id__in=users).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            claim = claim.select_for_update(skip_locked=True)
        # Only a destination with more than `limit` alerts alone is cut.
        ids = list(claim.values_list("id", flat=True)[: 4 * limit])
        if not ids:
            return []
        ids += _rest_of_their_messages(ids, now)
        Alert.objects.due(now).filter(id__in=ids).update(
            lease_owner=owner, lease_expires_at=now + lease, attempts=F("attempts") + 1
        )
    claimed = list(
        Alert.objects.filter(id__in=ids, lease_owner=owner, status=Alert.Status.PENDING)
        .select_related("user", "listing")
        .order_by("next_attempt_at", "id")
    )
    attach_filter_names(claimed)
    return claimed


def _next_destinations(due: QuerySet[Alert], limit: int) -> set[int]:
    """The users whose alerts go next, a destination (a DM, or a channel with everybody
    routed to it) at a time, until about `limit` alerts.

    Candidates are the destinations of the oldest alerts (a window of ten claims),
    so nothing new jumps the queue; among them the ones with the most alerts go
    first. A destination with many messages needs the longest on its channel's
    bucket (5 messages per 5 s), so starting it early is what lets a backlog
    drain as fast as the global limit allows; the dispatcher's round-robin keeps
    it from delaying anybody else.
    """
    window = due.order_by("next_attempt_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        # Locking the window makes concurrent senders look at different alerts
        # instead of all choosing (and then fighting over) the same destinations.
        window = window.select_for_update(skip_locked=True)
    candidates = set(window.values_list("user_id", flat=True)[: limit * CLAIM_WINDOW_BATCHES])
    if not candidates:
        return set()
    destination_of = {
        pk: channel if kind == User.Destination.CHANNEL else f"dm:{pk}"
        for pk, kind, channel in User.objects.filter(pk__in=candidates).values_list(
            "pk", "destination_kind", "destination_channel_id"
        )
    }
    channels = {key for key in destination_of.values() if not key.startswith("dm:")}
    destination_of.update(
        User.objects.filter(
            destination_kind=User.Destination.CHANNEL, destination_channel_id__in=channels
        ).values_list("pk", "destination_channel_id")
    )
    counts = (
        due.filter(user_id__in=list(destination_of))
        .values("user_id")
        .annotate(n=Count("id"))
        .values_list("user_id", "n")
    )
    weight: dict[str, int] = defaultdict(int)
    users: dict[str, list[int]] = defaultdict(list)
    for user_id, n in counts:
        weight[destination_of[user_id]] += n
        users[destination_of[user_id]].append(user_id)
    chosen: set[int] = set()
    total = 0
    for key in sorted(weight, key=weight.get, reverse=True):
        if chosen and total + weight[key] > limit:
            continue
        chosen.update(users[key])
        total += weight[key]
    return chosen


def _rest_of_their_messages(ids: list[int], now: datetime) -> list[int]:
    """Due alerts packed in one message with the claimed ones (same nonce) but not claimed.

    A message is only ever sent whole: were a part of it sent alone under the
    message's nonce, Discord would answer the rest with that part's message.
    """
    nonces = set(Alert.objects.filter(id__in=ids).exclude(nonce="").values_list("nonce", flat=True))
    if not nonces:
        return []
    rest = Alert.objects.due(now).filter(nonce__in=nonces).exclude(id__in=ids)
    if connection.features.has_select_for_update_skip_locked:
        rest = rest.select_for_update(skip_locked=True)
    return list(rest.values_list("id", flat=True))


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


def mark_sent(owner: str, alert_ids, message_id: str) -> int:
    return _held(owner, alert_ids).update(
        status=Alert.Status.SENT,
        sent_at=timezone.now(),
        message_id=message_id,
        last_error="",
        lease_owner="",
        lease_expires_at=None,
    )


def mark_skipped(owner: str, alert_ids, reason: str) -> int:
    return _held(owner, alert_ids).update(
        status=Alert.Status.SKIPPED, last_error=reason, lease_owner="", lease_expires_at=None
    )


def mark_failed(owner: str, alert_ids, error: str) -> int:
    return _held(owner, alert_ids).update(
        status=Alert.Status.FAILED, last_error=error, lease_owner="", lease_expires_at=None
    )


def skip_pending_of(user_id: int, reason: str) -> int:
    """Skip every pending alert of a user, held by a sender or not (a ban)."""
    return Alert.objects.filter(user_id=user_id, status=Alert.Status.PENDING).update(
        status=Alert.Status.SKIPPED, last_error=reason, lease_owner="", lease_expires_at=None
    )


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter: up to 5 s, 10 s, 20 s, … capped at an hour."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def mark_retry(owner: str, alerts: list[Alert], error: str) -> tuple[int, int]:
    """Schedule another attempt, or fail the alerts that used up their attempts. Returns (retrying, failed)."""
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
    for attempts, ids in by_attempts.items():
        retrying += _held(owner, ids).update(
            next_attempt_at=now + timedelta(seconds=backoff_seconds(attempts)),
            last_error=error,
            lease_owner="",
            lease_expires_at=None,
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
        lease_owner="",
        lease_expires_at=None,
        attempts=F("attempts") - 1,
    )


def release(owner: str) -> int:
    """Give back leases not yet settled (clean shutdown), without counting the attempt."""
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
