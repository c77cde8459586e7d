"""One scan cycle of one marketplace: plan the searches, fetch them politely, ingest what is new.

The searches of a cycle can be spread evenly over the scan interval (each
market's poller does, see scraping/pollers.py), so a source sees a steady
trickle instead of a burst. Where the plan reads a market's newest-first feed
instead, each read pages back until the listings known before that read looked
at the feed make up half a page (scraping/feed_reads.py).

Fetching and parsing happen in threads; ingesting (upsert, match, queue alerts)
happens in the calling thread as each page arrives, so a listing is matched as
soon as its page is in, and the cycle's waker hears of each page's alerts at
once. A request that fails after its retries, a page that changed shape, or any
other exception while fetching, parsing or ingesting one page is counted and
logged with the source's name; the rest of the cycle goes on. A 404 that the
source recognises as its no-results page is an empty page, not a failure. Every
cycle is recorded as a Scan row, a failed one too, and the circuit breaker
hears of it whatever went wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from lib import metrics
from scraping import breaker
from scraping.feed_reads import FeedReads
from scraping.http import SourceClient
from scraping.ingest import ingest_listings
from scraping.jobs import Job, client_for, describe_error, execute, planned_jobs
from scraping.models import Scan
from scraping.sources.base import Page

log = logging.getLogger(__name__)

# How often a cycle calls its heartbeat while it waits for pages.
HEARTBEAT_SECONDS = 1.0


class Waker(Protocol):
    """Who hears of the alerts a cycle stores (delivery's side: alerts/wakeup.py)."""

    def stored(self, alerts: int) -> None: ...

    def flush_due(self) -> None: ...

    def flush(self) -> None: ...


class ScanCycle:
    """One cycle of one source, in parts: `schedule` (when each fetch starts), `fetch` (one
    page, in a pool thread), `take` (ingest a page, count it, and say which page a feed
    read needs next), `fetch_all` (the pool and the order pages are taken in) and
    `finish` (record the Scan, tell the breaker).

    Setting `stopping` (SIGTERM) skips the fetches not started yet; the cycle ends
    at once. `planned` hears how many fetches the cycle starts with, `progress`
    each one done; `heartbeat` is called about every HEARTBEAT_SECONDS while the
    cycle waits for its pages, in the calling thread.
    """

    def __init__(
        self,
        source: str,
        waker: Waker,
        *,
        client: SourceClient | None = None,
        spread_seconds: float = 0.0,
        stopping: threading.Event | None = None,
        planned: Callable[[int], None] | None = None,
        progress: Callable[[int], None] | None = None,
        heartbeat: Callable[[], None] | None = None,
    ) -> None:
        self.source, self.waker = source, waker
        self.client = client or client_for(source)
        self.spread_seconds = spread_seconds
        self.stopping = stopping or threading.Event()
        self.planned, self.progress, self.heartbeat = planned, progress, heartbeat
        self.scan = Scan(source=source)
        self.problems: list[str] = []
        self.reads = FeedReads()

    def run(self) -> Scan | None:
        """Run the cycle; None when the source's circuit breaker has it paused."""
        state = breaker.state_of(self.source)
        if state.is_paused:
            log.warning(
                "%s is paused until %s: %s", self.source, state.paused_until, state.last_error
            )
            return None
        self.scan = Scan.objects.create(source=self.source)
        jobs: list[Job] = []
        try:
            jobs, self.scan.filters = planned_jobs(self.source)
            if self.planned:
                self.planned(len(jobs))
            self.fetch_all(jobs)
        except Exception as error:
            # Planning or the database failed: still a recorded cycle, and a failure for the breaker.
            self.problems.append(describe_error(self.source, error))
            self.finish(failed=True)
            raise
        self.finish(failed=len(self.problems) >= len(jobs))
        return self.scan

    def schedule(self, jobs: list[Job], started: float) -> list[tuple[float, Job]]:
        """When each job starts (monotonic time), evenly over `spread_seconds`, numbered as
        the cycle's reads."""
        step = self.spread_seconds / len(jobs) if jobs else 0.0
        return [(started + n * step, replace(job, read=n)) for n, job in enumerate(jobs)]

    def fetch(self, job: Job, at: float) -> Page | None:
        """One page, fetched once its time comes; None when the cycle is stopping."""
        if self.stopping.wait(max(0.0, at - time.monotonic())):
            return None
        page = execute(self.source, job, self.client)
        if job.pages_back == 0:
            self.reads.looked(job.read)
        return page

    def take(self, job: Job, page: Page) -> Job | None:
        """Ingest one page and count it on the scan; the feed's next page to read, if any."""
        result = ingest_listings(page.records)
        self.scan.items_seen += len(page.records)
        self.scan.new_items += result.new
        self.scan.alerts += result.alerts
        self.scan.broken_items += page.broken
        if result.alerts:
            self.waker.stored(result.alerts)
        return self.reads.next_page(self.source, job, page, result)

    def fetch_all(self, jobs: list[Job]) -> None:
        """Fetch in threads and take each page as it arrives; a failed page is one problem."""
        # Scheduled fetches go to the pool only when due: submitted ahead, they would hold its
        # threads asleep, and a feed read's next page would wait behind them for most of the
        # interval while the listings it was after slid out of reach.
        scheduled = self.schedule(jobs, time.monotonic())
        pending: dict[Future[Page | None], Job] = {}
        with ThreadPoolExecutor(max_workers=settings.SCRAPING_CONCURRENCY) as pool:
            try:
                while pending or (scheduled and not self.stopping.is_set()):
                    while (
                        scheduled
                        and scheduled[0][0] <= time.monotonic()
                        and not self.stopping.is_set()
                    ):
                        at, job = scheduled.pop(0)
                        pending[pool.submit(self.fetch, job, at)] = job
                    timeout = HEARTBEAT_SECONDS
                    if scheduled:
                        timeout = min(timeout, max(0.0, scheduled[0][0] - time.monotonic()))
                    done: set[Future[Page | None]] = set()
                    if pending:
                        done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
                    else:
                        self.stopping.wait(timeout)
                    if self.heartbeat:
                        self.heartbeat()
                    for future in done:
                        job = pending.pop(future)
                        try:
                            page = future.result()
                            if page is None:
                                continue  # skipped: stopping
                            if older := self.take(job, page):
                                pending[pool.submit(self.fetch, older, 0.0)] = older
                        except Exception as error:  # whatever one page hit, the others go on
                            self.problems.append(describe_error(self.source, error))
                        if self.progress:
                            self.progress(1)
            except BaseException:
                self.stopping.set()  # leaving the pool waits for its fetches: skip those not started
                raise

    def finish(self, failed: bool) -> None:
        """Record the cycle and tell the breaker: a cycle fails when every fetch failed."""
        failed = failed and bool(self.problems)  # no fetch planned is no failure
        record_scan(self.scan, self.client.requests, self.problems, failed)
        if failed:
            breaker.record_failure(self.source, self.problems[0])
        else:
            breaker.record_success(self.source)


def record_scan(scan: Scan, requests: int, problems: list[str], failed: bool) -> None:
    """Finish a cycle's Scan row and count it in the metrics: any source's, the demo's too."""
    source = scan.source
    scan.requests, scan.errors = requests, len(problems)
    scan.error_summary = "\n".join(problems[:20])
    scan.finished_at = timezone.now()
    # Counted before the save, so a cycle whose record the database refuses still counts.
    metrics.scan_duration.labels(source).observe(
        (scan.finished_at - scan.started_at).total_seconds()
    )
    metrics.scan_items.labels(source).inc(scan.items_seen)
    metrics.scan_new_listings.labels(source).inc(scan.new_items)
    if failed:
        metrics.scan_failures.labels(source).inc()
    scan.save()
