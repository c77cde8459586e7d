"""django-q2 task functions of the scraping app."""

from __future__ import annotations

import logging

from alerts.tasks import send_alerts_soon
from filters.models import Filter
from lib.markets import Source
from lib.text import counted
from scraping import retention
from scraping.cycle import record_scan
from scraping.ingest import ingest_listings
from scraping.models import Scan, paused_summary
from scraping.pollers import poller_of
from scraping.scanner import scan_source
from scraping.sources.demo import next_demo_listings

log = logging.getLogger(__name__)


def replay_demo_listings(count: int = 4) -> str:
    """The demo source's cycle, recorded and counted as a scan like any source's (the staff
    dashboard's scans and new listings, the scan metrics); it has no circuit breaker."""
    scan = Scan.objects.create(source=Source.DEMO, filters=Filter.objects.matchable().count())
    records = next_demo_listings(count)
    result = ingest_listings(records)
    scan.items_seen, scan.new_items, scan.alerts = len(records), result.new, result.alerts
    record_scan(scan, requests=0, problems=[], failed=False)
    summary = (
        f"demo: {counted(result.new, 'new listing')}, {counted(result.alerts, 'alert')} queued"
    )
    log.info(summary)
    send_alerts_soon(result.alerts)
    return summary


def scan_market(source: str) -> str:
    """One cycle of a market, its reads back to back: left for a "scan <source>" schedule or
    task from before the pollers (setup_schedules removes those). A market whose poller
    is alive is left to it; a worker is never parked between reads."""
    if holder := poller_of(source):
        return f"{source}: polled by qcluster {holder}; nothing to do"
    scan = scan_source(source)
    return scan.summary() if scan else paused_summary(source)


def purge_old_records() -> str:
    """The daily retention job."""
    counts = retention.purge_old_records()
    return ", ".join(f"{n} {kind} deleted" for kind, n in counts.items())
