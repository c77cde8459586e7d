"""One scan cycle of one marketplace: plan the searches, fetch them politely, ingest what is new.

The searches of a cycle can be spread evenly over the scan interval (each
market's poller does, see scraping/pollers.py), so a source sees a steady
trickle instead of a burst.
Where the plan reads a market's newest-first feed instead, each read pages
back until the listings known before that read looked at the feed make up half
a page, so nothing new is missed between reads (`FeedReads`).
Fetching and parsing happen in threads; ingesting (upsert, match, queue
alerts) happens in the calling thread as each page arrives, so a listing is
matched as soon as its page is in, and delivery is woken as soon as a page
stores alerts (`AlertWaker`). A request that fails after its retries, a page
that changed shape, or any other exception while fetching, parsing or
ingesting one page is counted and logged with the source's name; the rest of
the cycle goes on. A 404 that the source recognises as its no-results page is
an empty page, not a failure. Every cycle is recorded as a Scan row, a failed
one too, and the circuit breaker hears of it whatever went wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from types import ModuleType

from django.conf import settings
from django.utils import timezone

from alerts.models import SenderStatus
from alerts.tasks import send_alerts_soon
from filters.brands import BrandTable
from filters.matching import Stamp, index_stamp
from filters.models import Filter
from lib import metrics
from scraping import breaker
from scraping.http import FetchError, SourceClient
from scraping.ingest import IngestResult, ingest_listings
from scraping.models import Scan
from scraping.planning import Plan, Search, plan_searches
from scraping.sources import jsonfeed, mercari, paypay_fleamarket, rakuma, yahoo_auctions
from scraping.sources.base import Page, PageShapeError

log = logging.getLogger(__name__)

SOURCES: dict[str, ModuleType] = {
    module.CODE: module for module in (mercari, yahoo_auctions, paypay_fleamarket, rakuma)
}
SCANNABLE = [*SOURCES, jsonfeed.CODE]
# A cycle queues at most one send task this often; a live `sendalerts` needs none.
WAKE_GAP_SECONDS = 5.0
# How often a cycle calls its heartbeat while it waits for pages.
HEARTBEAT_SECONDS = 1.0


def interval_for(source: str) -> int:
    """Seconds between the starts of a source's scan cycles."""
    return settings.SCRAPING_INTERVALS.get(source, settings.SCRAPING_INTERVAL_SECONDS)


def client_for(source: str) -> SourceClient:
    return SourceClient(
        source,
        requests_per_minute=settings.SCRAPING_REQUESTS_PER_MINUTE,
        concurrency=settings.SCRAPING_CONCURRENCY,
        timeout=settings.SCRAPING_TIMEOUT_SECONDS,
        retries=settings.SCRAPING_RETRIES,
        proxy=settings.SCRAPING_PROXY,
    )


@dataclass(frozen=True)
class _SharedPlan:
    key: tuple[Stamp, int]  # the filter-index stamp and SCRAPING_FEED_THRESHOLD it was made for
    plan: Plan
    served: dict[str, int]  # active filters that look at each market


_plan_lock = threading.Lock()
_shared_plan: _SharedPlan | None = None


def shared_plan() -> _SharedPlan:
    """The fetch plan of every market, made once per filter-index stamp.

    Planning reads every active filter and compares their searches pairwise
    (seconds at tens of thousands of filters), while filters change far less
    often than a market is read: the pollers of a process share one plan, and
    make a new one when a filter, a ban or a brand change moves the stamp
    (`filters.matching.bump_index_version`). The stamp is read before the
    filters, so a write landing in between leaves the plan newer than its key,
    never older."""
    global _shared_plan
    threshold = settings.SCRAPING_FEED_THRESHOLD
    stamp = index_stamp()
    with _plan_lock:
        if _shared_plan is None or _shared_plan.key != (stamp, threshold):
            filters = list(Filter.objects.matchable())
            feed_cost = {market: threshold for market in SOURCES} if threshold else None
            plan = plan_searches(filters, BrandTable.load(), feed_cost)
            log.info("fetch plan: %s", plan.summary())
            served = {
                code: sum(1 for f in filters if not f.markets or code in f.markets)
                for code in SOURCES
            }
            _shared_plan = _SharedPlan((stamp, threshold), plan, served)
        return _shared_plan


def searches_for(source: str) -> tuple[list[Search], int]:
    """This source's searches in the shared plan, and how many active filters they serve."""
    shared = shared_plan()
    return [s for s in shared.plan.searches if s.market == source], shared.served[source]


@dataclass(frozen=True)
class Job:
    """One fetch: a page of a search (or of the feed), or a JSON Lines feed location."""

    search: Search | None = None
    page: str | None = None
    pages_back: int = 0
    location: str = ""
    read: int = 0  # which of the cycle's reads this page belongs to


