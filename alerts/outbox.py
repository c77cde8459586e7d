"""Writing, claiming and settling outbox rows so every alert is delivered once.

Alerts are written in bulk: PostgreSQL takes them through COPY (a popular
listing can queue thousands), other databases (SQLite) through one prepared
INSERT run over plain tuples.

A sender claims due alerts by stamping a lease on them. Claims take turns (a
transaction-scoped advisory lock on PostgreSQL, the single writer lock on
SQLite), so each claim sees the leases the one before stamped and needs no
row locks; the conditional UPDATE re-checks that each row is still due. A
claim counts as an attempt, so an alert that crashes its sender every time
still ends as failed. Leases are short (ALERTS_LEASE_SECONDS, 30 s) and a live
sender renews those it still holds (`renew_leases`, every
ALERTS_HEARTBEAT_SECONDS); a sender that dies stops renewing, so its alerts are
due again within about one lease. Renewal and settling (sent, retry, failed)
only touch rows the sender still holds, so a late sender never extends or
overwrites what another sender took over. A destination another sender holds
alerts of is not claimed until that sender is done with it: two processes
never post to one channel at once, nor open one user's DM twice.

A send whose outcome is unknown (a timeout, a reset connection, a sender that
died with it in flight) is recorded as ambiguous (`ambiguous_since`) and
retried within seconds, well inside the window in which Discord recognises
the message's nonce; past ALERTS_NONCE_WINDOW_SECONDS the transport looks for
the message in the channel before posting it again.

Without Redis only one sender sends for a bot token: see alerts/roles.py.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    DateTimeField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from alerts.models import Alert
from filters.models import Filter
from lib import metrics
from users.models import User

BANNED = "The user is banned."
BACKOFF_BASE_SECONDS = 5
BACKOFF_MAX_SECONDS = 3600
MAX_EXCLUDED_USERS = 500
CLAIM_WINDOW_BATCHES = 10
# A claim takes at most this many of one user's alerts: five full messages, what a
# channel's bucket lets through at once (5 messages per 5 s). More would only wait on
# that bucket while holding the sender's room that other destinations could use.
DESTINATION_SHARE = 50
AMBIGUOUS_BACKOFF_BASE_SECONDS = 1
AMBIGUOUS_BACKOFF_MAX_SECONDS = 10
RENEW_CHUNK = 500
CLAIM_LOCK_KEY = 0x616C657274  # PostgreSQL advisory lock serializing claims ("alert")


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
        cursor.executemany(sql, rows())
    return count


def new_lease_owner() -> str:
    return uuid.uuid4().hex


def claim_due(
    owner: str,
    limit: int,
    lease_seconds: int | None = None,
    exclude_users: Collection[int] = (),
) -> list[Alert]:
    """Lease due alerts to `owner`, whole destinations at a time; return them with user and listing.

    Whole destinations are taken (see `_next_destinations`), each with its due
    alerts (up to DESTINATION_SHARE of each user's), until about `limit` alerts:
    a backlog then packs into full messages instead of one alert per message.
    `exclude_users` are users the sender already holds alerts of: their newer
    alerts wait for a later claim, so one busy user cannot fill every claim.
    Alerts packed in one message with a claimed alert come along (see
    `_rest_of_their_messages`).
    """
    now = timezone.now()
    lease = timedelta(seconds=lease_seconds or settings.ALERTS_LEASE_SECONDS)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Claims take turns (as under SQLite's writer lock), so each sees the
            # leases of the one before: two senders never both take one destination,
            # and no claim needs row locks to keep out of another's way.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK_KEY])
        # Users another sender holds live leases on wait until it is done with them.
        held = Alert.objects.leased(now).exclude(lease_owner=owner)
        due = Alert.objects.due(now).exclude(user_id__in=held.values("user_id"))
        if exclude_users:
            due = due.exclude(user_id__in=list(exclude_users)[:MAX_EXCLUDED_USERS])
        destinations = _next_destinations(due, limit, now)
        if not destinations:
            return []
        ids = _whole_shares(due, destinations, limit, now)
        if not ids:
            return []
        ids += _rest_of_their_messages(ids, now)
        Alert.objects.due(now).filter(id__in=ids).update(
            lease_owner=owner,
            lease_expires_at=now + lease,
            attempts=F("attempts") + 1,
            ambiguous_since=_ambiguous_after_takeover(),
        )
    claimed = list(
        Alert.objects.filter(id__in=ids, lease_owner=owner, status=Alert.Status.PENDING)
        .select_related("user", "listing")
        .order_by("next_attempt_at", "id")
    )
    attach_filter_names(claimed)
    return claimed


def _ambiguous_after_takeover() -> Case:
    """`ambiguous_since` for a claim: a row still leased to another owner was taken over
    from a sender that stopped renewing (it died or stalled), maybe with the row's
    message in flight. That message may have reached Discord as early as the lease
    was last renewed, or one request timeout before it."""
    margin = timedelta(seconds=settings.ALERTS_LEASE_SECONDS + settings.DISCORD_REQUEST_TIMEOUT)
    earliest = ExpressionWrapper(F("lease_expires_at") - margin, output_field=DateTimeField())
    return Case(
        When(
            ~Q(lease_owner="") & ~Q(nonce="") & Q(lease_expires_at__isnull=False),
            then=Coalesce(F("ambiguous_since"), earliest, output_field=DateTimeField()),
        ),
        default=F("ambiguous_since"),
        output_field=DateTimeField(),
    )


def _held_destinations(now: datetime) -> set[str]:
    """Destinations with live leases on some of their alerts, this sender's own included:
    more of a destination's alerts are claimed once those are settled (a sender adding to
    a channel it holds would only queue them behind its bucket)."""
    return {
        channel if kind == User.Destination.CHANNEL else f"dm:{pk}"
        for pk, kind, channel in User.objects.filter(
            pk__in=Alert.objects.leased(now).values("user_id")
        ).values_list("pk", "destination_kind", "destination_channel_id")
    }


def _next_destinations(due: QuerySet[Alert], limit: int, now: datetime) -> list[list[int]]:
    """The destinations whose alerts go next (a DM, or a channel with everybody routed
    to it), as their users, in the order they go, until about `limit` alerts of the
    window; `_whole_shares` then counts what each really has.

    Candidates are the destinations of the oldest alerts (a window of ten claims),
    so nothing new jumps the queue; among them the ones with the most alerts in
    the window go first. A destination with many messages needs the longest on
    its channel's bucket (5 messages per 5 s), so starting it early is what lets
    a backlog drain as fast as the global limit allows; the dispatcher's
    round-robin keeps it from delaying anybody else. A user counts for at most
    DESTINATION_SHARE alerts, what the claim takes of them, so a claim spans
    several destinations even when a few users have hundreds of alerts waiting.

    Destinations with alerts held by a sender, this one included, are left out:
    their new alerts wait until the holder is done, so one channel's messages keep
    their order and stay on one sender's bucket, and a DM is opened once.
    """
    window = due.order_by("next_attempt_at", "id")
    in_window = Counter(window.values_list("user_id", flat=True)[: limit * CLAIM_WINDOW_BATCHES])
    if not in_window:
        return set()
    destination_of = {
        pk: channel if kind == User.Destination.CHANNEL else f"dm:{pk}"
        for pk, kind, channel in User.objects.filter(pk__in=list(in_window)).values_list(
            "pk", "destination_kind", "destination_channel_id"
        )
    }
    channels = {key for key in destination_of.values() if not key.startswith("dm:")}
    if channels:
        # Everybody routed to those channels goes with them: whole destinations.
        destination_of.update(
            User.objects.filter(
                destination_kind=User.Destination.CHANNEL, destination_channel_id__in=channels
            ).values_list("pk", "destination_channel_id")
        )
    weight: dict[str, int] = defaultdict(int)
    users: dict[str, list[int]] = defaultdict(list)
    for user_id, key in destination_of.items():
        weight[key] += min(in_window[user_id], DESTINATION_SHARE)
        users[key].append(user_id)
    chosen: list[list[int]] = []
    total = 0
    held = _held_destinations(now)
    for key in sorted(weight, key=weight.get, reverse=True):
        if key in held or (chosen and total + weight[key] > limit):
            continue
        chosen.append(users[key])
        total += weight[key]
    return chosen


def _whole_shares(
    due: QuerySet[Alert], destinations: list[list[int]], limit: int, now: datetime
) -> list[int]:
    """The claim: each destination's share (each of its users' oldest DESTINATION_SHARE
    alerts), whole destinations in their order until about `limit` alerts, so every
    destination's alerts pack into full messages. A channel many users share is cut
    at a few batches."""
    place_of = {user: n for n, users in enumerate(destinations) for user in users}
    by_destination: dict[int, list[int]] = defaultdict(list)
    for pk, user_id in _shares(due, list(place_of), now):
        by_destination[place_of[user_id]].append(pk)
    ids: list[int] = []
    for place in sorted(by_destination):
        share = by_destination[place][: 4 * limit]
        if ids and len(ids) + len(share) > limit:
            continue  # a smaller destination further on may still fit
        ids += share
    return ids


def _shares(due: QuerySet[Alert], users: list[int], now: datetime) -> list[tuple[int, int]]:
    """(id, user id) of each user's oldest DESTINATION_SHARE due alerts, oldest first.

    On PostgreSQL, one short read of alert_user_due_idx per user (a LATERAL join):
    a user with thousands of alerts waiting costs no more than one with fifty, where
    numbering every due alert of the users took a third of a claim at a backlog of
    700,000. The users are those of destinations nobody holds a lease in (see
    `_next_destinations`), so their due alerts are exactly their unleased ones.
    """
    if connection.vendor != "postgresql":
        shares = (
            due.filter(user_id__in=users)
            .annotate(
                place=Window(
                    RowNumber(),
                    partition_by=[F("user_id")],
                    order_by=[F("next_attempt_at").asc(), F("id").asc()],
                )
            )
            .filter(place__lte=DESTINATION_SHARE)
            .order_by("next_attempt_at", "id")
        )
        return list(shares.values_list("id", "user_id"))
    table = connection.ops.quote_name(Alert._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT share.id, share.user_id
            FROM unnest(%s::bigint[]) AS chosen(user_id)
            CROSS JOIN LATERAL (
                SELECT alert.id, alert.user_id, alert.next_attempt_at
                FROM {table} alert
                WHERE alert.user_id = chosen.user_id
                  AND alert.status = %s
                  AND alert.next_attempt_at <= %s
                  AND (alert.lease_expires_at IS NULL OR alert.lease_expires_at <= %s)
                ORDER BY alert.next_attempt_at, alert.id
                LIMIT %s
            ) share
            ORDER BY share.next_attempt_at, share.id
            """,
            [users, Alert.Status.PENDING, now, now, DESTINATION_SHARE],
        )
        return cursor.fetchall()


def _rest_of_their_messages(ids: list[int], now: datetime) -> list[int]:
    """Due alerts packed in one message with the claimed ones (same nonce) but not claimed.

    A message is only ever sent whole: were a part of it sent alone under the
    message's nonce, Discord would answer the rest with that part's message.
    """
    nonces = set(Alert.objects.filter(id__in=ids).exclude(nonce="").values_list("nonce", flat=True))
    if not nonces:
        return []
    rest = Alert.objects.due(now).filter(nonce__in=nonces).exclude(id__in=ids)
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
    """Exponential backoff with full jitter: up to 5 s, 10 s, 20 s, … capped at an hour."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


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
    ceiling = min(
        AMBIGUOUS_BACKOFF_MAX_SECONDS, AMBIGUOUS_BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1)
    )
    return random.uniform(ceiling / 2, ceiling)


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
