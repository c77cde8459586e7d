"""Evenly spaced slots at a fixed rate, for one process: Discord's budget and a source's pace.

Each reservation moves the next free slot forward by one interval and tells
the caller how long to wait for its slot, so requests leave evenly spaced and a
late caller never catches up by sending two at once.
"""

from __future__ import annotations

import threading
import time


class LocalBudget:
    """Send slots for one process."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next_free = 0.0
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Reserve the next slot; return the seconds to wait for it."""
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_free)
            self._next_free = slot + self.interval
            return slot - now

    def peek(self) -> float:
        """Seconds until the next slot is free, without reserving it."""
        with self._lock:
            return max(0.0, self._next_free - time.monotonic())

    def block(self, seconds: float) -> None:
        """No slot before `seconds` from now (Discord said to wait)."""
        with self._lock:
            self._next_free = max(self._next_free, time.monotonic() + seconds)
