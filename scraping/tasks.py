"""django-q2 task functions of the scraping app."""

from __future__ import annotations

import logging

from alerts.tasks import send_alerts_soon
from lib.text import counted
from scraping.ingest import ingest_listings
from scraping.sources.demo import next_demo_listings

log = logging.getLogger(__name__)


def replay_demo_listings(count: int = 4) -> str:
    result = ingest_listings(next_demo_listings(count))
    summary = (
        f"demo: {counted(result.new, 'new listing')}, {counted(result.alerts, 'alert')} queued"
    )
    log.info(summary)
    send_alerts_soon(result.alerts)
    return summary


def scan_market(source: str) -> str:
    """One scan cycle, its searches spread over the scan interval (the schedule's period)."""
    from scraping.models import paused_summary
    from scraping.scanner import interval_for, scan_source

    scan = scan_source(source, spread_seconds=interval_for(source) * 0.9)
    return scan.summary() if scan else paused_summary(source)


def purge_old_records() -> str:
    """The daily retention job."""
    from scraping.retention import purge_old_records as purge

    counts = purge()
    return ", ".join(f"{n} {kind} deleted" for kind, n in counts.items())
