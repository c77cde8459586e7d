"""One scan cycle of one marketplace: plan the searches, fetch them politely, ingest what is new.

The searches of a cycle can be spread evenly over the scan interval (the
scheduled scans do), so a source sees a steady trickle instead of a burst.
Where the plan reads a market's newest-first feed instead, each read pages
back until the listings already seen make up half a page, so nothing new is
missed between reads. Fetching and parsing happen in threads; ingesting
(upsert, match, queue alerts) happens in the calling thread as each page
arrives, so a listing is matched as soon as its page is in. A request that fails after its retries, or
a page that changed shape, is counted and logged with the source's name; the
rest of the cycle goes on. Every cycle is recorded as a Scan row.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from types import ModuleType

from django.conf import settings
from django.utils import timezone

from filters.brands import BrandTable
from filters.models import Filter
from scraping import breaker
from scraping.http import FetchError, SourceClient
from scraping.ingest import ingest_listings
from scraping.models import Scan
from scraping.planning import Search, plan_searches
from scraping.sources import jsonfeed, mercari, paypay_fleamarket, rakuma, yahoo_auctions
from scraping.sources.base import Page, PageShapeError

log = logging.getLogger(__name__)

SOURCES: dict[str, ModuleType] = {
    module.CODE: module for module in (mercari, yahoo_auctions, paypay_fleamarket, rakuma)
}
SCANNABLE = [*SOURCES, jsonfeed.CODE]


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


def searches_for(source: str) -> tuple[list[Search], int]:
    """This source's searches in the shared plan, and how many active filters they serve."""
    filters = list(Filter.objects.matchable())
    threshold = settings.SCRAPING_FEED_THRESHOLD
    feed_cost = {market: threshold for market in SOURCES} if threshold else None
    plan = plan_searches(filters, BrandTable.load(), feed_cost)
    log.info("fetch plan: %s", plan.summary())
    served = sum(1 for f in filters if not f.markets or source in f.markets)
    return [s for s in plan.searches if s.market == source], served


@dataclass(frozen=True)
class Job:
    """One fetch: a page of a search (or of the feed), or a JSON Lines feed location."""

    search: Search | None = None
    page: str | None = None
    pages_back: int = 0
    location: str = ""


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
    return module.parse(client.fetch(module.search_request(job.search, base_url, job.page)))


def next_feed_page(source: str, job: Job, page: Page, seen: int) -> Job | None:
    """The feed's next (older) page, until the listings already seen make up half a page."""
    if job.search is None or not job.search.is_feed or not page.records:
        return None
    if seen * 2 >= len(page.records) or job.pages_back + 1 >= settings.SCRAPING_FEED_MAX_PAGES:
        return None
    token = SOURCES[source].following_page(job.page, page)
    return Job(job.search, token, job.pages_back + 1) if token else None


def scan_source(
    source: str,
    spread_seconds: float = 0.0,
    client: SourceClient | None = None,
    progress: Callable[[int], None] | None = None,
    stopping: threading.Event | None = None,
    planned: Callable[[int], None] | None = None,
) -> Scan | None:
    """Run one cycle; None when the source's circuit breaker has it paused. Setting
    `stopping` (SIGTERM) skips the fetches not started yet; the cycle ends at once.
    `planned` hears how many fetches the cycle starts with, `progress` each one done."""
    state = breaker.state_of(source)
    if state.is_paused:
        log.warning("%s is paused until %s: %s", source, state.paused_until, state.last_error)
        return None
    client = client or client_for(source)
    jobs, served = planned_jobs(source)
    if planned:
        planned(len(jobs))
    scan = Scan.objects.create(source=source, filters=served)
    step = spread_seconds / len(jobs) if jobs else 0.0
    started = time.monotonic()
    problems: list[str] = []

    stopping = stopping or threading.Event()

    def run(job: Job, at: float) -> Page | None:
        if stopping.wait(max(0.0, at - time.monotonic())):
            return None
        return execute(source, job, client)

    with ThreadPoolExecutor(max_workers=settings.SCRAPING_CONCURRENCY) as pool:
        pending = {pool.submit(run, job, started + n * step): job for n, job in enumerate(jobs)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    page = future.result()
                except (FetchError, PageShapeError, OSError) as error:
                    log.error("%s", error)
                    problems.append(str(error))
                else:
                    if page is None:
                        continue  # skipped: stopping
                    result = ingest_listings(page.records)
                    scan.items_seen += len(page.records)
                    scan.new_items += result.new
                    scan.alerts += result.alerts
                    scan.broken_items += page.broken
                    if older := next_feed_page(source, job, page, result.seen):
                        pending[pool.submit(run, older, 0.0)] = older
                if progress:
                    progress(1)
    scan.requests, scan.errors = client.requests, len(problems)
    scan.error_summary = "\n".join(problems[:20])
    scan.finished_at = timezone.now()
    scan.save()
    if jobs and len(problems) >= len(jobs):
        breaker.record_failure(source, problems[0])
    else:
        breaker.record_success(source)
    if scan.alerts:
        from scraping.tasks import send_alerts_soon

        send_alerts_soon(scan.alerts)
    return scan
