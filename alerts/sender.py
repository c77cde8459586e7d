"""The sending loop: claim due alerts, route and pack them, dispatch the messages, settle each outcome.

Claims go on while the dispatcher holds fewer than a few batches, or more
while every route it holds waits on its channel's bucket, so a backlog keeps
the whole request budget busy. Database work runs in Django's sync thread;
sending runs on the event loop, so neither waits for the other. How this keeps
every alert delivered exactly once is in docs/architecture.md (Delivery).

On each heartbeat, and once when it stops, the sender adds the requests and
429s it made since the last time to the hour's DiscordHour row. It also
publishes its own numbers in its SenderStatus row (written when it starts and
on each heartbeat, deleted when it stops): the alerts and requests it made a
second over its last CAPACITY_WINDOW_SECONDS, the alerts per request that
packing gave, and the requests a second it may make now, from which /health
and /metrics tell the installation's capacity and the time to drain its backlog.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from alerts import claim, outbox, roles
from alerts.batching import PlannedMessage, pack, pack_digest
from alerts.dispatch import Dispatcher
from alerts.embeds import AlertView
from alerts.models import Alert, DiscordHour, SenderStatus
from alerts.routing import Route, decide, unreachable_dm_reason
from alerts.transports import Outcome, Outgoing, Result, Transport
from lib import metrics
from lib.backoff import backoff_ceiling
from users.services import (
    clear_delivery_notice,
    mark_channel_broken,
    mark_dm_unreachable,
    remember_dm_channel,
)

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 5.0
HELD_BATCHES = 4
# While the routes held wait on their buckets, claims go on up to this many batches.
MAX_HELD_BATCHES = 20
STOP_GRACE_SECONDS = 7.0  # requests in flight at SIGTERM; the whole stop stays under 10 s
DRAIN_POLL_SECONDS = 0.2
DB_BACKOFF_BASE_SECONDS = 0.5
DB_BACKOFF_MAX_SECONDS = 30.0
# Rates are measured over this much of the sender's recent past: long enough to span
# several scans' bursts, short enough to follow a change of traffic within minutes.
CAPACITY_WINDOW_SECONDS = 300.0


class Step(Enum):
    CLAIMED = "claimed"  # alerts were claimed: claim again at once
    BUSY = "busy"  # messages are on their way
    IDLE = "idle"  # nothing to do now
    DONE = "done"  # a drain found nothing left


def db(function):
    """`function` run in the sync thread, closing a broken connection when it fails, so
    the next step reconnects (a restarted PostgreSQL, an SQLite lock timeout)."""

    def call(*args):
        try:
            return function(*args)
        except DatabaseError:
            if not connection.in_atomic_block:
                close_old_connections()
            raise

    return sync_to_async(call)


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


@dataclass
class SendStats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    postponed: int = 0

    def summary(self) -> str:
        return (
            f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}, "
            f"skipped {self.skipped}"
        )


class Sender:
    def __init__(
        self,
        transport: Transport,
        batch_size: int | None = None,
        owner: str | None = None,
        exclusive: bool | None = None,
    ) -> None:
        self.transport = transport
        self.batch_size = batch_size or settings.ALERTS_BATCH_SIZE
        self.owner = owner or outbox.new_lease_owner()
        self.stats = SendStats()
        # Without Redis nothing shares the request budget: one sender per token (the role).
        self.exclusive = not settings.REDIS_URL if exclusive is None else exclusive
        self.has_role = False
        self.lease_seconds = settings.ALERTS_LEASE_SECONDS
        # A heartbeat as slow as the lease would let leases lapse between two beats.
        self.heartbeat_seconds = min(settings.ALERTS_HEARTBEAT_SECONDS, self.lease_seconds / 3)
        self._db_failures = 0
        self._waiting_logged = False
        self._recorded = self.transport.counters.totals()  # what DiscordHour rows already have
        # (monotonic time, requests made, alerts sent) at each published status.
        self._samples: deque[tuple[float, int, int]] = deque()
        # One alert a message until measured: what single alerts trickling in give; a
        # backlog packs more (up to 10 embeds a message), so this is a floor.
        self._alerts_per_request = 1.0
        self._published = False

    # -- running ------------------------------------------------------------------
    def drain(self) -> SendStats:
        """Send everything due now, then return."""
        return self.run(threading.Event(), drain=True)

    def run(
        self, stopping: threading.Event, drain: bool = False, idle: float | None = None
    ) -> SendStats:
        """Send until `stopping` is set (or, with `drain`, until nothing is due).

        A drain also waits for alerts other senders hold, and takes them over when
        a dead sender's leases lapse: nothing due is left behind. Runs the event
        loop under async_to_sync, so database calls happen in the calling thread,
        inside its transaction if it has one.
        """
        idle = settings.ALERTS_IDLE_SECONDS if idle is None else idle
        async_to_sync(self._run)(stopping, drain, idle)
        return self.stats

    async def _run(self, stopping: threading.Event, drain: bool, idle: float) -> None:
        await self.transport.start()
        dispatcher = Dispatcher(
            self.transport, self._settle, self._remember_dm, self.transport.concurrency
        )
        reporter = ProgressReporter(self)
        heartbeat = asyncio.create_task(self._heartbeat(dispatcher))
        try:
            while not stopping.is_set():
                try:
                    state = await self._step(dispatcher, reporter, drain)
                except DatabaseError as error:
                    await self._back_off(error, stopping)
                    continue
                self._db_failures = 0
                if state is Step.CLAIMED:
                    await asyncio.sleep(0)
                elif state is Step.BUSY:
                    await dispatcher.wait_for_progress(min(idle, 0.5))
                elif state is Step.DONE:
                    break
                elif drain:
                    await asyncio.sleep(DRAIN_POLL_SECONDS)
                else:
                    await asyncio.get_running_loop().run_in_executor(None, stopping.wait, idle)
        finally:
            cut_off = await dispatcher.close(STOP_GRACE_SECONDS)
            heartbeat.cancel()
            in_flight = [pk for outgoing in cut_off for pk in outgoing.alert_ids]
            try:
                await db(self._let_go)(in_flight)
            except DatabaseError as error:
                log.warning(
                    "could not give back leases (%s); they lapse within %ss",
                    one_line(error),
                    self.lease_seconds,
                )
            await self.transport.close()
            try:
                await db(self._record_discord_hour)()
            except DatabaseError as error:
                log.warning("Discord's answers of the last beat are lost (%s)", one_line(error))
            try:
                await reporter.maybe_report(force=True)
            except DatabaseError as error:
                log.warning("no summary: the database is unavailable (%s)", one_line(error))

    async def _step(self, dispatcher: Dispatcher, reporter: ProgressReporter, drain: bool) -> Step:
        """Claim and plan what fits; say whether there is more to do (database errors raise)."""
        claimed = 0
        if self.exclusive and not self.has_role:
            self.has_role = await db(roles.take_role)(self.owner, self.lease_seconds)
            if not self.has_role and not self._waiting_logged:
                log.info("another sender holds the sending role for this bot token; waiting")
            self._waiting_logged = not self.has_role
        if not self._published:
            # After the first try for the role, so the row says whether this sender may send.
            await db(self._publish_status)()
            self._published = True
        may_claim = self.has_role or not self.exclusive
        held = dispatcher.held_alerts
        room = held < HELD_BATCHES * self.batch_size or (
            dispatcher.starved and held < MAX_HELD_BATCHES * self.batch_size
        )
        if may_claim and room:
            claimed, messages = await db(self._claim_and_plan)(dispatcher.held_user_ids())
            for outgoing in messages:
                dispatcher.add(outgoing)
        await reporter.maybe_report()
        if claimed:
            return Step.CLAIMED
        if not dispatcher.idle:
            return Step.BUSY
        if drain and not await db(self._work_left)():
            return Step.DONE
        return Step.IDLE

    def _work_left(self) -> bool:
        """Due alerts not settled: unclaimed ones, and ones other senders hold (a dead
        sender's lapse within a lease; a live sender's are settled soon)."""
        due = Alert.objects.filter(status=Alert.Status.PENDING, next_attempt_at__lte=timezone.now())
        return due.exclude(lease_owner=self.owner).exists()

    async def _heartbeat(self, dispatcher: Dispatcher) -> None:
        """Renew the role and the leases of every alert still held, so only a dead
        sender's alerts are taken over."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            held = dispatcher.held_alert_ids()
            try:
                await db(self._beat)(held)
            except DatabaseError as error:
                log.warning("could not renew leases (%s); trying again", one_line(error))
            try:
                await db(self._record_discord_hour)()
            except DatabaseError as error:
                log.warning("could not record Discord's answers (%s); next beat", one_line(error))

    def _beat(self, held: set[int]) -> None:
        if self.exclusive and self.has_role:
            self.has_role = roles.take_role(self.owner, self.lease_seconds)
            if not self.has_role:
                log.warning("the sending role lapsed and another sender took it; claiming stops")
        if held:
            outbox.renew_leases(self.owner, held, self.lease_seconds)
        self._publish_status()

    def _publish_status(self) -> None:
        """Write this sender's measured rates and its request budget to its SenderStatus row."""
        now = time.monotonic()
        self._samples.append((now, self.transport.counters.requests, self.stats.sent))
        # Keep the newest sample at least a window old, so the rates span a whole window.
        while len(self._samples) > 2 and self._samples[1][0] <= now - CAPACITY_WINDOW_SECONDS:
            self._samples.popleft()
        since, requests_then, sent_then = self._samples[0]
        elapsed = now - since
        requests = self.transport.counters.requests - requests_then
        sent = self.stats.sent - sent_then
        if sent and requests:
            self._alerts_per_request = sent / requests
        SenderStatus.objects.publish(
            self.owner,
            alerts_per_second=sent / elapsed if elapsed > 0 else 0.0,
            requests_per_second=requests / elapsed if elapsed > 0 else 0.0,
            alerts_per_request=self._alerts_per_request,
            request_budget=self.request_budget(),
        )

    def request_budget(self) -> float | None:
        """Requests a second this sender may make now: the bot token's pace while it may send
        (with Redis every sender shares that one pace), none while it waits for the role;
        None for a transport without a limit (the console)."""
        if not self.transport.talks_to_discord:
            return None
        if self.exclusive and not self.has_role:
            return 0.0
        return settings.DISCORD_REQUESTS_PER_SECOND

    def _record_discord_hour(self) -> None:
        """Add what the transport did since the last call to this hour's row; a database
        error leaves it for the next call."""
        if not self.transport.talks_to_discord:
            return
        totals = self.transport.counters.totals()
        requests, limited_global, limited_route = (
            now - before for now, before in zip(totals, self._recorded, strict=True)
        )
        if requests or limited_global or limited_route:
            DiscordHour.objects.add(timezone.now(), requests, limited_global, limited_route)
        self._recorded = totals

    def _let_go(self, in_flight: list[int]) -> None:
        outbox.release(self.owner, in_flight)
        SenderStatus.objects.filter(owner=self.owner).delete()
        if self.exclusive:
            roles.give_up_role(self.owner)
            self.has_role = False

    async def _back_off(self, error: DatabaseError, stopping: threading.Event) -> None:
        """A database error is temporary for the sender: wait (longer each time, capped), go on."""
        self._db_failures += 1
        pause = backoff_ceiling(self._db_failures, DB_BACKOFF_BASE_SECONDS, DB_BACKOFF_MAX_SECONDS)
        log.warning("database unavailable (%s); trying again in %.1fs", one_line(error), pause)
        await asyncio.get_running_loop().run_in_executor(None, stopping.wait, pause)

    # -- claiming and planning (database thread) ------------------------------------
    def _claim_and_plan(self, busy_users: set[int]) -> tuple[int, list[Outgoing]]:
        claimed = claim.claim_due(
            self.owner, self.batch_size, lease_seconds=self.lease_seconds, exclude_users=busy_users
        )
        now = timezone.now()
        routes: dict[Route, list[tuple[Alert, bool]]] = defaultdict(list)
        skipped: dict[str, list[int]] = defaultdict(list)
        postponed: dict[datetime, list[int]] = defaultdict(list)
        for alert in claimed:
            decision = decide(alert, now)
            if decision.skip_reason:
                skipped[decision.skip_reason].append(alert.pk)
            elif decision.wait_until:
                postponed[decision.wait_until].append(alert.pk)
            else:
                # decide() gives a route whenever it neither skips nor postpones.
                routes[decision.route].append((alert, decision.digest))  # type: ignore[index]
        for reason, ids in skipped.items():
            self.stats.skipped += outbox.mark_skipped(self.owner, ids, reason)
        for until, ids in postponed.items():
            self.stats.postponed += outbox.postpone(self.owner, ids, until)
        messages = []
        for route, items in routes.items():
            messages += self._plan_route(route, items)
        return len(claimed), messages

    def _plan_route(self, route: Route, items: list[tuple[Alert, bool]]) -> list[Outgoing]:
        """Pack a route's alerts; alerts packed before (a crash, a retry) keep their message's nonce."""
        groups: dict[tuple[str, bool], list[Alert]] = defaultdict(list)
        for alert, digest in items:
            groups[(alert.nonce, digest)].append(alert)
        by_id = {alert.pk: alert for alert, _ in items}
        planned: list[PlannedMessage] = []
        for (nonce, digest), alerts in groups.items():
            views = [(a.pk, AlertView.of(a, mention=not route.is_dm)) for a in alerts]
            messages = (pack_digest if digest else pack)(views)
            if nonce:
                messages[0].nonce = nonce
            planned += messages
        first_user = items[0][0].user
        if route.is_dm and first_user.delivery_notice:
            planned[0].notice = first_user.delivery_notice
        result = []
        for message in planned:
            nonce = message.nonce or message.payload()["nonce"]
            outbox.fix_nonce(message.alert_ids, nonce)
            message.nonce = nonce
            alerts = [by_id[pk] for pk in message.alert_ids]
            outgoing = Outgoing(
                route=route,
                message=message,
                alerts=alerts,
                ambiguous_since=min(
                    (a.ambiguous_since for a in alerts if a.ambiguous_since), default=None
                ),
            )
            if route.is_dm:
                outgoing.channel_id = first_user.dm_channel_id
                # decide() routes to DMs only users with a Discord id.
                outgoing.recipient_id = first_user.discord_id  # type: ignore[assignment]
            else:
                outgoing.channel_id = route.key
            if message.notice:
                outgoing.notice_user_id = first_user.pk
            result.append(outgoing)
        return result

    # -- settling (called by the dispatcher) ---------------------------------------
    async def _remember_dm(self, route: Route, channel_id: str) -> None:
        await self._until_written(remember_dm_channel, int(route.key), channel_id)

    async def _settle(self, outgoing: Outgoing, outcome: Outcome, dropped: list[Outgoing]) -> None:
        await self._until_written(self._settle_now, outgoing, outcome, dropped)

    async def _until_written(self, write, *args) -> None:
        """Write what Discord answered, retrying database errors: the answer cannot be
        asked for again. The heartbeat keeps the alerts' leases meanwhile."""
        failures = 0
        while True:
            try:
                await db(write)(*args)
                return
            except DatabaseError as error:
                failures += 1
                pause = backoff_ceiling(failures, DB_BACKOFF_BASE_SECONDS, DB_BACKOFF_MAX_SECONDS)
                log.warning(
                    "could not record an outcome (%s); trying again in %.1fs",
                    one_line(error),
                    pause,
                )
                await asyncio.sleep(pause)

    def _settle_now(self, outgoing: Outgoing, outcome: Outcome, dropped: list[Outgoing]) -> None:
        ids = outgoing.alert_ids
        stats = self.stats
        match outcome.result:
            case Result.SENT:
                sent = outbox.mark_sent(self.owner, ids, outcome.message_id)
                stats.sent += sent
                # Fewer than all only when a lapsed lease let another sender take some;
                # which ones is not known, and their listings were seen together anyway.
                observe_delivery_latency(outgoing.alerts[:sent])
                if outgoing.notice_user_id:
                    clear_delivery_notice(outgoing.notice_user_id, outgoing.message.notice)
            case Result.RETRY:
                log.info("temporary failure sending to %s: %s", outgoing.route, outcome.error)
                retrying, failed = outbox.mark_retry(
                    self.owner, outgoing.alerts, outcome.error, ambiguous=outcome.ambiguous
                )
                stats.retrying += retrying
                stats.failed += failed
            case Result.INVALID:
                log.error(
                    "Discord rejected our message to %s: %s; payload: %s",
                    outgoing.route,
                    outcome.error,
                    outgoing.message.payload(),
                )
                stats.failed += outbox.mark_failed(self.owner, ids, outcome.error)
            case Result.FAILED:
                log.warning("permanent failure sending to %s: %s", outgoing.route, outcome.error)
                stats.failed += outbox.mark_failed(self.owner, ids, outcome.error)
            case Result.DM_UNREACHABLE:
                user_id = int(outgoing.route.key)
                log.warning("DMs of user %s are unreachable: %s", user_id, outcome.error)
                mark_dm_unreachable(user_id, outcome.error)
                reason = unreachable_dm_reason(outcome.error)
                stats.skipped += outbox.skip_pending_of(user_id, reason)
            case Result.CHANNEL_BROKEN:
                channel_id = outgoing.route.key
                log.warning("channel %s is broken: %s", channel_id, outcome.error)
                mark_channel_broken(channel_id, outcome.error)
                held = ids + [pk for o in dropped for pk in o.alert_ids]
                outbox.reroute(self.owner, held)


