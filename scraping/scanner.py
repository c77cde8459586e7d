"""Scanning a marketplace: one cycle (scraping/cycle.py) with delivery woken by the alerts
side (alerts/wakeup.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from alerts.wakeup import AlertWaker
from scraping.cycle import ScanCycle, Waker
from scraping.http import SourceClient
from scraping.models import Scan


def scan_source(
    source: str,
    spread_seconds: float = 0.0,
    client: SourceClient | None = None,
    progress: Callable[[int], None] | None = None,
    stopping: threading.Event | None = None,
    planned: Callable[[int], None] | None = None,
    waker: Waker | None = None,
    heartbeat: Callable[[], None] | None = None,
) -> Scan | None:
    """Run one cycle of `source` (see `ScanCycle`); None when its circuit breaker has it
    paused. Without a `waker`, the cycle wakes delivery through one of its own, flushed
    at its end."""
    own_waker = waker is None
    waker = waker or AlertWaker()
    scan = ScanCycle(
        source,
        waker,
        client=client,
        spread_seconds=spread_seconds,
        stopping=stopping,
        planned=planned,
        progress=progress,
        heartbeat=heartbeat,
    ).run()
    if own_waker:
        waker.flush()
    return scan
