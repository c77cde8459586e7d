"""The sending loop: claim due alerts, route and pack them, dispatch the messages, settle each outcome.

The outbox is the source of truth. A claim leases alerts to this sender; each
message's nonce is written to its alerts before the message is first sent, so
if the sender dies after Discord accepted a message, the next sender packs the
same alerts under the same nonce and Discord answers with the message it
already has instead of posting it again. An alert is marked sent only with the
id of the message that carries it.

Claims go on while the dispatcher holds fewer than a few batches, and skip
users whose alerts are already held, so a user with hundreds of alerts shares
the sender with everybody else. Database work runs in Django's sync thread;
sending runs on the event loop, so neither waits for the other.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.utils import timezone

from alerts import outbox
from alerts.batching import PlannedMessage, pack, pack_digest
from alerts.dispatch import Dispatcher
from alerts.embeds import AlertView
from alerts.models import Alert
from alerts.routing import Route, decide, unreachable_dm_reason
from alerts.transports import Outcome, Outgoing, Result, Transport
from users.services import (
    clear_delivery_notice,
    mark_channel_broken,
    mark_dm_unreachable,
    remember_dm_channel,
)

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 5.0
HELD_BATCHES = 4
STOP_GRACE_SECONDS = 10.0


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
        self, transport: Transport, batch_size: int | None = None, owner: str | None = None
    ) -> None:
        self.transport = transport
        self.batch_size = batch_size or settings.ALERTS_BATCH_SIZE
        self.owner = owner or outbox.new_lease_owner()
        self.stats = SendStats()

    # -- running ------------------------------------------------------------------
    def drain(self) -> SendStats:
        """Send everything due now, then return."""
        return self.run(threading.Event(), drain=True)

    def run(
        self, stopping: threading.Event, drain: bool = False, idle: float | None = None
    ) -> SendStats:
        """Send until `stopping` is set (or, with `drain`, until nothing is due).

        Runs the event loop under async_to_sync, so database calls happen in the
        calling thread, inside its transaction if it has one.
        """
        idle = settings.ALERTS_IDLE_SECONDS if idle is None else idle
        async_to_sync(self._run)(stopping, drain, idle)
        return self.stats

    async def _run(self, stopping: threading.Event, drain: bool, idle: float) -> None:
        db = sync_to_async
        await self.transport.start()
        dispatcher = Dispatcher(
            self.transport, self._settle, self._remember_dm, self.transport.concurrency
        )
        reporter = ProgressReporter(self)
        try:
            while not stopping.is_set():
                more = False
                if dispatcher.held_alerts < HELD_BATCHES * self.batch_size:
                    claimed, messages = await db(self._claim_and_plan)(dispatcher.held_user_ids())
                    for outgoing in messages:
                        dispatcher.add(outgoing)
                    more = claimed > 0
                await reporter.maybe_report()
                if more:
                    await asyncio.sleep(0)
                elif not dispatcher.idle:
                    await dispatcher.wait_for_progress(min(idle, 0.5))
                elif drain:
                    # Alerts another sender is claiming right now look due but cannot be
                    # claimed; the drain is over once they are leased.
                    if not await db(Alert.objects.due().exists)():
                        break
                    await asyncio.sleep(0.1)
                else:
                    await asyncio.get_running_loop().run_in_executor(None, stopping.wait, idle)
        finally:
            await dispatcher.close(STOP_GRACE_SECONDS)
            await db(outbox.release)(self.owner)
            await self.transport.close()
            await reporter.maybe_report(force=True)

    # -- claiming and planning (database thread) ------------------------------------
    def _claim_and_plan(self, busy_users: set[int]) -> tuple[int, list[Outgoing]]:
        claimed = outbox.claim_due(self.owner, self.batch_size, exclude_users=busy_users)
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
                routes[decision.route].append((alert, decision.digest))
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
            outgoing = Outgoing(
                route=route, message=message, alerts=[by_id[pk] for pk in message.alert_ids]
            )
            if route.is_dm:
                outgoing.channel_id = first_user.dm_channel_id
                outgoing.recipient_id = first_user.discord_id
            else:
                outgoing.channel_id = route.key
            if message.notice:
                outgoing.notice_user_id = first_user.pk
            result.append(outgoing)
        return result

    # -- settling (called by the dispatcher) ---------------------------------------
    async def _remember_dm(self, route: Route, channel_id: str) -> None:
        await sync_to_async(remember_dm_channel)(int(route.key), channel_id)

    async def _settle(self, outgoing: Outgoing, outcome: Outcome, dropped: list[Outgoing]) -> None:
        await sync_to_async(self._settle_now)(outgoing, outcome, dropped)

    def _settle_now(self, outgoing: Outgoing, outcome: Outcome, dropped: list[Outgoing]) -> None:
        ids = outgoing.alert_ids
        stats = self.stats
        match outcome.result:
            case Result.SENT:
                stats.sent += outbox.mark_sent(self.owner, ids, outcome.message_id)
                if outgoing.notice_user_id:
                    clear_delivery_notice(outgoing.notice_user_id, outgoing.message.notice)
            case Result.RETRY:
                log.info("temporary failure sending to %s: %s", outgoing.route, outcome.error)
                retrying, failed = outbox.mark_retry(self.owner, outgoing.alerts, outcome.error)
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
