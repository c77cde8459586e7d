"""Exponential backoff, the one formula for every retry: alerts, database errors, HTTP reads.

Try n+1 waits at most `base · 2^(n-1)`, capped; with jitter, between half and
all of that, so the retries of many processes spread out and none comes sooner
than half the wait.
"""

from __future__ import annotations

import random

# Past this many doublings every cap in the project is reached long before: keeps the power
# small however many failures have been counted.
MAX_DOUBLINGS = 62


def backoff_ceiling(attempt: int, base: float, cap: float) -> float:
    """The wait after the `attempt`-th failure (1 for the first): base, 2·base, 4·base, … ≤ cap."""
    return min(cap, base * 2 ** min(MAX_DOUBLINGS, max(0, attempt - 1)))


def jittered_backoff(attempt: int, base: float, cap: float) -> float:
    """A random wait between half and all of `backoff_ceiling`."""
    ceiling = backoff_ceiling(attempt, base, cap)
    return random.uniform(ceiling / 2, ceiling)
