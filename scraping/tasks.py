"""django-q2 task functions of the scraping app."""

from __future__ import annotations

import logging

from scraping.ingest import ingest_listings
from scraping.sources.demo import next_demo_listings

log = logging.getLogger(__name__)


def replay_demo_listings(count: int = 4) -> str:
    result = ingest_listings(next_demo_listings(count))
    summary = f"demo: {result.new} new listings, {result.alerts} alerts queued"
    log.info(summary)
    return summary