def planned_jobs(source: str) -> tuple[list[Job], int]:
    """The cycle's fetches, and how many active filters they serve. A market's feed is read
    SCRAPING_FEED_POLLS times a cycle; searches once."""
    if source == jsonfeed.CODE:
        jobs = [Job(location=location) for location in settings.JSONFEED_URLS]
        return jobs, Filter.objects.matchable().count()
    searches, served = searches_for(source)
    jobs = []
    for search in searches:
        jobs += [Job(search)] * (settings.SCRAPING_FEED_POLLS if search.is_feed else 1)
    return jobs, served


def execute(source: str, job: Job, client: SourceClient) -> Page:
    if job.location:
        return jsonfeed.read(job.location, client)
    module = SOURCES[source]
    base_url = settings.MARKETPLACE_BASE_URLS[source]
    try:
        body = client.fetch(module.search_request(job.search, base_url, job.page))
    except FetchError as error:
        # Yahoo! Auctions and PayPay Fleamarket answer a search that finds nothing with a 404.
        recognises = getattr(module, "is_no_results_page", None)
        if error.status == 404 and recognises is not None and recognises(error.body):
            return Page()
        raise
    return module.parse(body)


def describe_error(source: str, error: Exception) -> str:
    """What went wrong, naming the source; an unexpected exception is logged with its traceback."""
    if isinstance(error, FetchError | PageShapeError):
        # A parser that crashed on the page keeps its traceback in the log.
        log.error("%s", error, exc_info=error.__cause__ is not None)
        return str(error)
    log.exception("%s: the cycle hit an unexpected error", source)
    return f"{source}: unexpected {type(error).__name__}: {error}"


class FeedReads:
    """When each of a cycle's reads looked at the feed, and which read stored each new listing.

    A read pages back until the listings known before it looked make up half a
    page. Listings published while the feed is read push the older ones down
    onto its next pages, so a next page may hold listings that were stored after
    the read looked: by its own newer pages, or by a later read while this
    read's next page was slow to come (a market's request budget queues it).
    Those do not count as known, or the read would end short of the listings
    between its pages and the older reads, which nobody else reads.
    """

    def __init__(self) -> None:
        self.looked_at: dict[int, float] = {}
        self.stored_by: dict[tuple[str, str], int] = {}

    def looked(self, read: int) -> None:
        """The read's first page came back: what it saw is the feed as of now."""
        self.looked_at.setdefault(read, time.monotonic())

    def next_page(self, source: str, job: Job, page: Page, result: IngestResult) -> Job | None:
        """The feed's next (older) page for this read, or None where the read ends; and
        remembers the listings this page stored for the reads still going. (A market
        whose plan reads its feed has no other searches.)"""
        if job.search is None or not job.search.is_feed or not page.records:
            return None
        looked = self.looked_at[job.read]
        keys = {(record.market, record.external_id) for record in page.records}
        stored_since = sum(
            1
            for key in keys - result.new_keys
            if key in self.stored_by and self.looked_at[self.stored_by[key]] >= looked
        )
        for key in result.new_keys:
            self.stored_by.setdefault(key, job.read)
        known = result.seen - stored_since
        if known * 2 >= len(page.records):
            return None
        if job.pages_back + 1 >= settings.SCRAPING_FEED_MAX_PAGES:
            log.warning(
                "%s: a feed read ended after %d pages (SCRAPING_FEED_MAX_PAGES) with its last page "
                "still mostly new: listings under it may be missed; read the feed more often "
                "(SCRAPING_FEED_POLLS) or further back",
                source,
                job.pages_back + 1,
            )
            return None
        token = SOURCES[source].following_page(job.page, page)
        return replace(job, page=token, pages_back=job.pages_back + 1) if token else None


class AlertWaker:
    """Wakes delivery as soon as a page stores alerts.

    A live `sendalerts` polls every ALERTS_IDLE_SECONDS and finds them itself:
    while a sender that may send is live (its SenderStatus row; with Redis any
    number of them, without it the holder of the sending role) nothing is
    queued, so workers never drain beside the senders and crowd their claims. Otherwise a django-q2
    send task is queued, at most one every `gap` seconds; alerts stored in
    between are covered by the next `flush_due` (the pollers call it every
    heartbeat) or by `flush` at the end of a cycle. Alerts stay pending until a
    task is queued, so a task that was finishing its drain when they came is
    followed by another.
    """

    def __init__(self, gap: float = WAKE_GAP_SECONDS) -> None:
        self.gap = gap
        self.pending = 0
        self._last_try = -gap

    def stored(self, alerts: int) -> None:
        self.pending += alerts
        self.flush_due()

    def flush_due(self) -> None:
        if self.pending and time.monotonic() - self._last_try >= self.gap:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self._last_try = time.monotonic()
        if SenderStatus.objects.sending().exists():
            return  # a sender is live (or a send task is draining): it will see them
        queued, self.pending = self.pending, 0
        send_alerts_soon(queued)


