"""What a scan cycle fetches and how one fetch is made: the sources, the shared fetch plan,
each cycle's jobs, and reading one page of a search, a feed or a JSON Lines location."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from types import ModuleType

from django.conf import settings

from filters.brands import BrandTable
from filters.matching import Stamp, index_stamp
from filters.models import Filter
from scraping.http import FetchError, SourceClient
from scraping.planning import Plan, Search, plan_searches
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
