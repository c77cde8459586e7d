"""Fair, concurrent sending of planned messages over routes.

Every route (a DM or a channel) has a queue of messages. Routes take turns
round-robin, so one user with 500 alerts waits behind nobody and delays nobody:
each other route gets its turn between two of that user's messages. One
message per route is in flight at a time, which keeps a channel's alerts in
order and is all a route's bucket (5 messages per 5 s) allows anyway, while up
to `concurrency` routes are in flight together, so network latency does not cap
throughput. A route the transport says is rate limited sleeps until it may go
again and lets other routes pass; a rate-limited message goes back to the head
of its queue and is sent again after its wait, never earlier.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from alerts.routing import Route
from alerts.transports.base import Outcome, Outgoing, Result, Transport

log = logging.getLogger(__name__)

# Outcomes after which nothing more is sent on the route; its queued messages are handed back.
DROPS_ROUTE = {Result.DM_UNREACHABLE, Result.CHANNEL_BROKEN}

Settle = Callable[[Outgoing, Outcome, list[Outgoing]], Awaitable[None]]
RememberDm = Callable[[Route, str], Awaitable[None]]


class Dispatcher:
    def __init__(
        self, transport: Transport, settle: Settle, remember_dm: RememberDm, concurrency: int
    ) -> None:
        self.transport = transport
        self._settle = settle
        self._remember_dm = remember_dm
        self._queues: dict[Route, deque[Outgoing]] = {}
        self._ready: deque[Route] = deque()
        self._sleeping: list[tuple[float, int, Route]] = []
        self._in_flight: dict[Route, Outgoing] = {}
        self._order = itertools.count()
        self._changed = asyncio.Event()
        self._progress = asyncio.Event()
        self.held_alerts = 0
        self._closing = False
        self._workers = [asyncio.create_task(self._work()) for _ in range(concurrency)]

    # -- what the sender sees -----------------------------------------------------
    def add(self, outgoing: Outgoing) -> None:
        queue = self._queues.get(outgoing.route)
        if queue is None:
            # A route new to the dispatcher goes first: its first message leaves at once
            # (a fresh alert does not wait a round behind a backlog, and a long queue
            # starts early on its route's bucket), then takes its turns like any other.
            queue = self._queues[outgoing.route] = deque()
            self._ready.appendleft(outgoing.route)
        queue.append(outgoing)
        self.held_alerts += len(outgoing.alerts)
        self._changed.set()

    @property
    def idle(self) -> bool:
        return not self._queues

    @property
    def starved(self) -> bool:
        """Fewer routes may send now than there are workers: the others wait on their
        buckets, so more destinations would keep the workers (and the budget) busy."""
        return len(self._ready) < len(self._workers)

    def held_user_ids(self) -> set[int]:
        return {alert.user_id for o in self._held() for alert in o.alerts}

    def held_alert_ids(self) -> set[int]:
        """Alerts queued or on their way (being sent or settled): the leases to renew."""
        return {alert.pk for o in self._held() for alert in o.alerts}

    def _held(self) -> list[Outgoing]:
        return [o for queue in self._queues.values() for o in queue] + list(
            self._in_flight.values()
        )

    async def wait_for_progress(self, timeout: float) -> None:
        """Return when a message was settled, or after `timeout` seconds."""
        self._progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._progress.wait(), timeout)

    async def close(self, grace: float) -> list[Outgoing]:
        """Stop starting messages; let those in flight finish for up to `grace` seconds.

        Returns the messages still in flight when the grace ran out: they may or
        may not have been posted.
        """
        self._closing = True
        self._changed.set()
        _, unfinished = await asyncio.wait(self._workers, timeout=grace)
        cut_off = list(self._in_flight.values()) if unfinished else []
        for worker in unfinished:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        return cut_off

    # -- the workers --------------------------------------------------------------
    async def _work(self) -> None:
        while (route := await self._next_route()) is not None:
            outgoing = self._queues[route].popleft()
            self._in_flight[route] = outgoing
            try:
                outcome = await self._send(outgoing)
                await self._handle(route, outgoing, outcome)
            except Exception:
                # Settling failed for good (the sender retries database errors): the
                # alerts stay leased and are sent again once the lease expires.
                log.exception("could not settle a message to %s", route)
            finally:
                self._in_flight.pop(route, None)
                if self._queues.get(route):
                    self._schedule(route, time.monotonic())
                else:
                    self._queues.pop(route, None)
                self._changed.set()

    async def _send(self, outgoing: Outgoing) -> Outcome:
        try:
            return await self.transport.send(outgoing)
        except Exception as error:
            # A bug in a transport must neither stop the sender nor loop forever on one
            # message: it backs off like a temporary failure and ends as failed.
            log.exception("unexpected error sending to %s", outgoing.route)
            return Outcome(Result.RETRY, error=f"unexpected error: {error!r}")

    async def _handle(self, route: Route, outgoing: Outgoing, outcome: Outcome) -> None:
        if outcome.opened_channel_id:
            for queued in (outgoing, *self._queues[route]):
                queued.channel_id = outcome.opened_channel_id
            await self._remember_dm(route, outcome.opened_channel_id)
        if outcome.result is Result.RATE_LIMITED:
            self._queues[route].appendleft(outgoing)
            return
        dropped: list[Outgoing] = []
        if outcome.result in DROPS_ROUTE:
            dropped = list(self._queues[route])
            self._queues[route].clear()
        self.held_alerts -= len(outgoing.alerts) + sum(len(o.alerts) for o in dropped)
        await self._settle(outgoing, outcome, dropped)
        self._progress.set()

    def _schedule(self, route: Route, now: float) -> None:
        wait = self.transport.wait_for(self._queues[route][0])
        if wait > 0:
            heapq.heappush(self._sleeping, (now + wait, next(self._order), route))
        else:
            self._ready.append(route)

    async def _next_route(self) -> Route | None:
        while not self._closing:
            now = time.monotonic()
            while self._sleeping and self._sleeping[0][0] <= now:
                self._ready.append(heapq.heappop(self._sleeping)[2])
            while self._ready:
                route = self._ready.popleft()
                wait = self.transport.wait_for(self._queues[route][0])
                if wait <= 0:
                    return route
                heapq.heappush(self._sleeping, (now + wait, next(self._order), route))
            timeout = self._sleeping[0][0] - now if self._sleeping else None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return None