def scan_source(
    source: str,
    spread_seconds: float = 0.0,
    client: SourceClient | None = None,
    progress: Callable[[int], None] | None = None,
    stopping: threading.Event | None = None,
    planned: Callable[[int], None] | None = None,
    waker: AlertWaker | None = None,
    heartbeat: Callable[[], None] | None = None,
) -> Scan | None:
    """Run one cycle; None when the source's circuit breaker has it paused. Setting
    `stopping` (SIGTERM) skips the fetches not started yet; the cycle ends at once.
    `planned` hears how many fetches the cycle starts with, `progress` each one done.
    `waker` hears of each page's alerts (by default a waker of this cycle alone,
    flushed at its end); `heartbeat` is called about every HEARTBEAT_SECONDS while
    the cycle waits for its pages, in the calling thread."""
    state = breaker.state_of(source)
    if state.is_paused:
        log.warning("%s is paused until %s: %s", source, state.paused_until, state.last_error)
        return None
    client = client or client_for(source)
    scan = Scan.objects.create(source=source)
    stopping = stopping or threading.Event()
    own_waker = waker is None
    waker = waker or AlertWaker()
    problems: list[str] = []
    jobs: list[Job] = []
    try:
        jobs, scan.filters = planned_jobs(source)
        if planned:
            planned(len(jobs))
        _run_jobs(
            source,
            scan,
            jobs,
            client,
            spread_seconds,
            progress,
            stopping,
            problems,
            waker,
            heartbeat,
        )
    except Exception as error:
        # Planning or the database failed: still a recorded cycle, and a failure for the breaker.
        problems.append(describe_error(source, error))
        _finish(source, scan, client, problems, failed=True)
        raise
    _finish(source, scan, client, problems, failed=len(problems) >= len(jobs))
    if own_waker:
        waker.flush()
    return scan


def _run_jobs(
    source: str,
    scan: Scan,
    jobs: list[Job],
    client: SourceClient,
    spread_seconds: float,
    progress: Callable[[int], None] | None,
    stopping: threading.Event,
    problems: list[str],
    waker: AlertWaker,
    heartbeat: Callable[[], None] | None,
) -> None:
    """Fetch in threads and ingest each page as it arrives; a failed page is one problem."""
    step = spread_seconds / len(jobs) if jobs else 0.0
    started = time.monotonic()
    reads = FeedReads()

    def run(job: Job, at: float) -> Page | None:
        if stopping.wait(max(0.0, at - time.monotonic())):
            return None
        page = execute(source, job, client)
        if job.pages_back == 0:
            reads.looked(job.read)
        return page

    # Scheduled fetches go to the pool only when due: submitted ahead, they would hold its
    # threads asleep, and a feed read's next page would wait behind them for most of the
    # interval while the listings it was after slid out of reach.
    scheduled = [(started + n * step, replace(job, read=n)) for n, job in enumerate(jobs)]
    pending: dict = {}
    with ThreadPoolExecutor(max_workers=settings.SCRAPING_CONCURRENCY) as pool:
        try:
            while pending or (scheduled and not stopping.is_set()):
                while scheduled and scheduled[0][0] <= time.monotonic() and not stopping.is_set():
                    at, job = scheduled.pop(0)
                    pending[pool.submit(run, job, at)] = job
                timeout = HEARTBEAT_SECONDS
                if scheduled:
                    timeout = min(timeout, max(0.0, scheduled[0][0] - time.monotonic()))
                if pending:
                    done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
                else:
                    done = set()
                    stopping.wait(timeout)
                if heartbeat:
                    heartbeat()
                for future in done:
                    job = pending.pop(future)
                    try:
                        page = future.result()
                        if page is None:
                            continue  # skipped: stopping
                        result = ingest_listings(page.records)
                        scan.items_seen += len(page.records)
                        scan.new_items += result.new
                        scan.alerts += result.alerts
                        scan.broken_items += page.broken
                        if result.alerts:
                            waker.stored(result.alerts)
                        if older := reads.next_page(source, job, page, result):
                            pending[pool.submit(run, older, 0.0)] = older
                    except Exception as error:  # whatever one page hit, the others go on
                        problems.append(describe_error(source, error))
                    if progress:
                        progress(1)
        except BaseException:
            stopping.set()  # leaving the pool waits for its fetches: skip those not started
            raise


def _finish(
    source: str, scan: Scan, client: SourceClient, problems: list[str], failed: bool
) -> None:
    """Record the cycle and tell the breaker: a cycle fails when every fetch failed."""
    scan.requests, scan.errors = client.requests, len(problems)
    scan.error_summary = "\n".join(problems[:20])
    scan.finished_at = timezone.now()
    failed = failed and bool(problems)  # no fetch planned is no failure
    # Counted before the save, so a cycle whose record the database refuses still counts.
    metrics.scan_duration.labels(source).observe(
        (scan.finished_at - scan.started_at).total_seconds()
    )
    metrics.scan_items.labels(source).inc(scan.items_seen)
    metrics.scan_new_listings.labels(source).inc(scan.new_items)
    if failed:
        metrics.scan_failures.labels(source).inc()
    scan.save()
    if failed:
        breaker.record_failure(source, problems[0])
    else:
        breaker.record_success(source)