def observe_delivery_latency(alerts: list[Alert]) -> None:
    """From each listing first seen until now, when Discord accepted its alert."""
    now = timezone.now()
    for alert in alerts:
        metrics.delivery_latency.observe((now - alert.listing.first_seen_at).total_seconds())


class ProgressReporter:
    """Logs a line every few seconds while the sender is busy, and a summary at the end."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.started = self.last_time = time.monotonic()
        self.last_requests = 0
        self.last_summary = sender.stats.summary()

    async def maybe_report(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_time < PROGRESS_EVERY_SECONDS:
            return
        counters = self.sender.transport.counters
        summary = self.sender.stats.summary()
        busy = counters.requests != self.last_requests or summary != self.last_summary
        if force or busy:
            since, before = (self.started, 0) if force else (self.last_time, self.last_requests)
            rate = (counters.requests - before) / max(now - since, 1e-9)
            pending = await sync_to_async(Alert.objects.filter(status=Alert.Status.PENDING).count)()
            limited = ", ".join(
                f"{n} {scope}" for scope, n in sorted(counters.rate_limited.items())
            )
            line = f"{summary}, pending {pending}, {rate:.1f} requests/s, 429s: {limited or 'none'}"
            if force:
                elapsed = now - self.started
                log.info("finished after %.1fs: %s, %d requests", elapsed, line, counters.requests)
            else:
                log.info(line)
        self.last_time, self.last_requests, self.last_summary = now, counters.requests, summary
