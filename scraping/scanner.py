"""One scan cycle of one marketplace: plan the searches, fetch them politely, ingest what is new.

The searches of a cycle can be spread evenly over the scan interval (the
scheduled scans do), so a source sees a steady trickle instead of a burst.
Fetching happens in threads; parsing and ingesting (upsert, match, queue
alerts) happen in the calling thread as each answer arrives, so a listing is
matched as soon as its page is in. A request that fails after its retries, or
a page that changed shape, is counted and logged with the source's name; the
rest of the cycle goes on. Every cycle is recorded as a Scan row.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import partial
from types import ModuleType

from django.conf import settings
from django.utils import timezone

from filters.brands import BrandTable
from filters.models import Filter
from scraping import breaker
from scraping.http import FetchError, FetchRequest, SourceClient
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
    plan = plan_searches(filters, BrandTable.load())
    served = sum(1 for f in filters if not f.markets or source in f.markets)
    return [s for s in plan.searches if s.market == source], served


def _search(module: ModuleType, client: SourceClient, request: FetchRequest) -> Page:
    return module.parse(client.fetch(request))


def planned_jobs(source: str, client: SourceClient) -> tuple[list[Callable[[], Page]], int]:
    """The cycle's fetches (each returning a page), and how many active filters they serve."""
    if source == jsonfeed.CODE:
        served = Filter.objects.matchable().count()
        return [partial(jsonfeed.read, url, client) for url in settings.JSONFEED_URLS], served
    module = SOURCES[source]
    searches, served = searches_for(source)
    base_url = settings.MARKETPLACE_BASE_URLS[source]
    requests = [module.search_request(search, base_url) for search in searches]
    return [partial(_search, module, client, request) for request in requests], served


def scan_source(
    source: str,
    spread_seconds: float = 0.0,
    client: SourceClient | None = None,
    progress: Callable[[int], None] | None = None,
) -> Scan | None:
    """Run one cycle; None when the source's circuit breaker has it paused."""
    state = breaker.state_of(source)
    if state.is_paused:
        log.warning("%s is paused until %s: %s", source, state.paused_until, state.last_error)
        return None
    client = client or client_for(source)
    jobs, served = planned_jobs(source, client)
    scan = Scan.objects.create(source=source, filters=served)
    step = spread_seconds / len(jobs) if jobs else 0.0
    started = time.monotonic()
    problems: list[str] = []

    def run(position: int, job: Callable[[], Page]) -> Page:
        time.sleep(max(0.0, started + position * step - time.monotonic()))
        return job()

    with ThreadPoolExecutor(max_workers=settings.SCRAPING_CONCURRENCY) as pool:
        pending = [pool.submit(run, n, job) for n, job in enumerate(jobs)]
        for future in as_completed(pending):
            try:
                page = future.result()
            except (FetchError, PageShapeError, OSError) as error:
                log.error("%s", error)
                problems.append(str(error))
            else:
                result = ingest_listings(page.records)
                scan.items_seen += len(page.records)
                scan.new_items += result.new
                scan.alerts += result.alerts
                scan.broken_items += page.broken
            if progress:
                progress(1)
    scan.requests, scan.errors = client.requests, len(problems)
    scan.error_summary = "\n".join(problems[:20])
    scan.finished_at = timezone.now()
    scan.save()
    if jobs and len(problems) == len(jobs):
        breaker.record_failure(source, problems[0])
    else:
        breaker.record_success(source)
    if scan.alerts:
        from scraping.tasks import send_alerts_soon

        send_alerts_soon(scan.alerts)
    return scan
