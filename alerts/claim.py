"""The outbox's claim: which due alerts a sender leases next, whole destinations at a time.

Claims take turns (a transaction-scoped advisory lock on PostgreSQL, the single
writer lock on SQLite), so each claim sees the leases the one before stamped and
needs no row locks; the conditional UPDATE re-checks that each row is still due.
A claim counts as an attempt. A destination another sender holds alerts of is
not claimed until that sender is done with it. The order and the rules are in
docs/architecture.md (Delivery).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Q, QuerySet, When, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from alerts.models import Alert
from alerts.outbox import attach_filter_names
from alerts.routing import Route
from users.models import User

MAX_EXCLUDED_USERS = 500
CLAIM_WINDOW_BATCHES = 10
# A claim takes at most this many of one user's alerts: five full messages, what a
# channel's bucket lets through at once (5 messages per 5 s). More would only wait on
# that bucket while holding the sender's room that other destinations could use.
DESTINATION_SHARE = 50
CLAIM_LOCK_KEY = 0x616C657274  # PostgreSQL advisory lock serializing claims ("alert")


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


def _held_destinations(now: datetime) -> set[Route]:
    """Destinations with live leases on some of their alerts, this sender's own included:
    more of a destination's alerts are claimed once those are settled (a sender adding to
    a channel it holds would only queue them behind its bucket)."""
    return {
        Route.chosen_by(pk, kind, channel)
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
        return []
    destination_of = {
        pk: Route.chosen_by(pk, kind, channel)
        for pk, kind, channel in User.objects.filter(pk__in=list(in_window)).values_list(
            "pk", "destination_kind", "destination_channel_id"
        )
    }
    channels = {route.key for route in destination_of.values() if not route.is_dm}
    if channels:
        # Everybody routed to those channels goes with them: whole destinations.
        destination_of.update(
            (pk, Route.channel(channel))
            for pk, channel in User.objects.filter(
                destination_kind=User.Destination.CHANNEL, destination_channel_id__in=channels
            ).values_list("pk", "destination_channel_id")
        )
    weight: dict[Route, int] = defaultdict(int)
    users: dict[Route, list[int]] = defaultdict(list)
    for user_id, key in destination_of.items():
        weight[key] += min(in_window[user_id], DESTINATION_SHARE)
        users[key].append(user_id)
    chosen: list[list[int]] = []
    total = 0
    held = _held_destinations(now)
    for route in sorted(weight, key=lambda route: weight[route], reverse=True):
        if route in held or (chosen and total + weight[route] > limit):
            continue
        chosen.append(users[route])
        total += weight[route]
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
    a user with thousands of alerts waiting costs no more than one with fifty,
    however long the backlog. The users are those of destinations nobody holds a lease in (see
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
    due_now, params = due_condition_sql(now)
    table = connection.ops.quote_name(Alert._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT share.id, share.user_id
            FROM unnest(%s::bigint[]) AS chosen(user_id)
            CROSS JOIN LATERAL (
                SELECT {table}.id, {table}.user_id, {table}.next_attempt_at
                FROM {table}
                WHERE {table}.user_id = chosen.user_id AND {due_now}
                ORDER BY {table}.next_attempt_at, {table}.id
                LIMIT %s
            ) share
            ORDER BY share.next_attempt_at, share.id
            """,
            [users, *params, DESTINATION_SHARE],
        )
        return cursor.fetchall()


def due_condition_sql(now: datetime) -> tuple[str, list]:
    """`AlertQuerySet.due(now)`'s WHERE clause as SQL and its parameters, columns named by
    the table's name: the one definition of a due alert, for the raw SQL of `_shares`."""
    query = Alert.objects.due(now).query
    compiler = query.get_compiler(connection=connection)
    sql, params = compiler.compile(query.where)
    return sql, list(params)


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
