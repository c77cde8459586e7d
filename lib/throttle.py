"""Per-user request limits for the doors outside the REST API (the web's filter preview and
saves), counted as the API's throttle counts: the times of a user's recent requests in the
cache, at most `count` of them within `seconds`."""

from __future__ import annotations

import time

from django.core.cache import cache

# By the period's first letter, as DRF reads API_THROTTLE_RATE: 120/min, 120/minute, 120/m.
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """`"120/min"` as (120, 60): how many requests, within how many seconds."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()[0]]


def wait_seconds(key: str, rate: str) -> float:
    """0 when this request may go (it is counted), else how long until one may."""
    count, seconds = parse_rate(rate)
    now = time.time()
    recent = [at for at in cache.get(key, []) if at > now - seconds]
    if len(recent) >= count:
        return recent[0] + seconds - now
    cache.set(key, [*recent, now], seconds)
    return 0.0
