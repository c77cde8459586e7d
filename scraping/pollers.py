"""One long-lived poller per market: its reads at an even pace, in its own thread, not a worker.

`qcluster` starts a `MarketPoller` for each source in SCRAPING_SOURCES (and
`scan` does, in the foreground). Each poller runs scan cycles back to back, a
cycle every interval with its fetches spread evenly over it (a feed market is
read SCRAPING_FEED_POLLS times an interval), so django-q2's workers stay free
for sends and the daily jobs. A page's alerts wake delivery at once (see
`alerts.wakeup.AlertWaker`).

Only one poller reads a market, whatever the number of hosts: the poller
holds the lease "poller:<market>" (lib/leases.py),
renewed every third of SCRAPING_LEASE_SECONDS while it runs; a standby
poller on another host asks for it as often and takes over within about one
lease of the holder's death. A paused market (its circuit breaker) keeps its
poller and lease; the poller sleeps until the pause ends, checking the
breaker again each interval so a moderator's "resume now" is seen. Every
wait checks the stop event, so SIGTERM ends a poller between fetches.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from alerts.wakeup import AlertWaker
from lib.leases import give_up_lease, lease_holder, take_lease
from scraping import breaker
from scraping.cycle import HEARTBEAT_SECONDS
from scraping.jobs import SCANNABLE, interval_for
from scraping.models import Scan
from scraping.scanner import scan_source

log = logging.getLogger(__name__)

# After a cycle crashed (the database was away, say), wait this long before the next.
CRASH_PAUSE_SECONDS = 10.0


def lease_name(source: str) -> str:
    return f"poller:{source}"


def poller_of(source: str) -> str:
    """The live poller of a market ("host:pid"), or "" when none holds its lease."""
    return lease_holder(lease_name(source))


def this_process() -> str:
    return f"{socket.gethostname()[:48]}:{os.getpid()}"


class MarketPoller(threading.Thread):
    """Scan cycles of one market, back to back, while this process holds the market's lease."""

    def __init__(
        self,
        source: str,
        owner: str,
        stopping: threading.Event,
        on_cycle: Callable[[str, Scan | None], None] | None = None,
    ) -> None:
        super().__init__(name=f"poller {source}", daemon=True)
        self.source, self.owner, self.stopping, self.on_cycle = source, owner, stopping, on_cycle
        self.lease_seconds = float(settings.SCRAPING_LEASE_SECONDS)
        self.holding = False
        self.waker = AlertWaker()
        self._renewed_at = 0.0
        self._cycle_stop = threading.Event()

    # -- the loop ---------------------------------------------------------------
    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                try:
                    self.step()
                except Exception:
                    log.exception("%s: the poller's cycle failed", self.source)
                    self.stopping.wait(CRASH_PAUSE_SECONDS)
                finally:
                    close_old_connections()  # a broken connection is replaced, not reused
        finally:
            self.let_go()
            connection.close()

    def step(self) -> None:
        """One cycle, a paused interval, or one look at whether the lease is free."""
        if not self.renew():
            self.stopping.wait(self.lease_seconds / 3)
            return
        started = time.monotonic()
        interval = interval_for(self.source)
        state = breaker.state_of(self.source)
        if state.paused_until is not None and state.is_paused:
            log.warning(
                "%s is paused until %s: %s", self.source, state.paused_until, state.last_error
            )
            pause = (state.paused_until - timezone.now()).total_seconds()
            self.idle_until(started + min(pause, interval))
            return
        self._cycle_stop = threading.Event()
        if self.stopping.is_set():
            return
        scan = scan_source(
            self.source,
            spread_seconds=interval,
            stopping=self._cycle_stop,
            waker=self.waker,
            heartbeat=self.heartbeat,
        )
        self.waker.flush_due()
        if self.on_cycle:
            self.on_cycle(self.source, scan)
        if scan is not None:
            log.info("%s", scan.summary())
        self.idle_until(started + interval)

    def stop(self) -> None:
        self.stopping.set()
        self._cycle_stop.set()

    # -- the lease --------------------------------------------------------------
    def renew(self) -> bool:
        """Take or renew the market's lease; False (and the cycle told to stop) when lost."""
        try:
            holding = take_lease(lease_name(self.source), self.owner, self.lease_seconds)
        except Exception:
            log.exception("%s: could not renew the poller's lease", self.source)
            holding = False
        if holding != self.holding:
            if holding:
                log.info("%s: polling (lease taken by %s)", self.source, self.owner)
            else:
                log.warning("%s: lease lost; another poller has the market", self.source)
        self.holding = holding
        if holding:
            self._renewed_at = time.monotonic()
        else:
            self._cycle_stop.set()
        return holding

    def let_go(self) -> None:
        """Hand the lease back, so a standby takes over at once rather than after a lease."""
        if not self.holding:
            return
        self.holding = False
        try:
            give_up_lease(lease_name(self.source), self.owner)
        except Exception:
            log.warning("%s: could not hand the poller's lease back", self.source, exc_info=True)

    def heartbeat(self) -> None:
        """Between fetches: send what is pending, and renew the lease every third of it."""
        if self.stopping.is_set():
            self._cycle_stop.set()
            return
        self.waker.flush_due()
        if time.monotonic() - self._renewed_at >= self.lease_seconds / 3:
            self.renew()

    def idle_until(self, deadline: float) -> None:
        while not self.stopping.is_set() and self.holding:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.stopping.wait(min(left, HEARTBEAT_SECONDS))
            self.heartbeat()


class Pollers:
    """The pollers of one process: started together, stopped together within a deadline."""

    def __init__(
        self,
        sources: list[str],
        on_cycle: Callable[[str, Scan | None], None] | None = None,
    ) -> None:
        self.owner = this_process()
        self.stopping = threading.Event()
        unknown = [code for code in sources if code not in SCANNABLE]
        for code in unknown:
            log.error("SCRAPING_SOURCES names an unknown source %r: not polled", code)
        self.threads = [
            MarketPoller(code, self.owner, self.stopping, on_cycle)
            for code in sources
            if code not in unknown
        ]

    def start(self) -> None:
        for poller in self.threads:
            poller.start()
        if self.threads:
            log.info("pollers started: %s", ", ".join(p.source for p in self.threads))

    def stop(self, timeout: float) -> None:
        """Stop every poller; what is still fetching after `timeout` is left to die with the
        process, and its lease is handed back from here."""
        deadline = time.monotonic() + timeout
        for poller in self.threads:
            poller.stop()
        for poller in self.threads:
            poller.join(max(0.0, deadline - time.monotonic()))
        stuck = [p.source for p in self.threads if p.is_alive()]
        if stuck:
            try:
                for code in stuck:
                    give_up_lease(lease_name(code), self.owner)
            except Exception:
                log.warning("could not hand the pollers' leases back", exc_info=True)

    def wait(self) -> None:
        """Until every poller has ended (the foreground `scan`)."""
        for poller in self.threads:
            while poller.is_alive():
                poller.join(0.5)
