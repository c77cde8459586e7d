"""Where a read of a market's newest-first feed stops paging back."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from django.conf import settings

from scraping.ingest import IngestResult
from scraping.jobs import SOURCES, Job
from scraping.sources.base import Page

log = logging.getLogger(__name__)


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
